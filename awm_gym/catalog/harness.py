"""The other public AWM release: ``arcee-train/awm_1k_fixed_harness``, as a scenario source.

That dataset (the data behind the ``awm-harness-1k`` environment of ``verifiers``) packs the same 1,000
scenarios as AgentWorldModel-1K, one row each, with the fields ``db``, ``sample``, ``env``, ``spec`` and
``val_report`` (the report of a validation run over the scenario's endpoints). It has no task list and no
verifier code. Its tasks are **endpoint tasks**: one per endpoint that passed validation, asking the agent
to accomplish that endpoint's description; the reward is ``endpoint_hit`` (1.0 iff the target
``operation_id`` was called), offered by ``AWMSuiteEnv(reward_mode="endpoint_hit")`` and kept apart from the
verifier reward (see ``docs/suite.md``).

Where it comes from (any ``data_dir`` accepts these):

- a ``.parquet`` file, or a directory of them (``data/train-*.parquet`` as the hub stores them);
- ``hf://datasets/<repo id>`` (e.g. :data:`HARNESS_URL`): loaded with ``datasets.load_dataset``, from the
  local ``datasets`` cache or the hub.

The fields are documented only by that README, so each is read defensively: a JSON string or a nested
struct; the AWM-1K record (``{"scenario", "db_schema"}``, ``{"sample_data"}``, ``{"full_code"}``,
``{"api_spec"}``) or just its payload (``{"tables"}``, a list, the code string, ``{"api_groups"}``). The
scenario name is the first of the columns ``scenario``, ``name``, ``scenario_name``, ``env_name`` or
``id``, else the ``scenario`` field inside a record. In ``val_report`` every object carrying an
``operation_id`` (or ``operationId``) counts as an endpoint result; it passed unless a ``passed``,
``success``, ``ok`` or ``valid`` field is false or a ``status`` field says otherwise. Without a usable
``val_report`` every endpoint of ``spec`` becomes a task.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from awm_gym.catalog.names import normalize_name
from awm_gym.catalog.scenario import Scenario, parse_scenario
from awm_gym.catalog.sources import ScenarioSource
from awm_gym.errors import ConfigurationError, DataFormatError

__all__ = [
    "HARNESS_REPO_ID",
    "HARNESS_URL",
    "HUB_PREFIX",
    "HarnessSource",
    "endpoint_tasks",
    "is_harness_location",
]

HARNESS_REPO_ID = "arcee-train/awm_1k_fixed_harness"
HUB_PREFIX = "hf://datasets/"
HARNESS_URL = HUB_PREFIX + HARNESS_REPO_ID
"""``data_dir`` value that loads the harness release from the hub (or the local ``datasets`` cache)."""

_NAME_COLUMNS = ("scenario", "name", "scenario_name", "env_name", "id")
_PASS_FIELDS = ("passed", "success", "ok", "valid")
_PASS_STATUSES = {"pass", "passed", "ok", "success", "succeeded", "valid", "200"}


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix == ".parquet" else []
    if not path.is_dir() or any(path.glob("gen_*.jsonl")) or any(path.glob("*/gen_*.jsonl")):
        return []
    return sorted(path.glob("*.parquet")) or sorted(path.glob("*/*.parquet"))


def is_harness_location(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` holds harness-layout data: a parquet file, a directory of them, or an hf:// id."""
    if str(location).startswith(HUB_PREFIX):
        return True
    return bool(_parquet_files(Path(location)))


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                return value
    return value


