"""Episode recording: one JSON line per episode, written safely (reading and replay: :mod:`awm_gym.wrappers.playback`).

A record (``version`` 1) holds:

- ``scenario``, ``task_idx``, ``task``, ``tools`` (the tools the policy was offered), ``seed`` and
  ``options`` of the reset, ``expert_available`` (``None`` when no ExpertAdvice reported it),
  ``started_at``/``finished_at`` (UTC, ISO 8601);
- ``observation_format``: ``"text"``, or ``"messages"`` when the observations are chat messages (the
  recorder sits above :class:`~awm_gym.wrappers.ChatMessages`); ``reset_observation``;
- ``steps``: per step the ``action``, the ``observation`` (in messages format: only the messages the step
  added), ``reward``, ``terminated``, ``truncated``, ``latency_s`` (wall time of the step below the
  recorder), ``expert`` (whether ExpertAdvice answered it) and, when the step's info has them,
  ``tool_call``, ``error``, ``expert_call``, ``verifier_reward``, ``shaping``, ``final_answer``, ``verifier``;
- ``tool_calls`` (``step``, ``name``, ``arguments``, ``latency_s``, ``error``) and ``expert_calls``
  (``step``, ``question``, ``answer``, ``latency_s``, ``status``);
- ``final_answer``, ``verifier`` (the env's verdict), ``terminated``, ``truncated``, ``length``;
- ``shaped_return`` (the rewards as they reached the recorder) and ``unshaped_return`` (the sum of
  ``info["verifier_reward"]`` when :class:`~awm_gym.wrappers.RewardShaping` sits below, else the same);
- ``messages``: the episode as OpenAI chat messages (:class:`~awm_gym.wrappers.chat.ChatTranscript`
  conventions), ready for SFT or GRPO data;
- ``partial`` and ``partial_reason``: an episode cut short (reset before its end, ``close()``, an
  exception in ``step``, garbage collection, interpreter exit, or a hard crash of the process) is written
  with ``partial: true``.

Crash safety: while an episode runs, each of its steps is also appended to a journal beside the file
(``<file>.<pid>.<n>.partial``). Ending the episode writes the record and deletes the journal. If the process
dies without running any code (SIGKILL, OOM, a segfault), the journal stays; the next recorder opened on the
same file (or :func:`recover_partial_episodes`) turns it into a partial record.
"""

from __future__ import annotations

import dataclasses
import datetime
import glob
import itertools
import json
import os
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym

from awm_gym._lazy import lazy_exports
from awm_gym.envs.actions import FinalAnswer, parse_action
from awm_gym.wrappers.chat import ChatTranscript

__all__ = ["RECORD_VERSION", "RecordEpisodes", "recover_partial_episodes"]

# Names this module held before replay got a module of its own.
_MOVED = dict.fromkeys(("ReplayResult", "read_episodes", "replay"), "awm_gym.wrappers.playback")
__getattr__, _ = lazy_exports(__name__, _MOVED)

RECORD_VERSION = 1
"""The version of the record format."""

_STEP_INFO_KEYS = ("tool_call", "error", "expert_call", "verifier_reward", "shaping", "final_answer", "verifier")


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def _jsonable(value: Any) -> Any:
    """A JSON-safe deep copy of ``value``."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _append(path: Path, record: Mapping[str, Any], fsync: bool) -> None:
    """Append one line, reopening ``path`` (so a rotated file is recreated) with O_APPEND, then flush to disk."""
    data = (json.dumps(record, ensure_ascii=False, default=_default) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _messages(episode: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chat form of a text-format episode (AWM conventions: see :mod:`awm_gym.wrappers.chat`)."""
    transcript = ChatTranscript()
    transcript.start(str(episode.get("task") or ""), episode.get("tools") or [])
    for step in episode["steps"]:
        action = step["action"]
        try:
            env_action = transcript.assistant(action)
        except TypeError:
            env_action = str(action)
            transcript.assistant(env_action)
        final = step["terminated"] and isinstance(parse_action(env_action), FinalAnswer)
        transcript.result(str(step["observation"]), final=final)
    return transcript.messages


