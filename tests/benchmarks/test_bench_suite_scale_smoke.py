"""Smoke test of benchmarks/bench_suite_scale.py: a tiny run in a subprocess writes its JSON, PNG and table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_writes_json_and_png(tmp_path: Path) -> None:
    """--quick generates 20 scenarios, measures every part, and writes bench_suite_scale.json and .png."""
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_suite_scale.py"), "--quick", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "bench_suite_scale.json").read_text())
    assert (tmp_path / "bench_suite_scale.png").stat().st_size > 1000
    assert results["n_scenarios"] == 20 and results["import"]["with_n"]["registered_ids"] >= 20
    assert results["list"]["ok"] and results["list"]["lines"] >= 20
    assert (
        results["tasksets"]["tasks"] == 200
        and results["tasksets"]["train_tasks"] + results["tasksets"]["test_tasks"] == 200
    )
    assert all(results["check"][key]["ok"] for key in results["check"] if key.startswith("jobs_"))
    assert results["switching"]["scenarios"] == 3 and results["switching"]["revisit_reset_p50_s"] > 0
    assert "| `import awm_gym`, N scenarios on AWM_DATA_DIR (median) |" in done.stdout