def _record(value: Any, key: str, payload_keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """An AWM-1K style record from a field that is the record itself or just its payload."""
    value = _decode(value)
    if value is None:
        return None
    if isinstance(value, Mapping) and key in value:
        return dict(value)
    if isinstance(value, Mapping) and payload_keys and not any(k in value for k in payload_keys):
        return None
    return {key: value}


def _env_record(value: Any) -> dict[str, Any] | None:
    value = _decode(value)
    if isinstance(value, str):
        return {"full_code": value}
    if isinstance(value, Mapping):
        for key in ("full_code", "code", "server_code"):
            if isinstance(value.get(key), str):
                return {**value, "full_code": value[key]}
    return None


def _passed(result: Mapping[str, Any]) -> bool:
    for name in _PASS_FIELDS:
        if name in result and isinstance(result[name], bool | int):
            return bool(result[name])
    status = result.get("status")
    if isinstance(status, str | int) and not isinstance(status, bool):
        return str(status).strip().lower() in _PASS_STATUSES
    return True


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    value = _decode(value)
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _spec_endpoints(api_spec: Any) -> dict[str, dict[str, Any]]:
    endpoints: dict[str, dict[str, Any]] = {}
    for item in _walk(api_spec):
        op = item.get("operation_id") or item.get("operationId")
        if isinstance(op, str) and op and ("path" in item or "method" in item) and op not in endpoints:
            endpoints[op] = dict(item)
    return endpoints


def endpoint_tasks(val_report: Any, api_spec: Any) -> list[dict[str, str]]:
    """The endpoint tasks of one scenario: ``[{"operation_id", "description"}]``, in report order.

    An endpoint is kept when ``val_report`` has a passing result for it (see the module docstring) and a
    description (the result's, else the spec's ``description`` or ``summary``). Without any endpoint result
    in ``val_report``, every endpoint of ``api_spec`` with a description is kept.

    Example:
        >>> spec = {"api_groups": [{"endpoints": [{"path": "/a", "method": "GET", "operation_id": "list_a",
        ...          "description": "List every A you own."}, {"path": "/b", "method": "POST",
        ...          "operation_id": "make_b", "summary": "Create a B"}]}]}
        >>> endpoint_tasks({"results": [{"operation_id": "list_a", "passed": True},
        ...                             {"operation_id": "make_b", "passed": False}]}, spec)
        [{'operation_id': 'list_a', 'description': 'List every A you own.'}]
    """
    spec = _spec_endpoints(api_spec)
    results: dict[str, Mapping[str, Any]] = {}
    for item in _walk(val_report):
        op = item.get("operation_id") or item.get("operationId")
        if isinstance(op, str) and op:
            previous = results.get(op)
            results[op] = item if previous is None or not _passed(item) else previous  # any failure wins
    chosen = [op for op, result in results.items() if _passed(result)] if results else list(spec)
    tasks = []
    for op in chosen:
        result, endpoint = results.get(op, {}), spec.get(op, {})
        description = next(
            (
                text.strip()
                for text in (result.get("description"), endpoint.get("description"), endpoint.get("summary"))
                if isinstance(text, str) and text.strip()
            ),
            None,
        )
        if description:
            tasks.append({"operation_id": op, "description": description})
    return tasks


class HarnessSource(ScenarioSource):
    """Scenarios from ``awm_1k_fixed_harness``-layout data, read with ``datasets`` (see the module docstring).

    Loading needs the ``datasets`` package (``pip install datasets``, a dependency of awm-gym). Each scenario
    is a :class:`~awm_gym.catalog.Scenario` whose tasks are its endpoint tasks, with no verifier code and
    ``extra["endpoint_tasks"]`` naming each task's target operation.

    Args:
        root: A parquet file, a directory of parquet files, or ``hf://datasets/<repo id>[@revision]``.
        origin: Where the source was configured (``"data_dir"``, ``"AWM_DATA_DIR"``), for messages.
    """

    def __init__(self, root: str | os.PathLike[str], origin: str) -> None:
        self.hub_id: str | None = None
        if str(root).startswith(HUB_PREFIX):
            self.hub_id = str(root)[len(HUB_PREFIX) :]
            self.root = Path(str(root))
        else:
            self.root = Path(root)
        self.origin = origin
        self.paths = {}
        self._indexes = {}
        self._names: tuple[str, ...] | None = None
        self._loaded: dict[str, Scenario] = {}
        self._dataset: Any = None
        self._rows: dict[str, int] | None = None
        self._lock = threading.RLock()  # envs of a vector env may load scenarios from several threads

    def __repr__(self) -> str:
        return f"HarnessSource({self.hub_id and HUB_PREFIX + self.hub_id or str(self.root)!r}, origin={self.origin!r})"

    def _data(self) -> Any:
        with self._lock:
            return self._load_data()

    def _load_data(self) -> Any:
        if self._dataset is None:
            try:
                import datasets
            except ImportError as exc:  # pragma: no cover - datasets is a dependency
                raise ConfigurationError(
                    "reading awm_1k_fixed_harness data needs the datasets package: pip install datasets"
                ) from exc
            if self.hub_id is not None:
                repo_id, _, revision = self.hub_id.partition("@")
                try:
                    self._dataset = datasets.load_dataset(repo_id, split="train", revision=revision or None)
                except Exception as exc:  # datasets raises many unrelated types for "not reachable"
                    from awm_gym.errors import DownloadError

                    raise DownloadError(
                        f"could not load {repo_id} with datasets ({type(exc).__name__}: {exc}). Without network "
                        "access, copy its parquet files to a directory and pass that directory as data_dir"
                    ) from exc
            else:
                files = [str(path) for path in _parquet_files(self.root)]
                if not files:
                    raise ConfigurationError(f"{self.root} holds no parquet files of the harness layout")
                self._dataset = datasets.load_dataset("parquet", data_files=files, split="train")
        return self._dataset

    def _row_names(self) -> dict[str, int]:
        with self._lock:
            return self._index_rows()

    def _index_rows(self) -> dict[str, int]:
        if self._rows is None:
            data = self._data()
            column = next((c for c in _NAME_COLUMNS if c in data.column_names), None)
            rows: dict[str, int] = {}
            if column is not None:
                raw = data[column]
            else:
                raw = [self._name_in_records(data[i]) for i in range(len(data))]
            for index, value in enumerate(raw):
                key = normalize_name(value) if isinstance(value, str) else ""
                if key and key not in rows:  # the first row of a repeated name wins, as for AWM-1K
                    rows[key] = index
            self._rows = rows
        return self._rows

    @staticmethod
    def _name_in_records(row: Mapping[str, Any]) -> str | None:
        for field in ("db", "env", "sample", "spec"):
            value = _decode(row.get(field))
            if isinstance(value, Mapping) and isinstance(value.get("scenario"), str):
                return value["scenario"]
        return None

    def names(self) -> tuple[str, ...]:
        """Scenario names in row order (repeated names are kept once)."""
        if self._names is None:
            self._names = tuple(self._row_names())
        return self._names

    def task_texts(self, name: str) -> tuple[str, ...]:
        """The scenario's endpoint task texts."""
        return self.load(name).tasks

    def load(self, name: str) -> Scenario:
        """Parse one row into a :class:`Scenario` with endpoint tasks.

        Raises:
            DataFormatError: The row lacks server code or a database schema, or has no endpoint task.
        """
        key = normalize_name(name)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._parse(key)
            return self._loaded[key]

    def _parse(self, key: str) -> Scenario:
        """One row as a :class:`Scenario` (the caller holds the lock)."""
        row = self._data()[self._row_names()[key]]
        spec = _record(row.get("spec"), "api_spec", ("api_groups", "endpoints"))
        api_spec = _decode(spec.get("api_spec")) if spec else None
        tasks = endpoint_tasks(row.get("val_report"), api_spec)
        where = f"{self.origin}: {self.hub_id and HUB_PREFIX + self.hub_id or self.root}"
        if not tasks:
            raise DataFormatError(
                f"scenario {key!r} has no endpoint task: no endpoint in val_report passed with a description ({where})"
            )
        env, db = _env_record(row.get("env")), _record(row.get("db"), "db_schema", ("tables",))
        for field, value, what in (("env", env, "server code"), ("db", db, "database schema")):
            if value is None:
                raise DataFormatError(
                    f"scenario {key!r}: its row's {field!r} field holds no {what} (found "
                    f"{str(row.get(field))[:120]!r}) ({where})"
                )
        records = {
            "scenario": {
                "name": key,
                "description": str(row.get("description") or ""),
                "endpoint_tasks": tasks,
            },
            "tasks": {"tasks": [task["description"] for task in tasks]},
            "db": db,
            "sample": _record(row.get("sample"), "sample_data"),
            "spec": spec,
            "envs": env,
        }
        self._loaded[key] = parse_scenario(key, records, source=f"harness {where}")
        return self._loaded[key]
