"""Smoke test of benchmarks/bench_suite.py: a tiny run in a subprocess writes its JSON and PNG."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tiny_run_replays_every_task_and_writes_json_and_png(tmp_path: Path) -> None:
    """Every reference solution passes in both sweeps; cold start, memory, zygotes and first calls are reported."""
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_suite.py"),
        *("--scenarios", "3", "--baseline-scenarios", "2", "--cold-scenarios", "2", "--first-call-scenarios", "1"),
        *("--out", str(tmp_path)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "bench_suite.json").read_text())
    assert (tmp_path / "bench_suite.png").stat().st_size > 1000
    for sweep, scenarios in ((report["root"], 3), (report["baseline"], 2)):
        assert (sweep["scenarios"], sweep["episodes"], sweep["error_count"]) == (scenarios, 10 * scenarios, 0)
        assert sweep["pass_rate"] == 1.0
        assert sweep["peak_pss_mib"] > 0 and sweep["peak_live_zygotes"] >= 1
    assert report["cold_start"]["root"]["cold_start_ms"]["n"] == 2
    assert report["baseline_extrapolated_from"] == "2 of 3 scenarios, wall time scaled linearly"
    assert set(report["first_call"]) == {"warm-up off", "warm-up on", "warm-up all"}
    assert all(part["first_call_ms"]["n"] == 1 for part in report["first_call"].values())
