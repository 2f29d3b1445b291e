"""Rollouts without lockstep: every episode advances as soon as its own action is ready.

A lockstep loop (``actions = policy(obs); obs = envs.step(actions)``) makes every episode wait for the
slowest sub-environment (the one running its verifier and resetting) and the policy wait for the whole
batch. :class:`RolloutDriver` instead keeps a queue of episodes waiting for an action and calls the policy
with whatever is pending, as soon as ``max_batch`` observations are waiting or the oldest has waited
``max_wait_ms`` (dynamic batching, as LLM servers batch requests), with up to ``max_concurrent_batches``
policy calls in flight. The driver borrows the sub-environments through the vector env's ``lend()``
(:class:`~awm_gym.vector.lease.SubEnvLease`: :class:`AWMVectorEnv`'s thread pool, or the Ray vector env's
actors); each sub-environment's reset and step start the moment its action arrives, and finished episodes
(:class:`~awm_gym.vector.episode.Episode`) are yielded as they complete.

The policy is any callable ``list[input] -> list[action]``, sync or async (``async def``): a batched GPU
model, :class:`~awm_gym.llm.OpenAIPolicy` (objects with a ``batch`` method are called through it) or a
scripted one. Sync policies run on a worker thread, async ones on an event loop thread, so the driver
stays responsive: Ctrl-C (or an exception in the policy or a sub-environment) stops it with every
sub-environment closed, i.e. no server process left running (``close_on_error=True``).
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from awm_gym.errors import ConfigurationError
from awm_gym.vector.episode import Episode, Transition
from awm_gym.vector.lease import SubEnvLease

__all__ = ["Policy", "RolloutDriver", "RolloutStats", "rollouts"]

Policy: TypeAlias = Callable[[list[Any]], Sequence[str] | Awaitable[Sequence[str]]]
"""A batched policy: one action per input, in order; sync or async."""

_POLL_S = 0.1  # the longest the driver blocks without checking for Ctrl-C


@dataclass
class RolloutStats:
    """Counters of one run of a :class:`RolloutDriver`."""

    episodes: int = 0
    steps: int = 0
    policy_calls: int = 0
    batched_inputs: int = 0
    max_batch_size: int = 0
    policy_s: float = 0.0
    wall_s: float = 0.0

    @property
    def mean_batch_size(self) -> float:
        """Inputs per policy call."""
        return self.batched_inputs / self.policy_calls if self.policy_calls else 0.0

    @property
    def steps_per_s(self) -> float:
        """Env steps per wall-clock second."""
        return self.steps / self.wall_s if self.wall_s else 0.0

    @property
    def episodes_per_s(self) -> float:
        """Finished episodes per wall-clock second."""
        return self.episodes / self.wall_s if self.wall_s else 0.0


@dataclass
class _Running:
    """The episode a sub-environment is playing."""

    index: int
    started: float
    reset_info: dict[str, Any] = field(default_factory=dict)
    observation: Any = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    trajectory: list[Transition] = field(default_factory=list)
    action: str = ""
    pending_since: float = 0.0
    env_s: float = 0.0
    policy_s: float = 0.0
    queue_s: float = 0.0


class _EventLoopThread:
    """An asyncio loop on a daemon thread, for async policies."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="awm-rollout-policy-loop", daemon=True)
        self.thread.start()

    def submit(self, coroutine: Awaitable[Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(timeout=2.0)
        except Exception:  # a policy that ignores cancellation: the daemon thread dies with the process
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=2.0)
        if not self.thread.is_alive():
            self.loop.close()


class RolloutDriver:
    """Runs episodes on a vector env's sub-environments, batching the policy dynamically.

    Iterating yields each :class:`Episode` as it finishes. The driver borrows the sub-environments with
    the vector env's ``lend()`` (the vector env is in the ``ROLLOUT`` state meanwhile, and needs
    ``reset()`` before lockstep use again).

    Example:
        >>> import json
        >>> from awm_gym.vector import AWMVectorEnv, RolloutDriver
        >>> def policy(histories):  # scripted: one read-tool call, then the final answer
        ...     call = json.dumps({"name": "list_veterinarians", "arguments": {}})
        ...     return [call if len(h) == 1 else "Done." for h in histories]
        >>> with AWMVectorEnv("awmgym_pet_clinic", num_envs=2, max_steps=5) as envs:
        ...     driver = RolloutDriver(envs, policy, tasks=[0, 1, 2], inputs="messages", progress=False)
        ...     episodes = sorted(driver, key=lambda episode: episode.task_idx)
        >>> [(e.task_idx, e.num_steps, e.label) for e in episodes]
        [(0, 2, 'others'), (1, 2, 'others'), (2, 2, 'others')]
        >>> driver.stats.episodes, driver.stats.steps
        (3, 6)

    Args:
        envs: The vector env whose sub-environments play the episodes: any vector env with a ``lend()``
            method (:class:`~awm_gym.vector.AWMVectorEnv`, the Ray vector env).
        policy: ``list[input] -> list[action]``, sync or ``async``; an object with a ``batch`` method (e.g.
            :class:`~awm_gym.llm.OpenAIPolicy`) is called through ``batch``.
        num_episodes: Episodes to run (each sub-environment draws its task as its ``reset`` does); ``None``
            with no ``tasks`` runs until you stop iterating.
        tasks: Instead of ``num_episodes``: the tasks to run once each, as task indices (one-scenario vector
            envs), ``(scenario, task_idx)`` pairs or a :class:`~awm_gym.TaskSet`; each goes to a free
            sub-environment that serves its scenario (a suite sub-environment serves every scenario of its
            task set and is reset onto the pair's scenario).
        max_batch: Most inputs per policy call (default: ``envs.num_envs``).
        max_wait_ms: Longest the oldest pending input waits for the batch to fill. A batch also goes out at
            once when no sub-environment is busy (nothing more can arrive).
        max_concurrent_batches: Policy calls in flight at once (1 for an in-process model; more for a
            server that batches requests itself, so env work overlaps policy latency).
        inputs: What the policy gets per episode: ``"observation"`` (the latest observation) or
            ``"messages"`` (the chat so far: the reset observation and each tool result as ``user`` turns,
            each action as an ``assistant`` turn).
        system_prompt: A system message put first in ``"messages"`` inputs.
        seed: Sub-environment ``i`` is seeded with ``seed + i`` at its first reset.
        progress: Show a tqdm progress bar.
        close_on_error: Close ``envs`` when the run stops on an exception or Ctrl-C (stopping the iteration
            early, e.g. ``break``, leaves them open).

    Raises:
        ConfigurationError: Bad arguments, or a task whose scenario no sub-environment serves.
    """

    def __init__(
        self,
        envs: Any,
        policy: Policy | Any,
        *,
        num_episodes: int | None = None,
        tasks: Iterable[int | tuple[str, int]] | None = None,
        max_batch: int | None = None,
        max_wait_ms: float = 5.0,
        max_concurrent_batches: int = 1,
        inputs: Literal["observation", "messages"] = "observation",
        system_prompt: str | None = None,
        seed: int | None = None,
        progress: bool = True,
        close_on_error: bool = True,
    ) -> None:
        if not callable(getattr(envs, "lend", None)):
            raise ConfigurationError(
                "envs must be a vector env with a lend() method (an unwrapped AWMVectorEnv or the Ray vector env), "
                f"got {type(envs).__name__}"
            )
        batch = getattr(policy, "batch", None)
        self.policy: Callable[[list[Any]], Any] = batch if callable(batch) else policy
        if not callable(self.policy):
            raise ConfigurationError(f"policy must be callable (list of inputs -> list of actions), got {policy!r}")
        if inputs not in ("observation", "messages"):
            raise ConfigurationError(f"inputs must be 'observation' or 'messages', got {inputs!r}")
        if max_concurrent_batches < 1:
            raise ConfigurationError(f"max_concurrent_batches must be at least 1, got {max_concurrent_batches}")
        if max_wait_ms < 0:
            raise ConfigurationError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.envs = envs
        self.max_batch = envs.num_envs if max_batch is None else int(max_batch)
        if self.max_batch < 1:
            raise ConfigurationError(f"max_batch must be at least 1, got {max_batch}")
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_concurrent_batches = int(max_concurrent_batches)
        self.inputs = inputs
        self.system_prompt = system_prompt
        self.seed = seed
        self.progress = progress
        self.close_on_error = close_on_error
        self.tasks = self._check_tasks(tasks, num_episodes)
        self.num_episodes = len(self.tasks) if self.tasks is not None else num_episodes
        if self.num_episodes is not None and self.num_episodes < 0:
            raise ConfigurationError(f"num_episodes must be >= 0, got {num_episodes}")
        self.stats = RolloutStats()
        self._is_async = inspect.iscoroutinefunction(self.policy) or inspect.iscoroutinefunction(
            type(self.policy).__call__
        )
        self._ran = False

    def _check_tasks(
        self, tasks: Iterable[Any] | None, num_episodes: int | None
    ) -> list[tuple[str | None, int]] | None:
        if tasks is None:
            return None
        if num_episodes is not None:
            raise ConfigurationError("pass tasks (each run once) or num_episodes, not both")
        with self.envs.lend() as lease:
            scenarios = set().union(*(lease.serves(index) for index in range(lease.num_envs)))
        checked: list[tuple[str | None, int]] = []
        for task in tasks:
            if hasattr(task, "scenario") and hasattr(task, "task_idx"):  # a TaskRef of a TaskSet
                task = (task.scenario, task.task_idx)
            if isinstance(task, int):
                if len(scenarios) != 1:
                    raise ConfigurationError(
                        f"a bare task index ({task}) is ambiguous with several scenarios "
                        f"{sorted(map(str, scenarios))}: pass (scenario, task_idx) pairs"
                    )
                checked.append((None, task))
            elif isinstance(task, tuple) and len(task) == 2 and isinstance(task[1], int):
                if task[0] not in scenarios:
                    raise ConfigurationError(
                        f"task {task!r}: no sub-environment serves scenario {task[0]!r}; the vector env has "
                        f"{sorted(map(str, scenarios))}"
                    )
                checked.append((task[0], task[1]))
            else:
                raise ConfigurationError(f"a task must be a task index or a (scenario, task_idx) pair, got {task!r}")
        return checked

    def __iter__(self) -> Iterator[Episode]:
        return self.run()

    # ------------------------------------------------------------------------------------------ the loop

    def run(self) -> Iterator[Episode]:
        """Run the episodes, yielding each one as it finishes (a driver runs once)."""
        if self._ran:
            raise RuntimeError("this RolloutDriver already ran; create a new one")
        self._ran = True
        error: BaseException | None = None
        try:
            with self.envs.lend() as lease:
                yield from self._run(lease)
        except BaseException as exc:  # Ctrl-C and GeneratorExit included: clean up, then re-raise
            error = exc
            raise
        finally:
            if error is not None and not isinstance(error, GeneratorExit) and self.close_on_error:
                self._close_envs()

    def _run(self, lease: SubEnvLease) -> Iterator[Episode]:
        self._lease = lease
        self._events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._running: dict[int, _Running] = {}
        self._env_futures: dict[int, Future[Any]] = {}
        self._waiting: deque[int] = deque()  # sub-environments whose observation awaits the policy
        self._idle: list[int] = []
        self._policy_in_flight: list[Future[Any]] = []
        self._finished: deque[Episode] = deque()
        self._started_episodes = 0
        self._seeded: set[int] = set()
        self._remaining_tasks = deque(self.tasks) if self.tasks is not None else None
        self._loop_thread: _EventLoopThread | None = None
        self._bar = self._progress_bar()
        self._last_postfix = 0.0
        self._completed = 0
        start = time.perf_counter()
        try:
            for index in range(lease.num_envs):
                self._start_episode(index)
            while True:
                while self._finished:
                    self.stats.wall_s = time.perf_counter() - start
                    yield self._finished.popleft()
                if not self._running and not self._policy_in_flight:
                    break
                self._dispatch()
                try:
                    event = self._events.get(timeout=self._timeout())
                except queue.Empty:
                    continue
                self._handle(event)
        finally:
            self.stats.wall_s = time.perf_counter() - start
            self._stop_policy()

    def _progress_bar(self) -> Any:
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.num_episodes, unit="episode", desc="rollouts", dynamic_ncols=True)

    def _timeout(self) -> float:
        if self._waiting and len(self._policy_in_flight) < self.max_concurrent_batches:
            waited = time.perf_counter() - self._running[self._waiting[0]].pending_since
            return min(_POLL_S, max(0.0, self.max_wait_s - waited))
        return _POLL_S

    def _dispatch(self) -> None:
        """Send pending inputs to the policy while a slot is free and a batch is due."""
        while self._waiting and len(self._policy_in_flight) < self.max_concurrent_batches:
            now = time.perf_counter()
            waited = now - self._running[self._waiting[0]].pending_since
            if len(self._waiting) < self.max_batch and waited < self.max_wait_s and self._env_futures:
                return
            batch = [self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting)))]
            inputs = []
            for index in batch:
                running = self._running[index]
                running.queue_s += now - running.pending_since
                inputs.append(running.messages if self.inputs == "messages" else running.observation)
            self._call_policy(batch, inputs)

    def _call_policy(self, batch: list[int], inputs: list[Any]) -> None:
        self.stats.policy_calls += 1
        self.stats.batched_inputs += len(batch)
        self.stats.max_batch_size = max(self.stats.max_batch_size, len(batch))
        future: Future[Any]
        if self._is_async:
            if self._loop_thread is None:
                self._loop_thread = _EventLoopThread()
            future = self._loop_thread.submit(self._timed_async(inputs))
        else:
            future = Future()
            future.set_running_or_notify_cancel()
            threading.Thread(
                target=self._timed_sync, args=(inputs, future), name="awm-rollout-policy", daemon=True
            ).start()
        self._policy_in_flight.append(future)
        future.add_done_callback(lambda done: self._events.put(("policy", batch, done)))

    async def _timed_async(self, inputs: list[Any]) -> tuple[Any, float]:
        start = time.perf_counter()
        actions = await self.policy(inputs)
        return actions, time.perf_counter() - start

    def _timed_sync(self, inputs: list[Any], future: Future[Any]) -> None:
        start = time.perf_counter()
        try:
            actions = self.policy(inputs)
            if inspect.isawaitable(actions):
                actions = asyncio.run(_awaited(actions))
        except BaseException as exc:  # handed to the driver, which re-raises it
            future.set_exception(exc)
        else:
            future.set_result((actions, time.perf_counter() - start))

    def _submit(self, index: int, operation: str, *args: Any, **kwargs: Any) -> None:
        submitted = time.perf_counter()
        future = self._lease.submit(index, operation, *args, **kwargs)
        self._env_futures[index] = future
        future.add_done_callback(lambda done: self._events.put(("env", index, operation, done, submitted)))

    def _next_task(self, index: int) -> dict[str, Any] | None:
        """Reset options for the next episode of sub-environment ``index``, or ``None`` if it has none."""
        if self.num_episodes is not None and self._started_episodes >= self.num_episodes:
            return None
        if self._remaining_tasks is None:
            return {}
        served = self._lease.serves(index)
        for position, (task_scenario, task_idx) in enumerate(self._remaining_tasks):
            if task_scenario is None or task_scenario in served:
                del self._remaining_tasks[position]
                if len(served) > 1:  # a suite env: it plays the pair's scenario
                    return {"scenario": task_scenario, "task_idx": task_idx}
                return {"task_idx": task_idx}
        return None

    def _start_episode(self, index: int) -> None:
        options = self._next_task(index)
        if options is None:
            self._idle.append(index)
            return
        self._started_episodes += 1
        seed = None
        if self.seed is not None and index not in self._seeded:
            seed = self.seed + index
            self._seeded.add(index)
        self._running[index] = _Running(index=index, started=time.perf_counter())
        self._submit(index, "reset", seed=seed, options=options or None)

    def _handle(self, event: tuple[Any, ...]) -> None:
        if event[0] == "policy":
            _, batch, future = event
            self._policy_in_flight.remove(future)
            exc = future.exception()
            if exc is not None:
                exc.add_note(f"raised by the policy on a batch of {len(batch)} inputs (sub-environments {batch})")
                raise exc
            actions, elapsed = future.result()
            actions = list(actions)
            if len(actions) != len(batch):
                raise ValueError(f"the policy returned {len(actions)} actions for {len(batch)} inputs")
            self.stats.policy_s += elapsed
            for index, action in zip(batch, actions, strict=True):
                running = self._running[index]
                running.policy_s += elapsed
                running.action = action
                self._submit(index, "step", action)
            return

        _, index, operation, future, submitted = event
        del self._env_futures[index]
        exc = future.exception()
        if exc is not None:
            raise self._lease.worker_error(index, operation, exc) from exc
        running = self._running[index]
        now = time.perf_counter()
        running.env_s += now - submitted
        if operation == "reset":
            observation, info = future.result()
            running.reset_info = info
            self._waiting_for_action(running, observation, now)
            return
        observation, reward, terminated, truncated, info = future.result()
        self.stats.steps += 1
        reply = getattr(running.action, "reply", None)  # e.g. OpenAIPolicy's PolicyAction
        running.trajectory.append(Transition(running.observation, running.action, float(reward), info, reply))
        running.messages.append({"role": "assistant", "content": running.action})
        if terminated or truncated:
            self._finish(running, observation, terminated, truncated, info, now)
            self._start_episode(index)
        else:
            self._waiting_for_action(running, observation, now)

    def _waiting_for_action(self, running: _Running, observation: Any, now: float) -> None:
        running.observation = observation
        if self.inputs == "messages":
            if not running.messages and self.system_prompt is not None:
                running.messages.append({"role": "system", "content": self.system_prompt})
            running.messages.append({"role": "user", "content": observation})
        running.pending_since = now
        self._waiting.append(running.index)

    def _finish(
        self, running: _Running, observation: Any, terminated: bool, truncated: bool, info: dict[str, Any], now: float
    ) -> None:
        del self._running[running.index]
        reset_info = running.reset_info
        episode = Episode(
            env_index=running.index,
            scenario=reset_info.get("scenario", self._lease.scenario(running.index)),
            task_idx=reset_info.get("task_idx"),
            task=reset_info.get("task"),
            trajectory=running.trajectory,
            final_observation=observation,
            reward=float(sum(step.reward for step in running.trajectory)),
            terminated=bool(terminated),
            truncated=bool(truncated),
            reset_info=reset_info,
            final_info=info,
            wall_s=now - running.started,
            env_s=running.env_s,
            policy_s=running.policy_s,
            queue_s=running.queue_s,
        )
        self.stats.episodes += 1
        self._completed += episode.complete
        self._finished.append(episode)
        if self._bar is not None:
            self._bar.update(1)
            if now - self._last_postfix > 0.5:
                self._last_postfix = now
                self._bar.set_postfix(complete=f"{self._completed / self.stats.episodes:.0%}", refresh=False)

    def _stop_policy(self) -> None:
        """Cancel the policy calls in flight and close the progress bar."""
        for future in self._policy_in_flight:
            future.cancel()
        if self._loop_thread is not None:
            self._loop_thread.close()
        if self._bar is not None:
            self._bar.close()

    def _close_envs(self) -> None:
        """Close the vector env after a failure, letting running sub-environment calls end first.

        A tool call and the verifier are each bounded by their timeouts; a second Ctrl-C closes at once.
        """
        try:
            self.envs.close()
        except KeyboardInterrupt:
            self.envs.close(timeout=0)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def rollouts(envs: Any, policy: Policy | Any, **options: Any) -> Iterator[Episode]:
    """Run episodes without lockstep and yield each as it finishes: ``RolloutDriver(envs, policy, **options).run()``.

    Example:
        >>> from awm_gym.vector import AWMVectorEnv, rollouts
        >>> with AWMVectorEnv("awmgym_home_budget", num_envs=2, max_steps=3) as envs:
        ...     episodes = list(rollouts(envs, lambda observations: ["Nothing to do."] * len(observations),
        ...                              num_episodes=4, progress=False))
        >>> len(episodes), {e.num_steps for e in episodes}, {e.terminated for e in episodes}
        (4, {1}, {True})
    """
    return RolloutDriver(envs, policy, **options).run()
