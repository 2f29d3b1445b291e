"""Helpers shared by the wrapper tests: actions, a scripted expert, clock masking, episode runs."""

from __future__ import annotations

import json
import re
from typing import Any

import gymnasium as gym


def call(name: str, **arguments: Any) -> str:
    """A tool call as JSON."""
    return json.dumps({"name": name, "arguments": arguments})


def ask(question: str = "What next?", *, tagged: bool = True) -> str:
    """An ask_expert call, in AWM's <tool_call> format unless ``tagged`` is false."""
    action = call("ask_expert", question=question)
    return f"<tool_call>{action}</tool_call>" if tagged else action


def advise(question: str, context: Any) -> str:
    """A scripted expert: advice that names the question."""
    return f"Advice on: {question}"


def mask_clock(value: Any) -> Any:
    """Hide the server's clock (a write stamps ``updated_at`` with the time of the call), in nested values too."""
    if isinstance(value, str):
        return re.sub(r'"updated_at": "[^"]*"', '"updated_at": "<now>"', value)
    if isinstance(value, list):
        return [mask_clock(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_clock(item) for key, item in value.items()}
    return value


def run(env: gym.Env, actions: list[Any], task_idx: int = 3, seed: int | None = 0) -> list[tuple[Any, ...]]:
    """Reset ``env`` to a task and step it through ``actions``; the step results."""
    env.reset(seed=seed, options={"task_idx": task_idx})
    return [env.step(action) for action in actions]
