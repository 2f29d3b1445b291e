"""Suite benchmark: the whole AWM distribution, many scenarios, each task's reference solution replayed.

On N generated scenarios (renamed copies of the bundled ones, each with its own name and fingerprint, so each
is a scenario this process has never seen) x 10 tasks, every task's reference solution is replayed through
the env and the verifier, with ``--workers`` threads (default: one per core) sharing the scenarios. Two sweeps
run side by side, each in a fresh interpreter:

- **root**: zygotes forked from the root process (the default);
- **baseline**: zygote switching disabled, a fresh interpreter per scenario (``AWM_GYM_ZYGOTE_ROOT=0``), on
  ``--baseline-scenarios`` of them (default: all of them for small N, else 50) and extrapolated to N.

A cold-start part first times, alone (one thread), the first reset of ``--cold-scenarios`` new scenarios
with the root and with the baseline, with CPU time per process; with the root, a second pass starts the same
scenarios in new zygotes with their OpenAPI documents cached on disk (every copy's code is distinct, and each
part starts with an empty cache, so nothing else is ever served from it). Each sweep then reports wall time, episodes/s, new-scenario cold start
(first reset of a scenario not seen in this process) p50/p95, warm reset (next task, same scenario) p50/p95,
each worker's first scenario apart (it waits for the root, or the verifier worker, to start), peak memory of
the whole process tree (PSS and USS, sampled from ``/proc``), peak live zygotes and their memory (USS/PSS),
the pool's caps, and the reference solutions' pass rate.

A third part measures the first tool call on a freshly forked server against steady state (same tool, same
server), with the zygote warm-up off (``AWM_GYM_WARM_UP=0``), on (the default: one request) and on every
route (``all``), including the server's minor page faults.

Usage::

    python benchmarks/bench_suite.py --scenarios 1000     # the full run (10,000 episodes)
    python benchmarks/bench_suite.py --scenarios 20 --baseline-scenarios 6 --cold-scenarios 12 \
        --first-call-scenarios 4                          # a small run

Other flags: ``--workers`` (default: cores), ``--out`` (default ``benchmarks/results``). Writes
``bench_suite.json`` and ``bench_suite.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import descendants  # benchmarks/_common.py, beside this script
from machine import conditions, cpu_times  # benchmarks/machine.py, beside this script
from report import write_docs  # benchmarks/report.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
TASKS_PER_SCENARIO = 10
TARGETS = {"sweep_1000_s": 300, "cold_start_p50_ms": 150, "first_call_vs_steady": 2.0}


def percentiles(samples: list[float]) -> dict[str, float]:
    """Median, p95 and count of ``samples`` (rounded)."""
    if not samples:
        return {"p50": float("nan"), "p95": float("nan"), "n": 0}
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "n": len(ordered),
    }


def write_scenarios(directory: Path, n: int) -> list[str]:
    """Write ``n`` generated scenarios (renamed copies of the bundled ones) in the release format; their names.

    Each copy's code gets a comment naming it, so every copy is new code (as each AgentWorldModel-1K app is):
    nothing keyed by the code (the OpenAPI cache) is shared between copies.
    """
    from awm_gym.catalog import AWM_FILES
    from awm_gym.testing.scale import write_scaled_release

    names = write_scaled_release(directory, n)
    path = directory / AWM_FILES["envs"]
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for record in records:
        record["full_code"] += f"\n# bench_suite copy {record['scenario']}\n"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return names


class TreeSampler:
    """Samples memory twice a second: PSS and USS of this process and every descendant, and the zygote pool.

    Zygotes forked by the root are the root's children, so the tree covers them. The pool's figures (live
    zygotes, their summed USS and PSS, the root's PSS) come from :func:`awm_gym.host.zygote_stats`.
    """

    def __init__(self) -> None:
        self.peak_pss = self.peak_uss = 0
        self.peak_zygotes = 0
        self.peak_zygote_uss = self.peak_zygote_pss = self.root_pss = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        """Take one sample now."""
        from awm_gym.host import zygote_stats
        from awm_gym.host.process import memory_usage

        pids = [os.getpid(), *descendants(os.getpid())]
        usage = [u for u in map(memory_usage, pids) if u is not None]
        self.peak_pss = max(self.peak_pss, sum(u.pss for u in usage))
        self.peak_uss = max(self.peak_uss, sum(u.uss for u in usage))
        self.peak_processes = max(self.peak_processes, len(pids))
        stats = zygote_stats()
        self.peak_zygotes = max(self.peak_zygotes, stats["live"])
        self.peak_zygote_uss = max(self.peak_zygote_uss, stats["uss_bytes"])
        self.peak_zygote_pss = max(self.peak_zygote_pss, stats["pss_bytes"])
        self.root_pss = max(self.root_pss, stats["root_pss_bytes"])

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()


def run_sweep(data_dir: Path, workers: int) -> dict[str, Any]:
    """The sweep, in this process: every task of every scenario in ``data_dir``, reference solutions replayed.

    Each worker thread has its own suite env (``AWM/suite-v0``'s class) over the whole task set and walks its
    share of the scenarios, picking each (scenario, task) with ``reset(options=...)``.
    """
    import awm_gym  # noqa: F401 - registers the bundled scenarios
    from awm_gym.catalog import TaskSet, list_scenarios, load_reference_solutions
    from awm_gym.envs import AWMSuiteEnv
    from awm_gym.host.zygote import MAX_IDLE_ZYGOTES, MAX_ZYGOTE_MEMORY, MAX_ZYGOTES

    solutions = load_reference_solutions(data_dir)
    names = [name for name in list_scenarios(data_dir) if (name, 0) in solutions]
    tasks = TaskSet.from_scenarios(names, data_dir=data_dir)
    by_scenario: dict[str, list[int]] = {}
    for ref in tasks:
        by_scenario.setdefault(ref.scenario, []).append(ref.task_idx)
    lock = threading.Lock()
    queue = list(reversed(names))
    cold, warm, episode_ms, replay_ms, first_scenario_ms = [], [], [], [], []
    results: dict[str, Any] = {"episodes": 0, "passed": 0, "errors": []}

    def replay(env: AWMSuiteEnv, name: str, task_idx: int) -> bool:
        reward, info = 0.0, {}
        for action in solutions[name, task_idx].actions():
            _obs, reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        return bool(info.get("verifier", {}).get("passed", float(reward) > 0))

    def worker() -> None:
        env = AWMSuiteEnv(tasks, max_steps=50)
        first = True  # a worker's first scenario also waits for the root (or the verifier worker) to start
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    name = queue.pop()
                try:
                    for n, task_idx in enumerate(by_scenario[name]):
                        t0 = time.perf_counter()
                        env.reset(options={"scenario": name, "task_idx": task_idx})
                        t1 = time.perf_counter()
                        passed = replay(env, name, task_idx) if (name, task_idx) in solutions else False
                        t2 = time.perf_counter()
                        with lock:
                            if n == 0:
                                (first_scenario_ms if first else cold).append(1000 * (t1 - t0))
                            else:
                                warm.append(1000 * (t1 - t0))
                            episode_ms.append(1000 * (t2 - t0))
                            replay_ms.append(1000 * (t2 - t1))
                            results["episodes"] += 1
                            results["passed"] += passed
                except Exception as exc:  # noqa: BLE001 - a benchmark records failures and goes on
                    with lock:
                        results["errors"].append(f"{name}: {type(exc).__name__}: {exc}"[:500])
                first = False
        finally:
            env.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    start_cpu = cpu_times()
    with TreeSampler() as sampler:
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    return {
        "scenarios": len(names),
        "workers": workers,
        "episodes": results["episodes"],
        "passed": results["passed"],
        "pass_rate": round(results["passed"] / max(1, results["episodes"]), 4),
        "errors": results["errors"][:10],
        "error_count": len(results["errors"]),
        "wall_s": round(wall, 2),
        "episodes_per_s": round(results["episodes"] / wall, 2),
        "cold_start_ms": percentiles(cold),
        "first_scenario_ms": percentiles(first_scenario_ms),
        "warm_reset_ms": percentiles(warm),
        "episode_ms": percentiles(episode_ms),
        "worker_seconds": {  # where the workers' time went (summed over workers)
            "first_reset_of_new_scenarios": round((sum(cold) + sum(first_scenario_ms)) / 1000, 1),
            "resets_of_seen_scenarios": round(sum(warm) / 1000, 1),
            "tool_calls_and_verification": round(sum(replay_ms) / 1000, 1),
        },
        "peak_pss_mib": round(sampler.peak_pss / 2**20, 1),
        "peak_uss_mib": round(sampler.peak_uss / 2**20, 1),
        "peak_processes": sampler.peak_processes,
        "peak_live_zygotes": sampler.peak_zygotes,
        "peak_zygotes_uss_mib": round(sampler.peak_zygote_uss / 2**20, 1),
        "peak_zygotes_pss_mib": round(sampler.peak_zygote_pss / 2**20, 1),
        "root_pss_mib": round(sampler.root_pss / 2**20, 1),
        "zygote_caps": {"count": MAX_ZYGOTES, "idle": MAX_IDLE_ZYGOTES, "memory_mib": MAX_ZYGOTE_MEMORY // 2**20},
        "machine": conditions(start_cpu),
    }


def _schedstat_ms(pid: int | None) -> tuple[float, float]:
    """Time ``pid``'s main thread has spent on a CPU and waiting for one, in ms (``/proc/<pid>/schedstat``)."""
    if pid is None:
        return 0.0, 0.0
    with open(f"/proc/{pid}/schedstat") as handle:
        on_cpu, waiting = handle.read().split()[:2]
    return int(on_cpu) / 1e6, int(waiting) / 1e6


def _children_cpu_ms(pid: int | None) -> float:
    """CPU time of ``pid``'s collected children, in ms (``/proc/<pid>/stat``; clock ticks, so 10 ms steps)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) * 1000 / os.sysconf("SC_CLK_TCK")


def _cold_pass(env: Any, names: list[str]) -> dict[str, Any]:
    """The first reset of each of ``names`` (after an untimed one of ``names[0]``): wall time and where it went."""
    columns: dict[str, list[float]] = {
        key: []
        for key in (
            "wall",
            "cpu_total",
            "cpu_parent_thread",
            "cpu_zygote",
            "cpu_zygote_openapi_child",
            "cpu_server",
            "waiting_for_cpu",
        )
    }
    t0 = time.perf_counter()
    env.reset(options={"scenario": names[0], "task_idx": 0})
    first = 1000 * (time.perf_counter() - t0)
    for name in names[1:]:
        c0, t0 = time.thread_time(), time.perf_counter()
        env.reset(options={"scenario": name, "task_idx": 0})
        wall, parent = 1000 * (time.perf_counter() - t0), 1000 * (time.thread_time() - c0)
        zygote_cpu, zygote_wait = _schedstat_ms(env.host.zygote_pid)
        openapi_cpu = _children_cpu_ms(env.host.zygote_pid)  # the child that computed the OpenAPI, if any
        server_cpu, server_wait = _schedstat_ms(env.host.server_pid)
        for key, value in (
            ("wall", wall),
            ("cpu_total", parent + zygote_cpu + openapi_cpu + server_cpu),
            ("cpu_parent_thread", parent),
            ("cpu_zygote", zygote_cpu),
            ("cpu_zygote_openapi_child", openapi_cpu),
            ("cpu_server", server_cpu),
            ("waiting_for_cpu", zygote_wait + server_wait),
        ):
            columns[key].append(value)
    return {
        "cold_start_ms": percentiles(columns.pop("wall")),
        "breakdown_ms": {key: percentiles(values) for key, values in columns.items()},
        "first_scenario_ms": round(first, 1),
    }


def run_cold(data_dir: Path, n: int) -> dict[str, Any]:
    """New-scenario cold start measured alone: one thread, one suite env, the first reset of ``n`` new scenarios.

    The env's first scenario is started before timing (it also starts the root and the verifier worker) and
    reported apart. Each timed reset is the first of its scenario in this process. Besides wall time, where it
    went: CPU time of this thread, of the new zygote (and of the child it forks to compute the OpenAPI) and of
    the new server (all single-threaded on this path), and the time the zygote and server spent runnable but
    waiting for a CPU (other load on the machine).

    A second pass, after :func:`awm_gym.host.shutdown_zygotes`, starts the same scenarios again in new
    zygotes, now with their OpenAPI documents in the on-disk cache: what a scenario whose code was seen before
    costs (a re-run, another worker process, a zygote evicted and needed again).
    """
    import awm_gym  # noqa: F401
    from awm_gym.catalog import TaskSet, list_scenarios
    from awm_gym.envs import AWMSuiteEnv
    from awm_gym.host import shutdown_zygotes

    names = list_scenarios(data_dir)[: n + 1]
    env = AWMSuiteEnv(TaskSet.from_scenarios(names, data_dir=data_dir), max_steps=50)
    try:
        report = _cold_pass(env, names)
        env.close()
        shutdown_zygotes()
        env = AWMSuiteEnv(TaskSet.from_scenarios(names, data_dir=data_dir), max_steps=50)
        report["openapi_cached"] = _cold_pass(env, names)
    finally:
        env.close()
    return report


def _minor_faults(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[7])


def run_first_call(data_dir: Path, n: int, steady_calls: int = 20) -> dict[str, Any]:
    """First tool call on a freshly forked server vs steady state (same tool and server), on ``n`` new scenarios.

    The tool is the first call of task 0's reference solution. The zygote warm-up setting comes from
    ``AWM_GYM_WARM_UP`` in this process's environment.
    """
    import awm_gym  # noqa: F401
    from awm_gym.catalog import list_scenarios, load_reference_solutions, load_scenario
    from awm_gym.host import SubEnvHost

    solutions = load_reference_solutions(data_dir)
    first, steady, first_faults, steady_faults, ratios = [], [], [], [], []
    for name in list_scenarios(data_dir):
        calls = [s.calls[0] for (scenario, _), s in sorted(solutions.items()) if scenario == name and s.calls]
        if not calls:
            continue
        if len(first) == n:
            break
        call = calls[0]
        with SubEnvHost(load_scenario(name, data_dir)) as host:
            host.reset()
            pid = host.server_pid
            assert pid is not None
            f0 = _minor_faults(pid)
            t0 = time.perf_counter()
            host.call_tool(call["name"], call.get("arguments", {}))
            first.append(1000 * (time.perf_counter() - t0))
            first_faults.append(_minor_faults(pid) - f0)
            own = []
            for _ in range(steady_calls):
                host.reset()
                f0 = _minor_faults(pid)
                t0 = time.perf_counter()
                host.call_tool(call["name"], call.get("arguments", {}))
                own.append(1000 * (time.perf_counter() - t0))
                steady_faults.append(_minor_faults(pid) - f0)
            steady.extend(own)
            ratios.append(first[-1] / statistics.median(own))
    return {
        "warm_up": os.environ.get("AWM_GYM_WARM_UP", "1"),
        "first_call_ms": percentiles(first),
        "steady_call_ms": percentiles(steady),
        "first_over_steady": percentiles(ratios),
        "first_call_minor_faults": percentiles([float(f) for f in first_faults]),
        "steady_call_minor_faults": percentiles([float(f) for f in steady_faults]),
    }


def in_fresh_interpreter(part: str, extra_env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run one part of this benchmark in a fresh interpreter (clean pool, clean memory) and read its JSON.

    Each part gets its own empty awm-gym cache (``AWM_GYM_CACHE_DIR``), so none starts with what an earlier
    part or run left there (and the user's cache is left alone).
    """
    with tempfile.TemporaryDirectory(prefix="bench_suite-cache-") as cache:
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            AWM_GYM_CACHE_DIR=cache,
            **extra_env,
        )
        command = [sys.executable, str(Path(__file__).resolve()), "--part", part, *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{part} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def plot(report: dict[str, Any], path: Path) -> None:
    """Cold start, sweep time and first-call panels, root and baseline side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = report["root"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    labels = ["root (fork)", "baseline (fresh interpreter)"]
    cold = report["cold_start"]
    columns = [("root", cold["root"]), ("root, OpenAPI\ncached", cold["root"]["openapi_cached"])]
    columns.append(("baseline", cold["baseline"]))
    for i, (_label, part) in enumerate(columns):
        numbers = part["cold_start_ms"]
        ax.bar([i - 0.2], [numbers["p50"]], 0.4, color=f"C{i}", label="p50" if i == 0 else None)
        ax.bar([i + 0.2], [numbers["p95"]], 0.4, color=f"C{i}", alpha=0.5, label="p95" if i == 0 else None)
        ax.text(i - 0.2, numbers["p50"], f"{numbers['p50']:.0f}", ha="center", va="bottom")
    ax.axhline(TARGETS["cold_start_p50_ms"], color="k", ls="--", lw=1, label="target p50")
    ax.set_xticks(range(len(columns)), [label for label, _part in columns])
    ax.set_ylabel("ms")
    ax.set_title(f"new-scenario cold start (one at a time, n={cold['root']['cold_start_ms']['n']})")
    ax.legend()
    ax = axes[1]
    n = report["scenarios"]
    values = [root["wall_s"], report["baseline_extrapolated_wall_s"]]
    ax.bar(labels, values, color=["C0", "C1"])
    ax.axhline(TARGETS["sweep_1000_s"] * n / 1000, color="k", ls="--", lw=1, label="target (scaled to N)")
    ax.set_ylabel("s")
    ax.set_title(f"sweep: {n} scenarios x {TASKS_PER_SCENARIO} tasks (baseline extrapolated)")
    ax.legend()
    ax = axes[2]
    parts = report["first_call"]
    names = list(parts)
    ax.bar(
        [i - 0.2 for i in range(len(names))],
        [parts[k]["first_call_ms"]["p50"] for k in names],
        0.4,
        label="first call p50",
    )
    ax.bar(
        [i + 0.2 for i in range(len(names))],
        [parts[k]["steady_call_ms"]["p50"] for k in names],
        0.4,
        label="steady p50",
    )
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("ms")
    ax.set_title("tool call on a freshly forked server")
    ax.legend()
    machine = report["machine"]
    fig.suptitle(
        f"bench_suite: {machine['cpus']} CPUs, load average {machine['loadavg']}, steal {machine['steal_percent']}%"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(report: dict[str, Any]) -> str:
    """The report's tables, for docs/benchmarks.md."""
    root, base, cold = report["root"], report["baseline"], report["cold_start"]
    targets, first = report["targets"], report["first_call"]
    cached = cold["root"].get("openapi_cached", {}).get("cold_start_ms", {})

    def met(value: float, target: float) -> str:
        return "yes" if value <= target else "no"

    sweep = report["sweep_1000_projected_s"]
    rows = [
        ("whole sweep, 1,000 scenarios x 10 tasks" + ("" if report["scenarios"] == 1000 else
         f" (projected from {report['scenarios']})"), f"{sweep:.0f} s",
         f"{report['baseline_extrapolated_wall_s'] * 1000 / report['scenarios']:.0f} s",
         f"<= {targets['sweep_1000_s']} s", met(sweep, targets["sweep_1000_s"])),
        ("episodes/s (2 workers)", f"{root['episodes_per_s']:.1f}", f"{base['episodes_per_s']:.1f}", "", ""),
        ("new-scenario cold start, p50 / p95", f"{cold['root']['cold_start_ms']['p50']:.0f} / "
         f"{cold['root']['cold_start_ms']['p95']:.0f} ms", f"{cold['baseline']['cold_start_ms']['p50']:.0f} / "
         f"{cold['baseline']['cold_start_ms']['p95']:.0f} ms", f"<= {targets['cold_start_p50_ms']} ms",
         met(cold["root"]["cold_start_ms"]["p50"], targets["cold_start_p50_ms"])),
        ("... same scenario code seen before (OpenAPI cached), p50 / p95",
         f"{cached.get('p50', float('nan')):.0f} / {cached.get('p95', float('nan')):.0f} ms", "", "", ""),
        ("CPU on the cold-start path, p50", f"{cold['root']['breakdown_ms']['cpu_total']['p50']:.0f} ms",
         f"{cold['baseline']['breakdown_ms']['cpu_total']['p50']:.0f} ms", "", ""),
        ("warm reset, p50", f"{root['warm_reset_ms']['p50']:.2f} ms", f"{base['warm_reset_ms']['p50']:.2f} ms", "", ""),
        ("reference solutions verified complete", f"{root['passed']} / {root['episodes']}",
         f"{base['passed']} / {base['episodes']}", "", ""),
        ("peak memory of the process tree, PSS", f"{root['peak_pss_mib']:.0f} MiB", f"{base['peak_pss_mib']:.0f} MiB",
         "", ""),
        ("peak live zygotes (their USS)", f"{root['peak_live_zygotes']} ({root['peak_zygotes_uss_mib']:.0f} MiB)",
         f"{base['peak_live_zygotes']} ({base['peak_zygotes_uss_mib']:.0f} MiB)", "", ""),
    ]  # fmt: skip
    lines = [
        f"{report['scenarios']} generated scenarios x {report['tasks_per_scenario']} tasks, each task's reference "
        f"solution replayed through the suite env and the verifier. Baseline: a fresh interpreter per scenario "
        f"(`AWM_GYM_ZYGOTE_ROOT=0`), {report['baseline_extrapolated_from']}.",
        "",
        "| figure | root process (zygotes forked) | fresh interpreter per scenario | target | met |",
        "|---|---:|---:|---:|:-:|",
        *(f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows),
        "",
        "First tool call on a freshly forked server against the steady state (p50 over new scenarios):",
        "",
        "| zygote warm-up | first call | steady call | first / steady | page faults, first call |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {part['first_call_ms']['p50']:.1f} ms | {part['steady_call_ms']['p50']:.2f} ms | "
            f"{part['first_over_steady']['p50']:.1f}x | {part['first_call_minor_faults']['p50']:.0f} |"
            for name, part in first.items()
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run every part (each in a fresh interpreter), write JSON and PNG."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=1000, help="generated scenarios in the root sweep")
    parser.add_argument("--baseline-scenarios", type=int, default=None, help="scenarios in the baseline sweep")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="threads sharing the scenarios")
    parser.add_argument("--first-call-scenarios", type=int, default=20, help="new scenarios in the first-call part")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--cold-scenarios", type=int, default=32, help="new scenarios in the cold-start part")
    parser.add_argument("--part", choices=["sweep", "first_call", "cold"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.part == "sweep":
        print(json.dumps(run_sweep(args.data_dir, args.workers)))
        return
    if args.part == "first_call":
        print(json.dumps(run_first_call(args.data_dir, args.first_call_scenarios)))
        return
    if args.part == "cold":
        print(json.dumps(run_cold(args.data_dir, args.cold_scenarios)))
        return

    n = args.scenarios
    n_base = args.baseline_scenarios if args.baseline_scenarios is not None else (n if n <= 50 else 50)
    n_cold = min(args.cold_scenarios, n - 1)
    start_cpu = cpu_times()
    with tempfile.TemporaryDirectory(prefix="bench_suite-") as scratch:
        data, base_data = Path(scratch) / "suite", Path(scratch) / "baseline"
        write_scenarios(data, max(n, n_cold + 1))
        write_scenarios(base_data, n_base)
        cold_args = ["--data-dir", str(data), "--cold-scenarios", str(n_cold)]
        print(f"cold start: {n_cold} new scenarios, one at a time...", file=sys.stderr)
        cold = {
            "root": in_fresh_interpreter("cold", {}, *cold_args),
            "baseline": in_fresh_interpreter("cold", {"AWM_GYM_ZYGOTE_ROOT": "0"}, *cold_args),
        }
        workers = ["--workers", str(args.workers)]
        print(f"root sweep: {n} scenarios...", file=sys.stderr)
        root = in_fresh_interpreter("sweep", {}, "--data-dir", str(data), *workers)
        print(f"baseline sweep: {n_base} scenarios...", file=sys.stderr)
        baseline = in_fresh_interpreter("sweep", {"AWM_GYM_ZYGOTE_ROOT": "0"}, "--data-dir", str(base_data), *workers)
        print("first call...", file=sys.stderr)
        k = ["--data-dir", str(data), "--first-call-scenarios", str(args.first_call_scenarios)]
        first_call = {
            "warm-up off": in_fresh_interpreter("first_call", {"AWM_GYM_WARM_UP": "0"}, *k),
            "warm-up on": in_fresh_interpreter("first_call", {"AWM_GYM_WARM_UP": "1"}, *k),
            "warm-up all": in_fresh_interpreter("first_call", {"AWM_GYM_WARM_UP": "all"}, *k),
        }
    extrapolated = round(baseline["wall_s"] * n / max(1, n_base), 1)
    report = {
        "benchmark": "bench_suite",
        "scenarios": n,
        "tasks_per_scenario": TASKS_PER_SCENARIO,
        "targets": TARGETS,
        "root": root,
        "baseline": baseline,
        "baseline_extrapolated_wall_s": extrapolated,
        "baseline_extrapolated_from": f"{n_base} of {n} scenarios, wall time scaled linearly",
        "speedup": {
            "sweep_wall": round(extrapolated / root["wall_s"], 2) if root["wall_s"] else None,
            "cold_start_p50": round(cold["baseline"]["cold_start_ms"]["p50"] / cold["root"]["cold_start_ms"]["p50"], 2),
        },
        "sweep_1000_projected_s": round(root["wall_s"] * 1000 / n, 1),
        "cold_start": cold,
        "first_call": first_call,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            **conditions(start_cpu),
        },
        "command": " ".join(["python", "benchmarks/bench_suite.py", *sys.argv[1:]]),
    }
    report["markdown"] = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_suite.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, args.out / "bench_suite.png")
    print(report["markdown"])
    print(f"wrote {write_docs(args.out)}")


if __name__ == "__main__":
    main()
