"""SkyRL-gym: AWM tasks as a ``BaseTextEnv``, registered as ``"awm"``.

SkyRL's generator builds one env per trajectory with ``skyrl_gym.make(env_class, env_config=...,
extras=...)``, where ``extras`` are the dataset row's other columns; ``init(prompt)`` gives the first
messages and each ``step(model_text)`` the next ones, until ``done``. :class:`AWMTextEnv` follows that
contract on an :class:`~awm_gym.envs.AWMEnv`:

- the row names its task in ``extras`` (``scenario`` and ``task_idx``, top level or under ``extra_info``);
- the model writes text: tool calls in ``<tool_call>`` tags (or as JSON), anything else is the final answer,
  so the prompt lists the tools in text (the env's catalog prompt mode);
- a tool's result comes back as a user message; the final answer ends the episode with the verifier's reward
  (the episode's return under :class:`~awm_gym.wrappers.RewardShaping`), as does reaching ``max_steps``.

Scenario servers are expensive to start and SkyRL makes an env per trajectory, so closed envs return their
AWM env to a per-process pool (:data:`~awm_gym.integrations._common.ENV_POOL`) that the next env of the
same scenario and options takes from.

Example::

    import awm_gym.integrations.skyrl as awm_skyrl  # registers "awm" with skyrl_gym
    dataset = awm_skyrl.skyrl_dataset(awm_gym.task_split(seed=0)[0])  # rows: prompt, env_class, extra_info, ...
    env = skyrl_gym.make("awm", env_config={"max_steps": 20}, extras=dataset[0])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from awm_gym.errors import ConfigurationError
from awm_gym.integrations._common import ENV_POOL, require, resolve_tasks

__all__ = [
    "ENV_ID",
    "AWMTextEnv",
    "register",
    "skyrl_dataset",
]

ENV_ID = "awm"
"""The id :func:`register` gives the env in skyrl_gym's registry."""

_skyrl_gym = require("skyrl_gym", "skyrl")
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput  # noqa: E402

_CONFIG_KEYS = ("data_dir", "max_steps", "env_kwargs")


def _options(config: Mapping[str, Any], wrappers: Any = ()) -> dict[str, Any]:
    """The :class:`EnvBuilder` options of an env_config (also the pool key)."""
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise ConfigurationError(f"env_config keys must be among {list(_CONFIG_KEYS)}, found {unknown}")
    return {
        "data_dir": None if config.get("data_dir") is None else str(config["data_dir"]),
        "max_steps": int(config.get("max_steps", 30)),
        "env_kwargs": dict(config.get("env_kwargs") or {}) or None,
        "wrappers": tuple(wrappers),
    }


def _task_of(extras: Mapping[str, Any]) -> tuple[str, int | None]:
    info = extras.get("extra_info") if isinstance(extras.get("extra_info"), Mapping) else {}
    scenario = extras.get("scenario", info.get("scenario"))
    task_idx = extras.get("task_idx", info.get("task_idx"))
    if not isinstance(scenario, str) or not (task_idx is None or isinstance(task_idx, int)):
        raise ConfigurationError(
            "AWMTextEnv needs the row's task in extras: `scenario` (a name) and `task_idx` (an int), at the top "
            f"level or under `extra_info` (skyrl_dataset() writes both); found {dict(extras)!r:.300}"
        )
    return scenario, task_idx


