"""The seam through which a vector env lends its sub-environments to a driver that runs them one by one.

A lockstep vector env steps all of its sub-environments together. A driver without lockstep (the
:class:`~awm_gym.vector.RolloutDriver`) instead needs to reset or step one sub-environment at a time, off
its own thread, and to learn which scenario and task each one plays. ``vector_env.lend()`` hands it a
:class:`SubEnvLease` for that, as a context manager: while the lease is open the vector env is in its
``ROLLOUT`` state and refuses its own ``reset``/``step``; after the lease ends it must be reset before it
steps again. :class:`~awm_gym.vector.AWMVectorEnv` (a thread pool in this process) and the Ray vector env
(actors) both lend this way, so one driver serves both.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable

from awm_gym.errors import SubEnvWorkerError

__all__ = ["SubEnvLease"]


@runtime_checkable
class SubEnvLease(Protocol):
    """Access to a lent vector env's sub-environments, one call at a time per sub-environment.

    Attributes:
        num_envs: How many sub-environments the lease covers (indices ``0 .. num_envs - 1``).
    """

    num_envs: int

    def submit(self, index: int, method: str, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``sub_env.<method>(*args, **kwargs)`` (``"reset"`` or ``"step"``) off the caller's thread.

        Returns:
            A future whose result is exactly what the method returned (or whose exception it raised).
        """
        ...

    def worker_error(self, index: int, operation: str, exc: BaseException) -> SubEnvWorkerError:
        """The error to raise (``from exc``) for sub-environment ``index`` failing during ``operation``."""
        ...

    def scenario(self, index: int) -> str | None:
        """The scenario sub-environment ``index`` plays (``None`` if it is not an AWM env)."""
        ...

    def task_idx(self, index: int) -> int | None:
        """The task sub-environment ``index`` plays now (``None`` before its first reset)."""
        ...

    def serves(self, index: int) -> frozenset[str]:
        """The scenarios sub-environment ``index`` can play: its own, or every scenario of a suite env's task set."""
        ...
