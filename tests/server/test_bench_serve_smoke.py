"""Smoke test of benchmarks/bench_serve.py: a tiny run writes its JSON and PNG with every figure present."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tiny_run_writes_json_and_png(tmp_path: Path) -> None:
    """One episode per client and two concurrent sessions: all three implementations have every figure."""
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_serve.py"), "--repeats", "1", "--sessions", "2"]
    done = subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "bench_serve.json").read_text())
    assert (tmp_path / "bench_serve.png").stat().st_size > 1000
    medians = results["per_episode_median"]
    assert set(medians) == {"in_process", "openenv", "mcp"}
    assert all(medians[impl][f"{op}_ms"] > 0 for impl in medians for op in ("start", "read", "write", "end"))
    assert medians["openenv"]["reset_ms"] > 0 and "reset_ms" not in medians["mcp"]
    assert all(results["many"][impl]["ready_s"] > 0 for impl in ("in_process", "openenv", "mcp"))
    assert "| read |" in results["markdown"]
