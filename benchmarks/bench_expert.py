"""Baseline vs expert-in-the-loop: the same LLM policy with and without ExpertAdvice, on the same tasks.

Each condition runs every task of the chosen scenarios ``--repeats`` times through the full wrapper stack
(``RecordEpisodes(ChatMessages(ExpertAdvice(RewardShaping(env, preset="expert_in_the_loop"))))``; the
baseline has no ExpertAdvice) and reports the verifier's success rate, the shaped return, steps, expert
calls, tool errors and wall time, with the honest-evaluation rules of the public AWM expert work: no-op-pass
tasks are excluded, and success is the verifier's label, never the shaped reward.

With ``--model``/``--base-url`` (and ``--expert-model``/``--expert-base-url``) it evaluates real
OpenAI-compatible endpoints (vLLM, OpenAI, Azure). Without them it runs offline against the loopback
``FakeOpenAIServer`` with a **synthetic** student and expert, so the harness itself can be measured and
tested: the student replays the task's reference solution but corrupts each call with probability
``--noise`` (a wrong tool name or a wrong argument); without an expert it retries once and then answers
anyway; with one, after an error it asks ``ask_expert`` and follows the advice, which the synthetic expert
takes from the reference solution (a stand-in for a verifier-informed frontier model). Offline numbers
describe that simulation, not any model.

Usage: ``python benchmarks/bench_expert.py [--quick] [--noise 0.3] [--out benchmarks/results]``.
Writes ``bench_expert.json``, ``bench_expert.png`` and the episodes as JSONL.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import awm_gym
from awm_gym.catalog import ReferenceSolution, load_reference_solutions
from awm_gym.llm import LLMEndpoint, chat
from awm_gym.testing import FakeOpenAIServer, ToolCallReply
from awm_gym.wrappers import ChatMessages, ExpertAdvice, OpenAIExpert, RecordEpisodes, RewardShaping

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIOS = ("awmgym_pet_clinic", "awmgym_workflow_automation")
_CALL = re.compile(r"\{.*\}", re.DOTALL)


_ERROR_PREFIXES = ("Unknown tool", "Input validation error", "Error calling", "Invalid action")


def calls_done(solution: ReferenceSolution, attempts: list[tuple[str, Any, str]]) -> tuple[int, int, bool]:
    """From ``(tool, arguments, result)`` attempts: solution calls done right, tries at the next one, last failed."""
    done = tries = 0
    failed = False
    for name, arguments, result in attempts:
        expected = solution.calls[done] if done < len(solution.calls) else None
        right = expected is not None and (name, arguments) == (expected["name"], expected["arguments"])
        if right and not result.startswith(_ERROR_PREFIXES):
            done, tries, failed = done + 1, 0, False
        else:
            tries, failed = tries + 1, True
    return done, tries, failed


class SyntheticAgents:
    """Scripted student and expert behind one FakeOpenAIServer (model names ``student`` and ``expert``)."""

    def __init__(self, solutions: dict[tuple[str, int], ReferenceSolution], noise: float, seed: int) -> None:
        self.by_task = {awm_gym.catalog.load_scenario(s).tasks[i]: sol for (s, i), sol in solutions.items()}
        self.noise = noise
        self.seed = seed

    def __call__(self, request: dict[str, Any]) -> Any:
        return self.student(request) if request["model"] == "student" else self.expert(request)

    def student(self, request: dict[str, Any]) -> Any:
        messages = request["messages"]
        solution = self.by_task[messages[1]["content"]]
        attempts, advice = [], None
        for index, message in enumerate(messages):
            if message["role"] == "assistant" and message.get("tool_calls"):
                call = message["tool_calls"][0]["function"]
                result = messages[index + 1]["content"] if index + 1 < len(messages) else ""
                if call["name"] == "ask_expert":
                    advice = result
                else:
                    attempts.append((call["name"], json.loads(call["arguments"]), result))
                    advice = None
        done, tries, failed = calls_done(solution, attempts)
        if done == len(solution.calls):
            return solution.final_answer
        if advice is not None and (match := _CALL.search(advice)):
            call = json.loads(match.group(0))
            return ToolCallReply(call["name"], call["arguments"])
        if failed and '"ask_expert"' in messages[0]["content"]:
            return ToolCallReply("ask_expert", {"question": "My last call failed. What exactly should I call next?"})
        if failed and tries >= 2:
            return "I could not complete the task."
        call = solution.calls[done]
        rng = random.Random(f"{self.seed}|{messages[1]['content']}|{done}|{tries}|{len(messages)}")
        if rng.random() < self.noise:  # a wrong tool name, or wrong argument values
            if rng.random() < 0.5:
                return ToolCallReply(call["name"] + "_v2", call["arguments"])
            return ToolCallReply(call["name"], {key: "?" for key in call["arguments"]} or {"unexpected": 1})
        return ToolCallReply(call["name"], call["arguments"])

    def expert(self, request: dict[str, Any]) -> str:
        """Reads the trajectory from the expert prompt (``N. <action>`` then ``   -> <result>`` lines)."""
        prompt = request["messages"][-1]["content"]
        solution = self.by_task[prompt.split("\n", 1)[0].split(": ", 1)[1]]
        attempts = []
        lines = prompt.splitlines()
        for index, line in enumerate(lines):
            if (match := re.match(r"^\d+\. (\{.*\})$", line)) is not None:
                action = json.loads(match.group(1))
                result = lines[index + 1].removeprefix("   -> ") if index + 1 < len(lines) else ""
                attempts.append((action["name"], action["arguments"], result))
        done, _, _ = calls_done(solution, attempts)
        if done >= len(solution.calls):
            return "You have what you need: give your final answer now."
        return "Call exactly this next: " + json.dumps(solution.calls[done])


def make_env(scenario: str, record_path: Path, expert: Any | None, max_steps: int, verifier_informed: bool) -> gym.Env:
    env = gym.make(awm_gym.env_id(scenario), max_steps=max_steps)
    env = RewardShaping(env, preset="expert_in_the_loop")
    if expert is not None:
        env = ExpertAdvice(env, expert, max_calls=5, verifier_informed=verifier_informed)
    return RecordEpisodes(ChatMessages(env), record_path)


def run_condition(name: str, args: argparse.Namespace, policy: LLMEndpoint, expert: Any | None) -> dict[str, Any]:
    """Run every non-no-op task of the scenarios ``args.repeats`` times; summary of the episodes."""
    scenarios, repeats, out = args.scenarios, args.repeats, args.out
    record_path = out / f"bench_expert_{name}.jsonl"
    record_path.unlink(missing_ok=True)
    episodes = []
    start = time.perf_counter()
    for scenario in scenarios:
        env = make_env(scenario, record_path, expert, args.max_steps, args.verifier_informed)
        noop = env.unwrapped.noop_tasks()
        for repeat in range(repeats):
            for task_idx in range(len(env.unwrapped.scenario.tasks)):
                if task_idx in noop:
                    continue
                messages, info = env.reset(seed=repeat, options={"task_idx": task_idx})
                terminated = truncated = False
                shaped = 0.0
                tools = info["tools"]  # native tool calling; the assistant message itself is the action
                while not (terminated or truncated):
                    reply = chat(policy, messages, tools=tools, temperature=args.temperature)
                    messages, reward, terminated, truncated, info = env.step(reply)
                    shaped += float(reward)
                episodes.append(
                    {
                        "scenario": scenario,
                        "task_idx": task_idx,
                        "complete": info["verifier"]["label"] == "complete",
                        "shaped_return": shaped,
                        "steps": info.get("step", 0),
                        "expert_calls": info.get("expert_calls", 0),
                    }
                )
        env.close()
    wall = time.perf_counter() - start
    errors = [len([c for c in e["tool_calls"] if c["error"]]) for e in _read(record_path)]
    return {
        "episodes": len(episodes),
        "success_rate": statistics.mean(e["complete"] for e in episodes),
        "mean_shaped_return": statistics.mean(e["shaped_return"] for e in episodes),
        "mean_steps": statistics.mean(e["steps"] for e in episodes),
        "mean_expert_calls": statistics.mean(e["expert_calls"] for e in episodes),
        "mean_tool_errors": statistics.mean(errors),
        "wall_s": wall,
        "episodes_per_s": len(episodes) / wall,
        "per_scenario": {s: statistics.mean(e["complete"] for e in episodes if e["scenario"] == s) for s in scenarios},
        "record_file": str(record_path.relative_to(ROOT) if record_path.is_relative_to(ROOT) else record_path),
    }


def _read(path: Path) -> list[dict[str, Any]]:
    from awm_gym.wrappers import read_episodes

    return read_episodes(path)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conditions = list(results["conditions"])
    metrics = [
        ("success_rate", "verifier success rate"),
        ("mean_steps", "steps per episode"),
        ("mean_tool_errors", "tool errors per episode"),
        ("mean_expert_calls", "expert calls per episode"),
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(14, 3.6))
    for ax, (key, label) in zip(axes, metrics, strict=True):
        ax.bar(conditions, [results["conditions"][c][key] for c in conditions], color=["#888888", "#1f77b4"])
        ax.set_title(label)
    fig.suptitle(f"baseline vs expert ({results['mode']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=list(DEFAULT_SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3, help="episodes per task and condition")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--temperature", type=float, default=0.7, help="policy sampling temperature")
    parser.add_argument("--model", help="policy model (OpenAI-compatible); offline synthetic agents if omitted")
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

    server = None
    if args.model:
        policy = LLMEndpoint(args.base_url, args.model, args.api_key)
        expert = OpenAIExpert(
            args.expert_base_url or args.base_url, args.expert_model or args.model, args.expert_api_key
        )
        mode = f"policy {args.model}, expert {args.expert_model or args.model}"
    else:
        server = FakeOpenAIServer(responder=SyntheticAgents(load_reference_solutions(), args.noise, args.seed)).start()
        policy = LLMEndpoint(server.base_url, "student")
        expert = OpenAIExpert(server.base_url, "expert")
        mode = f"offline synthetic student (noise {args.noise}) and reference-solution expert"
    for scenario in args.scenarios:  # start each scenario's server zygote once, so neither condition pays for it
        with gym.make(awm_gym.env_id(scenario)) as warm:
            warm.reset(seed=0)
    try:
        conditions = {
            "baseline": run_condition("baseline", args, policy, None),
            "expert": run_condition("expert", args, policy, expert),
        }
    finally:
        if server is not None:
            server.close()
    results = {"mode": mode, "scenarios": args.scenarios, "repeats": args.repeats, "conditions": conditions}
    base, helped = conditions["baseline"], conditions["expert"]
    print(f"\n{mode}")
    print(
        f"{'condition':<10} {'episodes':>8} {'success':>8} {'shaped':>8} {'steps':>6} {'errors':>7} {'expert':>7} {'ep/s':>6}"
    )
    for name, c in conditions.items():
        print(
            f"{name:<10} {c['episodes']:>8} {c['success_rate']:>8.2f} {c['mean_shaped_return']:>8.2f} "
            f"{c['mean_steps']:>6.1f} {c['mean_tool_errors']:>7.2f} {c['mean_expert_calls']:>7.2f} {c['episodes_per_s']:>6.1f}"
        )
    print(
        f"success: expert {helped['success_rate']:.2f} vs baseline {base['success_rate']:.2f} "
        f"({helped['success_rate'] - base['success_rate']:+.2f})"
    )
    (args.out / "bench_expert.json").write_text(json.dumps(results, indent=2))
    plot(results, args.out / "bench_expert.png")
    print(f"wrote {args.out / 'bench_expert.json'} and {args.out / 'bench_expert.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
