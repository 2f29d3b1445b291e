"""Where scenarios come from, and finding one by name.

Sources, in the order a name is looked up:

1. a ``data_dir`` passed explicitly (to :func:`load_scenario`, ``gym.make`` or :func:`register_data_dir`);
2. the directories in ``AWM_DATA_DIR`` (``os.pathsep``-separated);
3. the Hugging Face hub cache, if ``Snowflake/AgentWorldModel-1K`` was downloaded (``awm-gym download``);
4. the bundled pack inside the package (always present, names start with ``awmgym_``).

A source is a directory holding the AgentWorldModel-1K jsonl files, or data in the layout of the other
public release, ``awm_1k_fixed_harness`` (parquet files or an ``hf://datasets/`` id; see
:mod:`awm_gym.catalog.harness`; a parquet directory on ``AWM_DATA_DIR`` is read with ``datasets`` at import).
For jsonl, listing names reads only ``gen_scenario.jsonl`` (cheap enough for import time); loading a scenario
indexes each file once per process (byte offsets per scenario key) and then reads just that scenario's lines.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from awm_gym.catalog.hub import cached_snapshot
from awm_gym.catalog.names import normalize_name
from awm_gym.catalog.scenario import Scenario, parse_scenario, parse_tasks
from awm_gym.errors import ConfigurationError, DataFormatError, ScenarioNotFoundError

__all__ = [
    "AWM_FILES",
    "BUNDLED_DIR",
    "ScenarioSource",
    "default_sources",
    "find_source",
    "list_scenarios",
    "load_scenario",
]

logger = logging.getLogger(__name__)

#: File kind -> file name in an AgentWorldModel-1K release (``spec`` is optional, verifiers may be absent).
AWM_FILES: Mapping[str, str] = {
    "scenario": "gen_scenario.jsonl",
    "tasks": "gen_tasks.jsonl",
    "db": "gen_db.jsonl",
    "sample": "gen_sample.jsonl",
    "spec": "gen_spec.jsonl",
    "envs": "gen_envs.jsonl",
    "verifier_sql": "gen_verifier.jsonl",
    "verifier_code": "gen_verifier.pure_code.jsonl",
}
_MANY_RECORDS = ("verifier_sql", "verifier_code")  # one record per task, not per scenario

BUNDLED_DIR = Path(__file__).parent / "bundled"


def _iter_jsonl(path: Path) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(offset, length, record)`` for every JSON object line; bad lines are logged and skipped."""
    bad = 0
    with open(path, "rb") as handle:
        offset = 0
        for line in handle:
            length = len(line)
            if line.strip():
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    bad += 1
                else:
                    if isinstance(record, dict):
                        yield offset, length, record
                    else:
                        bad += 1
            offset += length
    if bad:
        logger.warning("%s: skipped %d line(s) that are not JSON objects", path, bad)


class _JsonlIndex:
    """Byte offsets of each scenario's lines in one jsonl file, built on first use."""

    def __init__(self, path: Path, key_field: str) -> None:
        self.path = path
        self.key_field = key_field
        self._offsets: dict[str, list[tuple[int, int]]] | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict[str, list[tuple[int, int]]]:
        with self._lock:
            if self._offsets is None:
                offsets: dict[str, list[tuple[int, int]]] = {}
                for offset, length, record in _iter_jsonl(self.path):
                    key = record.get(self.key_field)
                    if isinstance(key, str):
                        offsets.setdefault(normalize_name(key), []).append((offset, length))
                self._offsets = offsets
            return self._offsets

    def keys(self) -> list[str]:
        return list(self._build())

    def records(self, key: str) -> list[dict[str, Any]]:
        spans = self._build().get(key, [])
        if not spans:
            return []
        with open(self.path, "rb") as handle:
            out = []
            for offset, length in spans:
                handle.seek(offset)
                out.append(json.loads(handle.read(length)))
            return out


class ScenarioSource:
    """A directory of AgentWorldModel-1K jsonl files.

    Example:
        >>> from awm_gym.catalog import BUNDLED_DIR, ScenarioSource
        >>> "awmgym_workflow_automation" in ScenarioSource(BUNDLED_DIR, "bundled").names()
        True
    """

    def __init__(self, root: str | os.PathLike[str], origin: str) -> None:
        self.root = Path(root)
        self.origin = origin
        self.paths: dict[str, Path | None] = {kind: self._find(file) for kind, file in AWM_FILES.items()}
        self._indexes = {
            kind: _JsonlIndex(path, "name" if kind == "scenario" else "scenario")
            for kind, path in self.paths.items()
            if path is not None
        }
        self._names: tuple[str, ...] | None = None
        self._loaded: dict[str, Scenario] = {}  # scenarios are immutable, so every env of one can share it

    def __repr__(self) -> str:
        return f"ScenarioSource({str(self.root)!r}, origin={self.origin!r})"

    def _find(self, file: str) -> Path | None:
        direct = self.root / file
        if direct.is_file():
            return direct
        # A snapshot or an unpacked archive may hold the files one folder down.
        nested = sorted(self.root.glob(f"*/{file}"))
        return nested[0] if nested else None

    def names(self) -> tuple[str, ...]:
        """Scenario names this source declares (from ``gen_scenario``, else ``gen_envs``), first occurrence order."""
        if self._names is None:
            if self.paths["scenario"] is not None:
                seen = dict.fromkeys(
                    normalize_name(r["name"])
                    for _, _, r in _iter_jsonl(self.paths["scenario"])
                    if isinstance(r.get("name"), str)
                )
            elif "envs" in self._indexes:
                seen = dict.fromkeys(self._indexes["envs"].keys())
            else:
                seen = {}
            self._names = tuple(name for name in seen if name)
        return self._names

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self.names()

    def task_texts(self, name: str) -> tuple[str, ...]:
        """One scenario's task texts, read from ``gen_tasks`` alone (cheaper than :meth:`load`).

        Raises:
            DataFormatError: The scenario has no (well-formed) ``gen_tasks`` record.
        """
        key = normalize_name(name)
        if key in self._loaded:
            return self._loaded[key].tasks
        found = self._indexes["tasks"].records(key) if "tasks" in self._indexes else []
        if not found:
            raise DataFormatError(f"scenario {key!r} has no record in gen_tasks.jsonl ({self.origin}: {self.root})")
        return parse_tasks(key, found[0])

    def load(self, name: str) -> Scenario:
        """Parse one scenario's records from every file (first record wins for per-scenario files)."""
        key = normalize_name(name)
        if key not in self._loaded:
            records: dict[str, Any] = {}
            for kind, index in self._indexes.items():
                found = index.records(key)
                records[kind] = found if kind in _MANY_RECORDS else (found[0] if found else None)
            self._loaded[key] = parse_scenario(key, records, source=f"{self.origin}: {self.root}")
        return self._loaded[key]


