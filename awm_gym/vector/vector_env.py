"""Many AWM episodes at once: a Gymnasium vector env that drives its sub-environments from a thread pool.

Each sub-environment is an :class:`~awm_gym.envs.AWMEnv` (optionally wrapped) whose work happens in its own
scenario server process; a step is blocking socket I/O that releases the GIL. :class:`AWMVectorEnv` keeps
one persistent thread pool and sends every sub-environment's ``reset``/``step`` to it at once, so N episodes
advance concurrently in one Python process, with one server process per sub-environment (Gymnasium's
``AsyncVectorEnv`` would add a Python process per sub-environment on top).

The lifecycle is a :class:`VectorState`: ``step`` is ``step_async`` + ``step_wait``, ``reset`` is
``reset_async`` + ``reset_wait``; :meth:`AWMVectorEnv.lend` lends the sub-environments one by one (a
:class:`~awm_gym.vector.lease.SubEnvLease`, what a :class:`~awm_gym.vector.RolloutDriver` drives) in the
``ROLLOUT`` state. A sub-environment's exception reaches the caller as a :class:`SubEnvWorkerError` naming
its index, scenario and task.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import AlreadyPendingCallError, ClosedEnvironmentError, NoAsyncCallError, ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from awm_gym.catalog import Scenario
from awm_gym.errors import ConfigurationError, SubEnvWorkerError
from awm_gym.vector.lease import SubEnvLease

__all__ = ["DEFAULT_MAX_WORKERS", "AWMVectorEnv", "EnvEntry", "VectorState", "served_scenarios"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_WORKERS = 32
"""Default cap on the pool's threads: enough in-flight calls to keep every core's servers busy."""

EnvEntry = str | Scenario | tuple[str, int] | Mapping[str, Any]
"""One sub-environment: a scenario name (or :class:`Scenario`), ``(scenario, task_idx)``, or AWMEnv kwargs."""


class VectorState(enum.Enum):
    """Lifecycle of an :class:`AWMVectorEnv`."""

    DEFAULT = "default"  # idle: reset, step, call, close are allowed
    WAITING_RESET = "reset"  # reset_async sent; reset_wait collects
    WAITING_STEP = "step"  # step_async sent; step_wait collects
    ROLLOUT = "rollout"  # lent (lend()): a driver runs each sub-environment on its own
    CLOSED = "closed"  # close() was called


def _awm_env(env: gym.Env) -> Any:
    """The innermost env (an AWMEnv for every sub-environment awm-gym builds)."""
    return env.unwrapped


def _scenario_name(env: gym.Env | None) -> str | None:
    scenario = getattr(_awm_env(env), "scenario", None) if env is not None else None
    return getattr(scenario, "name", None)


def served_scenarios(env: gym.Env) -> frozenset[str]:
    """The scenarios an (optionally wrapped) AWM env can play: a suite env's task set, else its one scenario."""
    tasks = getattr(_awm_env(env), "tasks", None)
    if tasks is not None:
        return frozenset(tasks.scenarios())
    name = _scenario_name(env)
    return frozenset() if name is None else frozenset({name})


def _creation_error(index: int, exc: BaseException) -> SubEnvWorkerError:
    """The error for sub-environment ``index`` failing to be created with ``exc`` (raise it ``from exc``)."""
    return SubEnvWorkerError(
        f"sub-environment {index} could not be created: {type(exc).__name__}: {exc}",
        index=index,
        scenario=None,
        task_idx=None,
        operation="create",
    )


def _entry_kwargs(entry: EnvEntry, shared: Mapping[str, Any], position: int) -> dict[str, Any]:
    if isinstance(entry, str | Scenario):
        own: dict[str, Any] = {"scenario": entry}
    elif isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str | Scenario):
        own = {"scenario": entry[0], "task_idx": entry[1]}
    elif isinstance(entry, Mapping) and "scenario" in entry:
        own = dict(entry)
    else:
        raise ConfigurationError(
            f"scenario entry {position} must be a scenario name, a (scenario, task_idx) tuple or a dict of AWMEnv "
            f"keyword arguments with a 'scenario' key, got {entry!r}"
        )
    return {**shared, **own}


