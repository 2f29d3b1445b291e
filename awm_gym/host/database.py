"""Building a scenario's database template, and restoring episode databases from it.

The build follows AWM's procedure (``db.create_sqlite_database`` + ``sample.execute_sample_data``): for each
table its DDL, its indexes and any legacy example inserts, then every sample INSERT in file order. Failing
statements never abort the build; they are counted, logged and returned in a :class:`BuildReport`.

Choices, each matching AWM's generator (the pipeline that wrote the tasks and verifiers):

- **Foreign keys are enforced during the build** (``PRAGMA foreign_keys=ON``), so an insert that names a
  missing parent fails and is reported. OpenEnv builds with them off; pass ``foreign_keys=False`` for that.
  The pragma is a per-connection setting: the scenario's own server decides for itself at run time.
- **Legacy ``examples`` inserts run** after their table's indexes (AWM runs them; OpenEnv ignores them).
- **Every statement is attempted on its own**, so one bad index does not skip the rest of its table.
- **The ``\\'`` quoting quirk is repaired on failure:** a statement SQLite rejects is retried once with
  backslash-escaped quotes rewritten to SQL's doubled quotes, and counted as repaired if that succeeds.

The template is built once per process in memory and kept as bytes (``sqlite3`` serialisation): ``datetime('now')``
values are fixed at build time, and every episode starts from an identical copy.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from awm_gym.catalog import Scenario

__all__ = ["BuildReport", "StatementFailure", "build_template", "restore_database", "snapshot_database"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatementFailure:
    """A statement SQLite rejected even after the quote repair."""

    phase: str  # "ddl", "index", "example" or "insert"
    statement: str
    error: str


@dataclass(frozen=True)
class BuildReport:
    """What happened while building a template."""

    scenario: str
    executed: int = 0
    repaired: int = 0
    failures: tuple[StatementFailure, ...] = field(default=())

    @property
    def failed(self) -> int:
        """Statements that failed even after repair."""
        return len(self.failures)

    @property
    def statements(self) -> int:
        """Statements attempted."""
        return self.executed + self.failed

    def summary(self) -> str:
        """One line, e.g. ``"212 statements: 210 ok (3 repaired), 2 failed"``."""
        return f"{self.statements} statements: {self.executed} ok ({self.repaired} repaired), {self.failed} failed"


def _execute(conn: sqlite3.Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.ProgrammingError as exc:
        # A record holding two statements in one string; sqlite3.execute refuses those.
        if "one statement at a time" not in str(exc):
            raise
        conn.executescript(sql)


def _build(scenario: Scenario, foreign_keys: bool) -> tuple[bytes, BuildReport]:
    conn = sqlite3.connect(":memory:", isolation_level=None)  # autocommit: a failure undoes only itself
    conn.execute("PRAGMA user_version=0")  # writes the header page, so even a schema-less database serialises
    conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    executed = repaired = 0
    failures: list[StatementFailure] = []

    def run(phase: str, sql: str) -> None:
        nonlocal executed, repaired
        if not sql.strip():
            return
        try:
            _execute(conn, sql)
            executed += 1
            return
        except sqlite3.Error as exc:
            error = exc
        fixed = sql.replace("\\'", "''")
        if fixed != sql:
            try:
                _execute(conn, fixed)
                executed += 1
                repaired += 1
                return
            except sqlite3.Error as exc:
                error = exc
        failures.append(StatementFailure(phase, sql, f"{type(error).__name__}: {error}"))

    for table in scenario.tables:
        run("ddl", table.ddl)
        for index in table.indexes:
            run("index", index)
        for example in table.examples:
            run("example", example)
    for sample in scenario.sample_tables:
        for insert in sample.insert_statements:
            run("insert", insert)
    template = conn.serialize()
    conn.close()
    report = BuildReport(scenario.name, executed, repaired, tuple(failures))
    if failures:
        logger.warning(
            "%s: %s; first failure (%s): %s",
            scenario.name,
            report.summary(),
            failures[0].phase,
            failures[0].error,
        )
    return template, report


_templates: dict[tuple[str, str, bool], tuple[bytes, BuildReport]] = {}
_templates_lock = threading.Lock()


def build_template(scenario: Scenario, *, foreign_keys: bool = True) -> tuple[bytes, BuildReport]:
    """The scenario's initial database as SQLite bytes, plus the build report (built once per process).

    Example:
        >>> from awm_gym.catalog import load_scenario
        >>> template, report = build_template(load_scenario("awmgym_pet_clinic"))
        >>> report.failed, report.repaired > 0
        (0, True)
    """
    key = (scenario.name, scenario.fingerprint, foreign_keys)
    with _templates_lock:
        if key not in _templates:
            _templates[key] = _build(scenario, foreign_keys)
        return _templates[key]


def restore_database(template: sqlite3.Connection, path: str | Path) -> None:
    """Make the database file at ``path`` an exact copy of ``template`` through SQLite's backup API.

    The backup takes SQLite's locks, so other connections (the scenario server's pool) stay valid and see
    the restored content on their next transaction; the file is never half-written.
    """
    target = sqlite3.connect(path, timeout=5.0)
    try:
        template.backup(target)
    finally:
        target.close()


def snapshot_database(path: str | Path, destination: str | Path) -> None:
    """Copy the live database at ``path`` to ``destination`` consistently (backup API)."""
    source = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