_source_cache: dict[tuple[str, str], ScenarioSource] = {}
_source_lock = threading.Lock()


def _source(root: str | os.PathLike[str], origin: str) -> ScenarioSource:
    """The (cached) source of ``root``: AWM jsonl files, or the awm_1k_fixed_harness layout (parquet, hub id)."""
    from awm_gym.catalog import harness

    given = (str(root), origin)
    if os.path.isabs(given[0]) or given[0].startswith(harness.HUB_PREFIX):  # the common case, without stat calls
        with _source_lock:
            if given in _source_cache:
                return _source_cache[given]
    is_harness = harness.is_harness_location(root)
    key = (str(root) if is_harness and str(root).startswith(harness.HUB_PREFIX) else str(Path(root).resolve()), origin)
    with _source_lock:
        if key not in _source_cache:
            _source_cache[key] = harness.HarnessSource(root, origin) if is_harness else ScenarioSource(root, origin)
        if os.path.isabs(given[0]) or given[0].startswith(harness.HUB_PREFIX):
            _source_cache[given] = _source_cache[key]
        return _source_cache[key]


def default_sources(data_dir: str | os.PathLike[str] | None = None) -> list[ScenarioSource]:
    """The scenario sources in lookup order (see the module docstring).

    Raises:
        ConfigurationError: ``data_dir`` was given but is neither a directory nor harness-layout data.
    """
    from awm_gym.catalog.harness import is_harness_location

    sources = []
    if data_dir is not None:
        if not Path(data_dir).is_dir() and not is_harness_location(data_dir):
            raise ConfigurationError(
                f"data_dir={str(data_dir)!r} is not a directory of AgentWorldModel-1K jsonl files, nor "
                "awm_1k_fixed_harness data (a .parquet file, a directory of them, or hf://datasets/<repo id>)"
            )
        sources.append(_source(data_dir, "data_dir"))
    for part in os.environ.get("AWM_DATA_DIR", "").split(os.pathsep):
        if part and Path(part).is_dir():  # jsonl or parquet; hf:// ids only as data_dir (":" splits this list)
            sources.append(_source(part, "AWM_DATA_DIR"))
        elif part:
            logger.warning("AWM_DATA_DIR entry %r is not a directory; ignoring it", part)
    snapshot = cached_snapshot()
    if snapshot is not None:
        sources.append(_source(snapshot, "huggingface"))
    sources.append(_source(BUNDLED_DIR, "bundled"))
    return sources


def list_scenarios(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Sorted names of every scenario available from :func:`default_sources`.

    Example:
        >>> "awmgym_pet_clinic" in list_scenarios()
        True
    """
    return sorted({name for source in default_sources(data_dir) for name in source.names()})


def load_scenario(name: str, data_dir: str | os.PathLike[str] | None = None) -> Scenario:
    """Load a scenario by name from the first source that has it.

    Raises:
        ScenarioNotFoundError: No source has it; the message lists the sources and how to get more.
    """
    return find_source(name, data_dir).load(name)


def find_source(name: str, data_dir: str | os.PathLike[str] | None = None) -> ScenarioSource:
    """The first source (in :func:`default_sources` order) that has the scenario.

    Raises:
        ScenarioNotFoundError: No source has it; the message lists the sources and how to get more.
    """
    sources = default_sources(data_dir)
    key = normalize_name(name)
    for source in sources:
        if key in source.names():
            return source
    known = sorted({n for source in sources for n in source.names()})
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    looked = "; ".join(f"{s.origin} {s.root} ({len(s.names())} scenarios)" for s in sources)
    raise ScenarioNotFoundError(
        f"Scenario {name!r} not found.{hint} Looked in: {looked}. AgentWorldModel-1K scenarios come from "
        "`awm-gym download` (or awm_gym.download()), from a directory of its jsonl files named by "
        "AWM_DATA_DIR or data_dir=...; awm_gym.list_scenarios() lists what is available."
    )
