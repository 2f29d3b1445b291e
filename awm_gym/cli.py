"""The ``awm-gym`` command: run an episode, audit scenarios, list them, download AgentWorldModel-1K.

Examples::

    awm-gym run                                   # a bundled task, replaying its reference solution
    awm-gym run --scenario awmgym_pet_clinic --task 3 --model Qwen3-4B --base-url http://localhost:8000/v1
    awm-gym check                                 # audit the bundled pack
    awm-gym check --data-dir ~/awm --json report.json
    awm-gym list
    awm-gym download
    awm-gym serve                                 # MCP at /mcp, OpenEnv at /ws, on 127.0.0.1:8000
    awm-gym eval --simulate --repeats 3           # offline (a SIMULATION): synthetic student with/without expert
    awm-gym eval --tasks test.json --model Qwen3-4B --base-url http://localhost:8000/v1 --repeats 4
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

DEFAULT_SCENARIO = "awmgym_workflow_automation"


def _short(text: str, width: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= width else text[:width] + f" ... [{len(text) - width} more characters]"


def _run(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import awm_gym
    from awm_gym.catalog import load_reference_solutions, load_scenario

    awm_gym.register_scenarios(args.data_dir)
    if awm_gym.env_id(args.scenario) not in gym.registry:
        load_scenario(args.scenario, args.data_dir)  # raises the error that says where scenarios come from
    env_kwargs: dict[str, Any] = {"max_steps": args.max_steps, "verifier_mode": args.verifier_mode}
    if args.data_dir:
        env_kwargs["data_dir"] = args.data_dir
    for key in ("judge_base_url", "judge_api_key", "judge_model"):
        if getattr(args, key):
            env_kwargs[key] = getattr(args, key)
    env = gym.make(awm_gym.env_id(args.scenario), **env_kwargs)
    policy = None
    if args.model:
        from awm_gym.llm import OpenAIPolicy
        from awm_gym.wrappers import ChatMessages

        env = ChatMessages(env)
        # AWM's agent convention: tools listed in the system prompt, calls written as <tool_call> text.
        policy = OpenAIPolicy(
            base_url=args.base_url,
            model=args.model,
            api_key=args.api_key,
            temperature=args.temperature,
            use_native_tools=False,
        )
    try:
        obs, info = env.reset(seed=args.seed, options=None if args.task is None else {"task_idx": args.task})
        scenario, task_idx = info["scenario"], info["task_idx"]
        print(f"scenario {scenario}, task {task_idx}: {info['task']}")
        actions = None
        if policy is not None:
            print(f"policy: {args.model} at {args.base_url}\n")
        else:
            solution = load_reference_solutions().get((scenario, task_idx))
            if solution is None:
                print(
                    f"error: no reference solution for {scenario} task {task_idx}; pass --model/--base-url to run an "
                    "LLM policy (reference solutions exist for the bundled scenarios)",
                    file=sys.stderr,
                )
                return 2
            print("policy: the task's reference solution (pass --model/--base-url for an LLM)\n")
            actions = iter(solution.actions())
        reward, terminated, truncated, step = 0.0, False, False, 0
        while not (terminated or truncated):
            step += 1
            action = next(actions) if actions is not None else policy(obs)
            print(f"[{step}] action: {_short(action, 300)}")
            obs, reward, terminated, truncated, info = env.step(action)
            shown = obs[-1]["content"] if isinstance(obs, list) else obs
            print(textwrap.indent(_short(str(shown)), "      "))
        verdict = info["verifier"]
        print(f"\nverifier ({verdict['mode']} mode): {verdict['label']}   reward: {float(reward)}")
        if verdict["details"].get("error"):
            print(f"details: {verdict['details']['error']}")
        return 0
    finally:
        env.close()


def _check(args: argparse.Namespace) -> int:
    from awm_gym.audit import audit, format_table, write_report
    from awm_gym.verifier import isolation_level

    audits = audit(args.scenarios or None, data_dir=args.data_dir, progress=not args.no_progress, jobs=args.jobs)
    print(format_table(audits))
    print(f"\nverifier isolation: {isolation_level().value} (see docs/security.md)")
    if args.json:
        write_report(audits, args.json)
        print(f"\nJSON report: {args.json}")
    return 0 if all(a.ok for a in audits) else 1


def _list(args: argparse.Namespace) -> int:
    from awm_gym.catalog import default_sources

    for source in default_sources(args.data_dir):
        names = source.names()
        print(f"# {source.origin}: {source.root} ({len(names)} scenarios)")
        for name in names:
            print(name)
    return 0


def _download(args: argparse.Namespace) -> int:
    import awm_gym

    path = awm_gym.download(revision=args.revision, local_dir=args.local_dir)
    print(f"AgentWorldModel-1K is in {path}")
    if args.local_dir:
        print(f"use it with AWM_DATA_DIR={path} or data_dir={str(path)!r}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import os

    from awm_gym.catalog import TaskSet
    from awm_gym.server import ServeConfig, serve

    env_kwargs: dict[str, Any] = {"max_steps": args.max_steps, "verifier_mode": args.verifier_mode}
    config = ServeConfig(
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get("AWM_SERVE_TOKEN") or None,
        scenarios=args.scenarios or None,
        tasks=TaskSet.load(args.tasks) if args.tasks else None,
        default_scenario=args.scenarios[0] if len(args.scenarios or ()) == 1 else None,
        data_dir=args.data_dir,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        max_request_bytes=args.max_request_bytes,
        max_argument_bytes=args.max_argument_bytes,
        env_kwargs=env_kwargs,
    )
    serve(config)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="awm-gym", description="Agent World Model scenarios as Gymnasium environments."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one episode and print the trajectory and the verdict")
    run.add_argument("--scenario", default=DEFAULT_SCENARIO, help=f"scenario name (default: {DEFAULT_SCENARIO})")
    run.add_argument("--task", type=int, default=0, help="task index (default: 0; -1 for a seeded random task)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--max-steps", type=int, default=30)
    run.add_argument("--data-dir", help="directory of AgentWorldModel-1K jsonl files")
    run.add_argument("--model", help="model of an OpenAI-compatible endpoint to act as the policy")
    run.add_argument("--base-url", default="http://localhost:8000/v1", help="its base URL")
    run.add_argument("--api-key", default="EMPTY", help="its API key")
    run.add_argument("--temperature", type=float, default=1.0)
    run.add_argument("--verifier-mode", choices=("code", "sql"), default="code")
    run.add_argument("--judge-base-url", help="sql mode: the judge's base URL")
    run.add_argument("--judge-api-key", help="sql mode: the judge's API key")
    run.add_argument("--judge-model", help="sql mode: the judge's model")
    run.set_defaults(handler=_run)

    check = commands.add_parser(
        "check", help="audit scenarios: database, server, tools, verifiers, solutions, no-op passes"
    )
    check.add_argument("scenarios", nargs="*", help="scenario names (default: the bundled pack, or all of --data-dir)")
    check.add_argument(
        "--data-dir", help="AgentWorldModel-1K jsonl directory (or awm_1k_fixed_harness parquet) to audit"
    )
    check.add_argument("--json", help="also write the report as JSON to this file")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.add_argument(
        "--jobs", "-j", type=int, default=None, help="scenarios audited in parallel (default: the number of CPUs)"
    )
    check.set_defaults(handler=_check)

    listing = commands.add_parser("list", help="list available scenarios by source")
    listing.add_argument("--data-dir", help="also list this directory")
    listing.set_defaults(handler=_list)

    download = commands.add_parser("download", help="download AgentWorldModel-1K from the Hugging Face hub")
    download.add_argument("--revision", help="dataset revision (default: main)")
    download.add_argument("--local-dir", help="put the files here instead of the hub cache")
    download.set_defaults(handler=_download)

    from awm_gym.evaluation import command as eval_command  # cheap: argparse only

    evaluation = commands.add_parser(
        "eval", help="evaluate policies on a pinned task set: verifier success, paired comparisons, resumable"
    )
    eval_command.add_arguments(evaluation)
    evaluation.set_defaults(handler=eval_command.run)

    srv = commands.add_parser("serve", help="serve scenarios to remote agents and trainers (MCP and OpenEnv)")
    srv.add_argument("scenarios", nargs="*", help="scenarios clients may choose (default: every one found)")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback; others need --token)")
    srv.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000; 0 picks a free one)")
    srv.add_argument("--token", help="access token clients send as a bearer token (or set AWM_SERVE_TOKEN)")
    srv.add_argument("--data-dir", help="directory of AgentWorldModel-1K jsonl files")
    srv.add_argument("--tasks", help="a task set file (.json/.jsonl): serve only its (scenario, task) pairs")
    srv.add_argument("--max-sessions", type=int, default=64, help="concurrent client sessions (default: 64)")
    srv.add_argument("--idle-timeout", type=float, default=600.0, help="seconds before an idle session is reaped")
    srv.add_argument("--max-steps", type=int, default=30, help="tool calls per episode (default: 30)")
    srv.add_argument("--verifier-mode", choices=("code", "sql"), default="code")
    srv.add_argument("--max-request-bytes", type=int, default=1 << 20, help="largest request body (default: 1 MiB)")
    srv.add_argument("--max-argument-bytes", type=int, default=64 << 10, help="largest tool arguments (64 KiB)")
    srv.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``awm-gym`` console script."""
    from awm_gym.errors import AWMGymError

    args = _parser().parse_args(argv)
    if getattr(args, "task", None) == -1:
        args.task = None
    try:
        return int(args.handler(args))
    except AWMGymError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
