"""Sub-environments spread over a Ray cluster (the optional ``[ray]`` extra: ``pip install awm-gym[ray]``).

- :class:`RayVectorEnv` is the :class:`~awm_gym.vector.AWMVectorEnv` API over sub-environments that live in
  Ray actors, several per actor, same scenario on the same actor and node where possible. The
  :class:`~awm_gym.vector.RolloutDriver` runs over it unchanged (through ``lend()``).
- :class:`~awm_gym.distributed.pool.ActorPool` places the actors, batches calls to them, enforces timeouts
  and replaces lost actors; :class:`~awm_gym.distributed.actor.SubEnvActor` is the actor.

Ray is imported only when a :class:`RayVectorEnv` is built; importing this package does not need it.
See docs/distributed.md for running on a multi-node cluster and sizing actors.
"""

from __future__ import annotations

# The actor and the driver's side of it
from awm_gym.distributed.actor import SubEnvActor, step_with_autoreset
from awm_gym.distributed.cluster import connect, import_ray
from awm_gym.distributed.pool import PLACEMENTS, ActorPool, plan_actors

# The vector env
from awm_gym.distributed.vector_env import (
    ACTOR_LOST,
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_CREATE_TIMEOUT_S,
    DEFAULT_ENVS_PER_ACTOR,
    RayVectorEnv,
    RemoteScenario,
    RemoteSubEnv,
)
from awm_gym.errors import ActorLostError

__all__ = [
    "ACTOR_LOST",
    "DEFAULT_CALL_TIMEOUT_S",
    "DEFAULT_CREATE_TIMEOUT_S",
    "DEFAULT_ENVS_PER_ACTOR",
    "PLACEMENTS",
    "ActorLostError",
    "ActorPool",
    "RayVectorEnv",
    "RemoteScenario",
    "RemoteSubEnv",
    "SubEnvActor",
    "connect",
    "import_ray",
    "plan_actors",
    "step_with_autoreset",
]