def _finish(episode: dict[str, Any], *, partial: bool, reason: str | None) -> dict[str, Any]:
    steps = episode["steps"]
    last = steps[-1] if steps else {}
    episode.update(
        finished_at=_now(),
        final_answer=last.get("final_answer"),
        verifier=last.get("verifier"),
        terminated=bool(last.get("terminated", False)),
        truncated=bool(last.get("truncated", False)),
        length=len(steps),
        shaped_return=sum(step["reward"] for step in steps),
        unshaped_return=sum(step.get("verifier_reward", step["reward"]) for step in steps),
        tool_calls=[
            {"step": n, **step["tool_call"], "latency_s": step["latency_s"], "error": step.get("error")}
            for n, step in enumerate(steps, 1)
            if "tool_call" in step
        ],
        expert_calls=[{"step": n, **step["expert_call"]} for n, step in enumerate(steps, 1) if "expert_call" in step],
        partial=partial,
        partial_reason=reason,
    )
    if episode.get("observation_format") == "messages":  # each step holds the messages it added
        episode["messages"] = list(episode["reset_observation"]) + [m for step in steps for m in step["observation"]]
    else:
        episode["messages"] = _messages(episode)
    return episode


class _Journal:
    """The steps of the episode in progress, line by line, beside the record file (see the module docstring)."""

    _numbers = itertools.count()

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path.with_name(f"{path.name}.{os.getpid()}.{next(self._numbers)}.partial")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.write(header)

    def write(self, record: Mapping[str, Any]) -> None:
        os.write(self._fd, (json.dumps(record, ensure_ascii=False, default=_default) + "\n").encode())

    def discard(self) -> None:
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def recover_partial_episodes(path: str | os.PathLike[str], *, fsync: bool = True) -> int:
    """Turn the journals of dead processes beside ``path`` into partial records in ``path``; returns how many."""
    path = Path(path)
    recovered = 0
    for journal in sorted(path.parent.glob(glob.escape(path.name) + ".*.*.partial")):
        try:
            pid = int(journal.name[len(path.name) + 1 :].split(".")[0])
            os.kill(pid, 0)
            continue  # its process is alive: the episode is still running
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError):
            continue
        records = []
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                break  # a line cut short by the crash: keep the steps before it
        if records:
            episode, episode["steps"] = records[0], records[1:]
            reason = "the recording process died before the episode ended"
            _append(path, _finish(episode, partial=True, reason=reason), fsync)
            recovered += 1
        journal.unlink(missing_ok=True)
    return recovered


def _write_pending(path: Path, pending: dict[str, Any], fsync: bool, reason: str) -> None:
    """Write the unfinished episode, if any, as partial (the recorder's finalizer and close())."""
    episode, pending["episode"] = pending.get("episode"), None
    journal, pending["journal"] = pending.get("journal"), None
    if episode is not None:
        _append(path, _finish(episode, partial=True, reason=reason), fsync)
    if journal is not None:
        journal.discard()


