"""Does stable-baselines3 learn on AWM? MaskablePPO over a scenario's action menu, against the random policy.

The agent is sb3-contrib's ``MaskablePPO`` on :class:`~awm_gym.wrappers.SB3Spaces`: each action is one entry
of the scenario's menu, built automatically (:func:`~awm_gym.wrappers.default_action_menu`: the reference
solutions' calls of every task of the scenario, so a task's own calls sit among distractors, then the
tasks' final answers and ``Done.``); calls already made are masked; observations are hashed features of the
task and the latest tool result. Training draws one of ``--tasks`` per episode; the reward is the
verifier's (1 when it labels the episode complete, else 0), with no shaping.

Every ``--eval-every`` steps the policy plays ``--eval-episodes`` episodes (sampling its actions, with the
masks; tasks in turn) and the success rate is logged with its 95% Wilson interval; the greedy policy plays
each task once. The random policy (uniform over the unmasked menu entries) plays the same number of
episodes. The menu and the task features make this a small, honest learning problem, not a measurement of
language ability.

Usage: ``python benchmarks/bench_sb3.py [--quick] [--timesteps 12000] [--out benchmarks/results]``.
Writes ``bench_sb3.json`` and ``bench_sb3.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import awm_gym
from awm_gym.wrappers import SB3Spaces

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import conditions, cpu_times  # noqa: E402
from report import write_docs  # noqa: E402 - docs/benchmarks.md from the results


def make_env(args: argparse.Namespace) -> SB3Spaces:
    """One training or evaluation env: the scenario, the menu, hashed features, the training tasks."""
    env = gym.make(awm_gym.env_id(args.scenario), max_steps=args.max_steps)
    return SB3Spaces(env, hash_dims=args.hash_dims, tasks=args.tasks)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a success rate."""
    from scipy.stats import binomtest

    interval = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def play(env: SB3Spaces, choose: Any, task_idx: int, seed: int) -> bool:
    """One episode on ``task_idx``; ``choose(obs, masks) -> action``; whether the verifier said complete."""
    obs, _ = env.reset(seed=seed, options={"task_idx": task_idx})
    while True:
        obs, _, terminated, truncated, info = env.step(choose(obs, env.action_masks()))
        if terminated or truncated:
            return info["verifier"]["label"] == "complete"


