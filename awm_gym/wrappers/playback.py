"""Reading recorded episodes back, and replaying one on an environment to check it reproduces.

:class:`~awm_gym.wrappers.RecordEpisodes` writes one JSON line per episode (the format is described in
:mod:`awm_gym.wrappers.recording`); :func:`read_episodes` reads them, and :func:`replay` feeds a record's
actions to an env and compares its observations and verdict with the record (:class:`ReplayResult`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from awm_gym.errors import DataFormatError
from awm_gym.wrappers._stack import has_layer
from awm_gym.wrappers.expert_advice import ExpertAdvice
from awm_gym.wrappers.recording import _jsonable

__all__ = ["ReplayResult", "read_episodes", "replay"]


def read_episodes(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a JSONL file written by :class:`RecordEpisodes`, in order.

    Raises:
        DataFormatError: If a line is not a JSON object.
    """
    episodes = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DataFormatError(f"{path}:{number}: not a JSON line ({exc})") from exc
            if not isinstance(record, dict) or "steps" not in record:
                raise DataFormatError(f"{path}:{number}: not an episode record (expected a JSON object with 'steps')")
            episodes.append(record)
    return episodes


@dataclass(frozen=True)
class ReplayResult:
    """What :func:`replay` found.

    Attributes:
        steps: Actions fed to the env.
        mismatches: ``{"step", "expected", "actual"}`` per observation that differed (step 0 is the reset).
        verifier: The replayed episode's verdict (``None`` if it did not end).
        recorded_verifier: The recorded verdict.
    """

    steps: int
    mismatches: tuple[dict[str, Any], ...]
    verifier: dict[str, Any] | None
    recorded_verifier: dict[str, Any] | None

    @property
    def verdict_matches(self) -> bool:
        """Whether the verdicts agree on mode, label and result."""
        keys = ("mode", "label", "result")
        replayed, recorded = self.verifier or {}, self.recorded_verifier or {}
        return {k: replayed.get(k) for k in keys} == {k: recorded.get(k) for k in keys}

    @property
    def ok(self) -> bool:
        """Whether every observation and the verdict were reproduced."""
        return not self.mismatches and self.verdict_matches


def replay(
    record: Mapping[str, Any],
    env: gym.Env,
    *,
    skip_expert_calls: bool | None = None,
    normalize: Callable[[Any], Any] | None = None,
) -> ReplayResult:
    """Feed a recorded episode's actions to ``env`` and compare its observations and verdict with the record.

    ``env`` should be built like the stack below the recorder (for a recorder at the bottom, a bare env).
    The env is reset to the recorded task (``options["task_idx"]``, the recorded seed, and
    ``options["expert_available"]`` when ``env`` has ExpertAdvice). Steps ExpertAdvice answered are skipped
    when ``env`` has no ExpertAdvice (or when ``skip_expert_calls`` says so). If the record ended but the
    replay has not (its last step was a skipped ``ask_expert`` at the step limit), an empty final answer
    gets the verdict, as the step limit does.

    Scenario servers may put their clock in results (e.g. ``updated_at`` of a write), and the initial data
    may be relative to the time the process built it (``datetime('now', ...)``): such observations differ
    by nature. ``normalize`` maps each observation (as recorded, JSON-safe) before the comparison, e.g. to
    mask timestamps.

    Args:
        record: One record, e.g. from :func:`read_episodes`.
        env: The environment to replay on (reset by this call).
        skip_expert_calls: Skip ExpertAdvice's steps (default: when ``env`` has no ExpertAdvice).
        normalize: Applied to the recorded and the replayed observation before comparing them.

    Returns:
        The comparison.
    """
    has_expert = has_layer(env, ExpertAdvice)
    skip = (not has_expert) if skip_expert_calls is None else skip_expert_calls
    options = dict(record.get("options") or {})
    options["task_idx"] = record["task_idx"]
    options.pop("expert_available", None)
    if has_expert and record.get("expert_available") is not None:
        options["expert_available"] = bool(record["expert_available"])
    observation, _ = env.reset(seed=record.get("seed"), options=options)
    seen = list(observation) if isinstance(observation, list) else []

    def same(recorded: Any, replayed: Any) -> bool:
        if normalize is None:
            return recorded == replayed
        return normalize(recorded) == normalize(replayed)

    mismatches: list[dict[str, Any]] = []
    if not same(record.get("reset_observation"), _jsonable(observation)):
        mismatches.append({"step": 0, "expected": record.get("reset_observation"), "actual": _jsonable(observation)})
    done, verifier, fed = False, None, 0
    for number, step in enumerate(record["steps"], 1):
        if skip and step.get("expert"):
            continue
        if done:
            mismatches.append(
                {"step": number, "expected": step["observation"], "actual": "the replayed episode had ended"}
            )
            break
        observation, _, terminated, truncated, info = env.step(step["action"])
        fed += 1
        if isinstance(observation, list):
            actual, seen = _jsonable(observation[len(seen) :]), list(observation)
        else:
            actual = _jsonable(observation)
        if not same(step["observation"], actual):
            mismatches.append({"step": number, "expected": step["observation"], "actual": actual})
        done = terminated or truncated
        if done:
            verifier = _jsonable(info.get("verifier"))
    if not done and not record.get("partial") and (record.get("terminated") or record.get("truncated")):
        *_, info = env.step("")
        fed += 1
        verifier = _jsonable(info.get("verifier"))
    return ReplayResult(fed, tuple(mismatches), verifier, record.get("verifier"))
