"""Client sessions of ``awm-gym serve``: each owns one :class:`~awm_gym.envs.AWMEnv`, isolated from the others.

A :class:`Session` is what one client (an OpenEnv WebSocket, an MCP session) sees: its own env, hence its own
scenario server process and episode database. :class:`SessionManager` caps how many exist at once, runs their
blocking env calls on a thread pool (so one slow session never stalls another), and reaps a session, with its
env's processes and files, when the client disconnects, after ``idle_timeout`` seconds without a request,
and at shutdown.

Tool calls go through ``AWMEnv.step``, so a served episode counts steps, records its trajectory and ends
exactly like an in-process one; texts are the ones fastapi-mcp gives (``Unknown tool: <name>``,
``Input validation error: ...``, ``Error calling <op>. Status code: ...``). Ending an episode and reading its
reward is :meth:`Session.finish`, which the protocols expose only to the trainer side, never as a tool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from awm_gym.catalog import normalize_name
from awm_gym.errors import ConfigurationError, ScenarioNotFoundError, SessionLimitError
from awm_gym.server.config import ServeConfig

if TYPE_CHECKING:
    from awm_gym.envs import AWMEnv

__all__ = ["CallOutcome", "EpisodeResult", "Session", "SessionManager"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class EpisodeResult:
    """How an episode ended: the verifier's label, the reward it maps to, and the verifier's report."""

    reward: float
    label: str
    verifier: dict[str, Any]
    steps: int
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "reward": self.reward,
            "label": self.label,
            "verifier": self.verifier,
            "steps": self.steps,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class CallOutcome:
    """What one tool call gave the agent.

    ``error`` is ``None`` on success, else one of the env's kinds (``unknown_tool``, ``invalid_arguments``,
    ``http_error``, ``timeout``, ``server_crash``, ``malformed_call``) or a session state: ``too_large``,
    ``no_episode`` (no reset yet), ``episode_over``. ``ended`` is set when this call used the last step.
    """

    text: str
    error: str | None = None
    ended: EpisodeResult | None = None


class Session:
    """One client's environment and episode. Its methods block; :class:`SessionManager` runs them off the loop.

    Args:
        session_id: The session's id (the MCP session id, or a fresh one for OpenEnv sockets).
        protocol: ``"mcp"`` or ``"openenv"`` (shown in listings).
        config: The server's settings (scenarios allowed, env arguments, size limits).
    """

    def __init__(self, session_id: str, protocol: str, config: ServeConfig) -> None:
        self.id = session_id
        self.protocol = protocol
        self.config = config
        self.env: AWMEnv | None = None
        self.control_key = secrets.token_urlsafe(24)
        self.episode_id: str | None = None
        self.result: EpisodeResult | None = None
        self.closed_reason: str | None = None
        self.last_active = time.monotonic()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------------------------------- state

    @property
    def scenario(self) -> str | None:
        """The scenario of the current env (``None`` before the first start)."""
        return self.env.scenario.name if self.env is not None else None

    @property
    def task_idx(self) -> int | None:
        """The current episode's task (``None`` before the first start)."""
        return self.env.current_task_idx if self.env is not None else None

    @property
    def steps(self) -> int:
        """Steps taken in the current episode."""
        return len(self.env.trajectory) if self.env is not None and self.episode_id else 0

    @property
    def busy(self) -> bool:
        """Whether a call of this session is running now."""
        return self._lock.locked()

    @property
    def started(self) -> bool:
        """Whether an episode was started (it may be over)."""
        return self.episode_id is not None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``GET /sessions`` and ``state``)."""
        return {
            "session_id": self.id,
            "protocol": self.protocol,
            "episode_id": self.episode_id,
            "scenario": self.scenario,
            "task_idx": self.task_idx,
            "step_count": self.steps,
            "done": self.result is not None,
            "idle_seconds": round(time.monotonic() - self.last_active, 3),
        }

    def check_control_key(self, key: Any) -> bool:
        """Constant-time check of a trainer's control key against this episode's."""
        return isinstance(key, str) and secrets.compare_digest(key.encode(), self.control_key.encode())

    # ------------------------------------------------------------------------------------- episodes

    def locked(self, method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run ``method`` holding the session's lock (one call at a time per session)."""
        with self._lock:
            if self.closed_reason is not None:
                raise ConfigurationError(f"session {self.id} is closed ({self.closed_reason}); open a new one")
            return method(*args, **kwargs)

    def _resolve_scenario(self, scenario: str | None) -> str:
        name = scenario or self.scenario or self.config.default_scenario
        if not name:
            raise ConfigurationError(
                "no scenario chosen: pass scenario=<name> (and task_idx=<n>) when starting the episode"
            )
        if not isinstance(name, str):
            raise ConfigurationError(f"scenario must be a string, got {type(name).__name__}")
        served = self.config.scenarios
        if served is not None and normalize_name(name) not in {normalize_name(s) for s in served}:
            import difflib

            close = difflib.get_close_matches(name, list(served), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ScenarioNotFoundError(f"scenario {name!r} is not served here; served: {sorted(served)}.{hint}")
        return name

    def _from_taskset(self, scenario: str | None, task_idx: int | None, seed: int | None) -> tuple[str, int]:
        tasks = self.config.tasks
        assert tasks is not None
        refs = [ref for ref in tasks if scenario is None or ref.scenario == normalize_name(scenario)]
        refs = [ref for ref in refs if task_idx is None or ref.task_idx == task_idx]
        if not refs:
            raise ConfigurationError(
                f"scenario {scenario!r}, task {task_idx!r} is not in the served task set "
                f"{tasks.name or ''!s} ({len(tasks)} tasks of {len(tasks.scenarios())} scenarios); "
                "omit scenario and task_idx to draw one of its tasks"
            )
        ref = refs[random.Random(seed).randrange(len(refs))]
        return ref.scenario, ref.task_idx

    def start(self, scenario: str | None = None, task_idx: int | None = None, seed: int | None = None) -> str:
        """Start an episode (a new env when the scenario changes) and return the task's observation.

        Raises:
            ConfigurationError: No scenario chosen, a bad ``task_idx``, or a pair outside the served task set.
            ScenarioNotFoundError: The scenario is not served here.
        """
        if task_idx is not None and (isinstance(task_idx, bool) or not isinstance(task_idx, int)):
            raise ConfigurationError(f"task_idx must be an integer, got {task_idx!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigurationError(f"seed must be an integer, got {seed!r}")
        if scenario is not None and not isinstance(scenario, str):
            raise ConfigurationError(f"scenario must be a string, got {type(scenario).__name__}")
        if self.config.tasks is not None:
            scenario, task_idx = self._from_taskset(scenario, task_idx, seed)
        name = self._resolve_scenario(scenario)
        if self.env is None or normalize_name(self.env.scenario.name) != normalize_name(name):
            self._close_env()
            from awm_gym.envs import AWMEnv

            kwargs = dict(self.config.env_kwargs)
            kwargs.setdefault("max_action_length", self.config.max_argument_bytes + 4096)
            tasks = self.config.tasks
            data_dir = self.config.data_dir or (tasks.data_dir if tasks is not None else None)
            self.env = AWMEnv(name, data_dir=data_dir, **kwargs)
        observation, _info = self.env.reset(seed=seed, options={"task_idx": task_idx})
        self.episode_id = uuid.uuid4().hex
        self.control_key = secrets.token_urlsafe(24)
        self.result = None
        return observation

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The scenario's tools as ``{"name", "description", "input_schema"}`` (fastapi-mcp's, unchanged)."""
        if self.env is None:
            return []
        return [
            {"name": t.name, "description": t.description, "input_schema": json.loads(json.dumps(t.input_schema))}
            for t in self.env.host.tools
        ]

    def call(self, name: str, arguments: Any) -> CallOutcome:
        """Run one tool call as the agent's step."""
        if self.env is None or self.episode_id is None:
            return CallOutcome("No episode: start one first (reset with a scenario and a task).", "no_episode")
        if self.result is not None:
            return CallOutcome(
                f"The episode is over (verifier: {self.result.label}); start a new one to call tools.",
                "episode_over",
            )
        arguments = {} if arguments is None else arguments
        size = len(json.dumps(arguments, ensure_ascii=False, default=str).encode())
        if size > self.config.max_argument_bytes:
            return CallOutcome(
                f"Input validation error: the arguments are {size} bytes long; the limit is "
                f"{self.config.max_argument_bytes} bytes",
                "too_large",
            )
        if name not in self.env.host.tools:
            return CallOutcome(f"Unknown tool: {name}", "unknown_tool")
        action = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
        observation, reward, terminated, truncated, info = self.env.step(action)
        error = info.get("error", {}).get("type")
        if terminated or truncated:
            self.result = self._result(reward, info, truncated=truncated)
            return CallOutcome(observation, error, self.result)
        return CallOutcome(observation, error)

    def finish(self, final_answer: str = "") -> EpisodeResult:
        """End the episode (if it is still running), run the verifier once and return its result.

        The trainer's side only: protocols never expose this as an agent tool. Calling it again returns the
        same result.

        Raises:
            ConfigurationError: No episode was started.
        """
        if self.env is None or self.episode_id is None:
            raise ConfigurationError("no episode to end: start one first (reset with a scenario and a task)")
        if self.result is None:
            from awm_gym.envs.actions import FinalAnswer, parse_action

            text = str(final_answer or "")
            if not isinstance(parse_action(text), FinalAnswer):  # text that reads as a tool call stays an answer
                text = f"Final answer: {text}"
            _obs, reward, _terminated, truncated, info = self.env.step(text)
            self.result = self._result(reward, info, truncated=truncated)
        return self.result

    def _result(self, reward: Any, info: dict[str, Any], *, truncated: bool) -> EpisodeResult:
        verifier = dict(info.get("verifier", {}))
        assert self.env is not None
        return EpisodeResult(float(reward), str(verifier.get("label")), verifier, len(self.env.trajectory), truncated)

    def _close_env(self) -> None:
        if self.env is not None:
            env, self.env = self.env, None
            env.close()

    def close(self, reason: str) -> None:
        """Close the env (its server process and files); later calls are refused with ``reason`` (idempotent)."""
        with self._lock:
            if self.closed_reason is None:
                self.closed_reason = reason
            self._close_env()


class SessionManager:
    """Creates, caps, runs and reaps the sessions of one server (use inside a running event loop).

    Args:
        config: The server's settings (``max_sessions``, ``idle_timeout``, ...).
    """

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.sessions: dict[str, Session] = {}
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=config.max_sessions + 2, thread_name_prefix="awm-serve"
        )
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self.sessions)

    def open(self, protocol: str, session_id: str | None = None) -> Session:
        """Register a new session.

        Raises:
            SessionLimitError: ``max_sessions`` sessions already exist.
        """
        if self._closed:
            raise SessionLimitError("the server is shutting down; no new sessions")
        if len(self.sessions) >= self.config.max_sessions:
            raise SessionLimitError(
                f"the server is full: {len(self.sessions)} of {self.config.max_sessions} sessions are open "
                "(--max-sessions); close a session or retry later"
            )
        session = Session(session_id or uuid.uuid4().hex, protocol, self.config)
        self.sessions[session.id] = session
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_idle())
        return session

    async def run(self, session: Session, method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a blocking session method on the pool, one at a time per session."""
        session.last_active = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(session.locked, method, *args, **kwargs)
            )
        finally:
            session.last_active = time.monotonic()

    async def close(self, session_id: str, reason: str = "closed by the client") -> None:
        """Reap one session and its env (no-op for an unknown id)."""
        session = self.sessions.pop(session_id, None)
        if session is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, session.close, reason)

    async def _reap_idle(self) -> None:
        timeout = self.config.idle_timeout
        period = max(0.05, min(timeout / 4, 5.0))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if now - session.last_active > timeout and not session.busy:
                    await self.close(session.id, f"idle for more than {timeout:g} s")

    async def aclose(self) -> None:
        """Reap every session and stop the pool (idempotent)."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        await asyncio.gather(*(self.close(sid, "the server shut down") for sid in list(self.sessions)))
        self._executor.shutdown(wait=True)