class AWMVectorEnv(VectorEnv[tuple[str, ...], tuple[str, ...], np.ndarray]):
    """N AWM environments stepped concurrently by a thread pool in this process.

    Observations are a tuple of N strings, actions any sequence of N strings; rewards, terminations and
    truncations are NumPy arrays; infos are Gymnasium's batched dict (one array per key plus a ``_key``
    mask, nested dicts batched recursively). ``autoreset_mode`` is one of Gymnasium's three
    (https://farama.org/Vector-Autoreset-Mode): ``NEXT_STEP`` (default; the step after an episode ends
    resets that sub-environment and ignores its action), ``SAME_STEP`` (the ending step resets at once and
    returns the reset observation; the last observation and info are under ``infos["final_obs"]`` and
    ``infos["final_info"]``) and ``DISABLED`` (reset ended sub-environments yourself with
    ``reset(options={"reset_mask": mask})``).

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> envs = gym.make_vec("AWM/awmgym_pet_clinic-v0", num_envs=2, vectorization_mode="vector_entry_point",
        ...                     max_steps=5)
        >>> envs
        AWMVectorEnv(AWM/awmgym_pet_clinic-v0, num_envs=2)
        >>> observations, infos = envs.reset(seed=0, options={"task_idx": 1})
        >>> infos["task_idx"], infos["_task_idx"]
        (array([1, 1]), array([ True,  True]))
        >>> call = '{"name": "list_my_invoices", "arguments": {}}'
        >>> observations, rewards, terminations, truncations, infos = envs.step([call, "I am done."])
        >>> terminations, infos["verifier"]["label"], infos["verifier"]["_label"]
        (array([False,  True]), array([None, 'others'], dtype=object), array([False,  True]))
        >>> envs.close()

    Mixing scenarios and tasks: pass a list, one entry per sub-environment (repeated to fill ``num_envs``
    if that is a multiple of its length); an entry is a scenario name, a ``(scenario, task_idx)`` tuple or
    a dict of :class:`~awm_gym.envs.AWMEnv` keyword arguments. Or pass ``env_fns``, callables that each
    build one env, as for Gymnasium's ``SyncVectorEnv``:

        >>> envs = AWMVectorEnv(["awmgym_pet_clinic", ("awmgym_home_budget", 3)], max_steps=5)
        >>> envs
        AWMVectorEnv(awmgym_pet_clinic x1, awmgym_home_budget x1, num_envs=2)
        >>> observations, infos = envs.reset(seed=0)
        >>> infos["scenario"].tolist(), int(infos["task_idx"][1])
        (['awmgym_pet_clinic', 'awmgym_home_budget'], 3)
        >>> envs.close()

    Args:
        scenario: One scenario for every sub-environment, or a list of entries (see above).
        num_envs: Number of sub-environments (default: 1 for one scenario, the list's length for a list).
        env_fns: Instead of ``scenario``: callables that each return one env (an AWMEnv, possibly wrapped).
        wrappers: Callables applied in order to each sub-environment (``wrapper(env) -> env``), e.g. the
            classes of :mod:`awm_gym.wrappers`. ``gym.make_vec`` refuses its own ``wrappers=`` argument in
            ``"vector_entry_point"`` mode, so pass them here, to the constructor.
        autoreset_mode: An :class:`~gymnasium.vector.AutoresetMode` or its value (``"NextStep"``, ...).
        max_workers: Threads of the pool (default ``min(num_envs, DEFAULT_MAX_WORKERS)``).
        **env_kwargs: Keyword arguments for every :class:`~awm_gym.envs.AWMEnv` (``max_steps``,
            ``max_episode_steps``, ``task_idx``, ``verifier_mode``, ...); a dict entry's own keys win.

    Raises:
        ConfigurationError: Inconsistent arguments, or sub-environments whose spaces differ.
        SubEnvWorkerError: A sub-environment could not be created (the others are closed).
    """

    def __init__(
        self,
        scenario: str | Scenario | Sequence[EnvEntry] | None = None,
        num_envs: int | None = None,
        *,
        env_fns: Sequence[Callable[[], gym.Env]] | None = None,
        wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        max_workers: int | None = None,
        **env_kwargs: Any,
    ) -> None:
        self.closed = False
        self._state = VectorState.CLOSED  # until every sub-environment exists
        self.envs: list[gym.Env] = []
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future[Any] | None] = []
        self._leftovers: list[Future[Any]] = []
        factories = self._factories(scenario, num_envs, env_fns, list(wrappers), env_kwargs)
        self.num_envs = len(factories)
        self.autoreset_mode = (
            autoreset_mode if isinstance(autoreset_mode, AutoresetMode) else AutoresetMode(autoreset_mode)
        )
        workers = min(self.num_envs, DEFAULT_MAX_WORKERS) if max_workers is None else int(max_workers)
        if workers < 1:
            raise ConfigurationError(f"max_workers must be at least 1, got {max_workers}")
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="awm-vector")
        self._create(factories)

        first = self.envs[0]
        self.metadata = dict(first.metadata)
        self.metadata["autoreset_mode"] = self.autoreset_mode
        self.render_mode = first.render_mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        for index, env in enumerate(self.envs):
            if env.observation_space != self.single_observation_space or env.action_space != self.single_action_space:
                self.close()
                raise ConfigurationError(
                    f"every sub-environment must have the spaces of sub-environment 0 "
                    f"({self.single_observation_space}, {self.single_action_space}); sub-environment {index} "
                    f"({_scenario_name(env)}) has ({env.observation_space}, {env.action_space}). Give every "
                    "scenario the same max_observation_length and max_action_length"
                )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

        self._observations: list[Any] = [None] * self.num_envs
        self._rewards = np.zeros(self.num_envs, dtype=np.float64)
        self._terminations = np.zeros(self.num_envs, dtype=np.bool_)
        self._truncations = np.zeros(self.num_envs, dtype=np.bool_)
        self._autoreset_envs = np.zeros(self.num_envs, dtype=np.bool_)
        self._needs_reset = True
        self._reset_mask: np.ndarray | None = None
        self._state = VectorState.DEFAULT

    # -------------------------------------------------------------------------------------- construction

    @staticmethod
    def _factories(
        scenario: Any,
        num_envs: int | None,
        env_fns: Sequence[Callable[[], gym.Env]] | None,
        wrappers: list[Callable[[gym.Env], gym.Env]],
        env_kwargs: dict[str, Any],
    ) -> list[Callable[[], gym.Env]]:
        if num_envs is not None and (not isinstance(num_envs, int | np.integer) or num_envs < 1):
            raise ConfigurationError(f"num_envs must be a positive int, got {num_envs!r}")
        if env_fns is not None:
            if scenario is not None or env_kwargs:
                raise ConfigurationError(
                    "pass either env_fns or scenario (with AWMEnv keyword arguments), not both; got env_fns and "
                    f"scenario={scenario!r}, keyword arguments {sorted(env_kwargs)}"
                )
            builders = list(env_fns)
            if not builders or (num_envs is not None and num_envs != len(builders)):
                raise ConfigurationError(f"env_fns must hold num_envs={num_envs} callables, got {len(builders)}")
        else:
            if scenario is None:
                raise ConfigurationError("pass a scenario name, a list of scenario entries, or env_fns")
            from awm_gym.envs import AWMEnv

            if isinstance(scenario, str | Scenario):
                entries: list[Any] = [scenario] * (1 if num_envs is None else int(num_envs))
            else:
                entries = list(scenario)
                if not entries:
                    raise ConfigurationError("the list of scenario entries is empty")
                if num_envs is not None:
                    if num_envs % len(entries):
                        raise ConfigurationError(
                            f"num_envs must be a multiple of the number of scenario entries ({len(entries)}) to "
                            f"repeat them evenly, got num_envs={num_envs}; pass num_envs={len(entries)} or omit it"
                        )
                    entries = entries * (int(num_envs) // len(entries))
            kwargs_list = [_entry_kwargs(entry, env_kwargs, position) for position, entry in enumerate(entries)]
            builders = [lambda kwargs=kwargs: AWMEnv(**kwargs) for kwargs in kwargs_list]

        def wrapped(build: Callable[[], gym.Env]) -> Callable[[], gym.Env]:
            def factory() -> gym.Env:
                env = build()
                for wrapper in wrappers:
                    env = wrapper(env)
                return env

            return factory

        return [wrapped(build) for build in builders]

    def _create(self, factories: list[Callable[[], gym.Env]]) -> None:
        futures = [self._submit(factory) for factory in factories]
        wait_futures(futures)
        failures = [
            (index, future.exception()) for index, future in enumerate(futures) if future.exception() is not None
        ]
        self.envs = [future.result() for future in futures if future.exception() is None]
        if failures:
            self.close()
            index, exc = failures[0]
            raise _creation_error(index, exc) from exc

    # ------------------------------------------------------------------------------------------ helpers

    @property
    def state(self) -> VectorState:
        """Where the vector env is in its lifecycle."""
        return self._state

    @property
    def scenarios(self) -> tuple[str | None, ...]:
        """The scenario of each sub-environment."""
        return tuple(_scenario_name(env) for env in self.envs)

    @property
    def np_random_seed(self) -> tuple[int, ...]:
        """The seed of each sub-environment's RNG."""
        return self.get_attr("np_random_seed")

    @property
    def np_random(self) -> tuple[np.random.Generator, ...]:
        """Each sub-environment's RNG."""
        return self.get_attr("np_random")

    def __repr__(self) -> str:
        if self.spec is not None:
            return f"{type(self).__name__}({self.spec.id}, num_envs={self.num_envs})"
        counts = ", ".join(f"{name} x{n}" for name, n in Counter(self.scenarios).items())
        return f"{type(self).__name__}({counts}, num_envs={self.num_envs})"

    def __enter__(self) -> AWMVectorEnv:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "closed", True) and getattr(self, "_executor", None) is not None:
            try:
                self.close(timeout=0)
            except Exception:  # at interpreter exit the hosts' own finalizers still reap the servers
                pass

    def _assert_is_running(self) -> None:
        if self.closed:
            raise ClosedEnvironmentError(f"Trying to operate on `{type(self).__name__}`, after a call to `close()`.")

    def _assert_idle(self, call: str) -> None:
        self._assert_is_running()
        if self._state is not VectorState.DEFAULT:
            raise AlreadyPendingCallError(
                f"Calling `{call}` while waiting for a pending call to `{self._state.value}` to complete",
                self._state.value,
            )

    def _submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` on the pool (the caller keeps one operation per sub-environment at a time)."""
        if self._executor is None:
            raise ClosedEnvironmentError(f"`{type(self).__name__}` has no thread pool: it was closed while being built")
        return self._executor.submit(fn, *args, **kwargs)

    def _launch(
        self, calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None], inline: bool
    ) -> None:
        """Start one call per sub-environment (``None``: none), the first in this thread if ``inline``.

        Running one call here saves a thread hand-off per step (all of them when ``num_envs == 1``).
        """
        self._drain_leftovers()
        first = next((i for i, call in enumerate(calls) if call is not None), None) if inline else None
        self._pending = [
            None if call is None or i == first else self._submit(call[0], *call[1], **call[2])
            for i, call in enumerate(calls)
        ]
        if first is None:
            return
        fn, args, kwargs = calls[first]  # type: ignore[misc]
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        self._pending[first] = future
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        except BaseException:  # Ctrl-C cut the call short: let the others finish, then ask for a reset
            future.set_result(None)
            self._leftovers = [f for f in self._pending if f is not None]
            self._pending = []
            self._state = VectorState.DEFAULT
            self._needs_reset = True
            raise

    def _drain_leftovers(self, timeout: float | None = None) -> None:
        """Wait for calls still running from an interrupted operation (one call per sub-environment at a time)."""
        if self._leftovers:
            wait_futures(self._leftovers, timeout)
            self._leftovers = []

    def _worker_error(self, index: int, operation: str, exc: BaseException) -> SubEnvWorkerError:
        env = self.envs[index]
        scenario = _scenario_name(env)
        task_idx = getattr(_awm_env(env), "current_task_idx", None)
        logger.error(
            "sub-environment %d (scenario %r, task %s) raised during %s",
            index,
            scenario,
            task_idx,
            operation,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return SubEnvWorkerError(
            f"sub-environment {index} (scenario {scenario!r}, task {task_idx}) raised during {operation}: "
            f"{type(exc).__name__}: {exc}",
            index=index,
            scenario=scenario,
            task_idx=task_idx,
            operation=operation,
        )

    def _collect(self, operation: str, timeout: float | None) -> list[Any]:
        """Wait for the pending futures; raise the first failure (by index) after logging all of them."""
        _, not_done = wait_futures([future for future in self._pending if future is not None], timeout)
        if not_done:
            raise TimeoutError(
                f"The call to `{operation}_wait` has timed out after {timeout} second(s); "
                f"{len(not_done)} sub-environment(s) still running. Call `{operation}_wait` again to keep waiting"
            )
        futures, self._pending = self._pending, []
        self._state = VectorState.DEFAULT
        failures = [
            (index, exc)
            for index, future in enumerate(futures)
            if future is not None and (exc := future.exception()) is not None
        ]
        errors = [(self._worker_error(index, operation, exc), exc) for index, exc in failures]
        if errors:
            raise errors[0][0] from errors[0][1]
        return [None if future is None else future.result() for future in futures]

    # ---------------------------------------------------------------------------------------------- reset

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Reset every sub-environment (or those in ``options["reset_mask"]``) concurrently.

        Args:
            seed: ``None``, an int (sub-environment ``i`` gets ``seed + i``) or one seed per sub-environment.
            options: Passed to each sub-environment's ``reset`` (e.g. ``{"task_idx": 3}``), except
                ``reset_mask``: a boolean array of shape ``(num_envs,)`` selecting which to reset.

        Returns:
            The observations (unchanged for sub-environments left out of the mask) and the batched infos.
        """
        self._reset_start(seed, options, inline=True)
        return self.reset_wait()

    def reset_async(
        self, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> None:
        """Send ``reset`` to the sub-environments; :meth:`reset_wait` collects the results.

        Raises:
            ClosedEnvironmentError: The vector env was closed.
            AlreadyPendingCallError: Another call (``step_async``, a rollout) is pending.
        """
        self._reset_start(seed, options, inline=False)

    def _reset_start(self, seed: Any, options: dict[str, Any] | None, inline: bool) -> None:
        self._assert_idle("reset_async")
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(
                f"If seeds are passed as a list the length must match num_envs={self.num_envs} "
                f"but got length={len(seeds)}."
            )
        options = dict(options) if options is not None else None
        mask = np.ones(self.num_envs, dtype=np.bool_)
        if options is not None and "reset_mask" in options:
            mask = options.pop("reset_mask")
            if not isinstance(mask, np.ndarray):
                raise TypeError(f"`options['reset_mask']` must be a numpy array, got {type(mask)}")
            if mask.shape != (self.num_envs,):
                raise ValueError(f"`options['reset_mask']` must have shape `({self.num_envs},)`, got {mask.shape}")
            if mask.dtype != np.bool_:
                raise TypeError(f"`options['reset_mask']` must have `dtype=np.bool_`, got {mask.dtype}")
            if not np.any(mask):
                raise ValueError(
                    "`options['reset_mask']` must contain a boolean array with at least one True value, "
                    f"got reset_mask={mask}"
                )
            if self._needs_reset and not np.all(mask):
                raise ResetNeeded(
                    "a partial reset (options['reset_mask']) needs every sub-environment reset once first: "
                    "call reset() without a mask"
                )
        self._state = VectorState.WAITING_RESET
        self._reset_mask = mask
        calls = [
            (env.reset, (), {"seed": seeds[i], "options": options}) if mask[i] else None
            for i, env in enumerate(self.envs)
        ]
        self._launch(calls, inline)  # type: ignore[arg-type]

    def reset_wait(self, timeout: float | None = None) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Wait for :meth:`reset_async`'s calls and return the observations and batched infos.

        Args:
            timeout: Seconds to wait; ``None`` waits as long as it takes.

        Raises:
            NoAsyncCallError: No ``reset_async`` is pending.
            TimeoutError: Not every sub-environment answered in time (the call stays pending).
            SubEnvWorkerError: A sub-environment raised (the lowest index is reported; all are logged).
        """
        self._assert_is_running()
        if self._state is not VectorState.WAITING_RESET:
            raise NoAsyncCallError(
                "Calling `reset_wait` without any prior call to `reset_async`.", VectorState.WAITING_RESET.value
            )
        results = self._collect("reset", timeout)
        mask = self._reset_mask if self._reset_mask is not None else np.ones(self.num_envs, dtype=np.bool_)
        env_infos: list[tuple[int, dict[str, Any]]] = []
        for i, result in enumerate(results):
            if result is None:
                continue
            self._observations[i], info = result
            env_infos.append((i, info))
        infos = self._batch_infos(env_infos)
        self._terminations[mask] = False
        self._truncations[mask] = False
        self._autoreset_envs[mask] = False
        self._needs_reset = False
        return tuple(self._observations), infos

    # ----------------------------------------------------------------------------------------------- step

    def step(
        self, actions: Sequence[str]
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-environment concurrently with its action.

        Args:
            actions: One action string per sub-environment.

        Returns:
            Observations, rewards, terminations, truncations and batched infos (see the class docstring for
            what each autoreset mode adds).
        """
        self._step_start(actions, inline=True)
        return self.step_wait()

    def step_async(self, actions: Sequence[str]) -> None:
        """Send each sub-environment its action; :meth:`step_wait` collects the results.

        Raises:
            ClosedEnvironmentError: The vector env was closed.
            AlreadyPendingCallError: Another call is pending.
            ResetNeeded: ``reset()`` was never called (or a rollout ran since), or, in ``DISABLED`` mode, a
                sub-environment's episode ended and it was not reset.
            ValueError: Not one action per sub-environment.
        """
        self._step_start(actions, inline=False)

    def _step_start(self, actions: Sequence[str], inline: bool) -> None:
        self._assert_idle("step_async")
        if self._needs_reset:
            raise ResetNeeded("call reset() before step() (a new vector env, or a rollout driver used it since)")
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"expected one action per sub-environment ({self.num_envs}), got {len(actions)}")
        if self.autoreset_mode is AutoresetMode.DISABLED and self._autoreset_envs.any():
            ended = np.flatnonzero(self._autoreset_envs).tolist()
            raise ResetNeeded(
                f"sub-environments {ended} ended their episodes and autoreset_mode is DISABLED: reset them first "
                "with reset(options={'reset_mask': terminations | truncations})"
            )
        self._state = VectorState.WAITING_STEP
        self._launch([(self._step_one, (i, action), {}) for i, action in enumerate(actions)], inline)

    def _step_one(self, index: int, action: str) -> tuple[Any, float, bool, bool, dict[str, Any], Any]:
        """One sub-environment's step with autoreset; runs on a pool thread."""
        env = self.envs[index]
        if self.autoreset_mode is AutoresetMode.NEXT_STEP and self._autoreset_envs[index]:
            observation, info = env.reset()
            return observation, 0.0, False, False, info, None
        observation, reward, terminated, truncated, info = env.step(action)
        final = None
        if self.autoreset_mode is AutoresetMode.SAME_STEP and (terminated or truncated):
            final = {"final_obs": observation, "final_info": info}
            observation, info = env.reset()
        return observation, float(reward), bool(terminated), bool(truncated), info, final

    def step_wait(
        self, timeout: float | None = None
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Wait for :meth:`step_async`'s calls and return the batched results.

        Args:
            timeout: Seconds to wait; ``None`` waits as long as it takes.

        Raises:
            NoAsyncCallError: No ``step_async`` is pending.
            TimeoutError: Not every sub-environment answered in time (the call stays pending).
            SubEnvWorkerError: A sub-environment raised (the lowest index is reported; all are logged). The
                other sub-environments did step: call ``reset()`` before stepping again.
        """
        self._assert_is_running()
        if self._state is not VectorState.WAITING_STEP:
            raise NoAsyncCallError(
                "Calling `step_wait` without any prior call to `step_async`.", VectorState.WAITING_STEP.value
            )
        try:
            results = self._collect("step", timeout)
        except SubEnvWorkerError:
            self._needs_reset = True
            raise
        env_infos: list[tuple[int, dict[str, Any]]] = []
        for i, (observation, reward, terminated, truncated, info, final) in enumerate(results):
            self._observations[i] = observation
            self._rewards[i] = reward
            self._terminations[i] = terminated
            self._truncations[i] = truncated
            if final is not None:
                env_infos.append((i, final))
            env_infos.append((i, info))
        infos = self._batch_infos(env_infos)
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        return (
            tuple(self._observations),
            self._rewards.copy(),
            self._terminations.copy(),
            self._truncations.copy(),
            infos,
        )

    def _batch_infos(self, env_infos: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        """Gymnasium's batched infos, tolerant of values whose type differs between sub-environments.

        Tool arguments and verifier results are free-form: ``{"limit": 5}`` in one sub-environment and
        ``{"limit": "5"}`` in another, or a dict in one and a string in another, make Gymnasium's
        ``_add_info`` fail. Such a top-level key is batched as an object array of the raw values instead.
        """
        infos: dict[str, Any] = {}
        try:
            for i, info in env_infos:
                infos = self._add_info(infos, info, i)
            return infos
        except (AttributeError, TypeError, ValueError):
            pass
        infos = {}
        for key in dict.fromkeys(key for _, info in env_infos for key in info):
            part: dict[str, Any] = {}
            try:
                for i, info in env_infos:
                    if key in info:
                        part = self._add_info(part, {key: info[key]}, i)
            except (AttributeError, TypeError, ValueError):
                values = np.full(self.num_envs, None, dtype=object)
                present = np.zeros(self.num_envs, dtype=np.bool_)
                for i, info in env_infos:
                    if key in info:
                        values[i], present[i] = info[key], True
                part = {key: values, f"_{key}": present}
            infos.update(part)
        return infos

    # ----------------------------------------------------------------------------------------- lending

    @contextlib.contextmanager
    def lend(self) -> Iterator[SubEnvLease]:
        """Lend the sub-environments one by one (what a :class:`~awm_gym.vector.RolloutDriver` drives).

        While the lease is open the vector env is in the ``ROLLOUT`` state and its own ``reset``/``step``
        refuse with :class:`~gymnasium.error.AlreadyPendingCallError`. After it ends, calls still running are
        waited for by the next ``reset`` (or ``close``), and the vector env must be reset before it steps
        again if the lease submitted anything.

        Example:
            >>> with AWMVectorEnv("awmgym_pet_clinic", num_envs=2, max_steps=5) as envs:
            ...     with envs.lend() as lease:
            ...         observation, info = lease.submit(1, "reset", options={"task_idx": 2}).result()
            ...         lease.scenario(1), lease.task_idx(1), envs.state.value
            ('awmgym_pet_clinic', 2, 'rollout')

        Raises:
            ClosedEnvironmentError: The vector env was closed.
            AlreadyPendingCallError: Another call (``step_async``, another lease) is pending.
        """
        self._assert_idle("lend")
        self._drain_leftovers()
        lease = _PoolLease(self)
        self._state = VectorState.ROLLOUT
        try:
            yield lease
        finally:
            lease.open = False
            self._leftovers = [future for future in self._leftovers if not future.done()]
            if not self.closed:
                self._state = VectorState.DEFAULT

    # ------------------------------------------------------------------------------------ other methods

    def render(self) -> tuple[Any, ...]:
        """Each sub-environment's ``render()`` (the transcript in ``"ansi"`` mode)."""
        self._assert_idle("render")
        return tuple(env.render() for env in self.envs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call method ``name`` of every sub-environment (or read the attribute if it is not callable)."""
        self._assert_idle("call")
        results = []
        for env in self.envs:
            function = env.get_wrapper_attr(name)
            results.append(function(*args, **kwargs) if callable(function) else function)
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Attribute ``name`` of every sub-environment."""
        self._assert_is_running()
        return tuple(env.get_wrapper_attr(name) for env in self.envs)

    def set_attr(self, name: str, values: Sequence[Any] | Any) -> None:
        """Set attribute ``name`` on the sub-environments: one value for all, or a list/tuple of one per env."""
        self._assert_idle("set_attr")
        if not isinstance(values, list | tuple):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ValueError(
                "Values must be a list or tuple with length equal to the number of environments. "
                f"Got `{len(values)}` values for {self.num_envs} environments."
            )
        for env, value in zip(self.envs, values, strict=True):
            env.set_wrapper_attr(name, value)

    # -------------------------------------------------------------------------------------------- close

    def close_extras(self, timeout: float | None = None, **kwargs: Any) -> None:
        """Let pending calls finish (up to ``timeout`` seconds), then close every sub-environment."""
        running = [future for future in self._pending + self._leftovers if future is not None]
        if running:
            logger.debug("closing %s while a call to %s is pending", type(self).__name__, self._state.value)
            wait_futures(running, timeout)
        self._pending, self._leftovers = [], []
        self._state = VectorState.CLOSED
        for env in self.envs:
            try:
                env.close()
            except Exception:  # close every sub-environment even if one fails
                logger.exception("sub-environment %s (%s) failed to close", self.envs.index(env), _scenario_name(env))
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def close(self, *, timeout: float | None = None) -> None:
        """Close every sub-environment and stop its server process (idempotent).

        Args:
            timeout: Seconds to let a pending ``reset``/``step`` finish first (``None``: as long as it takes;
                a step is bounded by the env's ``tool_timeout`` and ``verifier_timeout``).
        """
        if self.closed:
            return
        self.close_extras(timeout=timeout)
        self.closed = True


class _PoolLease:
    """:class:`AWMVectorEnv`'s :class:`~awm_gym.vector.lease.SubEnvLease`: calls go to its thread pool."""

    def __init__(self, envs: AWMVectorEnv) -> None:
        self._envs = envs
        self.num_envs = envs.num_envs
        self.open = True

    def submit(self, index: int, method: str, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``envs.envs[index].<method>(*args, **kwargs)`` on the pool (``method``: ``"reset"`` or ``"step"``)."""
        envs = self._envs
        if not self.open or envs.closed:
            raise ClosedEnvironmentError(
                "this lease of the vector env has ended (or the vector env was closed): lend() again"
            )
        if method not in ("reset", "step"):
            raise ConfigurationError(f"a lease runs 'reset' or 'step' on a sub-environment, got {method!r}")
        if not 0 <= index < self.num_envs:
            raise ConfigurationError(f"sub-environment index must be in [0, {self.num_envs - 1}], got {index!r}")
        envs._needs_reset = True
        future = envs._submit(getattr(envs.envs[index], method), *args, **kwargs)
        envs._leftovers = [f for f in envs._leftovers if not f.done()]
        envs._leftovers.append(future)  # close() and the next reset wait for it
        return future

    def worker_error(self, index: int, operation: str, exc: BaseException) -> SubEnvWorkerError:
        """A :class:`SubEnvWorkerError` naming the sub-environment, its scenario and task (and logging ``exc``)."""
        return self._envs._worker_error(index, operation, exc)

    def scenario(self, index: int) -> str | None:
        """The scenario of sub-environment ``index``."""
        return _scenario_name(self._envs.envs[index])

    def task_idx(self, index: int) -> int | None:
        """The current task of sub-environment ``index`` (``None`` before its first reset)."""
        return getattr(_awm_env(self._envs.envs[index]), "current_task_idx", None)

    def serves(self, index: int) -> frozenset[str]:
        """The scenarios sub-environment ``index`` can play (a suite env: every scenario of its task set)."""
        return served_scenarios(self._envs.envs[index])
