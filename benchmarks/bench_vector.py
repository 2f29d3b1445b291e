"""Vector env throughput and non-lockstep rollouts, measured on this machine.

Two parts, one run:

1. **Throughput.** A cheap scripted policy drives N = 1, 8, 32, 64 sub-environments through
   :class:`~awm_gym.vector.AWMVectorEnv`, through Gymnasium's ``SyncVectorEnv`` over the very same env
   objects, and through ``AsyncVectorEnv(shared_memory=False)`` (one Python process per env, each starting
   its own scenario server zygote: capped with ``--async-max``), on two workloads: ``read`` (a read tool,
   over and over) and ``episodes`` (``episode_len - 1`` reads, then the final answer, which runs the
   verifier; NEXT_STEP autoreset). They take turns in ``--rounds`` rounds so that background load hits all
   alike.
2. **Lockstep vs dynamic batching.** The same policy behind an artificial latency per batch (e.g. 50 ms,
   like one forward pass of a batched model), run for the same number of episodes in lockstep
   (``AWMVectorEnv`` with ``SAME_STEP`` autoreset, the best case for lockstep) and through
   :class:`~awm_gym.vector.RolloutDriver` with 1, 2 and 4 policy calls in flight.

Writes ``<out>/bench_vector.json`` and ``<out>/bench_vector.png`` and prints Markdown tables.

Usage::

    python benchmarks/bench_vector.py             # the README numbers (a few minutes on 2 cores)
    python benchmarks/bench_vector.py --quick     # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from _common import machine_record, publish, pyplot, save_figure, throughput_rows  # noqa: E402 - beside this script
from machine import cpu_times  # noqa: E402 - benchmarks/machine.py

import awm_gym  # noqa: E402
from awm_gym.envs import AWMEnv  # noqa: E402
from awm_gym.vector import AWMVectorEnv, RolloutDriver  # noqa: E402

FINAL_ANSWER = "Done."


WORKLOADS = ("read", "episodes")
"""``read``: read-tool calls only, episodes never end. ``episodes``: ``episode_len``-step episodes (reads, then
the final answer, which runs the verifier; the autoreset step follows)."""


@dataclass
class Throughput:
    """What one implementation did on one workload at one N."""

    impl: str
    workload: str
    num_envs: int
    seconds: float
    steps: int
    read_steps: int
    episodes: int
    create_s: float

    @property
    def steps_per_s(self) -> float:
        """Env steps (tool calls and final answers; autoreset steps excluded) per second."""
        return self.steps / self.seconds

    @property
    def read_steps_per_s(self) -> float:
        """Read-tool calls per second."""
        return self.read_steps / self.seconds

    @property
    def episodes_per_s(self) -> float:
        """Finished episodes per second."""
        return self.episodes / self.seconds

    def row(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            **asdict(self),
            "seconds": round(self.seconds, 3),
            "steps_per_s": round(self.steps_per_s, 1),
            "read_steps_per_s": round(self.read_steps_per_s, 1),
            "episodes_per_s": round(self.episodes_per_s, 2),
        }


class ScriptedLockstep:
    """Per sub-environment: ``episode_len - 1`` read calls then the answer (reads only if ``None``).

    Follows NEXT_STEP autoreset: the step after an episode's end is a reset, not an env step.
    """

    def __init__(self, num_envs: int, read_call: str, episode_len: int | None) -> None:
        self.read_call = read_call
        self.last = np.iinfo(np.int64).max if episode_len is None else episode_len - 1
        self.count = np.zeros(num_envs, dtype=np.int64)  # actions taken in the current episode
        self.resetting = np.zeros(num_envs, dtype=np.bool_)  # next step is an autoreset step

    def actions(self) -> list[str]:
        """The next action of every sub-environment."""
        return [FINAL_ANSWER if c >= self.last else self.read_call for c in self.count]

    def restart(self) -> None:
        """Every sub-environment was just reset."""
        self.count[:] = 0
        self.resetting[:] = False

    def record(self, terminations: np.ndarray, truncations: np.ndarray) -> tuple[int, int, int]:
        """Steps, read steps and episodes of the step just taken."""
        real = ~self.resetting
        read = real & (self.count < self.last)
        done = terminations | truncations
        self.count = np.where(self.resetting, 0, self.count + 1)
        self.count[done] = 0
        self.resetting = done.copy()
        return int(real.sum()), int(read.sum()), int((done & real).sum())


def measure(envs: Any, policy: ScriptedLockstep, seconds: float, cycle: int) -> tuple[float, int, int, int]:
    """Step for ``seconds``, stopping only after a whole number of ``cycle`` vector steps."""
    steps = read = episodes = taken = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or taken % cycle:
        _, _, terminations, truncations, _ = envs.step(policy.actions())
        s, r, e = policy.record(terminations, truncations)
        steps, read, episodes, taken = steps + s, read + r, episodes + e, taken + 1
    return elapsed, steps, read, episodes


def take_turns(impls: Mapping[str, Any], args: argparse.Namespace, num_envs: int) -> dict[tuple[str, str], list[float]]:
    """Warm each vector env up, then time both workloads on each in turns, ``args.rounds`` rounds (shared load).

    Each turn starts from a reset, untimed, and runs whole episode cycles (the episodes, then the autoreset step),
    all sub-environments in step: vector envs that share their envs (AWMVectorEnv, SyncVectorEnv) start alike.

    Returns:
        Per (impl, workload): summed seconds, steps, read steps, episodes and the driver's CPU seconds.
    """
    read_call = json.dumps({"name": args.tool, "arguments": {}})
    lengths = {"read": None, "episodes": args.episode_len}
    totals: dict[tuple[str, str], list[float]] = {
        (name, workload): [0.0, 0, 0, 0, 0.0] for name in impls for workload in WORKLOADS
    }
    for envs in impls.values():  # warm-up: a whole episode (the first one starts the verifier worker)
        warm = ScriptedLockstep(num_envs, read_call, 2)
        for _ in range(3):
            warm.record(*envs.step(warm.actions())[2:4])
    for round_ in range(args.rounds):
        for workload in WORKLOADS:
            for name, envs in impls.items():
                envs.reset(seed=round_)
                policy = ScriptedLockstep(num_envs, read_call, lengths[workload])
                cycle = 1 if workload == "read" else args.episode_len + 1
                cpu = time.process_time()
                result = measure(envs, policy, args.seconds / args.rounds, cycle)
                used = time.process_time() - cpu
                totals[name, workload] = [a + b for a, b in zip(totals[name, workload], (*result, used), strict=True)]
    return totals


def throughput(args: argparse.Namespace, num_envs: int, log: list[str]) -> list[Throughput]:
    env_kwargs = {"max_steps": 1_000_000}  # episodes end by the final answer only
    impls: dict[str, Any] = {}
    created: dict[str, float] = {}

    start = time.perf_counter()
    awm = AWMVectorEnv(args.scenario, num_envs=num_envs, **env_kwargs)
    awm.reset(seed=0)
    created["AWMVectorEnv"] = time.perf_counter() - start
    impls["AWMVectorEnv"] = awm
    # SyncVectorEnv over the very same env objects: the same servers, only the driving differs.
    sync = gym.vector.SyncVectorEnv([lambda env=env: env for env in awm.envs])
    sync.reset(seed=0)
    created["SyncVectorEnv"] = 0.0
    impls["SyncVectorEnv"] = sync
    if num_envs <= args.async_max:
        start = time.perf_counter()
        factory = functools.partial(AWMEnv, args.scenario, **env_kwargs)
        impls["AsyncVectorEnv"] = gym.vector.AsyncVectorEnv([factory] * num_envs, shared_memory=False, context="spawn")
        impls["AsyncVectorEnv"].reset(seed=0)
        created["AsyncVectorEnv"] = time.perf_counter() - start
    else:
        log.append(
            f"AsyncVectorEnv skipped at N={num_envs} (--async-max {args.async_max}: one process + zygote per env)"
        )

    try:
        totals = take_turns(impls, args, num_envs)
    finally:
        for name in reversed(list(impls)):
            impls[name].close()
    return [
        Throughput(name, workload, num_envs, t[0], t[1], t[2], t[3], round(created[name], 2))
        for (name, workload), t in totals.items()
    ]


def scripted_messages_policy(read_call: str, episode_len: int, latency_s: float) -> Any:
    def policy(histories: list[list[dict[str, Any]]]) -> list[str]:
        time.sleep(latency_s)  # one batched forward pass
        actions = []
        for history in histories:
            taken = sum(message["role"] == "assistant" for message in history)
            actions.append(FINAL_ANSWER if taken >= episode_len - 1 else read_call)
        return actions

    return policy


def lockstep_vs_dynamic(args: argparse.Namespace) -> list[dict[str, Any]]:
    n, episodes, latency = args.driver_n, args.driver_episodes, args.latency_ms / 1000
    read_call = json.dumps({"name": args.tool, "arguments": {}})
    rows = []
    with AWMVectorEnv(args.scenario, num_envs=n, max_steps=args.episode_len + 2, autoreset_mode="SameStep") as envs:
        envs.reset(seed=0)  # start the servers outside the timings

        start = time.perf_counter()
        envs.reset(seed=0)
        count = np.zeros(n, dtype=np.int64)
        done_episodes = steps = calls = 0
        while done_episodes < episodes:
            time.sleep(latency)  # the policy, on all n observations
            calls += 1
            actions = [FINAL_ANSWER if c >= args.episode_len - 1 else read_call for c in count]
            _, _, terminations, truncations, _ = envs.step(actions)
            done = terminations | truncations
            steps += n
            done_episodes += int(done.sum())
            count = np.where(done, 0, count + 1)
        wall = time.perf_counter() - start
        rows.append(
            {
                "mode": "lockstep (SAME_STEP)",
                "max_concurrent_batches": 1,
                "episodes": done_episodes,
                "wall_s": round(wall, 3),
                "episodes_per_s": round(done_episodes / wall, 2),
                "steps_per_s": round(steps / wall, 1),
                "policy_calls": calls,
                "mean_batch": float(n),
            }
        )
        for concurrent in args.concurrency:
            policy = scripted_messages_policy(read_call, args.episode_len, latency)
            driver = RolloutDriver(
                envs,
                policy,
                num_episodes=episodes,
                inputs="messages",
                max_wait_ms=args.max_wait_ms,
                max_concurrent_batches=concurrent,
                seed=0,
                progress=False,
            )
            finished = sum(1 for _ in driver)
            stats = driver.stats
            rows.append(
                {
                    "mode": "dynamic batching",
                    "max_concurrent_batches": concurrent,
                    "episodes": finished,
                    "wall_s": round(stats.wall_s, 3),
                    "episodes_per_s": round(stats.episodes_per_s, 2),
                    "steps_per_s": round(stats.steps_per_s, 1),
                    "policy_calls": stats.policy_calls,
                    "mean_batch": round(stats.mean_batch_size, 1),
                }
            )
    # Lockstep finishes a round of episodes at once and may overshoot; compare time per episode.
    base = rows[0]["wall_s"] / rows[0]["episodes"]
    for row in rows:
        row["saving_vs_lockstep"] = round(1 - (row["wall_s"] / row["episodes"]) / base, 3)
    return rows


def markdown(results: dict[str, Any]) -> str:
    length = results["config"]["episode_len"]
    lines = [
        f"| N | impl | read-tool steps/s | vs Sync | steps/s, {length}-step episodes | episodes/s | vs Sync "
        "| setup s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, impl, read, episodes, sync in throughput_rows(results["throughput"], "SyncVectorEnv"):
        lines.append(
            f"| {n} | {impl} | {read['read_steps_per_s']:.0f} | "
            f"{read['read_steps_per_s'] / sync['read']['read_steps_per_s']:.2f}x | "
            f"{episodes['steps_per_s']:.0f} | {episodes['episodes_per_s']:.1f} | "
            f"{episodes['steps_per_s'] / sync['episodes']['steps_per_s']:.2f}x | {read['create_s']:.1f} |"
        )
    config = results["config"]
    lines += [
        "",
        f"Policy latency {config['latency_ms']:.0f} ms per batch, N = {config['driver_n']}, "
        f"{config['driver_episodes']} episodes of {config['episode_len']} steps:",
        "",
        "| mode | policy calls in flight | episodes | wall s | episodes/s | mean batch | wall time per episode saved |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rollout"]:
        lines.append(
            f"| {row['mode']} | {row['max_concurrent_batches']} | {row['episodes']} | {row['wall_s']:.2f} | "
            f"{row['episodes_per_s']:.1f} | {row['mean_batch']:.1f} | {row['saving_vs_lockstep']:.0%} |"
        )
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(11, 4.2))
    impls: dict[str, list[tuple[int, float]]] = {}
    for row in results["throughput"]:
        if row["workload"] == "read":
            impls.setdefault(row["impl"], []).append((row["num_envs"], row["read_steps_per_s"]))
    for impl, points in impls.items():
        xs, ys = zip(*sorted(points), strict=True)
        left.plot(xs, ys, marker="o", label=impl)
    left.set_xscale("log", base=2)
    left.set_xlabel("sub-environments (N)")
    left.set_ylabel("read-tool steps / s")
    left.set_title(f"Throughput ({results['machine']['cpus']} CPUs)")
    left.legend()
    left.grid(alpha=0.3)
    labels = [
        "lockstep" if row["mode"].startswith("lockstep") else f"dynamic x{row['max_concurrent_batches']}"
        for row in results["rollout"]
    ]
    per_episode = [1000 * row["wall_s"] / row["episodes"] for row in results["rollout"]]
    right.bar(labels, per_episode, color=["tab:gray"] + ["tab:blue"] * (len(labels) - 1))
    right.set_ylabel("wall ms per episode")
    config = results["config"]
    right.set_title(f"{config['latency_ms']:.0f} ms policy latency per batch, N={config['driver_n']}")
    right.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def workload_parser(description: str, ns_default: str, seconds_default: str) -> argparse.ArgumentParser:
    """A parser with the scripted workload's options (shared with bench_distributed).

    Args:
        description: The parser's description.
        ns_default: The default sub-environment counts, for the help text (``args.ns`` is ``None`` if not given).
        seconds_default: The default measured seconds, for the help text (``args.seconds`` likewise).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny budgets for a smoke test")
    parser.add_argument(
        "--ns", type=int, nargs="+", default=None, help=f"sub-environment counts (default {ns_default})"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"measured seconds per impl, workload and N (default {seconds_default})",
    )
    parser.add_argument("--rounds", type=int, default=None, help="turns the impls take, to share background load")
    parser.add_argument("--scenario", default="awmgym_pet_clinic")
    parser.add_argument("--tool", default="list_veterinarians", help="the read tool the scripted policy calls")
    parser.add_argument("--episode-len", type=int, default=8, help="actions per episode (the last one answers)")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = workload_parser(__doc__.split("\n\n")[0], ns_default="1 8 32 64", seconds_default="4")
    parser.add_argument("--async-max", type=int, default=None, help="largest N for AsyncVectorEnv (default 32)")
    parser.add_argument("--driver-n", type=int, default=None, help="sub-environments of part 2 (default 32)")
    parser.add_argument("--driver-episodes", type=int, default=None, help="episodes of part 2 (default 4 x N)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="policy latency per batch in part 2")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="the driver's batching window")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4], help="policy calls in flight")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    quick = args.quick
    args.ns = args.ns or ([1, 2] if quick else [1, 8, 32, 64])
    args.seconds = args.seconds or (0.3 if quick else 4.0)
    args.rounds = args.rounds or (1 if quick else 3)
    args.async_max = args.async_max if args.async_max is not None else (1 if quick else 32)
    args.driver_n = args.driver_n or (4 if quick else 32)
    args.driver_episodes = args.driver_episodes or (2 if quick else 4) * args.driver_n
    if quick:
        args.latency_ms = min(args.latency_ms, 20.0)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    load_at_start = os.getloadavg()
    cpu_at_start = cpu_times()
    log: list[str] = []
    rows: list[Throughput] = []
    for n in args.ns:
        print(f"throughput, N={n} ...", file=sys.stderr, flush=True)
        rows += throughput(args, n, log)
    print("lockstep vs dynamic batching ...", file=sys.stderr, flush=True)
    rollout = lockstep_vs_dynamic(args)
    ratios: dict[str, dict[str, float | None]] = {}
    for n in args.ns:
        for workload, key in (("read", "read_steps_per_s"), ("episodes", "steps_per_s")):
            at_n = {row.impl: getattr(row, key) for row in rows if row.num_envs == n and row.workload == workload}
            awm, sync, asyn = at_n["AWMVectorEnv"], at_n["SyncVectorEnv"], at_n.get("AsyncVectorEnv")
            ratios.setdefault(str(n), {})[f"awm_vs_sync_{workload}"] = round(awm / sync, 2)
            ratios[str(n)][f"awm_vs_async_{workload}"] = round(awm / asyn, 2) if asyn else None
    results = {
        "machine": machine_record(load_at_start, cpu_at_start, gymnasium=gym.__version__, awm_gym=awm_gym.__version__),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "throughput": [row.row() for row in rows],
        "ratios": ratios,
        "rollout": rollout,
        "notes": log,
    }
    results["markdown"] = markdown(results)
    publish(results, args.out, "bench_vector", plot, notes=log)
    return results


if __name__ == "__main__":
    main()
