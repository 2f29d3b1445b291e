"""The Ray actor that hosts several sub-environments: one process, one thread pool, one zygote per scenario.

A :class:`SubEnvActor` builds its sub-environments from the factories it is given (wrappers included: they
run here, inside the actor) and runs batches of calls on them concurrently, like
:class:`~awm_gym.vector.AWMVectorEnv` does in one process: every scenario server is its own process, so a
step is blocking socket I/O that releases the GIL. Sub-environments of one scenario share the actor's
zygote (:mod:`awm_gym.host.zygote`), which is why the driver places them together.

This module never imports Ray: the driver turns the class into an actor with ``ray.remote`` at run time,
so the class is pickled by reference and workers import it from the installed package.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

__all__ = ["Call", "Outcome", "SubEnvActor", "step_with_autoreset"]

Call = tuple[int, str, tuple[Any, ...], dict[str, Any]]
"""One call on one sub-environment: ``(index, operation, args, kwargs)``."""

Outcome = tuple[bool, Any]
"""``(True, returned value)`` or ``(False, raised exception)``."""


def step_with_autoreset(
    env: gym.Env, action: Any, mode: AutoresetMode, autoreset: bool
) -> tuple[Any, float, bool, bool, dict[str, Any], dict[str, Any] | None]:
    """One sub-environment's step under a vector autoreset mode, as :class:`~awm_gym.vector.AWMVectorEnv` takes it.

    Returns ``(observation, reward, terminated, truncated, info, final)``: in ``NEXT_STEP`` mode a
    sub-environment whose episode ended (``autoreset``) is reset and its action ignored; in ``SAME_STEP``
    mode an ending step resets at once and ``final`` holds ``final_obs`` and ``final_info``.
    """
    if mode is AutoresetMode.NEXT_STEP and autoreset:
        observation, info = env.reset()
        return observation, 0.0, False, False, info, None
    observation, reward, terminated, truncated, info = env.step(action)
    final = None
    if mode is AutoresetMode.SAME_STEP and (terminated or truncated):
        final = {"final_obs": observation, "final_info": info}
        observation, info = env.reset()
    return observation, float(reward), bool(terminated), bool(truncated), info, final


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (Ray must ship it to the driver), else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class SubEnvActor:
    """Several sub-environments in one process, stepped concurrently by a thread pool.

    Args:
        factories: Sub-environment index (in the vector env) -> a callable that builds that env, wrappers
            included.
        autoreset_mode: The vector env's autoreset mode (for ``autostep`` calls).
    """

    def __init__(self, factories: Mapping[int, Callable[[], gym.Env]], autoreset_mode: str) -> None:
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(factories)), thread_name_prefix="awm-actor")
        self.envs: dict[int, gym.Env] = {}
        self.creation_errors: list[tuple[int, BaseException]] = []  # reported by describe(), not raised here
        futures = {index: self._pool.submit(factory) for index, factory in factories.items()}
        for index, future in futures.items():
            try:
                self.envs[index] = future.result()
            except Exception as exc:
                self.creation_errors.append((index, _portable(exc)))

    def describe(self) -> dict[str, Any]:
        """Where the actor runs, what the driver's proxy of each sub-environment mirrors, and creation errors."""
        import ray

        envs = {}
        for index, env in self.envs.items():
            scenario = getattr(env.unwrapped, "scenario", None)
            envs[index] = {
                "metadata": dict(env.metadata),
                "render_mode": env.render_mode,
                "observation_space": env.observation_space,
                "action_space": env.action_space,
                "scenario": getattr(scenario, "name", None),
                "tasks": getattr(env.unwrapped, "tasks", None),  # a suite env's task set (what it can play)
            }
        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "envs": envs,
            "errors": self.creation_errors,
        }

    def _one(self, call: Call) -> Outcome:
        index, operation, args, kwargs = call
        env = self.envs[index]
        try:
            if operation == "autostep":
                return True, step_with_autoreset(env, args[0], self.autoreset_mode, bool(args[1]))
            if operation in ("reset", "step", "render"):
                return True, getattr(env, operation)(*args, **kwargs)
            if operation == "call":
                function = env.get_wrapper_attr(args[0])
                return True, function(*args[1:], **kwargs) if callable(function) else function
            if operation == "get_attr":
                return True, env.get_wrapper_attr(args[0])
            if operation == "set_attr":
                env.set_wrapper_attr(args[0], args[1])
                return True, None
            raise ValueError(f"unknown operation {operation!r}: expected autostep, reset, step, render, call, ...")
        except Exception as exc:
            return False, _portable(exc)

    def run(self, calls: list[Call]) -> list[Outcome]:
        """Run the calls concurrently (one per sub-environment) and return their outcomes in order."""
        if len(calls) == 1:
            return [self._one(calls[0])]
        return list(self._pool.map(self._one, calls))

    def process_ids(self) -> list[int]:
        """Pids of this actor's scenario servers and zygotes (what ``close`` must end)."""
        pids = [os.getpid()]
        for env in self.envs.values():
            host = getattr(env.unwrapped, "host", None)
            for pid in (getattr(host, "server_pid", None), getattr(host, "zygote_pid", None)):
                if pid is not None and pid not in pids:
                    pids.append(pid)
        return pids

    def close(self) -> None:
        """Close every sub-environment (stopping its server) and the zygotes of this process."""
        from awm_gym.host.zygote import shutdown_zygotes

        for env in self.envs.values():
            try:
                env.close()
            except Exception:  # close the others anyway; the process is killed next
                pass
        self.envs.clear()
        shutdown_zygotes()
        self._pool.shutdown(wait=False, cancel_futures=True)
