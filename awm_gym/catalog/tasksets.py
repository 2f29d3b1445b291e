"""Task sets: which (scenario, task) pairs an experiment trains or tests on, pinned in a plain file.

A :class:`TaskSet` is an immutable, ordered sequence of :class:`TaskRef` without duplicates. It is built from
scenario names (every task of each), from a split (:func:`awm_gym.task_split`), or from a file written by
:meth:`TaskSet.save`:

- ``.json``: one object, ``{"name", "metadata", "data_dir", "hash", "tasks": [[scenario, task_idx], ...]}``;
  loading checks ``hash`` when present, so an edited file cannot pass for the original;
- ``.jsonl``: one ``{"scenario": ..., "task_idx": ...}`` object per line (no name or metadata).

:meth:`TaskSet.hash` is a sha256 over the sorted pairs only (not the name, metadata or order), so the same
tasks give the same hash on every machine and Python version.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from awm_gym.catalog.names import normalize_name
from awm_gym.catalog.sources import ScenarioSource, default_sources, find_source
from awm_gym.errors import ConfigurationError, DataFormatError

__all__ = ["TaskRef", "TaskSet", "scenario_tasks"]


@dataclass(frozen=True, order=True)
class TaskRef:
    """One task: a scenario name (normalised) and the task's index in that scenario's task list."""

    scenario: str
    task_idx: int


def _ref(value: Any, position: int) -> TaskRef:
    if isinstance(value, TaskRef):
        return value
    if isinstance(value, Mapping):
        value = (value.get("scenario"), value.get("task_idx"))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        scenario, task_idx = value
        if isinstance(scenario, str) and isinstance(task_idx, int) and not isinstance(task_idx, bool) and task_idx >= 0:
            key = normalize_name(scenario)
            if key:
                return TaskRef(key, int(task_idx))
    raise ConfigurationError(
        f"task {position} must be a TaskRef or a (scenario name, task_idx >= 0) pair, got {value!r:.200}"
    )


def scenario_tasks(scenario: str, data_dir: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The task texts of a scenario, read without loading the rest of the scenario.

    Raises:
        ScenarioNotFoundError: No source has the scenario.
    """
    return find_source(scenario, data_dir).task_texts(scenario)