class AWMTextEnv(BaseTextEnv):
    """One AWM episode as a SkyRL-gym text environment (see the module docstring).

    Example:
        >>> import skyrl_gym
        >>> import awm_gym.integrations.skyrl
        >>> env = skyrl_gym.make("awm", env_config={"max_steps": 5},
        ...                      extras={"scenario": "awmgym_pet_clinic", "task_idx": 1})
        >>> prompt, info = env.init([])
        >>> prompt[0]["role"], info["task_idx"]
        ('user', 1)
        >>> out = env.step('<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>')
        >>> out["done"], out["observations"][0]["role"], out["metadata"]["tool_call"]["name"]
        (False, 'user', 'list_my_invoices')
        >>> out = env.step("You owe $1,084.15 in total.")
        >>> out["done"], out["reward"], out["metadata"]["verifier"]["label"]
        (True, 1.0, 'complete')
        >>> env.close()

    Args:
        env_config: The env's options (SkyRL's ``environment.skyrl_gym.awm`` config): ``data_dir``,
            ``max_steps`` (default 30) and ``env_kwargs`` (further :class:`~awm_gym.envs.AWMEnv` arguments).
        extras: The dataset row's other columns; must name the task (``scenario``, ``task_idx``).
        wrappers: Callables ``env -> env`` applied to the AWM env, innermost first (e.g. ``RewardShaping``);
            pass them through ``skyrl_gym.register(..., kwargs={"wrappers": [...]})`` or ``make``.
    """

    def __init__(
        self,
        env_config: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
        *,
        wrappers: tuple[Any, ...] | list[Any] = (),
    ) -> None:
        super().__init__()
        self._options = _options(dict(env_config or {}), wrappers)
        self.scenario, self.task_idx = _task_of(extras or {})
        self.max_turns = self._options["max_steps"]
        self.env: gym.Env | None = ENV_POOL.take(self.scenario, self._options)
        self.episode_return = 0.0
        self.last_info: dict[str, Any] = {}

    def init(self, prompt: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Start the task; return ``prompt`` (or, when it is empty, the env's task observation as a user message).

        Returns:
            The first messages and the reset info (scenario, task, tools, ...).
        """
        env = self._live()
        observation, info = env.reset(options={"task_idx": self.task_idx})
        self.task_idx = info["task_idx"]
        self.turns = 0
        self.episode_return = 0.0
        self.last_info = info
        return (list(prompt) if prompt else [{"role": "user", "content": observation}]), info

    def step(self, action: str) -> BaseTextEnvStepOutput:
        """Run the model's text: a tool call gives its result as a user message; an answer ends the episode."""
        env = self._live()
        self.turns += 1
        observation, reward, terminated, truncated, info = env.step(action)
        self.episode_return += float(reward)
        self.last_info = info
        done = bool(terminated or truncated)
        metadata = {key: info[key] for key in ("step", "tool_call", "error", "final_answer") if key in info}
        if done:
            metadata["verifier"] = info.get("verifier")
            if "verifier_reward" in info:
                metadata["verifier_reward"] = info["verifier_reward"]
        return BaseTextEnvStepOutput(
            observations=[] if done else [{"role": "user", "content": observation}],
            reward=self.episode_return if done else 0.0,
            done=done,
            metadata=metadata,
            postprocessed_action=action,
        )

    def get_metrics(self) -> dict[str, Any]:
        """Per-episode numbers SkyRL averages across episodes: steps, return and completion."""
        verifier = self.last_info.get("verifier") or {}
        return {
            "steps": self.turns,
            "episode_return": self.episode_return,
            "complete": float(verifier.get("label") == "complete"),
        }

    def close(self) -> None:
        """Hand the AWM env back to the pool for the next trajectory (idempotent)."""
        env, self.env = self.env, None
        if env is not None:
            ENV_POOL.give(self.scenario, self._options, env)

    def _live(self) -> gym.Env:
        if self.env is None:
            raise ConfigurationError("this AWMTextEnv was closed; make a new one with skyrl_gym.make")
        return self.env


def register(env_id: str = ENV_ID) -> str:
    """Register :class:`AWMTextEnv` with skyrl_gym under ``env_id`` (idempotent); return the id.

    Importing this module registers :data:`ENV_ID`; call this in each process SkyRL starts (e.g. its Ray
    entrypoint) to be sure, or to add another id.
    """
    if env_id not in _skyrl_gym.registry:
        _skyrl_gym.register(id=env_id, entry_point=f"{__name__}:AWMTextEnv")
    return env_id


def skyrl_dataset(tasks: Any = None, *, data_dir: Any = None, env_class: str = ENV_ID) -> Any:
    """A ``datasets.Dataset`` in SkyRL's prompt-dataset format, one row per task.

    Columns: ``prompt`` (one user message: the env's task observation, which lists the tools in text),
    ``env_class``, ``data_source`` (``"awm"``), ``scenario``, ``task_idx`` and ``extra_info`` (the scenario,
    task index, task text and split). Save it with ``dataset.to_parquet(...)`` for SkyRL's data loader.

    Args:
        tasks: What to include (see :func:`~awm_gym.integrations._common.resolve_tasks`).
        data_dir: Where the scenarios load from.
        env_class: The registered env id the rows name.
    """
    datasets = require("datasets", "skyrl")
    rows = resolve_tasks(tasks, data_dir=data_dir)
    options = _options({"data_dir": data_dir if data_dir is not None else getattr(tasks, "data_dir", None)})
    observations: dict[tuple[str, int], str] = {}
    for scenario in dict.fromkeys(row.scenario for row in rows):
        env = ENV_POOL.take(scenario, options)
        try:
            for row in rows:
                if row.scenario == scenario:
                    observations[scenario, row.task_idx] = env.reset(options={"task_idx": row.task_idx})[0]
        finally:
            ENV_POOL.give(scenario, options, env)
    return datasets.Dataset.from_list(
        [
            {
                "data_source": "awm",
                "prompt": [{"role": "user", "content": observations[row.scenario, row.task_idx]}],
                "env_class": env_class,
                "scenario": row.scenario,
                "task_idx": row.task_idx,
                "extra_info": {
                    "scenario": row.scenario,
                    "task_idx": row.task_idx,
                    "task": row.task,
                    "split": row.split,
                },
            }
            for row in rows
        ]
    )


register()
