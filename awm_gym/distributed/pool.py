"""The driver's side of the actors: placing them, sending them batches of calls, and replacing the ones lost.

:class:`ActorPool` groups the sub-environments into actors (same scenario together, so they share a zygote),
places the actors (same scenario on the same node where the cluster allows it), and turns each batch of
calls into one Ray call per actor whose answer is split into one :class:`~concurrent.futures.Future` per
sub-environment. No call waits forever: a watchdog kills an actor that has not answered within
``call_timeout``. An actor that dies (or is killed) is replaced by a new one with the same sub-environments,
on the same node if it is still alive; the futures of its calls then fail with
:class:`~awm_gym.errors.ActorLostError` and its sub-environments are marked *lost* (their episodes are gone),
which the vector env turns into ended episodes.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from awm_gym.distributed.actor import Call, Outcome, SubEnvActor
from awm_gym.distributed.cluster import import_ray
from awm_gym.errors import ActorLostError, ConfigurationError
from awm_gym.vector.vector_env import _creation_error

__all__ = ["PLACEMENTS", "ActorPool", "plan_actors"]

logger = logging.getLogger(__name__)

PLACEMENTS = ("scenario", "spread")
"""``"scenario"``: the first actor of each scenario is spread over the nodes and the scenario's other actors
follow it to its node (soft: elsewhere if that node is full); ``"spread"``: Ray's ``SPREAD`` strategy for
every actor, over as many nodes as possible."""

_CLOSE_TIMEOUT_S = 10.0  # how long close() lets actors stop their servers before killing them


def plan_actors(keys: Sequence[str | None], envs_per_actor: int) -> list[list[int]]:
    """Group sub-environment indices into actors of at most ``envs_per_actor``, same placement key together.

    Indices are ordered by key (in order of first appearance) and cut into ``ceil(n / envs_per_actor)``
    actors of near-equal size, so a scenario spans as few actors as the sizes allow.

    Example:
        >>> plan_actors(["a", "b", "a", "b", "a"], 2)
        [[0, 2], [4, 1], [3]]
    """
    order = {key: rank for rank, key in enumerate(dict.fromkeys(keys))}
    indices = sorted(range(len(keys)), key=lambda index: (order[keys[index]], index))
    count = -(-len(indices) // envs_per_actor)
    size, extra = divmod(len(indices), count)
    groups, start = [], 0
    for number in range(count):
        end = start + size + (number < extra)
        groups.append(indices[start:end])
        start = end
    return groups


@dataclass
class _Actor:
    """One actor slot: the live actor serving these sub-environments, and how many came before it."""

    indices: list[int]
    key: str | None
    handle: Any = None
    node_id: str | None = None
    pid: int | None = None
    generation: int = 0
    failure: str | None = None  # set when no replacement could be started: calls fail at once
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Watchdog:
    """Kills an actor whose call has not answered by its deadline (its calls then fail as a lost actor)."""

    def __init__(self, kill: Callable[[int, int, float], None]) -> None:
        self._kill = kill
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, tuple[int, int, float]] = {}
        self._tokens = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="awm-ray-watchdog", daemon=True)
        self._thread.start()

    def add(self, timeout: float, slot: int, generation: int) -> int:
        token = next(self._tokens)
        with self._condition:
            self._live[token] = (slot, generation, timeout)
            entry = (time.monotonic() + timeout, token)
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:  # the thread sleeps until a later deadline (or forever): wake it
                self._condition.notify()
        return token

    def remove(self, token: int) -> None:
        with self._condition:
            self._live.pop(token, None)

    def _run(self) -> None:
        with self._condition:
            while not self._stopped:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._condition.wait()
                    continue
                deadline, token = self._heap[0]
                if time.monotonic() < deadline:
                    self._condition.wait(deadline - time.monotonic())
                    continue
                heapq.heappop(self._heap)
                slot, generation, timeout = self._live.pop(token)
                self._condition.release()
                try:
                    self._kill(slot, generation, timeout)
                except Exception:  # Ray gone (shut down under us): nothing left to kill
                    logger.exception("could not kill the Ray actor of slot %d", slot)
                finally:
                    self._condition.acquire()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join(timeout=2.0)


class ActorPool:
    """The actors hosting a vector env's sub-environments, and the calls in flight to them.

    Args:
        factories: One callable per sub-environment that builds it (run inside its actor).
        keys: One placement key per sub-environment (its scenario; ``None`` if unknown).
        autoreset_mode: The vector env's autoreset mode value (for ``autostep`` calls).
        envs_per_actor: Most sub-environments per actor.
        actor_options: ``ray.remote`` options of every actor (``num_cpus``, ``memory``, ``resources``,
            ``runtime_env``, ``scheduling_strategy``, ...).
        placement: One of :data:`PLACEMENTS` (ignored if ``actor_options`` has a ``scheduling_strategy``).
        create_timeout: Seconds an actor may take to be placed and build its sub-environments.
        call_timeout: Seconds a call may take before its actor is killed and replaced.
        observe: Called as ``observe(call, value)`` with every successful answer before its future resolves.

    Raises:
        SubEnvWorkerError: A sub-environment could not be created (every actor is stopped).
        ActorLostError: The actors could not be placed within ``create_timeout`` (every actor is stopped).
    """

    def __init__(
        self,
        factories: Sequence[Callable[[], Any]],
        keys: Sequence[str | None],
        *,
        autoreset_mode: str,
        envs_per_actor: int,
        actor_options: dict[str, Any],
        placement: str,
        create_timeout: float,
        call_timeout: float,
        observe: Callable[[Call, Any], None] | None = None,
    ) -> None:
        if placement not in PLACEMENTS:
            raise ConfigurationError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
        if envs_per_actor < 1:
            raise ConfigurationError(f"envs_per_actor must be at least 1, got {envs_per_actor}")
        self._ray = import_ray()
        self._factories = list(factories)
        self._autoreset_mode = autoreset_mode
        self._placement = placement
        self._options = {
            "max_restarts": 0,  # the pool replaces lost actors itself: their episodes are gone anyway
            "max_task_retries": 0,
            "max_concurrency": envs_per_actor + 2,  # one call per sub-environment, plus describe/close
            **actor_options,
        }
        self.create_timeout = float(create_timeout)
        self.call_timeout = float(call_timeout)
        self._observe = observe
        self._remote_class = self._ray.remote(SubEnvActor)
        self._actors = [
            _Actor(group, Counter(keys[i] for i in group).most_common(1)[0][0])
            for group in plan_actors(keys, envs_per_actor)
        ]
        self.slot_of = {index: slot for slot, actor in enumerate(self._actors) for index in actor.indices}
        self.descriptions: dict[int, dict[str, Any]] = {}
        self.replacements: list[dict[str, Any]] = []  # one record per replaced actor (what, where, why)
        self._lost: dict[int, str] = {}  # sub-environment -> why its episode was lost
        self._lost_lock = threading.Lock()
        self._kill_reasons: dict[tuple[int, int], str] = {}
        self._inflight: dict[int, tuple[Any, list[tuple[Call, Future[Any]]]]] = {}  # token -> (ObjectRef, calls)
        self._closed = False
        self._recovery = ThreadPoolExecutor(max_workers=2, thread_name_prefix="awm-ray-recovery")
        self._watchdog = _Watchdog(self._kill_late)
        try:
            self._start_all()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------------------------------ placement

    def _strategy(self, node_id: str | None) -> dict[str, Any]:
        if "scheduling_strategy" in self._options:
            return {}
        if node_id is None:  # a first actor (of its scenario, or of all with "spread"): away from the others
            return {"scheduling_strategy": "SPREAD"}
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # its home node, if it has room

        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=True)}

    def _launch_actor(self, slot: int, node_id: str | None) -> tuple[Any, Any]:
        actor = self._actors[slot]
        factories = {index: self._factories[index] for index in actor.indices}
        options = {**self._options, **self._strategy(node_id)}
        handle = self._remote_class.options(**options).remote(factories, self._autoreset_mode)
        return handle, handle.describe.remote()

    def _wait_ready(self, launched: dict[int, tuple[Any, Any]]) -> None:
        """Wait for the launched actors' descriptions; record them or raise (the caller stops the actors)."""
        ray = self._ray
        refs = {ref: slot for slot, (_, ref) in launched.items()}
        for slot, (handle, _) in launched.items():
            self._actors[slot].handle = handle
        ready, pending = ray.wait(list(refs), num_returns=len(refs), timeout=self.create_timeout)
        if pending:
            wanted = {key: self._options[key] for key in ("num_cpus", "memory", "resources") if key in self._options}
            raise ActorLostError(
                f"{len(pending)} of {len(refs)} Ray actors were not running within {self.create_timeout:.0f} s "
                f"(create_timeout); each asks for {wanted} and the cluster has {ray.available_resources()} free. "
                "Lower num_cpus_per_actor or memory_per_actor, raise envs_per_actor, or add nodes"
            )
        for ref in ready:
            slot = refs[ref]
            try:
                description = ray.get(ref)
            except Exception as exc:
                raise ActorLostError(
                    f"the Ray actor for sub-environments {self._actors[slot].indices} did not start: {exc}"
                ) from exc
            if description["errors"]:
                index, exc = description["errors"][0]
                raise _creation_error(index, exc) from exc
            actor = self._actors[slot]
            actor.node_id, actor.pid = description["node_id"], description["pid"]
            self.descriptions.update(description["envs"])

    def _start_all(self) -> None:
        """Start every actor: with ``"scenario"`` placement the first actor of each scenario goes first."""
        nodes = [node for node in self._ray.nodes() if node.get("Alive")]
        first: dict[str | None, int] = {}
        for slot, actor in enumerate(self._actors):
            first.setdefault(actor.key, slot)
        two_phases = self._placement == "scenario" and len(nodes) > 1 and len(first) < len(self._actors)
        leaders = list(first.values()) if two_phases else list(range(len(self._actors)))
        self._wait_ready({slot: self._launch_actor(slot, None) for slot in leaders})
        if two_phases:
            rest = [slot for slot in range(len(self._actors)) if slot not in set(leaders)]
            homes = {self._actors[slot].key: self._actors[slot].node_id for slot in leaders}
            self._wait_ready({slot: self._launch_actor(slot, homes[self._actors[slot].key]) for slot in rest})

    # ----------------------------------------------------------------------------------------------- calls

    @property
    def num_actors(self) -> int:
        """How many actors host the sub-environments."""
        return len(self._actors)

    def placement(self) -> list[dict[str, Any]]:
        """Each actor's sub-environments, node, pid and generation (0 for the first, +1 per replacement)."""
        return [
            {"indices": list(a.indices), "node_id": a.node_id, "pid": a.pid, "generation": a.generation}
            for a in self._actors
        ]

    def submit(self, calls: Sequence[Call]) -> list[Future[Any]]:
        """Send the calls, one Ray call per actor; one future per call, in order.

        A future resolves to what the method returned or raises what it raised; if the actor was lost it
        raises :class:`~awm_gym.errors.ActorLostError` (the actor has been replaced by then).
        """
        futures: list[Future[Any]] = [Future() for _ in calls]
        by_slot: dict[int, list[tuple[Call, Future[Any]]]] = {}
        for call, future in zip(calls, futures, strict=True):
            by_slot.setdefault(self.slot_of[call[0]], []).append((call, future))
        for slot, items in by_slot.items():
            self._send(slot, items)
        return futures

    def _send(self, slot: int, items: list[tuple[Call, Future[Any]]]) -> None:
        actor = self._actors[slot]
        with actor.lock:
            if self._closed or actor.failure is not None:
                reason = actor.failure or "the vector env was closed"
                for call, future in items:
                    future.set_exception(ActorLostError(f"sub-environment {call[0]}: {reason}"))
                return
            generation = actor.generation
            ref = actor.handle.run.remote([call for call, _ in items])
        token = self._watchdog.add(self.call_timeout, slot, generation)
        self._inflight[token] = (ref, items)
        ref.future().add_done_callback(lambda done: self._answered(slot, generation, items, done, token))

    def _answered(
        self, slot: int, generation: int, items: list[tuple[Call, Future[Any]]], done: Future[Any], token: int
    ) -> None:
        """Resolve the calls' futures (on Ray's thread: quick, no Ray calls); a lost actor goes to recovery."""
        self._watchdog.remove(token)
        self._inflight.pop(token, None)
        exc = done.exception()
        if exc is not None and not isinstance(exc, self._ray.exceptions.RayTaskError):
            try:
                self._recovery.submit(self._recover, slot, generation, items, exc)
            except RuntimeError:  # closed meanwhile: close() failed the futures
                pass
            return
        if exc is not None:  # ``run`` itself failed (it catches the env's errors): fail its calls with it
            for _, future in items:
                future.set_exception(exc)
            return
        outcomes: list[Outcome] = done.result()
        for (call, future), (ok, value) in zip(items, outcomes, strict=True):
            if ok and self._observe is not None:
                try:
                    self._observe(call, value)
                except Exception:  # bookkeeping must not keep the answer from its caller
                    logger.exception("observing the answer of %s failed", call[:2])
            with contextlib.suppress(InvalidStateError):  # close() failed it meanwhile
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    # --------------------------------------------------------------------------------------------- faults

    def _kill_late(self, slot: int, generation: int, timeout: float) -> None:
        actor = self._actors[slot]
        with actor.lock:
            if actor.generation != generation or actor.handle is None:
                return
            self._kill_reasons[slot, generation] = f"it did not answer within {timeout:.0f} s (call_timeout)"
            handle = actor.handle
        logger.warning("killing the Ray actor of sub-environments %s: no answer within %.0f s", actor.indices, timeout)
        self._ray.kill(handle, no_restart=True)

    def _recover(self, slot: int, generation: int, items: list[tuple[Call, Future[Any]]], exc: BaseException) -> None:
        """Replace the lost actor (once per generation), mark its sub-environments lost, fail the calls."""
        try:
            self._replace(slot, generation, exc)
        except Exception:  # e.g. Ray shut down under us: the calls below still fail, nothing hangs
            logger.exception("replacing the Ray actor of sub-environments %s failed", self._actors[slot].indices)
        finally:
            with self._lost_lock:
                reasons = {call[0]: self._lost.get(call[0], f"{type(exc).__name__}: {exc}") for call, _ in items}
            for call, future in items:
                with contextlib.suppress(InvalidStateError):  # closed meanwhile
                    future.set_exception(ActorLostError(f"sub-environment {call[0]}: {reasons[call[0]]}"))

    def _replace(self, slot: int, generation: int, exc: BaseException) -> None:
        actor = self._actors[slot]
        with actor.lock:
            if actor.generation != generation or actor.failure is not None or self._closed:
                return  # another call of the same actor got here first (or the vector env is closing)
            cause = self._kill_reasons.pop((slot, generation), None) or f"{type(exc).__name__}: {exc}"
            cause = cause.splitlines()[0][:300]
            old_node, old_pid = actor.node_id, actor.pid
            reason = f"the Ray actor (pid {old_pid}, node {str(old_node)[:12]}) hosting it was lost: {cause}"
            with self._lost_lock:
                self._lost.update({index: reason for index in actor.indices})
            actor.generation += 1
            try:
                self._ray.kill(actor.handle, no_restart=True)
                alive = {node["NodeID"] for node in self._ray.nodes() if node.get("Alive")}
                self._wait_ready({slot: self._launch_actor(slot, old_node if old_node in alive else None)})
            except Exception as error:
                actor.failure = f"{reason}; no replacement could be started ({error})"
                with contextlib.suppress(Exception):
                    self._ray.kill(actor.handle, no_restart=True)
                logger.error("sub-environments %s are gone: %s", actor.indices, actor.failure)
                return
            self.replacements.append(
                {"indices": list(actor.indices), "cause": cause, "old_node": old_node, "new_node": actor.node_id,
                 "generation": actor.generation}
            )  # fmt: skip
            logger.warning("replaced the Ray actor of sub-environments %s: %s", actor.indices, cause)

    def lost_reason(self, index: int) -> str | None:
        """Why sub-environment ``index``'s episode was lost with its actor (``None`` if it was not)."""
        with self._lost_lock:
            return self._lost.get(index)

    def forget_loss(self, index: int) -> None:
        """Sub-environment ``index`` starts a new episode: its loss is behind it."""
        with self._lost_lock:
            self._lost.pop(index, None)

    def kill_actor(self, index: int) -> None:
        """Kill the actor hosting sub-environment ``index`` as a crash would (for fault drills and tests)."""
        actor = self._actors[self.slot_of[index]]
        with actor.lock:
            handle = actor.handle
        self._ray.kill(handle, no_restart=True)

    def process_ids(self, index: int | None = None) -> list[int]:
        """Pids of the actor processes and of the scenario servers and zygotes inside them, each on its node.

        Args:
            index: Only the actor hosting this sub-environment (default: every actor).
        """
        actors = self._actors if index is None else [self._actors[self.slot_of[index]]]
        refs = [actor.handle.process_ids.remote() for actor in actors if actor.failure is None]
        return [pid for pids in self._ray.get(refs, timeout=self.call_timeout) for pid in pids]

    # ---------------------------------------------------------------------------------------------- close

    def close(self) -> None:
        """Let every actor close its sub-environments (bounded), then kill the actors (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._watchdog.stop()
        handles = []
        for actor in self._actors:
            with actor.lock:
                if actor.handle is not None:
                    handles.append(actor.handle)
                actor.handle = None
        try:
            if handles and self._ray.is_initialized():  # else Ray is gone, and its actors with it
                refs = [handle.close.remote() for handle in handles]
                self._ray.wait(refs, num_returns=len(refs), timeout=_CLOSE_TIMEOUT_S)
        finally:  # even on Ctrl-C: no actor outlives close()
            for handle in handles:
                with contextlib.suppress(Exception):
                    self._ray.kill(handle, no_restart=True)
        for _, items in list(self._inflight.values()):
            for call, future in items:
                with contextlib.suppress(InvalidStateError):  # answered meanwhile
                    future.set_exception(ActorLostError(f"sub-environment {call[0]}: the vector env was closed"))
        self._inflight.clear()
        self._recovery.shutdown(wait=False)
