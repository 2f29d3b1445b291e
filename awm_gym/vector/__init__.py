"""The vector layer: many AWM episodes at once, in lockstep (a Gymnasium vector env) or not (a rollout driver).

- :class:`AWMVectorEnv` is a :class:`gymnasium.vector.VectorEnv` over N AWM envs (same or mixed scenarios and
  tasks) whose sub-environments run concurrently on a thread pool; ``gym.make_vec("AWM/<scenario>-v0",
  num_envs=N, vectorization_mode="vector_entry_point")`` builds it.
- :class:`RolloutDriver` (or :func:`rollouts`) runs whole episodes on those sub-environments without lockstep:
  each episode advances as soon as its own action is ready, and the policy is called on whatever observations
  are pending (dynamic batching), yielding each finished :class:`Episode`. It borrows the sub-environments
  through the vector env's ``lend()`` seam (:class:`SubEnvLease`), which the Ray vector env offers too.
"""

from __future__ import annotations

# The vector env
from awm_gym.errors import SubEnvWorkerError

# Rollouts without lockstep
from awm_gym.vector.episode import Episode, Transition
from awm_gym.vector.lease import SubEnvLease
from awm_gym.vector.rollout import Policy, RolloutDriver, RolloutStats, rollouts
from awm_gym.vector.vector_env import DEFAULT_MAX_WORKERS, AWMVectorEnv, EnvEntry, VectorState, served_scenarios

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "AWMVectorEnv",
    "EnvEntry",
    "Episode",
    "Policy",
    "RolloutDriver",
    "RolloutStats",
    "SubEnvLease",
    "SubEnvWorkerError",
    "Transition",
    "VectorState",
    "rollouts",
    "served_scenarios",
]
