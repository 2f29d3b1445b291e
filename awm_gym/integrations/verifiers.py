"""verifiers (v1 API): AWM tasks as a task set, and an env whose ``run`` steps the AWM env as the run's user.

verifiers 0.4 composes an environment from a task set (``vf.Taskset`` of ``vf.Task``), an ``vf.Env`` that
says how one task becomes one episode, and a harness (the program that calls the model). This module follows
the pattern of verifiers' own gym-style integrations (its OpenEnv and TextArena task sets): the
:class:`AWMGymEnv` steps a real :class:`~awm_gym.envs.AWMEnv` host-side, each of the model's replies is an
action, each observation goes back as the next user turn, and the episode's return is recorded on the trace as
the reward ``awm_reward`` (the verifier's label and result in ``trace.info["awm"]``).

The model writes its tool calls as text (``<tool_call>{...}</tool_call>``), so the first user turn is the
env's text-catalog observation: the task and its tools. The default harness, :class:`AWMChatHarness`, is
verifiers' own chat program (the ``null`` harness) run on this interpreter when the runtime is local, so
no ``uv`` download is needed.

Loading, as ``vf-eval`` does it (the task set id ``awm_gym_verifiers`` is an importable module that
re-exports these classes)::

    from awm_gym.integrations.verifiers import load_environment
    env = load_environment(["awmgym_pet_clinic"], max_steps=20)   # a vf.Env

    # or from the shell, against any OpenAI-compatible endpoint:
    # vf-eval awm_gym_verifiers -m <model> --client.base-url <url> --env.taskset.tasks '[["awmgym_pet_clinic", 1]]'
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from typing import Any

from awm_gym.integrations._common import ENV_POOL, require, resolve_tasks

__all__ = [
    "TASKSET_ID",
    "AWMChatHarness",
    "AWMEnvConfig",
    "AWMGymEnv",
    "AWMTask",
    "AWMTaskData",
    "AWMTaskset",
    "AWMTasksetConfig",
    "load_environment",
]

TASKSET_ID = "awm_gym_verifiers"
"""The task set's id for verifiers' loader: the top-level module re-exporting this one's classes."""

vf = require("verifiers.v1", "verifiers")
from verifiers.v1.harnesses.null import NullHarness  # noqa: E402
from verifiers.v1.runtimes import SubprocessConfig  # noqa: E402


class AWMTaskData(vf.TaskData):
    """One AWM task: its scenario, index and text (the first user turn is built when the episode starts)."""

    scenario: str
    task_idx: int
    task: str
    split: str = ""


class AWMTask(vf.Task[AWMTaskData]):
    """An AWM task; the env scores it (``awm_reward``), so it declares no reward of its own."""


class AWMTasksetConfig(vf.TasksetConfig):
    """Which tasks load, and the env options of their episodes (``--env.taskset.*``)."""

    id: str = TASKSET_ID
    scenarios: list[str] | None = None
    """Scenario names (all their tasks); with neither this nor ``tasks``: every scenario found."""
    tasks: list[tuple[str, int]] | None = None
    """``(scenario, task_idx)`` pairs (after ``scenarios``' tasks)."""
    taskset_file: str | None = None
    """A task set saved with ``TaskSet.save`` (``.json``/``.jsonl``); overrides the two above."""
    data_dir: str | None = None
    """Where the scenarios load from."""
    max_steps: int = 30
    """Actions per episode (tool calls and the final answer)."""


class AWMTaskset(vf.Taskset[AWMTask, AWMTasksetConfig]):
    """The AWM tasks the config names, one ``AWMTask`` each (``name`` = ``"<scenario>#<task_idx>"``)."""

    def load(self) -> list[AWMTask]:
        """Build the tasks."""
        config = self.config
        if config.taskset_file:
            from awm_gym.catalog import TaskSet

            tasks: Any = TaskSet.load(config.taskset_file)
        elif config.scenarios is None and config.tasks is None:
            tasks = None
        else:
            tasks = [*(config.scenarios or []), *[tuple(pair) for pair in config.tasks or []]]
        return [
            AWMTask(
                AWMTaskData(
                    id=f"{row.scenario}#{row.task_idx}",
                    name=f"{row.scenario}#{row.task_idx}",
                    description=row.task,
                    scenario=row.scenario,
                    task_idx=row.task_idx,
                    task=row.task,
                    split=row.split,
                ),
                config.task,
            )
            for row in resolve_tasks(tasks, data_dir=config.data_dir)
        ]


