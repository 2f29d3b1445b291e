"""The LLM judge of sql mode: turns a verifier's facts and the trajectory into a classification.

AWM's sql-mode verifiers return facts, not a verdict; an LLM reads the task, what the agent did, those
facts and the record's success/failure criteria, and answers with JSON (the AWM judge format)::

    {"reasoning": str, "confidence_score": [int, int, int, int],
     "classification": "complete" | "incomplete" | "server_error" | "agent_error", "evidence": {...}}

Parsing follows AWM: the whole reply as JSON first, then the first ``{...}`` span. Anything else, or any
other label, is a judge error. The default temperature is 0 (AWM samples at 1.0; a reward should be as
repeatable as the judge allows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from awm_gym.errors import LLMError
from awm_gym.llm import LLMEndpoint, chat

__all__ = ["JUDGE_LABELS", "JUDGE_SYSTEM_PROMPT", "judge"]

JUDGE_LABELS = ("complete", "incomplete", "server_error", "agent_error")

JUDGE_SYSTEM_PROMPT = """You judge whether an AI agent completed a user's task in a simulated application.
You receive the task, the agent's actions with the environment's responses, the agent's final answer, and
facts that verification code extracted from the database before and after the episode, with the success
and failure criteria written for this task. Decide from the evidence, preferring the database facts.

Classify as exactly one of:
- "complete": the task was fully accomplished (for questions: the final answer is correct).
- "incomplete": the task was not (fully) accomplished.
- "server_error": the application failed in a way the agent could not work around.
- "agent_error": the agent misused tools or gave up.

Answer with JSON only:
{"reasoning": "...", "confidence_score": [0-100, 0-100, 0-100, 0-100],
 "classification": "complete|incomplete|server_error|agent_error",
 "evidence": {"status": "...", "iterations": 0, "error_signals": [], "last_actions": [],
              "database_verification": "..."}}"""


def _criteria(raw_response: str | None) -> dict[str, Any]:
    try:
        raw = json.loads(raw_response or "")
    except (json.JSONDecodeError, TypeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in ("reasoning", "success_criteria", "failure_criteria") if raw.get(key)}


def _parse(text: str) -> dict[str, Any] | None:
    for candidate in (text, *re.findall(r"\{.*\}", text, flags=re.DOTALL)[:1]):
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(value, dict):
            return value
    return None


def judge(
    endpoint: LLMEndpoint,
    *,
    task: str,
    trajectory: Sequence[dict[str, Any]],
    final_answer: str,
    facts: Any,
    raw_response: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 4096,
) -> tuple[str, dict[str, Any]]:
    """Ask the judge; returns ``(label, details)`` where label is a judge label or ``"error"``."""
    task_json = {
        "user_task": task,
        "actual_execution_steps": len(trajectory),
        "trajectory": list(trajectory),
        "final_answer": final_answer,
    }
    verification_json = {"code_execution_result": facts, **_criteria(raw_response)}
    messages = [
        {"role": "system", "content": JUDGE_SYSTEM_PROMPT},
        {
            "role": "user",
            "content": "Task and trajectory:\n"
            + json.dumps(task_json, ensure_ascii=False, default=str)
            + "\n\nVerification:\n"
            + json.dumps(verification_json, ensure_ascii=False, default=str),
        },
    ]
    try:
        reply = chat(endpoint, messages, temperature=temperature, max_tokens=max_tokens)
    except LLMError as exc:
        return "error", {"error": f"judge call failed: {exc}"}
    parsed = _parse(reply.content or "")
    if parsed is None:
        return "error", {"error": "the judge's reply is not JSON", "reply": (reply.content or "")[:2000]}
    label = parsed.get("classification")
    if label not in JUDGE_LABELS:
        return "error", {"error": f"the judge answered an unknown classification {label!r}", "judgement": parsed}
    return label, {"judgement": parsed}
