"""The catalogue side of AWM at scale: 1,000 generated scenarios through import, list, task sets and check.

Scenarios are N renamed copies of the bundled pack in the release format
(:func:`awm_gym.testing.write_scaled_release`). One run measures, side by side:

1. ``import awm_gym`` in a fresh interpreter with the N scenarios on ``AWM_DATA_DIR`` and without them
   (bundled pack only): median of ``--import-repeats`` runs, the ratio, and the 0.3 s target; and where the
   time goes (Gymnasium + NumPy, then awm-gym's own share);
2. ``awm-gym list --data-dir`` over the N scenarios (a fresh process, wall time);
3. task sets: ``TaskSet.from_scenarios`` over all N, ``task_split(by="scenario")`` without exclusion, and the
   no-op exclusion over ``--noop-n`` scenarios with a cold cache (builds databases, runs verifiers) and warm
   (read from the audit cache);
4. ``awm-gym check`` over ``--check-n`` scenarios with ``--jobs 1`` and ``--jobs <cores>`` (wall time, the speedup);
5. the suite env switching between ``--switch-n`` scenarios: first reset of a scenario new to the process
   (p50/p95) and a reset of one seen before (its zygote is reused).

Writes ``<out>/bench_suite_scale.json`` and ``<out>/bench_suite_scale.png`` and prints a Markdown table.

Usage::

    python benchmarks/bench_suite_scale.py                 # N = 1,000 (a few minutes on 2 quiet cores)
    python benchmarks/bench_suite_scale.py --quick         # a smoke run (N = 20, tiny budgets)
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from machine import conditions, cpu_times  # noqa: E402 - benchmarks/machine.py, beside this script
from report import write_docs  # noqa: E402 - benchmarks/report.py, beside this script

IMPORT_TARGET_S = 0.3
IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import awm_gym; elapsed = time.perf_counter() - t; "
    "import gymnasium as gym; print(elapsed, sum(k.startswith('AWM/') for k in gym.registry))"
)
# Where the time goes: Gymnasium and NumPy first, then awm-gym's own share (catalogue, registration).
OWN_SNIPPET = (
    "import time; t = time.perf_counter(); import gymnasium, numpy; t1 = time.perf_counter(); import awm_gym; "
    "print(t1 - t, time.perf_counter() - t1)"
)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AWM_DATA_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def time_import(repeats: int, **extra: str) -> dict[str, Any]:
    runs, registered, dependencies, own = [], 0, [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_SNIPPET], env=child_env(**extra), capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append(float(out[0]))
        registered = int(out[1])
        split = subprocess.run(
            [sys.executable, "-c", OWN_SNIPPET], env=child_env(**extra), capture_output=True, text=True, check=True
        ).stdout.split()
        dependencies.append(float(split[0]))
        own.append(float(split[1]))
    return {
        "median_s": statistics.median(runs),
        "min_s": min(runs),
        "runs_s": runs,
        "registered_ids": registered,
        "gymnasium_numpy_median_s": statistics.median(dependencies),
        "awm_gym_own_median_s": statistics.median(own),
    }


def time_command(argv: list[str], **extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=child_env(**extra), capture_output=True, text=True)
    return time.perf_counter() - start, done


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="generated scenarios")
    parser.add_argument("--import-repeats", type=int, default=7)
    parser.add_argument("--noop-n", type=int, default=40, help="scenarios for the cold no-op exclusion")
    parser.add_argument("--check-n", type=int, default=8, help="scenarios audited by awm-gym check")
    parser.add_argument("--switch-n", type=int, default=24, help="scenarios the suite env switches between")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=20 and tiny budgets")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.import_repeats, args.noop_n, args.check_n, args.switch_n = 20, 2, 2, 2, 3
    args.out.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    start_cpu = cpu_times()
    work = Path(tempfile.mkdtemp(prefix="bench_suite_scale-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # after awm-gym's own exit handlers (registered later)
    cache = work / "cache"
    os.environ["AWM_GYM_CACHE_DIR"] = str(cache)  # cold caches for this run, in this process and its children

    from awm_gym.testing import write_scaled_release

    data = work / "release"
    started = time.perf_counter()
    names = write_scaled_release(data, args.n)
    results: dict[str, Any] = {"n_scenarios": args.n, "generate_s": time.perf_counter() - started}

    # 1. import
    with_data = time_import(args.import_repeats, AWM_DATA_DIR=str(data), AWM_GYM_CACHE_DIR=str(cache))
    bundled = time_import(args.import_repeats, AWM_GYM_CACHE_DIR=str(cache))
    results["import"] = {
        "with_n": with_data,
        "bundled_only": bundled,
        "ratio": with_data["median_s"] / bundled["median_s"],
        "target_s": IMPORT_TARGET_S,
        "met": with_data["median_s"] <= IMPORT_TARGET_S,
    }

    # 2. awm-gym list
    seconds, done = time_command([sys.executable, "-m", "awm_gym.cli", "list", "--data-dir", str(data)])
    results["list"] = {"wall_s": seconds, "lines": len(done.stdout.splitlines()), "ok": done.returncode == 0}

    # 3. task sets
    import awm_gym
    from awm_gym.catalog import TaskSet

    started = time.perf_counter()
    pool = TaskSet.from_scenarios(data_dir=data)
    from_scenarios_s = time.perf_counter() - started
    started = time.perf_counter()
    train, test = awm_gym.task_split(data_dir=data, by="scenario", exclude_noop=False)
    split_s = time.perf_counter() - started
    subset = names[: args.noop_n]
    started = time.perf_counter()
    awm_gym.task_split(scenarios=subset, data_dir=data)
    noop_cold_s = time.perf_counter() - started
    started = time.perf_counter()
    noop_train, _ = awm_gym.task_split(scenarios=subset, data_dir=data)
    noop_warm_s = time.perf_counter() - started
    results["tasksets"] = {
        "tasks": len(pool),
        "from_scenarios_s": from_scenarios_s,
        "split_by_scenario_s": split_s,
        "train_tasks": len(train),
        "test_tasks": len(test),
        "noop_scenarios": len(subset),
        "noop_cold_s": noop_cold_s,
        "noop_cold_per_scenario_s": noop_cold_s / max(1, len(subset)),
        "noop_warm_s": noop_warm_s,
        "noop_excluded": len(noop_train.metadata["excluded"]["noop"]),
    }

    # 4. awm-gym check, sequential vs parallel (each on scenarios it has not seen: cold zygotes both times)
    check: dict[str, Any] = {"scenarios": args.check_n, "cores": cores}
    offset = args.noop_n
    for jobs in sorted({1, cores}):
        chosen = names[offset : offset + args.check_n]
        offset += args.check_n
        argv = [sys.executable, "-m", "awm_gym.cli", "check", *chosen, "--data-dir", str(data), "--jobs", str(jobs)]
        seconds, done = time_command(argv + ["--no-progress"], AWM_GYM_CACHE_DIR=str(cache))
        check[f"jobs_{jobs}"] = {
            "wall_s": seconds,
            "scenarios_per_s": len(chosen) / seconds,
            "ok": done.returncode == 0,
        }
    check["speedup"] = check[f"jobs_{cores}"]["scenarios_per_s"] / check["jobs_1"]["scenarios_per_s"]
    results["check"] = check

    # 5. the suite env switching scenarios
    from awm_gym.envs import AWMSuiteEnv

    chosen = names[offset : offset + args.switch_n]
    env = AWMSuiteEnv(TaskSet.from_scenarios(chosen, data_dir=data), max_steps=5)
    first, again = [], []
    try:
        for name in chosen:
            started = time.perf_counter()
            env.reset(options={"scenario": name, "task_idx": 0})
            first.append(time.perf_counter() - started)
        for name in chosen[-min(8, len(chosen)) :]:  # revisits of scenarios whose zygotes are still pooled
            started = time.perf_counter()
            env.reset(options={"scenario": name, "task_idx": 1})
            again.append(time.perf_counter() - started)
    finally:
        env.close()
    results["switching"] = {
        "scenarios": len(chosen),
        "new_scenario_reset_p50_s": statistics.median(first),
        "new_scenario_reset_p95_s": percentile(first, 0.95),
        "revisit_reset_p50_s": statistics.median(again),
        "ratio_new_vs_revisit": statistics.median(first) / statistics.median(again),
    }
    results["machine"] = {"python": platform.python_version(), "cores": cores, **conditions(start_cpu)}
    results["argv"] = sys.argv[1:] if argv is None else list(argv)

    results["markdown"] = table(results)
    (args.out / "bench_suite_scale.json").write_text(json.dumps(results, indent=2))
    plot(results, args.out / "bench_suite_scale.png")
    print(results["markdown"])
    print(f"wrote {write_docs(args.out)}")
    return 0


def table(r: dict[str, Any]) -> str:
    i, t, c, s = r["import"], r["tasksets"], r["check"], r["switching"]
    cores = c["cores"]
    rows = [
        ("`import awm_gym`, N scenarios on AWM_DATA_DIR (median)", f"{i['with_n']['median_s'] * 1e3:.0f} ms",
         f"{i['ratio']:.2f}x bundled-only ({i['bundled_only']['median_s'] * 1e3:.0f} ms); target <= 300 ms: "
         f"{'met' if i['met'] else 'NOT met'}"),
        ("... of which awm-gym's own share (after Gymnasium + NumPy)", f"{i['with_n']['awm_gym_own_median_s'] * 1e3:.0f} ms",
         f"bundled-only {i['bundled_only']['awm_gym_own_median_s'] * 1e3:.0f} ms; Gymnasium + NumPy "
         f"{i['with_n']['gymnasium_numpy_median_s'] * 1e3:.0f} ms"),
        ("`awm-gym list --data-dir` (fresh process)", f"{r['list']['wall_s']:.2f} s", f"{r['list']['lines']} lines"),
        ("`TaskSet.from_scenarios` (all N)", f"{t['from_scenarios_s']:.2f} s", f"{t['tasks']} tasks"),
        ("`task_split(by='scenario')`, no exclusion", f"{t['split_by_scenario_s']:.2f} s",
         f"{t['train_tasks']} train / {t['test_tasks']} test"),
        (f"no-op exclusion, cold ({t['noop_scenarios']} scenarios)", f"{t['noop_cold_s']:.2f} s",
         f"{t['noop_cold_per_scenario_s'] * 1e3:.0f} ms/scenario; warm {t['noop_warm_s']:.2f} s"),
        (f"`awm-gym check` {c['scenarios']} scenarios, --jobs 1", f"{c['jobs_1']['wall_s']:.1f} s",
         f"{c['jobs_1']['scenarios_per_s']:.2f} scenarios/s"),
        (f"`awm-gym check` {c['scenarios']} scenarios, --jobs {cores}", f"{c[f'jobs_{cores}']['wall_s']:.1f} s",
         f"{c['speedup']:.2f}x --jobs 1"),
        ("suite env: reset of a new scenario (p50 / p95)", f"{s['new_scenario_reset_p50_s'] * 1e3:.0f} ms",
         f"p95 {s['new_scenario_reset_p95_s'] * 1e3:.0f} ms over {s['scenarios']}"),
        ("suite env: reset of a scenario seen before (p50)", f"{s['revisit_reset_p50_s'] * 1e3:.0f} ms",
         f"new/revisit {s['ratio_new_vs_revisit']:.1f}x"),
    ]  # fmt: skip
    lines = [f"N = {r['n_scenarios']} generated scenarios", "", "| measure | value | compared |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c_} |" for a, b, c_ in rows]
    return "\n".join(lines)


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    i = r["import"]
    axes[0].bar(["bundled only", f"N={r['n_scenarios']}"], [i["bundled_only"]["median_s"], i["with_n"]["median_s"]])
    axes[0].axhline(IMPORT_TARGET_S, color="red", linestyle="--", label="target 0.3 s")
    axes[0].set_title("import awm_gym (median, s)")
    axes[0].legend()
    c = r["check"]
    keys = [k for k in c if k.startswith("jobs_")]
    axes[1].bar([k.replace("_", " ") for k in keys], [c[k]["scenarios_per_s"] for k in keys])
    axes[1].set_title(f"awm-gym check ({c['scenarios']} scenarios): scenarios/s")
    s = r["switching"]
    axes[2].bar(
        ["new scenario p50", "new scenario p95", "revisit p50"],
        [s["new_scenario_reset_p50_s"], s["new_scenario_reset_p95_s"], s["revisit_reset_p50_s"]],
    )
    axes[2].set_title("AWMSuiteEnv reset (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
