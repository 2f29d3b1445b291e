"""What every trainer adapter shares: task lists, one env per episode slot, optional packages, final answers.

The adapters (:mod:`awm_gym.integrations.trl`, :mod:`~awm_gym.integrations.verifiers`,
:mod:`~awm_gym.integrations.skyrl`) all start from the same things: which (scenario, task) pairs to train
on, an :class:`~awm_gym.envs.AWMEnv` stack per episode slot, and the model's last reply as the final answer.
"""

from __future__ import annotations

import atexit
import importlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import gymnasium as gym

from awm_gym.errors import ConfigurationError, MissingExtraError

__all__ = [
    "ENV_POOL",
    "EnvBuilder",
    "EnvPool",
    "TaskRow",
    "final_answer",
    "require",
    "resolve_tasks",
]

Wrapper = Callable[[gym.Env], gym.Env]


def require(module: str, extra: str) -> ModuleType:
    """Import an optional package, or raise :class:`MissingExtraError` naming the extra that installs it.

    Example:
        >>> require("json", "trl").__name__
        'json'
        >>> require("no_such_package_xyz", "trl")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        awm_gym.errors.MissingExtraError: ... is not installed: run `pip install awm-gym[trl]`
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"this integration needs the package {module!r}, which is not installed: run `pip install awm-gym[{extra}]`"
        ) from exc


@dataclass(frozen=True)
class TaskRow:
    """One (scenario, task) pair with its text, as the adapters put it in their datasets.

    Attributes:
        scenario: The scenario's name.
        task_idx: The task's index in the scenario.
        task: The task's text.
        split: The task set's name (``""`` when it has none).
    """

    scenario: str
    task_idx: int
    task: str
    split: str = ""


def resolve_tasks(tasks: Any = None, *, data_dir: str | os.PathLike[str] | None = None) -> list[TaskRow]:
    """The (scenario, task) pairs an adapter trains on, with their texts.

    Args:
        tasks: A :class:`~awm_gym.catalog.TaskSet` (e.g. one half of :func:`awm_gym.task_split`), a scenario
            name (all its tasks), or an iterable of scenario names, ``(scenario, task_idx)`` pairs and task
            refs. ``None``: every task of every scenario found.
        data_dir: Where to load the scenarios from (default: the task set's ``data_dir``, else the default
            sources).

    Returns:
        One row per pair, in order, without duplicates; ``split`` is the task set's name.

    Raises:
        ConfigurationError: If an entry is none of those, or a task index is out of range.
        ScenarioNotFoundError: If a scenario is not found.

    Example:
        >>> [(row.scenario, row.task_idx) for row in resolve_tasks([("awmgym_pet_clinic", 1), "awmgym_pet_clinic"])][:3]
        [('awmgym_pet_clinic', 1), ('awmgym_pet_clinic', 0), ('awmgym_pet_clinic', 2)]
    """
    from awm_gym.catalog.tasksets import TaskSet, scenario_tasks

    if data_dir is None:
        data_dir = getattr(tasks, "data_dir", None)
    split = (getattr(tasks, "name", None) or "") if isinstance(tasks, TaskSet) else ""
    if tasks is None or isinstance(tasks, str):
        refs: Iterable[Any] = TaskSet.from_scenarios(None if tasks is None else [tasks], data_dir=data_dir)
    elif isinstance(tasks, TaskSet):
        refs = tasks
    else:
        try:
            entries = list(tasks)
        except TypeError as exc:
            raise ConfigurationError(_BAD_TASKS.format(entry=repr(tasks))) from exc
        refs = []
        for position, entry in enumerate(entries):
            if isinstance(entry, str):
                refs.extend(TaskSet.from_scenarios([entry], data_dir=data_dir))
            elif hasattr(entry, "scenario") and hasattr(entry, "task_idx"):
                refs.append((entry.scenario, entry.task_idx))
            elif isinstance(entry, Sequence) and len(entry) == 2:
                refs.append(tuple(entry))
            else:
                raise ConfigurationError(_BAD_TASKS.format(entry=f"{entry!r} (entry {position})"))
        refs = TaskSet(refs, data_dir=data_dir)
    rows = []
    for ref in refs:
        texts = scenario_tasks(ref.scenario, data_dir)
        if not 0 <= ref.task_idx < len(texts):
            raise ConfigurationError(
                f"task_idx must be in [0, {len(texts) - 1}] for scenario {ref.scenario!r}, got {ref.task_idx}"
            )
        rows.append(TaskRow(ref.scenario, ref.task_idx, texts[ref.task_idx], split))
    return rows


_BAD_TASKS = (
    "tasks must be a TaskSet, a scenario name, or an iterable of scenario names, (scenario, task_idx) pairs and "
    "task refs; found {entry}"
)


class EnvBuilder:
    """Builds the env stack of one episode slot: an :class:`~awm_gym.envs.AWMEnv` and the given wrappers.

    Example:
        >>> from awm_gym.wrappers import RewardShaping
        >>> build = EnvBuilder(max_steps=5, wrappers=[RewardShaping])
        >>> env = build("awmgym_pet_clinic")
        >>> env
        <RewardShaping<AWMEnv instance>>
        >>> env.close()

    Args:
        data_dir: Where the scenarios load from.
        max_steps: Actions per episode (tool calls and the final answer).
        prompt_template: The reset observation's template (see :class:`~awm_gym.envs.AWMEnv`).
        wrappers: Callables ``env -> env`` applied in order, innermost first (wrapper classes, or e.g.
            ``lambda env: ExpertAdvice(env, expert)``).
        env_kwargs: Further :class:`~awm_gym.envs.AWMEnv` keyword arguments.
    """

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        max_steps: int = 30,
        prompt_template: str | None = None,
        wrappers: Iterable[Wrapper] = (),
        env_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.data_dir = None if data_dir is None else str(data_dir)
        self.kwargs: dict[str, Any] = {"max_steps": max_steps, **dict(env_kwargs or {})}
        if prompt_template is not None:
            self.kwargs["prompt_template"] = prompt_template
        if self.data_dir is not None:
            self.kwargs["data_dir"] = self.data_dir
        self.wrappers = list(wrappers)
        for wrapper in self.wrappers:
            if not callable(wrapper):
                raise ConfigurationError(f"wrappers must be callables env -> env, found {wrapper!r}")

    def __call__(self, scenario: str) -> gym.Env:
        """A fresh env stack for ``scenario``."""
        from awm_gym.envs import AWMEnv

        env: gym.Env = AWMEnv(scenario, **self.kwargs)
        try:
            for wrapper in self.wrappers:
                env = wrapper(env)
        except BaseException:
            env.close()
            raise
        return env


class EnvPool:
    """Idle env stacks by (scenario, options), shared by the adapters of one process.

    Trainers make an env per episode; taking a finished episode's env (its scenario server already up)
    instead of starting one keeps a server start off every episode. At most ``max_idle`` envs are kept per
    key; the rest are closed. Every idle env is closed at interpreter exit.

    Example:
        >>> pool = EnvPool()
        >>> env = pool.take("awmgym_pet_clinic", {"max_steps": 3})
        >>> pool.give("awmgym_pet_clinic", {"max_steps": 3}, env)
        >>> pool.take("awmgym_pet_clinic", {"max_steps": 3}) is env
        True
        >>> env.close()
    """

    def __init__(self, max_idle: int = 64) -> None:
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str], list[gym.Env]] = {}

    def take(self, scenario: str, options: Mapping[str, Any]) -> gym.Env:
        """An idle env for ``scenario`` built with ``options`` (:class:`EnvBuilder` arguments), or a new one."""
        key = (scenario, repr(sorted(options.items())))
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        return EnvBuilder(**options)(scenario)

    def give(self, scenario: str, options: Mapping[str, Any], env: gym.Env) -> None:
        """Hand ``env`` back for the next :meth:`take` with the same scenario and options."""
        key = (scenario, repr(sorted(options.items())))
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.max_idle:
                idle.append(env)
                return
        env.close()

    def close(self) -> None:
        """Close every idle env."""
        with self._lock:
            envs = [env for idle in self._idle.values() for env in idle]
            self._idle.clear()
        for env in envs:
            env.close()


ENV_POOL = EnvPool()
"""The process's pool, shared by the adapters."""
atexit.register(ENV_POOL.close)


def final_answer(completion: Any) -> str:
    """The final answer in a model's completion: the text of its last assistant message.

    A completion may be text or a list of chat messages (dicts or objects with ``role``/``content``); a
    message whose content is a list of parts contributes its text parts.

    Example:
        >>> final_answer([{"role": "assistant", "content": "", "tool_calls": [{}]},
        ...               {"role": "tool", "content": "[]"}, {"role": "assistant", "content": "No pets."}])
        'No pets.'
        >>> final_answer("Done.")
        'Done.'
    """
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion or [])):
        role = message.get("role") if isinstance(message, Mapping) else getattr(message, "role", None)
        if role != "assistant":
            continue
        content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", None)
        if isinstance(content, list):
            content = "".join(
                part.get("text", "") for part in content if isinstance(part, Mapping) and part.get("type") == "text"
            )
        return content or ""
    return ""
