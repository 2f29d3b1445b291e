"""A Gymnasium vector env whose sub-environments live in Ray actors spread over a cluster.

:class:`RayVectorEnv` is an :class:`~awm_gym.vector.AWMVectorEnv` (same constructor, same observations,
rewards, infos, autoreset modes, errors and ``lend()`` seam for the
:class:`~awm_gym.vector.RolloutDriver`) whose sub-environments are built and stepped inside Ray actors
(:class:`~awm_gym.distributed.actor.SubEnvActor`), several per actor. In the driver each sub-environment is
a :class:`RemoteSubEnv` stand-in; a lockstep ``step`` sends one call per actor, and a lent sub-environment
one call per reset or step, so episodes advance as their own actions arrive.

Faults: when an actor dies (its process or its node) or stops answering (``call_timeout``), the
:class:`~awm_gym.distributed.pool.ActorPool` replaces it, and each episode it hosted ends with the step that
found out: reward 0, ``truncated=True``, the observation saying why and ``info["error"] =
{"type": "actor_lost", "message": ...}`` (never a verifier verdict). Resets are retried once on the
replacement. Ray is imported only when a :class:`RayVectorEnv` is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from awm_gym.catalog import Scenario
from awm_gym.distributed.actor import Call
from awm_gym.distributed.cluster import connect, import_ray
from awm_gym.distributed.pool import ActorPool
from awm_gym.errors import ActorLostError, ConfigurationError
from awm_gym.vector.vector_env import AWMVectorEnv, EnvEntry, VectorState, _entry_kwargs

__all__ = [
    "ACTOR_LOST",
    "DEFAULT_CALL_TIMEOUT_S",
    "DEFAULT_CREATE_TIMEOUT_S",
    "DEFAULT_ENVS_PER_ACTOR",
    "RayVectorEnv",
    "RemoteScenario",
    "RemoteSubEnv",
]

DEFAULT_ENVS_PER_ACTOR = 4
"""Sub-environments per actor by default (each one is a scenario server process inside the actor)."""

DEFAULT_CALL_TIMEOUT_S = 120.0
"""Default bound on one call (a reset, or a step with its verifier): past it the actor is killed and replaced."""

DEFAULT_CREATE_TIMEOUT_S = 120.0
"""Default bound on placing an actor and building its sub-environments (a zygote start per scenario)."""

ACTOR_LOST = "actor_lost"
"""``info["error"]["type"]`` of a step whose episode ended because its actor was lost."""


@dataclass(frozen=True)
class RemoteScenario:
    """What the driver knows of a remote sub-environment's scenario: its name."""

    name: str | None


