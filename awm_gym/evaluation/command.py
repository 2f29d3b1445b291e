"""The ``awm-gym eval`` subcommand: its arguments and what it runs.

Examples::

    awm-gym eval --simulate --scenarios awmgym_pet_clinic awmgym_home_budget --repeats 3   # offline
    awm-gym eval --tasks test.json --model Qwen3-4B --base-url http://localhost:8000/v1 --repeats 4
    awm-gym eval --tasks test.json --model Qwen3-4B --base-url http://localhost:8000/v1 \\
        --expert-model gpt-4.1 --expert-base-url https://api.openai.com/v1 --expert-api-key $OPENAI_API_KEY
    awm-gym eval --tasks test.json --conditions conditions.json

Interrupt it at any time: running the same command again resumes in ``--out`` and never counts an
episode twice.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "run"]

_CONDITION_KEYS = ("base_url", "model", "api_key", "temperature", "max_tokens", "extra_body", "shaping", "description")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``eval`` subcommand's arguments to ``parser``."""
    what = parser.add_argument_group("tasks (one of)")
    what.add_argument("--tasks", help="a pinned task set file (.json/.jsonl, e.g. from awm_gym.task_split)")
    what.add_argument("--scenarios", nargs="+", help="every task of these scenarios (default: every scenario found)")
    what.add_argument("--data-dir", help="with --scenarios: directory of AgentWorldModel-1K jsonl files")

    who = parser.add_argument_group("conditions (one of)")
    who.add_argument("--simulate", action="store_true", help="offline: synthetic student with/without expert")
    who.add_argument("--noise", type=float, default=0.3, help="--simulate: chance the student corrupts a call")
    who.add_argument("--model", help="policy model of an OpenAI-compatible endpoint")
    who.add_argument("--base-url", default="http://localhost:8000/v1", help="its base URL")
    who.add_argument("--api-key", default="EMPTY", help="its API key")
    who.add_argument("--temperature", type=float, default=1.0)
    who.add_argument("--max-tokens", type=int, default=2048)
    who.add_argument("--expert-model", help="also evaluate the policy with this expert (condition 'expert')")
    who.add_argument("--expert-base-url", help="the expert's base URL (default: --base-url)")
    who.add_argument("--expert-api-key", default="EMPTY")
    who.add_argument("--max-expert-calls", type=int, default=5)
    who.add_argument("--verifier-informed", action="store_true", help="give the expert the verifier's code")
    who.add_argument("--conditions", help="a JSON file: a list of condition objects (see docs/evaluation.md)")
    who.add_argument("--shaping", help="a RewardShaping preset for the shaped-return diagnostic")

    how = parser.add_argument_group("run")
    how.add_argument("--repeats", type=int, default=1, help="episodes per task and condition (pass@k: k <= this)")
    how.add_argument("--num-envs", type=int, default=4, help="episodes at once")
    how.add_argument("--max-steps", type=int, default=30)
    how.add_argument("--seed", type=int, default=0)
    how.add_argument("--keep-noop", action="store_true", help="do not exclude no-op-pass tasks")
    how.add_argument("--out", default="awm-eval", help="output directory; an existing one is resumed")
    how.add_argument("--no-plots", action="store_true")
    how.add_argument("--no-progress", action="store_true")


def _name(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", model).strip("-") or "policy"


def _conditions_from_file(path: str) -> list[Any]:
    from awm_gym.errors import ConfigurationError
    from awm_gym.evaluation.conditions import Condition
    from awm_gym.wrappers import OpenAIExpert

    try:
        items = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the conditions file {path!r}: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(item, dict) and "name" in item for item in items):
        raise ConfigurationError(
            f"{path}: expected a JSON list of objects with a 'name' and base_url/model, e.g. "
            '[{"name": "qwen", "base_url": "http://localhost:8000/v1", "model": "Qwen3-4B"}]'
        )
    conditions = []
    for item in items:
        unknown = set(item) - {"name", "expert", "expert_options", *_CONDITION_KEYS}
        if unknown:
            raise ConfigurationError(f"{path}: condition {item['name']!r} has unknown keys {sorted(unknown)}")
        expert = item.get("expert")
        conditions.append(
            Condition(
                item["name"],
                **{key: item[key] for key in _CONDITION_KEYS if key in item},
                expert=OpenAIExpert(**expert) if expert else None,
                expert_options=item.get("expert_options", {}),
            )
        )
    return conditions


def _conditions(args: argparse.Namespace) -> tuple[list[Any], Any]:
    """The conditions, and the simulation to close afterwards (or ``None``)."""
    from awm_gym.errors import ConfigurationError
    from awm_gym.evaluation.conditions import Condition

    chosen = [bool(args.simulate), bool(args.model), bool(args.conditions)]
    if sum(chosen) != 1:
        raise ConfigurationError("give exactly one of --simulate, --model (with --base-url) or --conditions FILE")
    if args.simulate:
        from awm_gym.evaluation.simulation import Simulation

        simulation = Simulation(noise=args.noise).start()
        return simulation.conditions(shaping=args.shaping or "expert_in_the_loop"), simulation
    if args.conditions:
        return _conditions_from_file(args.conditions), None
    policy = {
        "base_url": args.base_url,
        "model": args.model,
        "api_key": args.api_key,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "shaping": args.shaping,
    }
    if not args.expert_model:
        return [Condition(_name(args.model), **policy)], None
    from awm_gym.wrappers import OpenAIExpert

    expert = OpenAIExpert(
        base_url=args.expert_base_url or args.base_url, model=args.expert_model, api_key=args.expert_api_key
    )
    options = {"max_calls": args.max_expert_calls, "verifier_informed": args.verifier_informed}
    return [
        Condition("baseline", **policy),
        Condition("expert", **policy, expert=expert, expert_options=options),
    ], None


def run(args: argparse.Namespace) -> int:
    """Run ``awm-gym eval``: evaluate, print the markdown report, write the outputs to ``--out``."""
    from awm_gym.errors import ConfigurationError
    from awm_gym.evaluation.runner import evaluate

    if args.tasks and args.scenarios:
        raise ConfigurationError("give --tasks FILE or --scenarios NAMES, not both")
    if args.tasks:
        tasks: Any = args.tasks
    else:
        from awm_gym.catalog.tasksets import TaskSet

        tasks = TaskSet.from_scenarios(args.scenarios, data_dir=args.data_dir)
    conditions, simulation = _conditions(args)
    try:
        results = evaluate(
            conditions,
            tasks,
            repeats=args.repeats,
            out_dir=args.out,
            num_envs=args.num_envs,
            max_steps=args.max_steps,
            seed=args.seed,
            exclude_noop=not args.keep_noop,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(f"interrupted: the finished episodes are in {args.out}; run the same command again to resume")
        raise
    finally:
        if simulation is not None:
            simulation.close()
    print(results.markdown())
    paths = results.write(args.out, plots=not args.no_plots)
    print("wrote " + ", ".join(str(path) for path in paths.values()))
    return 0