class AWMChatHarness(NullHarness):
    """verifiers' chat program (the ``null`` harness), run on this interpreter when the runtime is local.

    The ``null`` harness installs its program's dependencies with ``uv`` before each run; they are verifiers'
    own dependencies, so on a local (subprocess) runtime this harness runs the same program with the
    current Python instead. On other runtimes it is the ``null`` harness unchanged.
    """

    async def setup(self, runtime: Any) -> None:
        """Install the program (nothing to do on a local runtime)."""
        if not _is_local(runtime):
            await super().setup(runtime)

    async def launch(self, ctx: Any, trace: Any, runtime: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the chat program (see the class docstring)."""
        if _is_local(runtime):
            runtime = _ThisInterpreter(runtime)
        return await super().launch(ctx, trace, runtime, *args, **kwargs)


def _is_local(runtime: Any) -> bool:
    return isinstance(getattr(runtime, "config", None), SubprocessConfig)


class _ThisInterpreter:
    """A runtime whose PEP 723 scripts run on ``sys.executable`` instead of a ``uv`` environment."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    async def prepare_uv_script(self, script: str | bytes, env: Any = None, *, activate: bool = True) -> list[str]:
        data = script.encode() if isinstance(script, str) else script
        path = f".awm-chat-{hashlib.sha256(data).hexdigest()[:16]}.py"
        await self._runtime.write(path, data)
        return [sys.executable, path]


class AWMEnvConfig(vf.EnvConfig):
    """The env's config: one ``player`` seat (a local runtime by default: the AWM env runs host-side)."""

    player: vf.AgentConfig = vf.AgentConfig(runtime=SubprocessConfig())


class AWMGymEnv(vf.Env[AWMEnvConfig]):
    """Runs one AWM episode per task: the model acts, the AWM env answers as the user, the verifier scores."""

    async def run(self, task: AWMTask, agents: Any) -> None:
        """Play the task's episode and record ``awm_reward`` on the player's trace."""
        data = task.data
        config = self.taskset.config
        options = {"data_dir": config.data_dir, "max_steps": config.max_steps}
        env = await asyncio.to_thread(ENV_POOL.take, data.scenario, options)
        total, info = 0.0, {}
        try:
            observation, info = await asyncio.to_thread(env.reset, options={"task_idx": data.task_idx})
            async with agents.player.interaction(task) as interaction:
                segment = await interaction.turn(observation)
                while not segment.terminated:
                    observation, reward, terminated, truncated, info = await asyncio.to_thread(
                        env.step, segment.last_reply
                    )
                    total += float(reward)
                    if terminated or truncated:
                        break
                    segment = await interaction.turn(observation)
        except BaseException:
            await asyncio.to_thread(env.close)
            raise
        ENV_POOL.give(data.scenario, options, env)  # the next episode of this scenario reuses its server
        trace = interaction.trace
        trace.record_reward("awm_reward", total)
        verifier = info.get("verifier") or {}
        trace.info["awm"] = {
            "scenario": data.scenario,
            "task_idx": data.task_idx,
            "steps": info.get("step"),
            "label": verifier.get("label"),
            "final_answer": info.get("final_answer"),
        }


def load_environment(
    tasks: Any = None,
    *,
    data_dir: str | None = None,
    max_steps: int = 30,
    **env_config: Any,
) -> Any:
    """The AWM ``vf.Env``, loaded through verifiers' own loader (``vf.load_environment``).

    Args:
        tasks: Scenario names and ``(scenario, task_idx)`` pairs, a scenario name, a path to a saved task
            set, or ``None`` for every task found.
        data_dir: Where the scenarios load from.
        max_steps: Actions per episode.
        **env_config: Further :class:`AWMEnvConfig` fields (e.g. ``player=vf.AgentConfig(...)``).

    Returns:
        The environment (an :class:`AWMGymEnv`).
    """
    taskset: dict[str, Any] = {"id": TASKSET_ID, "data_dir": data_dir, "max_steps": max_steps}
    if isinstance(tasks, str) and tasks.endswith((".json", ".jsonl")):
        taskset["taskset_file"] = tasks
    elif tasks is not None:
        entries = [tasks] if isinstance(tasks, str) else list(tasks)
        taskset["scenarios"] = [entry for entry in entries if isinstance(entry, str)]
        taskset["tasks"] = [
            (entry.scenario, entry.task_idx) if hasattr(entry, "task_idx") else tuple(entry)
            for entry in entries
            if not isinstance(entry, str)
        ]
    return vf.load_environment(AWMEnvConfig(taskset=AWMTasksetConfig(**taskset), **env_config))
