"""Run an evaluation: every condition on every task of a pinned task set, ``repeats`` times, resumably.

:func:`evaluate` plays the episodes through :class:`~awm_gym.vector.RolloutDriver` on an
:class:`~awm_gym.vector.AWMVectorEnv` per condition and group of scenarios (``num_envs`` episodes at once,
the policy batched dynamically). Repeat ``r`` of every condition uses the same seed (``seed + r``): the
sub-environments are seeded with it and an endpoint policy sends it with each request, so conditions are
compared on the same tasks and seeds. Tasks whose verifier passes on an untouched database (no-op passes)
are left out and counted. With ``out_dir``, each finished episode is appended to ``episodes.jsonl`` at
once, and a later call with the same ``out_dir`` runs only the episodes it lacks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from awm_gym.errors import ConfigurationError
from awm_gym.evaluation.conditions import Condition
from awm_gym.evaluation.records import EpisodeKey, EpisodeLog, EpisodeRecord
from awm_gym.evaluation.report import EvalResults
from awm_gym.evaluation.simulation import SIMULATION_LABEL

__all__ = ["EPISODES_FILE", "RUN_FILE", "evaluate", "resolve_tasks"]

EPISODES_FILE = "episodes.jsonl"
"""The append-only episode log in ``out_dir``."""

RUN_FILE = "run.json"
"""What the episodes in ``out_dir`` were run with (checked when resuming)."""

TaskSetLike = Any  # awm_gym.catalog.TaskSet, a path to a task set file, or (scenario, task_idx) pairs


def resolve_tasks(tasks: TaskSetLike) -> Any:
    """A :class:`~awm_gym.catalog.TaskSet` from a task set, a task set file or ``(scenario, task_idx)`` pairs."""
    from awm_gym.catalog.tasksets import TaskSet

    if isinstance(tasks, str | os.PathLike):
        return TaskSet.load(tasks)
    if callable(getattr(tasks, "hash", None)) and hasattr(tasks, "metadata"):
        return tasks
    return TaskSet(tasks)


def _noop_tasks(scenarios: Iterable[str], data_dir: str | None) -> dict[str, frozenset[int]]:
    """Each scenario's no-op-pass tasks (cached on disk by the verifier layer)."""
    from awm_gym.catalog import load_scenario
    from awm_gym.host.database import build_template
    from awm_gym.verifier import find_noop_passes

    found = {}
    for name in scenarios:
        scenario = load_scenario(name, data_dir)
        found[name] = find_noop_passes(scenario, build_template(scenario)[0])
    return found


