"""Smoke test of benchmarks/bench_vector.py: a tiny run in a subprocess writes its JSON and PNG."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_json_and_png(tmp_path: Path) -> None:
    """--quick runs every part with tiny budgets and writes bench_vector.json and bench_vector.png."""
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_vector.py"),
        "--quick",
        "--ns", "1", "2",
        "--seconds", "0.2",
        "--async-max", "1",
        "--driver-n", "2",
        "--driver-episodes", "4",
        "--latency-ms", "10",
        "--concurrency", "1", "2",
        "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((tmp_path / "bench_vector.json").read_text())
    assert (tmp_path / "bench_vector.png").stat().st_size > 1000
    impls = {(row["impl"], row["num_envs"]) for row in results["throughput"]}
    assert impls == {
        ("AWMVectorEnv", 1), ("SyncVectorEnv", 1), ("AsyncVectorEnv", 1), ("AWMVectorEnv", 2), ("SyncVectorEnv", 2)
    }  # fmt: skip
    assert {row["workload"] for row in results["throughput"]} == {"read", "episodes"}
    assert all(row["steps"] > 0 and row["steps_per_s"] > 0 for row in results["throughput"])
    assert all(row["read_steps"] == row["steps"] for row in results["throughput"] if row["workload"] == "read")
    assert set(results["ratios"]) == {"1", "2"} and results["ratios"]["2"]["awm_vs_async_read"] is None
    assert results["ratios"]["1"]["awm_vs_sync_episodes"] > 0
    assert [row["max_concurrent_batches"] for row in results["rollout"]] == [1, 1, 2]
    assert all(row["episodes"] >= 4 for row in results["rollout"])
    assert any("AsyncVectorEnv skipped at N=2" in note for note in results["notes"])
    assert "| N | impl | read-tool steps/s |" in done.stdout and "dynamic batching" in done.stdout
