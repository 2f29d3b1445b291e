"""One AWM scenario, parsed from its AgentWorldModel-1K records.

A :class:`Scenario` is plain data: what the host needs to build the database and run the server, the
tasks, and the verifier code per task and mode. Parsing is tolerant of the release's known variations
(fields stored as JSON strings, the two ``sample_data`` shapes, missing or null verifier code) and strict
about what cannot work (no server code, no task list).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from awm_gym.errors import DataFormatError

__all__ = [
    "VERIFIER_MODES",
    "SampleTable",
    "Scenario",
    "TableSchema",
    "VerifierMode",
    "VerifierRecord",
    "parse_scenario",
    "parse_tasks",
]

VerifierMode = Literal["code", "sql"]
VERIFIER_MODES: tuple[VerifierMode, ...] = ("code", "sql")

# The function each mode calls when the code does not name one with ``def verify_`` (AWM's rule).
_DEFAULT_FUNCTION = {"code": "verify_task_completion", "sql": "verify_task"}
# AWM treats shorter code as missing (``judge_error``); we report it as unverifiable.
_MIN_CODE_LENGTH = 10


@dataclass(frozen=True)
class TableSchema:
    """One ``gen_db`` table: its ``CREATE TABLE``, its indexes and optional legacy example inserts."""

    name: str
    ddl: str
    indexes: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SampleTable:
    """One ``gen_sample`` table: INSERT statements in file order (``table_name`` is empty for bare SQL lists)."""

    table_name: str
    insert_statements: tuple[str, ...]


@dataclass(frozen=True)
class VerifierRecord:
    """The verifier of one (scenario, task, mode), as stored in ``gen_verifier[.pure_code].jsonl``."""

    mode: VerifierMode
    task_idx: int
    code: str | None
    raw_response: str | None = None
    task: str | None = None

    @property
    def usable(self) -> bool:
        """Whether there is code to run (AWM's rule: present and at least 10 characters)."""
        return self.code is not None and len(self.code.strip()) >= _MIN_CODE_LENGTH

    @functools.cached_property
    def function_name(self) -> str:
        """The function to call.

        AWM takes the first line starting with ``def verify_``; that picks a helper when one comes first (a
        known pitfall), so a top-level function with the mode's canonical name wins, then the first top-level
        ``verify_*`` function, then AWM's textual rule.
        """
        default = _DEFAULT_FUNCTION[self.mode]
        code = self.code or ""
        try:
            names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        except SyntaxError:
            names = []
        if default in names:
            return default
        for name in names:
            if name.startswith("verify_"):
                return name
        for line in code.splitlines():
            stripped = line.strip()
            if stripped.startswith("def verify_"):
                return stripped[len("def ") :].split("(", 1)[0].strip()
        return default


@dataclass(frozen=True)
class Scenario:
    """Everything awm-gym needs about one scenario.

    Example:
        >>> from awm_gym.catalog import load_scenario
        >>> scenario = load_scenario("awmgym_workflow_automation")
        >>> len(scenario.tasks)
        10
    """

    name: str
    description: str
    tasks: tuple[str, ...]
    tables: tuple[TableSchema, ...]
    sample_tables: tuple[SampleTable, ...]
    full_code: str
    verifiers: Mapping[VerifierMode, tuple[VerifierRecord | None, ...]]
    api_spec: Mapping[str, Any] | None = None
    source: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def verifier(self, mode: VerifierMode, task_idx: int) -> VerifierRecord | None:
        """The verifier record of ``task_idx`` in ``mode``, or ``None`` when the data has none."""
        records = self.verifiers.get(mode, ())
        return records[task_idx] if 0 <= task_idx < len(records) else None

    @property
    def fingerprint(self) -> str:
        """A digest of what determines the server and its database (used as a cache key)."""
        digest = hashlib.sha256()
        digest.update(self.full_code.encode())
        for table in self.tables:
            digest.update("\0".join((table.name, table.ddl, *table.indexes, *table.examples)).encode())
        for sample in self.sample_tables:
            digest.update("\0".join((sample.table_name, *sample.insert_statements)).encode())
        return digest.hexdigest()[:16]


def _decoded(value: Any, what: str, scenario: str) -> Any:
    """Fields that should be objects sometimes arrive as JSON strings; decode those."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{what} of scenario {scenario!r} is a string that is not JSON: {exc}") from exc
    return value


def _str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _parse_tables(db_record: Mapping[str, Any], scenario: str) -> tuple[TableSchema, ...]:
    schema = _decoded(db_record.get("db_schema"), "gen_db.db_schema", scenario)
    tables = schema.get("tables") if isinstance(schema, Mapping) else schema
    if not isinstance(tables, list):
        raise DataFormatError(
            f"gen_db.db_schema of scenario {scenario!r} should be {{'tables': [...]}}, found {type(schema).__name__}"
        )
    parsed = []
    for table in tables:
        if not isinstance(table, Mapping) or not isinstance(table.get("ddl"), str):
            raise DataFormatError(f"gen_db table of scenario {scenario!r} lacks a 'ddl' string: {table!r:.200}")
        parsed.append(
            TableSchema(
                name=str(table.get("name", "")),
                ddl=table["ddl"],
                indexes=_str_list(table.get("indexes")),
                examples=_str_list(table.get("examples")),
            )
        )
    return tuple(parsed)


def _parse_sample(sample_record: Mapping[str, Any] | None, scenario: str) -> tuple[SampleTable, ...]:
    """Accept both shapes: ``{"tables": [...]}`` (the release) and a bare list of tables or of SQL strings."""
    if sample_record is None:
        return ()
    data = _decoded(sample_record.get("sample_data"), "gen_sample.sample_data", scenario)
    if isinstance(data, Mapping):
        data = data.get("tables", [])
    if not isinstance(data, list):
        raise DataFormatError(
            f"gen_sample.sample_data of scenario {scenario!r} should be a dict with 'tables' or a list, "
            f"found {type(data).__name__}"
        )
    if all(isinstance(item, str) for item in data):
        return (SampleTable("", tuple(data)),) if data else ()
    tables = []
    for item in data:
        if isinstance(item, str):
            tables.append(SampleTable("", (item,)))
        elif isinstance(item, Mapping):
            tables.append(SampleTable(str(item.get("table_name", "")), _str_list(item.get("insert_statements"))))
        else:
            raise DataFormatError(f"gen_sample table of scenario {scenario!r} is not an object: {item!r:.200}")
    return tuple(tables)


def _task_idx(record: Mapping[str, Any]) -> int | None:
    try:
        return int(record.get("task_idx"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _pick_verifiers(
    records: Sequence[Mapping[str, Any]], mode: VerifierMode, tasks: Sequence[str]
) -> tuple[VerifierRecord | None, ...]:
    """One record per task: the first whose task text matches and whose code is usable, else the first.

    The release may hold stale duplicates of a (scenario, task_idx) pair; AWM and OpenEnv take the first
    match. Preferring a record whose ``task`` equals the task text and which has code keeps that rule for
    clean data and skips a failed generation left in front of a good one.
    """
    by_task: dict[int, list[VerifierRecord]] = {}
    for record in records:
        idx = _task_idx(record)
        if idx is None:
            continue
        verification = record.get("verification")
        if isinstance(verification, str):
            try:
                verification = json.loads(verification)
            except json.JSONDecodeError:
                verification = {"code": verification}
        verification = verification if isinstance(verification, Mapping) else {}
        code = verification.get("code")
        raw = verification.get("raw_response")
        by_task.setdefault(idx, []).append(
            VerifierRecord(
                mode=mode,
                task_idx=idx,
                code=code if isinstance(code, str) else None,
                raw_response=raw if isinstance(raw, str) else None,
                task=record.get("task") if isinstance(record.get("task"), str) else None,
            )
        )
    picked: list[VerifierRecord | None] = []
    for idx, task in enumerate(tasks):
        candidates = by_task.get(idx, [])
        best = next((c for c in candidates if c.usable and (c.task is None or c.task.strip() == task.strip())), None)
        best = best or next((c for c in candidates if c.usable), None)
        picked.append(best or (candidates[0] if candidates else None))
    return tuple(picked)


def parse_tasks(name: str, tasks_record: Mapping[str, Any]) -> tuple[str, ...]:
    """The task texts of a ``gen_tasks`` record (its ``tasks`` list, possibly stored as a JSON string).

    Raises:
        DataFormatError: ``tasks`` is not a list of strings.
    """
    tasks_value = _decoded(tasks_record.get("tasks"), "gen_tasks.tasks", name)
    if not isinstance(tasks_value, list) or not all(isinstance(t, str) for t in tasks_value):
        raise DataFormatError(
            f"gen_tasks.tasks of scenario {name!r} should be a list of strings, found {tasks_value!r:.200}"
        )
    return tuple(tasks_value)


def parse_scenario(
    name: str,
    records: Mapping[str, Any],
    *,
    source: str = "",
) -> Scenario:
    """Build a :class:`Scenario` from its records, keyed by file kind.

    Args:
        name: The normalised scenario name.
        records: ``scenario``, ``tasks``, ``db``, ``sample``, ``spec`` and ``envs`` map to one record (or
            ``None``); ``verifier_code`` and ``verifier_sql`` map to lists of records.
        source: Where the records came from, for messages.

    Raises:
        DataFormatError: A record needed to run the scenario is missing or malformed.
    """

    def required(kind: str, file: str) -> Mapping[str, Any]:
        record = records.get(kind)
        if record is None:
            raise DataFormatError(f"scenario {name!r} has no record in {file} ({source})")
        return record

    tasks = parse_tasks(name, required("tasks", "gen_tasks.jsonl"))
    full_code = required("envs", "gen_envs.jsonl").get("full_code")
    if not isinstance(full_code, str) or not full_code.strip():
        raise DataFormatError(f"gen_envs.full_code of scenario {name!r} is missing or empty ({source})")
    scenario_record = records.get("scenario") or {}
    spec_record = records.get("spec")
    api_spec = _decoded(spec_record.get("api_spec"), "gen_spec.api_spec", name) if spec_record else None
    return Scenario(
        name=name,
        description=str(scenario_record.get("description", "")),
        tasks=tasks,
        tables=_parse_tables(required("db", "gen_db.jsonl"), name),
        sample_tables=_parse_sample(records.get("sample"), name),
        full_code=full_code,
        verifiers={
            mode: _pick_verifiers(records.get(f"verifier_{mode}") or (), mode, tasks) for mode in VERIFIER_MODES
        },
        api_spec=api_spec if isinstance(api_spec, Mapping) else None,
        source=source,
        extra={k: v for k, v in scenario_record.items() if k not in ("name", "description")},
    )
