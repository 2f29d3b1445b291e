"""Baseline vs expert-in-the-loop: the same policy with and without ExpertAdvice, on the same tasks and seeds.

A thin front end of ``awm-gym eval`` (:func:`awm_gym.evaluate`): both conditions play every task of the
chosen scenarios ``--repeats`` times through ``ChatMessages(ExpertAdvice(RewardShaping(env,
preset="expert_in_the_loop")))`` (the baseline has no ExpertAdvice), no-op-pass tasks excluded and counted.
Success is the verifier's label; the report gives each condition's success with a bootstrap interval over
tasks, pass@k, and the paired difference (expert - baseline) with its interval and the exact sign test,
overall and per scenario; shaped return, steps, tool errors and expert calls are diagnostics. It also
records the harness's throughput (episodes per second).

With ``--model``/``--base-url`` (and ``--expert-model``/``--expert-base-url``) it evaluates real
OpenAI-compatible endpoints (vLLM, OpenAI, Azure). Without them it runs the offline mode,
:class:`awm_gym.evaluation.Simulation`: a **synthetic** student that replays the reference solution but
corrupts each call with probability ``--noise``, and a synthetic expert that names the next reference
call. Those numbers describe the simulation and the harness, not any model; every output says SIMULATION.

Usage: ``python benchmarks/bench_expert.py [--quick] [--noise 0.3] [--out benchmarks/results]``.
Writes ``bench_expert.json`` (every episode, the statistics, the task set's hash), ``bench_expert.md``,
``bench_expert.png`` (success per condition) and ``bench_expert_deltas.png`` (paired deltas per scenario).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import awm_gym
from awm_gym.catalog import TaskSet
from awm_gym.evaluation import Condition, Simulation, evaluate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import conditions as machine_conditions  # noqa: E402
from machine import cpu_times  # noqa: E402
from report import write_docs  # noqa: E402 - docs/benchmarks.md from the results

DEFAULT_SCENARIOS = ("awmgym_pet_clinic", "awmgym_workflow_automation")


def endpoint_conditions(args: argparse.Namespace) -> list[Condition]:
    """Baseline and expert conditions over real OpenAI-compatible endpoints."""
    from awm_gym.wrappers import OpenAIExpert

    policy = {
        "base_url": args.base_url,
        "model": args.model,
        "api_key": args.api_key,
        "temperature": args.temperature,
        "shaping": "expert_in_the_loop",
    }
    expert = OpenAIExpert(
        base_url=args.expert_base_url or args.base_url,
        model=args.expert_model or args.model,
        api_key=args.expert_api_key,
    )
    options = {"max_calls": 5, "verifier_informed": args.verifier_informed}
    return [Condition("baseline", **policy), Condition("expert", **policy, expert=expert, expert_options=options)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=list(DEFAULT_SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3, help="episodes per task and condition")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--num-envs", type=int, default=4, help="episodes at once")
    parser.add_argument("--temperature", type=float, default=0.7, help="policy sampling temperature")
    parser.add_argument("--model", help="policy model (OpenAI-compatible); the offline simulation if omitted")
    parser.add_argument("--base-url")
    parser.add_argument("--api-key", default="EMPTY")
    parser.add_argument("--expert-model")
    parser.add_argument("--expert-base-url")
    parser.add_argument("--expert-api-key", default="EMPTY")
    parser.add_argument("--verifier-informed", action="store_true", help="give the expert the verifier code")
    parser.add_argument("--noise", type=float, default=0.3, help="synthetic student: chance a call is wrong")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one scenario, one repeat")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.scenarios, args.repeats = args.scenarios[:1], 1
    args.out.mkdir(parents=True, exist_ok=True)

    tasks = TaskSet.from_scenarios(args.scenarios, name="bench_expert")
    simulation = None if args.model else Simulation(noise=args.noise).start()
    for scenario in args.scenarios:  # start each scenario's server zygote once, so neither condition pays for it
        with awm_gym.AWMEnv(scenario) as warm:
            warm.reset(seed=0)
    start, cpu_start = time.perf_counter(), cpu_times()
    try:
        conditions = simulation.conditions() if simulation is not None else endpoint_conditions(args)
        results = evaluate(
            conditions,
            tasks,
            repeats=args.repeats,
            out_dir=None,  # in memory: a benchmark starts afresh; every episode goes into bench_expert.json
            num_envs=args.num_envs,
            max_steps=args.max_steps,
            seed=args.seed,
            progress=sys.stderr.isatty(),
        )
    finally:
        if simulation is not None:
            simulation.close()
    wall = time.perf_counter() - start
    data = results.to_dict()
    mode = (
        f"SIMULATION: synthetic student (noise {args.noise}) and reference-solution expert"
        if simulation is not None
        else f"policy {args.model}, expert {args.expert_model or args.model}"
    )
    data["benchmark"] = {
        "mode": mode,
        "wall_s": wall,
        "episodes_per_s": len(results.records) / wall,
    }
    data["machine"] = {"cpus": os.cpu_count(), "during_run": machine_conditions(cpu_start)}
    data["markdown"] = results.markdown()
    (args.out / "bench_expert.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / "bench_expert.md").write_text(data["markdown"])
    results.plot(args.out / "bench_expert.png", args.out / "bench_expert_deltas.png")
    print(f"\n{mode}\n")
    print(results.markdown())
    print(f"{len(results.records)} episodes in {wall:.1f} s ({len(results.records) / wall:.1f} episodes/s)")
    print(f"wrote {args.out / 'bench_expert.json'}, bench_expert.md, bench_expert.png, bench_expert_deltas.png")
    print(f"wrote {write_docs(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