class TaskSet(Sequence[TaskRef]):
    """An immutable, ordered set of (scenario, task_idx) pairs: what an experiment trains or tests on.

    Example:
        >>> from awm_gym.catalog import TaskSet
        >>> tasks = TaskSet.from_scenarios(["awmgym_pet_clinic"], name="pets")
        >>> len(tasks), tasks[0], tasks.scenarios()
        (10, TaskRef(scenario='awmgym_pet_clinic', task_idx=0), ['awmgym_pet_clinic'])
        >>> TaskSet([("awmgym_pet_clinic", 3), ("awmgym_pet_clinic", 1)]).hash() == TaskSet(
        ...     [("awmgym_pet_clinic", 1), ("awmgym_pet_clinic", 3)]).hash()
        True

    Args:
        refs: The pairs, as :class:`TaskRef` or ``(scenario, task_idx)``; scenario names are normalised and
            repeated pairs are kept once (first occurrence).
        name: A label such as ``"train"`` or ``"test"`` (becomes the ``split`` column of
            :func:`awm_gym.tasks_dataset`).
        metadata: JSON-able facts about how the set was made (a split records its seed, fraction, exclusions).
        data_dir: Where its scenarios load from (``None``: the default sources, see
            :mod:`awm_gym.catalog.sources`).

    Raises:
        ConfigurationError: A pair is malformed, or ``metadata`` is not JSON-able.
    """

    def __init__(
        self,
        refs: Iterable[TaskRef | tuple[str, int]] = (),
        *,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._refs: tuple[TaskRef, ...] = tuple(dict.fromkeys(_ref(value, i) for i, value in enumerate(refs)))
        self.name = name
        try:
            self.metadata: dict[str, Any] = json.loads(json.dumps(dict(metadata or {})))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"TaskSet metadata must be JSON-able, got {metadata!r:.200} ({exc})") from exc
        self.data_dir = None if data_dir is None else str(data_dir)
        self._positions: dict[TaskRef, int] | None = None

    @classmethod
    def from_scenarios(
        cls,
        scenarios: Iterable[str] | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> TaskSet:
        """Every task of the given scenarios, in scenario then task order.

        Args:
            scenarios: Scenario names; ``None`` means every scenario of ``data_dir`` when it is given, else
                every scenario of ``AWM_DATA_DIR`` and the hub cache (the real distribution) when they have
                any, else the bundled pack.
            data_dir: Where the scenarios load from (also recorded as the set's ``data_dir``).
            name: The set's name.

        Raises:
            ScenarioNotFoundError: A named scenario is in no source.
        """
        sources = default_sources(data_dir)
        if scenarios is None:
            pool = sources
            if data_dir is not None:
                pool = sources[:1]
            elif any(source.names() for source in sources if source.origin != "bundled"):
                pool = [source for source in sources if source.origin != "bundled"]
            names = sorted({name for source in pool for name in source.names()})
        else:
            names = list(dict.fromkeys(normalize_name(s) for s in scenarios))
        owner: dict[str, ScenarioSource] = {}
        for source in reversed(sources):  # the first source that has a name wins, as for load_scenario
            owner.update(dict.fromkeys(source.names(), source))
        refs = []
        for scenario in names:
            tasks = owner[scenario].task_texts(scenario) if scenario in owner else scenario_tasks(scenario, data_dir)
            refs += [TaskRef(scenario, i) for i in range(len(tasks))]
        return cls(refs, name=name, data_dir=data_dir)

    # ---------------------------------------------------------------------------------------- Sequence

    def __len__(self) -> int:
        return len(self._refs)

    @overload
    def __getitem__(self, index: int) -> TaskRef: ...

    @overload
    def __getitem__(self, index: slice) -> TaskSet: ...

    def __getitem__(self, index: int | slice) -> TaskRef | TaskSet:
        if isinstance(index, slice):
            return self._derived(self._refs[index])
        return self._refs[index]

    def __iter__(self) -> Iterator[TaskRef]:
        return iter(self._refs)

    def __contains__(self, value: object) -> bool:
        try:
            return _ref(value, 0) in self._index()
        except ConfigurationError:
            return False

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """Position of a pair (``ValueError`` if absent)."""
        position = self._index().get(_ref(value, 0), -1)
        if position < start or (stop is not None and position >= stop):
            raise ValueError(f"{value!r} is not in the task set")
        return position

    def _index(self) -> dict[TaskRef, int]:
        if self._positions is None:
            self._positions = {ref: i for i, ref in enumerate(self._refs)}
        return self._positions

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskSet):
            return NotImplemented
        return self._refs == other._refs

    def __hash__(self) -> int:
        return hash(self._refs)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name is not None else ""
        return f"TaskSet({name}{len(self)} tasks, {len(self.scenarios())} scenarios, hash={self.hash()[:12]})"

    def _derived(self, refs: Iterable[TaskRef]) -> TaskSet:
        return TaskSet(refs, name=self.name, metadata=self.metadata, data_dir=self.data_dir)

    # ------------------------------------------------------------------------------------------- views

    def scenarios(self) -> list[str]:
        """The distinct scenario names, in order of first appearance."""
        return list(dict.fromkeys(ref.scenario for ref in self._refs))

    def filter(self, keep: Callable[[TaskRef], bool]) -> TaskSet:
        """The pairs for which ``keep(ref)`` is true (same name, metadata and data_dir)."""
        return self._derived(ref for ref in self._refs if keep(ref))

    def hash(self) -> str:
        """A stable sha256 hex digest of the sorted pairs (pins an experiment's exact tasks)."""
        canonical = json.dumps([[ref.scenario, ref.task_idx] for ref in sorted(self._refs)], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    # ---------------------------------------------------------------------------------------------- files

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the set to ``path``: ``.json`` (with name, metadata, data_dir, hash) or ``.jsonl`` (pairs only).

        Raises:
            ConfigurationError: The suffix is neither ``.json`` nor ``.jsonl``.
        """
        path = Path(path)
        pairs = [[ref.scenario, ref.task_idx] for ref in self._refs]
        if path.suffix == ".jsonl":
            lines = [json.dumps({"scenario": s, "task_idx": i}) for s, i in pairs]
            path.write_text("".join(line + "\n" for line in lines))
        elif path.suffix == ".json":
            document = {
                "name": self.name,
                "metadata": self.metadata,
                "data_dir": self.data_dir,
                "hash": self.hash(),
                "tasks": pairs,
            }
            path.write_text(json.dumps(document, indent=1) + "\n")
        else:
            raise ConfigurationError(f"a task set file must end in .json or .jsonl, got {str(path)!r}")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TaskSet:
        """Read a set written by :meth:`save` (or by hand in either format).

        Raises:
            DataFormatError: The file is not a task set, or its recorded hash does not match its tasks.
            ConfigurationError: The suffix is neither ``.json`` nor ``.jsonl``.
        """
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise DataFormatError(f"cannot read task set file {str(path)!r}: {exc}") from exc
        try:
            if path.suffix == ".jsonl":
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
                return cls(records)
            if path.suffix != ".json":
                raise ConfigurationError(f"a task set file must end in .json or .jsonl, got {str(path)!r}")
            document = json.loads(text)
            if not isinstance(document, Mapping) or not isinstance(document.get("tasks"), list):
                raise DataFormatError(f"{path}: expected an object with a 'tasks' list, found {text[:200]!r}")
            taskset = cls(
                document["tasks"],
                name=document.get("name"),
                metadata=document.get("metadata") or {},
                data_dir=document.get("data_dir"),
            )
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path} is not a task set file: {exc}") from exc
        except ConfigurationError as exc:
            if path.suffix not in (".json", ".jsonl"):
                raise
            raise DataFormatError(f"{path}: {exc}") from exc
        recorded = document.get("hash")
        if recorded is not None and recorded != taskset.hash():
            raise DataFormatError(
                f"{path}: the recorded hash {recorded} does not match its tasks ({taskset.hash()}); the file was "
                "edited after it was saved. Re-save it, or remove the 'hash' field to accept the new tasks"
            )
        return taskset
