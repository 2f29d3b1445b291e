"""The bundled pack is exactly what scripts/pack_scenarios.py makes of scenarios/."""

from __future__ import annotations

import runpy
from pathlib import Path

from awm_gym.catalog import BUNDLED_DIR

ROOT = Path(__file__).resolve().parents[1]


def test_committed_pack_matches_its_sources(tmp_path: Path) -> None:
    """Re-packing the sources reproduces every bundled jsonl file byte for byte."""
    pack = runpy.run_path(str(ROOT / "scripts" / "pack_scenarios.py"))["pack"]
    pack(tmp_path)
    produced = sorted(p.name for p in tmp_path.iterdir())
    assert produced == sorted(p.name for p in BUNDLED_DIR.glob("*.jsonl"))
    for name in produced:
        assert (tmp_path / name).read_bytes() == (BUNDLED_DIR / name).read_bytes(), name
