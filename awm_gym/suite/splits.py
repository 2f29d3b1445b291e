"""Pinned train/test splits of the AWM task distribution.

:func:`task_split` is deterministic for a seed and independent of machine, Python and NumPy versions: each
task (or, with ``by="scenario"``, each scenario) gets the key ``sha256(f"{seed}:{scenario}:{task_idx}")``
(``f"{seed}:{scenario}"``), and the ``test_fraction`` with the smallest keys form the test set. A task's
key does not depend on the other tasks, so adding scenarios to the pool moves few existing tasks.

Before splitting, tasks that would reward doing nothing are removed: **no-op passes** (the verifier says
complete on an untouched database; read from the same cache ``awm-gym check`` fills, computed on demand)
and, with ``exclude_flagged=True``, tasks the reward-hack audit flags. What was removed is recorded in
both sets' ``metadata["excluded"]``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from awm_gym.catalog import Scenario, TaskRef, TaskSet, load_scenario
from awm_gym.errors import ConfigurationError

__all__ = ["excluded_tasks", "parallel_map", "task_split"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def parallel_map(fn: Callable[[_T], _R], items: Sequence[_T], jobs: int | None = None) -> list[_R]:
    """``[fn(x) for x in items]`` on a thread pool of ``jobs`` threads (default: the CPU count), in order."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="awm-suite") as pool:
        return list(pool.map(fn, items))


def _has_code_verifier(scenario: Scenario) -> bool:
    return any(record is not None and record.usable for record in scenario.verifiers.get("code", ()))


def excluded_tasks(
    scenarios: Iterable[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    noop: bool = True,
    flagged: bool = False,
    jobs: int | None = None,
) -> dict[str, list[TaskRef]]:
    """The tasks a split leaves out: ``{"noop": [...], "flagged": [...]}`` (only the kinds asked for).

    No-op passes come from the on-disk audit cache (``AWM_GYM_CACHE_DIR``) when ``awm-gym check`` or an
    earlier split computed them, else they are computed now (building each scenario's database and running
    its code-mode verifiers on it), ``jobs`` scenarios at a time. Flagged tasks are those
    :func:`awm_gym.verifier.find_reward_hacks` finds (a verifier that accepts an adversarial answer on an
    untouched database).
    """
    from awm_gym.host import build_template
    from awm_gym.verifier import find_noop_passes, find_reward_hacks

    finders: dict[str, Callable[[Scenario, bytes], frozenset[int]]] = {}
    if noop:
        finders["noop"] = find_noop_passes
    if flagged:
        finders["flagged"] = find_reward_hacks

    def one(name: str) -> dict[str, list[TaskRef]]:
        scenario = load_scenario(name, data_dir)
        if not _has_code_verifier(scenario):
            return {kind: [] for kind in finders}
        template, _report = build_template(scenario)
        return {
            kind: [TaskRef(scenario.name, i) for i in sorted(find(scenario, template))]
            for kind, find in finders.items()
        }

    found: dict[str, list[TaskRef]] = {kind: [] for kind in finders}
    if not finders:
        return found
    for result in parallel_map(one, list(dict.fromkeys(scenarios)), jobs):
        for kind, refs in result.items():
            found[kind] += refs
    return found


def _key(seed: int, *parts: Any) -> str:
    return hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).hexdigest()


def _test_count(total: int, fraction: float) -> int:
    count = int(round(total * fraction))
    if total > 1:  # both sides non-empty whenever the fraction asks for both
        if fraction > 0:
            count = max(count, 1)
        if fraction < 1:
            count = min(count, total - 1)
    return count


def task_split(
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    by: Literal["task", "scenario"] = "task",
    scenarios: Iterable[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    exclude_noop: bool = True,
    exclude_flagged: bool = False,
) -> tuple[TaskSet, TaskSet]:
    """Split the tasks of ``scenarios`` into a pinned ``(train, test)`` pair.

    Example:
        >>> import awm_gym
        >>> train, test = awm_gym.task_split(seed=0, test_fraction=0.25, by="scenario")
        >>> len(test.scenarios()), set(train.scenarios()) & set(test.scenarios())
        (1, set())
        >>> train.metadata["by"], train.name, test.name
        ('scenario', 'train', 'test')

    Args:
        seed: The split's seed; the same seed, pool and options give the same sets everywhere.
        test_fraction: Share of tasks (``by="task"``) or of scenarios (``by="scenario"``) held out, in [0, 1];
            rounded, keeping both sides non-empty when the fraction is strictly between 0 and 1.
        by: ``"task"`` holds out tasks (a scenario may appear on both sides); ``"scenario"`` holds out whole
            scenarios (no scenario on both sides: the honest generalisation test).
        scenarios: The pool (default: every scenario of ``data_dir``, else of the default sources).
        data_dir: Where the scenarios load from (recorded in both sets).
        exclude_noop: Leave out no-op-pass tasks (see the module docstring).
        exclude_flagged: Leave out tasks the reward-hack audit flags.

    Returns:
        ``(train, test)``, each sorted by (scenario, task_idx), named ``"train"``/``"test"``, with
        ``metadata`` = ``{"seed", "by", "test_fraction", "pool_hash", "excluded": {kind: [[scenario, idx]]}}``.

    Raises:
        ConfigurationError: ``by`` or ``test_fraction`` out of range.
        ScenarioNotFoundError: A named scenario is in no source.
    """
    if by not in ("task", "scenario"):
        raise ConfigurationError(f"by must be 'task' or 'scenario', got {by!r}")
    if not isinstance(test_fraction, int | float) or not 0.0 <= float(test_fraction) <= 1.0:
        raise ConfigurationError(f"test_fraction must be a number in [0, 1], got {test_fraction!r}")
    pool = TaskSet.from_scenarios(scenarios, data_dir=data_dir)
    excluded = excluded_tasks(pool.scenarios(), data_dir=data_dir, noop=exclude_noop, flagged=exclude_flagged)
    dropped = {ref for refs in excluded.values() for ref in refs}
    kept = [ref for ref in pool if ref not in dropped]
    if by == "task":
        ranked = sorted(kept, key=lambda ref: _key(seed, ref.scenario, ref.task_idx))
        test_refs = set(ranked[: _test_count(len(ranked), float(test_fraction))])
    else:
        names = sorted({ref.scenario for ref in kept}, key=lambda name: _key(seed, name))
        held_out = set(names[: _test_count(len(names), float(test_fraction))])
        test_refs = {ref for ref in kept if ref.scenario in held_out}
    metadata = {
        "seed": seed,
        "by": by,
        "test_fraction": float(test_fraction),
        "pool_hash": pool.hash(),
        "excluded": {kind: [[ref.scenario, ref.task_idx] for ref in refs] for kind, refs in excluded.items()},
    }
    train = TaskSet(sorted(r for r in kept if r not in test_refs), name="train", metadata=metadata, data_dir=data_dir)
    test = TaskSet(sorted(test_refs), name="test", metadata=metadata, data_dir=data_dir)
    return train, test
