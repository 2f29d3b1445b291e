"""Smoke test of benchmarks/bench_distributed.py: a tiny run in a subprocess writes its JSON and PNG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_quick_run_writes_json_and_png(tmp_path: Path) -> None:
    """--quick measures both vector envs, the latency, the rollouts and an actor, and writes a projection."""
    command = [
        sys.executable, str(ROOT / "benchmarks" / "bench_distributed.py"), "--quick",
        "--ns", "2", "--seconds", "0.3", "--latency-steps", "5", "--driver-n", "2", "--driver-episodes", "2",
        "--envs-per-actor", "2", "--cpus-per-actor", "0.25", "--ray-cpus", "2", "--nodes", "1", "4",
        "--out", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((tmp_path / "bench_distributed.json").read_text())
    assert (tmp_path / "bench_distributed.png").stat().st_size > 1000
    assert {(row["impl"], row["workload"]) for row in results["throughput"]} == {
        ("AWMVectorEnv", "read"), ("AWMVectorEnv", "episodes"), ("RayVectorEnv", "read"), ("RayVectorEnv", "episodes")
    }  # fmt: skip
    assert all(row["steps"] > 0 and row["steps_per_s"] > 0 for row in results["throughput"])
    assert results["ratios"]["2"]["ray_vs_local_episodes_steps"] > 0
    assert results["latency"]["RayVectorEnv"]["median_ms"] > 0 and results["latency"]["actor_round_trip_ms"] > 0
    assert [row["episodes"] >= 2 for row in results["rollout"]] == [True, True]
    assert results["actor_memory"]["total_mib"] > 0
    projection = results["projection"]
    assert projection["kind"] == "projection, not a measurement" and projection["assumptions"]
    assert [row["nodes"] for row in projection["rows"]] == [1, 4]
    assert "**Projection** (not a measurement)" in done.stdout