class RemoteSubEnv:
    """The driver's stand-in for one sub-environment living in a Ray actor.

    It mirrors the spaces, metadata, scenario and current task of the remote env (and a suite env's task
    set); ``reset``, ``step`` and ``render`` run remotely and wait for the answer.
    """

    def __init__(self, envs: RayVectorEnv, index: int, description: Mapping[str, Any]) -> None:
        self._envs = envs
        self.index = index
        self.metadata = description["metadata"]
        self.render_mode = description["render_mode"]
        self.observation_space = description["observation_space"]
        self.action_space = description["action_space"]
        self.scenario = RemoteScenario(description["scenario"])
        self.current_task_idx: int | None = None
        if description.get("tasks") is not None:  # a suite env: the task set whose scenarios it can play
            self.tasks = description["tasks"]

    @property
    def unwrapped(self) -> RemoteSubEnv:
        """Itself: the wrappers live in the actor."""
        return self

    def _run(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        return self._envs._dispatch([(self.index, operation, args, kwargs)])[0].result()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the remote env."""
        return self._run("reset", seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step the remote env."""
        return self._run("step", action)

    def render(self) -> Any:
        """The remote env's ``render()``."""
        return self._run("render")

    def get_wrapper_attr(self, name: str) -> Any:
        """Attribute ``name`` of the remote env (through its wrappers)."""
        return self._run("get_attr", name)

    def set_wrapper_attr(self, name: str, value: Any) -> None:
        """Set attribute ``name`` on the remote env (through its wrappers)."""
        self._run("set_attr", name, value)

    def close(self) -> None:
        """Nothing: the actor closes its sub-environments when the vector env closes."""

    def _seen(self, info: Mapping[str, Any]) -> None:
        """A reset's info arrived: track the scenario and task it reports."""
        if "task_idx" in info:
            self.current_task_idx = info["task_idx"]
        if isinstance(info.get("scenario"), str):
            self.scenario = RemoteScenario(info["scenario"])

    def __repr__(self) -> str:
        return f"<RemoteSubEnv {self.index} {self.scenario.name} task={self.current_task_idx}>"


def _placement_keys(scenario: Any, num_envs: int) -> list[str | None]:
    """Each sub-environment's scenario name, as far as the constructor arguments tell."""
    if scenario is None:
        return [None] * num_envs
    entries = [scenario] if isinstance(scenario, str | Scenario) else list(scenario)
    entries = entries * (num_envs // len(entries))
    names = [_entry_kwargs(entry, {}, position)["scenario"] for position, entry in enumerate(entries)]
    return [name.name if isinstance(name, Scenario) else str(name) for name in names]


def _resolved(value: Any = None, exc: BaseException | None = None) -> Future[Any]:
    future: Future[Any] = Future()
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)
    return future


def _chain(source: Future[Any], transform: Callable[[Any], Any]) -> Future[Any]:
    """A future resolving to ``transform(source's result)``, or failing as ``source`` does."""
    target: Future[Any] = Future()

    def done(finished: Future[Any]) -> None:
        exc = finished.exception()
        if exc is not None:
            target.set_exception(exc)
        else:
            target.set_result(transform(finished.result()))

    source.add_done_callback(done)
    return target


class RayVectorEnv(AWMVectorEnv):
    """N AWM environments in Ray actors over a cluster, behind the :class:`~awm_gym.vector.AWMVectorEnv` API.

    Everything a user sees (observations, rewards, batched infos, autoreset modes, errors, ``lend()`` for
    the :class:`~awm_gym.vector.RolloutDriver`) is :class:`~awm_gym.vector.AWMVectorEnv`'s; only where the
    sub-environments run differs. Sub-environments of one scenario are grouped into the same actors (so
    they share a zygote) and those actors onto one node where it has room (``placement="scenario"``).

    Example (a local Ray instance is started if this process has not joined a cluster)::

        from awm_gym.distributed import RayVectorEnv
        from awm_gym.vector import RolloutDriver

        envs = RayVectorEnv("awmgym_pet_clinic", num_envs=64, envs_per_actor=8, max_steps=30)
        for episode in RolloutDriver(envs, policy, num_episodes=512):
            ...
        envs.close()

    Args:
        scenario: As for :class:`~awm_gym.vector.AWMVectorEnv`: one scenario, or a list of entries.
        num_envs: Number of sub-environments.
        env_fns: Instead of ``scenario``: callables that each build one env (pickled with cloudpickle and
            run inside an actor, so they may be lambdas or ``functools.partial`` of ``gym.make``).
        wrappers: Callables applied in order to each sub-environment, inside its actor (they must pickle).
        autoreset_mode: As for :class:`~awm_gym.vector.AWMVectorEnv`.
        envs_per_actor: Most sub-environments one actor hosts.
        num_cpus_per_actor: Ray CPUs each actor asks for (its sub-environments' servers run inside it).
        memory_per_actor: Bytes of memory each actor asks Ray for (``None``: no request).
        actor_options: More ``ray.remote`` options for every actor (``resources``, ``runtime_env``,
            ``scheduling_strategy``, ...); they win over the two above.
        placement: ``"scenario"`` (same scenario on the same actor and node where possible) or
            ``"spread"`` (actors over as many nodes as possible).
        address: The cluster to join if this process has not (``ray.init``'s address; ``None``: the
            ``RAY_ADDRESS`` variable or a new local instance). A Ray instance started here is shut down by
            :meth:`close`.
        ray_init_kwargs: More ``ray.init`` arguments when this call starts Ray (e.g. ``num_cpus``).
        create_timeout: Seconds an actor may take to be placed and build its sub-environments.
        call_timeout: Seconds one reset or step may take before its actor is killed and replaced.
        **env_kwargs: Keyword arguments for every :class:`~awm_gym.envs.AWMEnv`.

    Raises:
        MissingExtraError: Ray is not installed (``pip install awm-gym[ray]``).
        ConfigurationError: Inconsistent arguments.
        SubEnvWorkerError: A sub-environment could not be created (every actor is stopped).
        ActorLostError: The actors could not be placed within ``create_timeout``.
    """

    def __init__(
        self,
        scenario: str | Scenario | Sequence[EnvEntry] | None = None,
        num_envs: int | None = None,
        *,
        env_fns: Sequence[Callable[[], gym.Env]] | None = None,
        wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        envs_per_actor: int = DEFAULT_ENVS_PER_ACTOR,
        num_cpus_per_actor: float = 1.0,
        memory_per_actor: int | None = None,
        actor_options: Mapping[str, Any] | None = None,
        placement: str = "scenario",
        address: str | None = None,
        ray_init_kwargs: Mapping[str, Any] | None = None,
        create_timeout: float = DEFAULT_CREATE_TIMEOUT_S,
        call_timeout: float = DEFAULT_CALL_TIMEOUT_S,
        **env_kwargs: Any,
    ) -> None:
        self.closed = True  # until the actors exist (close() then has nothing to do)
        self._ray_pool: ActorPool | None = None
        self._owns_ray = False
        mode = autoreset_mode if isinstance(autoreset_mode, AutoresetMode) else AutoresetMode(autoreset_mode)
        factories = self._factories(scenario, num_envs, env_fns, list(wrappers), env_kwargs)
        keys = _placement_keys(scenario if env_fns is None else None, len(factories))
        options: dict[str, Any] = {"num_cpus": float(num_cpus_per_actor)}
        if memory_per_actor is not None:
            options["memory"] = int(memory_per_actor)
        options.update(actor_options or {})
        import_ray()
        self._owns_ray = connect(address, **dict(ray_init_kwargs or {}))
        try:
            self._ray_pool = ActorPool(
                factories,
                keys,
                autoreset_mode=mode.value,
                envs_per_actor=int(envs_per_actor),
                actor_options=options,
                placement=placement,
                create_timeout=create_timeout,
                call_timeout=call_timeout,
                observe=self._observe,
            )
        except BaseException:
            self._release_ray()
            raise
        descriptions = self._ray_pool.descriptions
        self._remote = [RemoteSubEnv(self, index, descriptions[index]) for index in range(len(factories))]
        super().__init__(env_fns=[lambda env=env: env for env in self._remote], autoreset_mode=mode, max_workers=1)

    # ------------------------------------------------------------------------------------------- the actors

    @property
    def num_actors(self) -> int:
        """How many actors host the sub-environments."""
        return self._pool().num_actors

    def placement(self) -> list[dict[str, Any]]:
        """Each actor's sub-environment indices, node id, pid and generation (+1 per replacement)."""
        return self._pool().placement()

    @property
    def replacements(self) -> list[dict[str, Any]]:
        """One record per actor replaced after a fault: its sub-environments, the cause, old and new node."""
        return list(self._pool().replacements)

    def process_ids(self, index: int | None = None) -> list[int]:
        """Pids of the actors and of the scenario servers and zygotes inside them: what ``close`` ends.

        Args:
            index: Only the actor hosting this sub-environment (default: every actor).
        """
        return self._pool().process_ids(index)

    def kill_actor(self, index: int) -> None:
        """Kill the actor hosting sub-environment ``index``, as a crash would (a fault drill)."""
        self._pool().kill_actor(index)

    def _pool(self) -> ActorPool:
        if self._ray_pool is None:
            raise ConfigurationError("this RayVectorEnv has no actors: it was closed while being built")
        return self._ray_pool

    def _observe(self, call: Call, value: Any) -> None:
        """An actor answered: keep the stand-in's scenario and task in step with every reset."""
        index, operation, args, _ = call
        if operation == "reset":
            self._remote[index]._seen(value[1])
        elif operation == "autostep" and (value[5] is not None or args[1]):
            self._remote[index]._seen(value[4])

    # ---------------------------------------------------------------------------------------------- calls

    def _dispatch(self, calls: Sequence[Call]) -> list[Future[Any]]:
        """Send calls to the actors (one batch per actor); one future per call, in order.

        A step of a sub-environment whose actor was lost ends its episode without reaching an actor; a
        reset starts afresh on the replacement. A call whose actor dies in flight is answered the same way
        (a reset is retried once).
        """
        pool = self._pool()
        futures: list[Future[Any] | None] = [None] * len(calls)
        sent: list[int] = []
        for position, call in enumerate(calls):
            index, operation, args, _ = call
            starts_episode = operation == "reset" or (
                operation == "autostep" and self.autoreset_mode is AutoresetMode.NEXT_STEP and args[1]
            )
            reason = pool.lost_reason(index)
            if starts_episode:
                pool.forget_loss(index)
            elif reason is not None and operation in ("step", "autostep"):
                futures[position] = self._after_loss(call, reason, retry=False)
                continue
            sent.append(position)
        for position, future in zip(sent, pool.submit([calls[p] for p in sent]), strict=True):
            futures[position] = self._recovering(calls[position], future)
        return futures  # type: ignore[return-value]

    def _recovering(self, call: Call, future: Future[Any]) -> Future[Any]:
        """``future``, except that a lost actor's answer becomes :meth:`_after_loss`'s."""
        target: Future[Any] = Future()

        def done(finished: Future[Any]) -> None:
            exc = finished.exception()
            if isinstance(exc, ActorLostError) and call[1] in ("reset", "step", "autostep"):
                reason = self._pool().lost_reason(call[0]) or str(exc)
                after = self._after_loss(call, reason, retry=True)
                after.add_done_callback(lambda last: _copy(last, target))
            else:
                _copy(finished, target)

        future.add_done_callback(done)
        return target

    def _after_loss(self, call: Call, reason: str, *, retry: bool) -> Future[Any]:
        """The answer to ``call`` for a sub-environment whose actor (and episode) was lost."""
        index, operation, args, kwargs = call
        pool = self._pool()
        message = f"Episode ended: {reason}. The sub-environment was restarted; this episode scores 0."
        info: dict[str, Any] = {"error": {"type": ACTOR_LOST, "message": message}}
        if operation == "step":
            pool.forget_loss(index)  # the episode has ended; the lease's next call is a reset
            return _resolved((message, 0.0, False, True, info))
        if operation == "reset" or (self.autoreset_mode is AutoresetMode.NEXT_STEP and args[1]):
            if not retry:
                return _resolved(exc=ActorLostError(f"sub-environment {index}: {reason}"))
            pool.forget_loss(index)
            reset = pool.submit([(index, "reset", (), kwargs if operation == "reset" else {})])[0]
            if operation == "reset":
                return reset
            return _chain(reset, lambda answer: (answer[0], 0.0, False, False, answer[1], None))
        pool.forget_loss(index)
        if self.autoreset_mode is AutoresetMode.SAME_STEP:
            reset = pool.submit([(index, "reset", (), {})])[0]
            final = {"final_obs": message, "final_info": info}
            return _chain(reset, lambda answer: (answer[0], 0.0, False, True, answer[1], final))
        return _resolved((message, 0.0, False, True, info, None))

    def _launch(
        self, calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None], inline: bool
    ) -> None:
        """Send the vector env's per-sub-environment calls to the actors, one batch per actor."""
        self._drain_leftovers()
        remote: list[Call] = []
        for index, call in enumerate(calls):
            if call is None:
                continue
            fn, args, kwargs = call
            if fn == self._step_one:  # (index, action): the step with autoreset runs in the actor
                remote.append((index, "autostep", (args[1], bool(self._autoreset_envs[index])), {}))
            else:
                remote.append((index, _remote_method(fn), args, kwargs))
        self._pending = [None] * self.num_envs
        for call, future in zip(remote, self._dispatch(remote), strict=True):
            self._pending[call[0]] = future

    def _collect(self, operation: str, timeout: float | None) -> list[Any]:
        """As AWMVectorEnv's; on Ctrl-C while waiting, the calls finish in the background and a reset is due."""
        try:
            return super()._collect(operation, timeout)
        except KeyboardInterrupt:
            self._leftovers += [future for future in self._pending if future is not None]
            self._pending = []
            self._state = VectorState.DEFAULT
            self._needs_reset = True
            raise

    def _submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """A stand-in's ``reset``/``step`` (what a lease submits) goes to its actor; anything else to the pool."""
        stand_in = getattr(fn, "__self__", None)
        if isinstance(stand_in, RemoteSubEnv) and stand_in._envs is self:
            return self._dispatch([(stand_in.index, _remote_method(fn), args, kwargs)])[0]
        return super()._submit(fn, *args, **kwargs)

    def _gather(self, operation: str, args: Sequence[tuple[Any, ...]], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        calls = [(index, operation, args[index], dict(kwargs)) for index in range(self.num_envs)]
        return tuple(future.result() for future in self._dispatch(calls))

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call method ``name`` of every sub-environment in its actor (or read the attribute if not callable)."""
        self._assert_idle("call")
        return self._gather("call", [(name, *args)] * self.num_envs, kwargs)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Attribute ``name`` of every sub-environment (read in its actor)."""
        self._assert_is_running()
        return self._gather("get_attr", [(name,)] * self.num_envs, {})

    # ---------------------------------------------------------------------------------------------- close

    def close_extras(self, timeout: float | None = None, **kwargs: Any) -> None:
        """Let pending calls finish (up to ``timeout`` seconds), then stop every actor and what runs in it."""
        try:
            super().close_extras(timeout=timeout, **kwargs)
        finally:
            if self._ray_pool is not None:
                self._ray_pool.close()
            self._release_ray()

    def _release_ray(self) -> None:
        if self._owns_ray:
            self._owns_ray = False
            import_ray().shutdown()


def _remote_method(fn: Callable[..., Any]) -> str:
    """``"reset"``/``"step"``/``"render"`` for a :class:`RemoteSubEnv`'s bound method."""
    method = getattr(fn, "__func__", None)
    for name in ("reset", "step", "render"):
        if method is getattr(RemoteSubEnv, name):
            return name
    raise ConfigurationError(f"a RayVectorEnv runs its sub-environments' reset/step/render remotely, got {fn!r}")


def _copy(source: Future[Any], target: Future[Any]) -> None:
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())
