"""The benchmark scripts run end to end with tiny budgets and write their JSON and PNG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, out: Path, *args: str) -> dict:
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out", str(out), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    return json.loads((out / script.replace(".py", ".json")).read_text())


def test_bench_env_measures_every_figure(tmp_path: Path) -> None:
    """bench_env reports each target figure for awm-gym and the baseline, plus scaling and import time."""
    results = _run("bench_env.py", tmp_path)
    for key in ("warm_reset_ms", "cold_start_ms", "tool_read_ms", "tool_write_ms", "verify_code_ms", "uss_per_env_mib"):
        assert key in results["awm_gym"] and key in results["baseline"]
    assert results["awm_gym"]["tool_read_ms"]["median"] > 0 and results["scaling"][0]["n"] == 1
    assert results["import"]["import_awm_gym_s"]["median"] > 0
    assert (tmp_path / "bench_env.png").stat().st_size > 0


def test_bench_expert_compares_conditions(tmp_path: Path) -> None:
    """bench_expert evaluates both conditions offline (labelled a simulation), paired, recording every episode."""
    results = _run("bench_expert.py", tmp_path, "--noise", "0.5")
    assert results["simulation"] is True and results["benchmark"]["mode"].startswith("SIMULATION")
    baseline, expert = results["summary"]["baseline"], results["summary"]["expert"]
    assert baseline["episodes"] == expert["episodes"] == 10  # pet clinic's ten tasks, none a no-op pass
    assert baseline["diagnostics"]["mean_expert_calls"] == 0 and expert["diagnostics"]["mean_expert_calls"] > 0
    assert expert["success"]["estimate"] >= baseline["success"]["estimate"]
    [comparison] = results["comparisons"]
    assert (comparison["a"], comparison["b"], comparison["tasks"]) == ("baseline", "expert", 10)
    assert len(results["episodes"]) == 20
    assert (tmp_path / "bench_expert.png").stat().st_size > 0
