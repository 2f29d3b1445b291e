"""The vector entry point of ``AWM/suite-v0``: N suite envs in one :class:`~awm_gym.vector.AWMVectorEnv`.

``gym.make_vec("AWM/suite-v0", num_envs=N, tasks=..., vectorization_mode="vector_entry_point")`` calls
:func:`suite_vector_env`. Each sub-environment is an :class:`~awm_gym.envs.AWMSuiteEnv` over the same task
set; with ``reset(seed=s)`` sub-environment ``i`` is seeded ``s + i``, so they draw different pairs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from awm_gym.envs.suite import AWMSuiteEnv
from awm_gym.errors import ConfigurationError
from awm_gym.vector.vector_env import AWMVectorEnv

__all__ = ["suite_vector_env"]


def suite_vector_env(
    num_envs: int = 1,
    *,
    tasks: Any,
    wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
    autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    max_workers: int | None = None,
    **env_kwargs: Any,
) -> AWMVectorEnv:
    """``num_envs`` :class:`~awm_gym.envs.AWMSuiteEnv` over ``tasks``, stepped by one :class:`AWMVectorEnv`.

    Args:
        num_envs: Number of sub-environments.
        tasks: The task set (a :class:`~awm_gym.catalog.TaskSet`, a saved one's path, or pairs).
        wrappers: Applied in order to each sub-environment (as for :class:`AWMVectorEnv`).
        autoreset_mode: As for :class:`AWMVectorEnv`.
        max_workers: Threads of the pool (as for :class:`AWMVectorEnv`).
        **env_kwargs: :class:`~awm_gym.envs.AWMSuiteEnv` keyword arguments for every sub-environment.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> tasks = awm_gym.TaskSet.from_scenarios(["awmgym_pet_clinic"])
        >>> envs = gym.make_vec("AWM/suite-v0", num_envs=2, tasks=tasks, vectorization_mode="vector_entry_point")
        >>> observations, infos = envs.reset(seed=0)
        >>> infos["scenario"].tolist()
        ['awmgym_pet_clinic', 'awmgym_pet_clinic']
        >>> envs.close()
    """
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ConfigurationError(f"num_envs must be a positive int, got {num_envs!r}")
    tasks = AWMSuiteEnv.load_tasks(tasks)  # once, not once per sub-environment
    build = functools.partial(AWMSuiteEnv, tasks, **env_kwargs)
    return AWMVectorEnv(
        env_fns=[build] * num_envs, wrappers=wrappers, autoreset_mode=autoreset_mode, max_workers=max_workers
    )
