"""Evaluate a model on AWM tasks through verifiers (v1): its chat harness, its trace, the verifier's reward.

    pip install "awm-gym[verifiers]"
    python examples/verifiers_eval.py --base-url http://localhost:8000/v1 --model Qwen/Qwen3-4B

Without ``--base-url`` it runs one scripted episode against awm-gym's loopback test server, offline.
The same environment loads from verifiers' CLI: ``vf-eval awm_gym_verifiers -m <model> --client.base-url <url>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import verifiers.v1 as vf

from awm_gym.integrations.verifiers import load_environment
from awm_gym.testing import FakeOpenAIServer


async def evaluate(env, model: str, base_url: str) -> list:
    """Run one episode per task of ``env`` against the endpoint."""
    ctx = vf.ModelContext(model=model, client=vf.EvalClientConfig(base_url=base_url, api_key_var="OPENAI_API_KEY"))
    async with env.serving():
        return [await env.run_episode(task, ctx) for task in env.taskset]


def main() -> None:
    """Evaluate (or run the offline demo) and print each task's reward and label."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: a scripted offline demo)")
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--task", action="append", default=None, help="scenario#task_idx (repeatable)")
    args = parser.parse_args()
    tasks = [(name, int(idx)) for name, idx in (t.split("#") for t in args.task)] if args.task else None
    env = load_environment(tasks or [("awmgym_pet_clinic", 1)], max_steps=20)
    os.environ.setdefault("OPENAI_API_KEY", "EMPTY")
    if args.base_url:
        episodes = asyncio.run(evaluate(env, args.model, args.base_url))
    else:
        with FakeOpenAIServer() as server:  # a scripted "model": one tool call, then the answer
            server.enqueue(
                '<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>',
                "You currently owe $1,084.15 in total.",
            )
            episodes = asyncio.run(evaluate(env, args.model, server.base_url))
    for episode in episodes:
        for trace in episode.traces:
            print(trace.task.data.name, trace.rewards["awm_reward"].score, trace.info["awm"]["label"])


if __name__ == "__main__":
    main()