class RecordEpisodes(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Writes each episode as one JSON line (see the module docstring for the record's fields).

    The line is appended when the episode ends. Each write reopens ``path`` with ``O_APPEND``, writes the
    whole line at once and fsyncs, so lines from several processes do not interleave and a file moved
    away by log rotation is simply recreated. An episode that does not end (reset before its end,
    ``close()``, an exception in ``step``, the recorder garbage-collected or the interpreter exiting) is
    written with ``"partial": true`` and the reason; after a hard kill of the process (SIGKILL, OOM) the
    episode's journal becomes that partial record when a recorder next opens the file. Wall-clock latencies
    go to the file only, never to ``info``.

    Info: adds nothing.

    Stack: anywhere above an env that gives ``scenario``, ``task_idx``, ``task`` and ``tools`` at reset. It
    records what it sees: above :class:`~awm_gym.wrappers.RewardShaping` both returns differ; above
    :class:`~awm_gym.wrappers.ChatMessages` the observations are messages and the record's ``messages`` are
    the ones the model saw. Steps that :class:`~awm_gym.wrappers.ExpertAdvice` answers above the recorder
    reach it through :meth:`virtual_step`.

    Vector: no vector version; wrap each sub-environment (they may share one file).

    Example:
        >>> import tempfile
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> from awm_gym.wrappers import RecordEpisodes, read_episodes, replay
        >>> scratch = tempfile.TemporaryDirectory()
        >>> path = f"{scratch.name}/episodes.jsonl"
        >>> env = RecordEpisodes(gym.make("AWM/awmgym_pet_clinic-v0"), path)
        >>> obs, info = env.reset(seed=0, options={"task_idx": 1})
        >>> obs, *_ = env.step('{"name": "list_my_invoices", "arguments": {"status": "open"}}')
        >>> obs, reward, terminated, truncated, info = env.step("You owe $1,084.15 in total.")
        >>> [episode] = read_episodes(path)
        >>> episode["task_idx"], episode["length"], episode["verifier"]["label"], episode["partial"]
        (1, 2, 'complete', False)
        >>> [message["role"] for message in episode["messages"]]
        ['system', 'user', 'assistant', 'user', 'assistant']
        >>> fresh = gym.make("AWM/awmgym_pet_clinic-v0")
        >>> replay(episode, fresh).ok
        True
        >>> fresh.close(); env.close(); scratch.cleanup()

    Args:
        env: The environment stack to wrap.
        path: The JSONL file (created with its directory if missing).
        fsync: Flush each line to disk (``os.fsync``); turn off only where losing the last lines is fine.
    """

    def __init__(self, env: gym.Env, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, path=str(path), fsync=fsync)
        gym.Wrapper.__init__(self, env)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = bool(fsync)
        self._pending: dict[str, Any] = {"episode": None, "journal": None}
        self._seen_messages: list[Any] = []
        recover_partial_episodes(self.path, fsync=self.fsync)
        # Writes the episode in progress if the recorder is collected or the interpreter exits first.
        self._finalizer = weakref.finalize(
            self,
            _write_pending,
            self.path,
            self._pending,
            self.fsync,
            "the recorder was garbage-collected or the interpreter exited before the episode ended",
        )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Write the unfinished episode (as partial), reset the env and start a record."""
        _write_pending(self.path, self._pending, self.fsync, "reset() was called before the episode ended")
        observation, info = self.env.reset(seed=seed, options=options)
        messages = isinstance(observation, list)
        self._seen_messages = list(observation) if messages else []
        self._pending["episode"] = {
            "version": RECORD_VERSION,
            "scenario": info.get("scenario"),
            "task_idx": info.get("task_idx"),
            "task": info.get("task"),
            "tools": _jsonable(info.get("tools") or []),
            "seed": seed,
            "options": _jsonable(options or {}),
            "expert_available": info.get("expert_available"),
            "started_at": _now(),
            "observation_format": "messages" if messages else "text",
            "reset_observation": _jsonable(observation),
        }
        self._pending["journal"] = _Journal(self.path, self._pending["episode"])
        self._pending["episode"]["steps"] = []
        return observation, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env, timing it, and record the step; write the record when the episode ends."""
        start = time.perf_counter()
        try:
            result = self.env.step(action)
        except BaseException as exc:
            _write_pending(self.path, self._pending, self.fsync, f"step() raised {type(exc).__name__}: {exc}")
            raise
        return self._record(action, result, time.perf_counter() - start, expert=False)

    def virtual_step(
        self,
        action: Any,
        observation: Any,
        reward: SupportsFloat,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Record a step that ExpertAdvice above this wrapper answered itself."""
        latency = float((info.get("expert_call") or {}).get("latency_s", 0.0))
        return self._record(action, (observation, reward, terminated, truncated, info), latency, expert=True)

    def close(self) -> None:
        """Write the unfinished episode (as partial), then close the env."""
        _write_pending(self.path, self._pending, self.fsync, "close() was called before the episode ended")
        self._finalizer.detach()
        super().close()

    def _record(
        self,
        action: Any,
        result: tuple[Any, SupportsFloat, bool, bool, dict[str, Any]],
        latency: float,
        *,
        expert: bool,
    ) -> Any:
        observation, reward, terminated, truncated, info = result
        episode = self._pending["episode"]
        if episode is None:  # stepping without a reset: the layers below raise about it
            return result
        if isinstance(observation, list):
            recorded, self._seen_messages = observation[len(self._seen_messages) :], list(observation)
        else:
            recorded = observation
        step: dict[str, Any] = {
            "action": _jsonable(action),
            "observation": _jsonable(recorded),
            "reward": float(reward),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "latency_s": latency,
            "expert": expert or "expert_call" in info,
        }
        step.update({key: _jsonable(info[key]) for key in _STEP_INFO_KEYS if key in info})
        episode["steps"].append(step)
        self._pending["journal"].write(step)
        if "expert_available" in info:
            episode["expert_available"] = bool(info["expert_available"])
        if terminated or truncated:
            journal = self._pending["journal"]
            self._pending["episode"] = self._pending["journal"] = None
            _append(self.path, _finish(episode, partial=False, reason=None), self.fsync)
            journal.discard()
        return result