def success_rate(env: SB3Spaces, choose: Any, episodes: int, tasks: list[int], seed: int) -> dict[str, Any]:
    """Success over ``episodes`` episodes (tasks in turn), with its Wilson interval and per-task rates."""
    wins = [play(env, choose, tasks[k % len(tasks)], seed + k) for k in range(episodes)]
    low, high = wilson(sum(wins), episodes)
    per_task = {str(t): float(np.mean(wins[k :: len(tasks)])) for k, t in enumerate(tasks)}
    return {"episodes": episodes, "success": float(np.mean(wins)), "low": low, "high": high, "per_task": per_task}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="awmgym_pet_clinic")
    parser.add_argument("--tasks", type=int, nargs="+", default=[0, 1, 3, 5])
    parser.add_argument("--timesteps", type=int, default=12_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--hash-dims", type=int, default=128)
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--eval-episodes", type=int, default=80)
    parser.add_argument("--random-episodes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small budget that only proves the pipeline")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.timesteps, args.eval_every, args.eval_episodes, args.random_episodes = 512, 256, 8, 16
    args.out.mkdir(parents=True, exist_ok=True)

    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda: make_env(args)] * args.n_envs)
    evaluation = make_env(args)
    rng = np.random.default_rng(args.seed)
    try:
        menu = len(evaluation.actions)
        start, cpu_start = time.perf_counter(), cpu_times()
        random_policy = success_rate(
            evaluation,
            lambda obs, masks: int(rng.choice(np.flatnonzero(masks))),
            args.random_episodes,
            args.tasks,
            10_000,
        )
        print(
            f"random policy: {random_policy['success']:.3f} [{random_policy['low']:.3f}, {random_policy['high']:.3f}]"
        )
        model = MaskablePPO(
            "MlpPolicy",
            venv,
            n_steps=128,
            batch_size=128,
            n_epochs=8,
            learning_rate=1e-3,
            ent_coef=0.02,
            gamma=0.95,
            policy_kwargs={"net_arch": [128, 128]},
            seed=args.seed,
            device="cpu",
        )
        model.set_logger(Logger(folder=None, output_formats=[]))  # no SB3-<date> folder in /tmp
        curve: list[dict[str, Any]] = []

        def measure() -> None:
            sampled = success_rate(
                evaluation,
                lambda obs, masks: int(model.predict(obs, action_masks=masks, deterministic=False)[0]),
                args.eval_episodes,
                args.tasks,
                20_000 + len(curve) * 1_000,
            )
            greedy = [
                play(evaluation, lambda o, m: int(model.predict(o, action_masks=m, deterministic=True)[0]), t, 0)
                for t in args.tasks
            ]
            point = {"timesteps": model.num_timesteps, **sampled, "greedy_success": float(np.mean(greedy))}
            curve.append(point)
            print(
                f"{point['timesteps']:>7} steps: sampled {point['success']:.3f} [{point['low']:.3f}, "
                f"{point['high']:.3f}], greedy {point['greedy_success']:.2f}"
            )

        class Every(BaseCallback):
            def _on_step(self) -> bool:
                if self.num_timesteps // args.eval_every > (self.num_timesteps - args.n_envs) // args.eval_every:
                    measure()
                return True

        measure()
        model.learn(args.timesteps, callback=Every())
        if curve[-1]["timesteps"] < args.timesteps:  # the last callback point fell short of the budget
            measure()
        wall = time.perf_counter() - start
    finally:
        venv.close()
        evaluation.close()

    final = curve[-1]
    result = {
        "scenario": args.scenario,
        "tasks": args.tasks,
        "menu_size": menu,
        "timesteps": model.num_timesteps,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
        "random_policy": random_policy,
        "curve": curve,
        "final": final,
        "beats_random": final["low"] > random_policy["high"],
        "success_ratio_vs_random": final["success"] / random_policy["success"] if random_policy["success"] else None,
        "wall_s": wall,
        "steps_per_s": model.num_timesteps / wall,
        "machine": {"cpus": os.cpu_count(), "during_run": conditions(cpu_start)},
    }
    result["markdown"] = tables(result)
    (args.out / "bench_sb3.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    plot(result, args.out / "bench_sb3.png")
    print(result["markdown"])
    print(f"wrote {write_docs(args.out)}")
    verdict = "above" if result["beats_random"] else "NOT above (intervals overlap)"
    print(
        f"final: {final['success']:.3f} [{final['low']:.3f}, {final['high']:.3f}] vs random "
        f"{random_policy['success']:.3f} [{random_policy['low']:.3f}, {random_policy['high']:.3f}]: {verdict}; "
        f"{result['steps_per_s']:.0f} steps/s; wrote {args.out / 'bench_sb3.json'} and {args.out / 'bench_sb3.png'}"
    )
    return 0


def tables(result: dict[str, Any]) -> str:
    """The learning curve and the random policy as a markdown table."""
    random_policy, final = result["random_policy"], result["final"]
    lines = [
        f"MaskablePPO on {result['scenario']} tasks {result['tasks']} (menu of {result['menu_size']} actions; "
        f"reward = the verifier's 1/0), {result['steps_per_s']:.0f} env steps/s including evaluation.",
        "",
        "| steps | success, sampled policy [95% Wilson CI] | episodes | greedy policy, one episode per task |",
        "|---:|---|---:|---:|",
    ]
    for point in result["curve"]:
        lines.append(
            f"| {point['timesteps']:,} | {point['success']:.3f} [{point['low']:.3f}, {point['high']:.3f}] | "
            f"{point['episodes']} | {point['greedy_success']:.2f} |"
        )
    lines.append(
        f"| random (masked) | {random_policy['success']:.3f} [{random_policy['low']:.3f}, "
        f"{random_policy['high']:.3f}] | {random_policy['episodes']} | |"
    )
    ratio = result["success_ratio_vs_random"]
    verdict = "above the random policy's, intervals apart" if result["beats_random"] else "NOT clear of random"
    lines += ["", f"Final success {final['success']:.3f} ({ratio:.1f}x random): {verdict}." if ratio else ""]
    return "\n".join(lines).rstrip() + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve, random_policy = result["curve"], result["random_policy"]
    steps = [p["timesteps"] for p in curve]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [p["success"] for p in curve], "o-", color="#1f77b4", label="MaskablePPO (sampled)")
    ax.fill_between(steps, [p["low"] for p in curve], [p["high"] for p in curve], color="#1f77b4", alpha=0.2)
    ax.plot(steps, [p["greedy_success"] for p in curve], "s:", color="#2ca02c", label="MaskablePPO (greedy)")
    ax.axhline(random_policy["success"], color="#d62728", label="random (masked)")
    ax.axhspan(random_policy["low"], random_policy["high"], color="#d62728", alpha=0.15)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("verifier success rate (95% Wilson CI)")
    ax.set_title(f"{result['scenario']} tasks {result['tasks']}, menu of {result['menu_size']} actions", fontsize=10)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