def _check_run(path: Path, header: dict[str, Any]) -> None:
    """Refuse to resume into ``out_dir`` when its episodes come from another task set or condition setup."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(header, indent=1) + "\n")
        return
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read {path} ({exc}); expected the run file of an awm-gym evaluation. Use another out_dir"
        ) from exc
    problems = []
    if old.get("taskset_hash") != header["taskset_hash"]:
        problems.append(f"task set hash {old.get('taskset_hash')} there, {header['taskset_hash']} now")
    for key in ("max_steps", "seed", "exclude_noop"):
        if old.get(key) != header[key]:
            problems.append(f"{key} {old.get(key)!r} there, {header[key]!r} now")
    for name, config in header["conditions"].items():
        if name in old.get("conditions", {}) and old["conditions"][name] != config:
            problems.append(f"condition {name!r} configured differently ({old['conditions'][name]} there)")
    if problems:
        raise ConfigurationError(
            f"{path.parent} holds episodes of a different evaluation ({'; '.join(problems)}); expected the same "
            "task set and settings to resume. Use another out_dir, or delete that one to start over"
        )
    old["conditions"].update(header["conditions"])
    old["repeats"] = max(int(old.get("repeats", 0)), header["repeats"])
    path.write_text(json.dumps(old, indent=1) + "\n")


def _record(condition: str, repeat: int, seed: int, episode: Any) -> EpisodeRecord:
    info = episode.final_info
    verifier = dict(info.get("verifier") or {})
    reward = info.get("verifier_reward", episode.trajectory[-1].reward if episode.trajectory else 0.0)
    return EpisodeRecord(
        condition=condition,
        scenario=str(episode.scenario),
        task_idx=int(episode.task_idx),
        repeat=repeat,
        seed=seed,
        label=verifier.get("label"),
        success=verifier.get("label") == "complete",
        verifier_reward=float(reward),
        shaped_return=float(episode.reward),
        steps=episode.num_steps,
        tool_errors=sum("error" in step.info for step in episode.trajectory),
        expert_calls=int(info.get("expert_calls", 0)),
        truncated=bool(episode.truncated),
        wall_s=float(episode.wall_s),
        final_answer=str(info.get("final_answer", "")),
        actions=[
            step.action if isinstance(step.action, str) else json.dumps(step.action) for step in episode.trajectory
        ],
        verifier=verifier,
    )


def _entries(scenarios: Sequence[str], pending: dict[str, int], num_envs: int) -> list[str]:
    """Sub-environments for a group of scenarios: round-robin, no more per scenario than its pending tasks."""
    entries: list[str] = []
    left = dict(pending)
    while len(entries) < num_envs and any(left.values()):
        for name in scenarios:
            if left.get(name) and len(entries) < num_envs:
                entries.append(name)
                left[name] -= 1
    return entries


class _Progress:
    """A tqdm bar over every episode, with each condition's live success rate."""

    def __init__(self, total: int, done: dict[EpisodeKey, EpisodeRecord], simulation: bool, enabled: bool) -> None:
        self.counts: dict[str, list[int]] = {}
        for record in done.values():
            self._count(record)
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=len(done), unit="episode", dynamic_ncols=True)
            self.bar.set_description("eval (SIMULATION)" if simulation else "eval")
            self._show()

    def _count(self, record: EpisodeRecord) -> None:
        counts = self.counts.setdefault(record.condition, [0, 0])
        counts[0] += record.success
        counts[1] += 1

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix({name: f"{s / n:.0%} of {n}" for name, (s, n) in self.counts.items()}, refresh=False)

    def update(self, record: EpisodeRecord) -> None:
        self._count(record)
        if self.bar is not None:
            self.bar.update(1)
            self._show()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def evaluate(
    conditions: Condition | Sequence[Condition],
    tasks: TaskSetLike,
    *,
    repeats: int = 1,
    out_dir: str | os.PathLike[str] | None = None,
    num_envs: int = 4,
    max_steps: int = 30,
    seed: int = 0,
    exclude_noop: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    bootstrap: int = 10_000,
    confidence: float = 0.95,
) -> EvalResults:
    """Evaluate each condition on every task ``repeats`` times; success is the verifier's label.

    Example:
        >>> from awm_gym import evaluate
        >>> from awm_gym.evaluation import Condition
        >>> def give_up(conversations):  # answers at once: the verifier says the task is not done
        ...     return ["I cannot do this."] * len(conversations)
        >>> results = evaluate(Condition("give-up", policy=give_up), [("awmgym_pet_clinic", 0)], progress=False)
        >>> results.summary()["give-up"]["success"]["estimate"], len(results.records)
        (0.0, 1)

    Args:
        conditions: The conditions; with two or more, each is compared (paired) with the first.
        tasks: A :class:`~awm_gym.catalog.TaskSet`, the path of a task set file (``.json``/``.jsonl``), or
            ``(scenario, task_idx)`` pairs.
        repeats: Episodes per task and condition (pass@k needs ``k <= repeats``).
        out_dir: Where ``episodes.jsonl`` and ``run.json`` go; an existing one is resumed (only the
            missing episodes run). ``None`` keeps everything in memory.
        num_envs: Episodes played at once (sub-environments of each vector env).
        max_steps: Actions per episode before truncation.
        seed: Repeat ``r`` uses seed ``seed + r`` in every condition.
        exclude_noop: Leave out (and count) tasks whose verifier passes on an untouched database.
        env_kwargs: More :class:`~awm_gym.envs.AWMEnv` keyword arguments (``verifier_mode``, ...).
        progress: Show a progress bar with each condition's live success rate.
        bootstrap: Bootstrap resamples for the confidence intervals.
        confidence: Coverage of the confidence intervals.

    Returns:
        The records with the task set's facts; see :class:`~awm_gym.evaluation.EvalResults`.

    Raises:
        ConfigurationError: Bad arguments, or ``out_dir`` holding another evaluation's episodes.
    """
    from awm_gym import __version__
    from awm_gym.vector import AWMVectorEnv, RolloutDriver

    conditions = [conditions] if isinstance(conditions, Condition) else list(conditions)
    if not conditions or not all(isinstance(c, Condition) for c in conditions):
        raise ConfigurationError(f"conditions must be one or more Condition objects, got {conditions!r:.200}")
    names = [c.name for c in conditions]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"condition names must be unique, got {names}")
    if repeats < 1 or num_envs < 1:
        raise ConfigurationError(f"repeats and num_envs must be at least 1, got {repeats} and {num_envs}")
    taskset = resolve_tasks(tasks)
    if not len(taskset):
        raise ConfigurationError("the task set is empty: nothing to evaluate")
    data_dir = taskset.data_dir
    noop = _noop_tasks(taskset.scenarios(), data_dir) if exclude_noop else {}
    pairs = [(ref.scenario, ref.task_idx) for ref in taskset]
    excluded = [(scenario, idx) for scenario, idx in pairs if idx in noop.get(scenario, ())]
    skip = set(excluded)
    refs = [pair for pair in pairs if pair not in skip]
    simulation = any(c.simulation for c in conditions)
    header = {
        "awm_gym_version": __version__,
        "label": SIMULATION_LABEL if simulation else None,
        "taskset_hash": taskset.hash(),
        "max_steps": max_steps,
        "seed": seed,
        "exclude_noop": exclude_noop,
        "repeats": repeats,
        "conditions": {c.name: c.config() for c in conditions},
    }
    log = None
    done: dict[EpisodeKey, EpisodeRecord] = {}
    if out_dir is not None:
        _check_run(Path(out_dir) / RUN_FILE, header)
        log = EpisodeLog(Path(out_dir) / EPISODES_FILE)
        done = {key: record for key, record in log.read().items() if key[0] in names}
    wanted = {(c.name, s, i, r) for c in conditions for s, i in refs for r in range(repeats)}
    done = {key: record for key, record in done.items() if key in wanted}
    bar = _Progress(len(wanted), done, simulation, progress)
    records = dict(done)
    kwargs = {**(env_kwargs or {}), "max_steps": max_steps}
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    scenarios = list(dict.fromkeys(s for s, _ in refs))
    try:
        for start in range(0, len(scenarios), num_envs):
            group = scenarios[start : start + num_envs]
            for condition in conditions:
                todo = {
                    r: [(s, i) for s, i in refs if s in group and (condition.name, s, i, r) not in records]
                    for r in range(repeats)
                }
                if not any(todo.values()):
                    continue
                busiest = {s: max(sum(t[0] == s for t in todo[r]) for r in todo) for s in group}
                envs = AWMVectorEnv(_entries(group, busiest, num_envs), wrappers=[condition.wrap], **kwargs)
                with envs:
                    for repeat, pending in todo.items():
                        if not pending:
                            continue
                        driver = RolloutDriver(
                            envs,
                            condition.make_policy(seed + repeat),
                            tasks=pending,
                            seed=seed + repeat,
                            progress=False,
                        )
                        for episode in driver:
                            record = _record(condition.name, repeat, seed + repeat, episode)
                            records[record.key] = record
                            if log is not None:
                                log.append(record)
                            bar.update(record)
    finally:
        bar.close()
    return EvalResults(
        records=[records[key] for key in sorted(records, key=lambda k: (names.index(k[0]), *k[1:]))],
        conditions={c.name: c.config() for c in conditions},
        taskset={
            "name": taskset.name,
            "hash": taskset.hash(),
            "size": len(taskset),
            "metadata": taskset.metadata,
            "data_dir": data_dir,
            "evaluated": len(refs),
            "excluded_noop": [list(pair) for pair in excluded],
        },
        settings={"repeats": repeats, "max_steps": max_steps, "seed": seed, "exclude_noop": exclude_noop},
        awm_gym_version=__version__,
        simulation=simulation,
        bootstrap=bootstrap,
        confidence=confidence,
    )
