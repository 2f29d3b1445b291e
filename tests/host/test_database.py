"""Building templates and restoring episode databases (real SQLite files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from awm_gym.catalog import load_scenario
from awm_gym.host import build_template, restore_database, snapshot_database


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()


@pytest.fixture(scope="module")
def shop(release_dir: Path):
    return load_scenario("tiny_shop_1", release_dir)


def test_report_counts_repaired_and_failed_statements(shop) -> None:
    """Backslash-quoted inserts are repaired and counted; the FK-violating insert fails and is reported."""
    _template, report = build_template(shop)
    assert (report.repaired, report.failed) == (2, 1)
    assert report.failures[0].phase == "insert" and "FOREIGN KEY" in report.failures[0].error
    assert report.statements == 13 and report.summary() == "13 statements: 12 ok (2 repaired), 1 failed"


def test_repaired_literals_hold_the_intended_text(shop) -> None:
    """'Mr. O\\'Brien' is stored as Mr. O'Brien."""
    conn = sqlite3.connect(":memory:")
    conn.deserialize(build_template(shop)[0])
    assert conn.execute("SELECT name FROM users WHERE id = 2").fetchone() == ("Mr. O'Brien",)


def test_foreign_keys_are_enforced_during_the_build_by_default(shop) -> None:
    """AWM's generator builds with PRAGMA foreign_keys=ON: the orphan order is left out; OFF keeps it."""
    enforced, loose = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    enforced.deserialize(build_template(shop)[0])
    loose.deserialize(build_template(shop, foreign_keys=False)[0])
    assert [r[0] for r in _rows(enforced, "orders")] == [1, 2]
    assert [r[0] for r in _rows(loose, "orders")] == [1, 2, 3]
    assert build_template(shop, foreign_keys=False)[1].failed == 0


def test_template_is_built_once_per_process(shop) -> None:
    """A second build returns the same bytes (datetime('now') values are fixed at the first build)."""
    assert build_template(shop)[0] is build_template(shop)[0]


def test_restore_brings_back_the_template_exactly(shop, tmp_path: Path) -> None:
    """After arbitrary writes, restoring makes the file's content identical to the template."""
    template = sqlite3.connect(":memory:")
    template.deserialize(build_template(shop)[0])
    path = tmp_path / "episode.db"
    restore_database(template, path)
    live = sqlite3.connect(path)  # stays open across the restore, like the server's pool
    live.execute("UPDATE products SET price = 0")
    live.execute("DELETE FROM users WHERE id = 2")
    live.execute("CREATE TABLE extra (x)")
    live.commit()
    restore_database(template, path)
    assert [r[0] for r in live.execute("SELECT name FROM sqlite_master ORDER BY name")] == [
        r[0] for r in template.execute("SELECT name FROM sqlite_master ORDER BY name")
    ]
    for table in ("users", "products", "orders"):
        assert _rows(live, table) == _rows(template, table)


def test_snapshot_is_an_independent_copy(shop, tmp_path: Path) -> None:
    """A snapshot reflects the live database and later edits of the snapshot leave the live one alone."""
    template = sqlite3.connect(":memory:")
    template.deserialize(build_template(shop)[0])
    live_path, copy_path = tmp_path / "live.db", tmp_path / "copy.db"
    restore_database(template, live_path)
    snapshot_database(live_path, copy_path)
    copy = sqlite3.connect(copy_path)
    copy.execute("DELETE FROM products")
    copy.commit()
    assert len(_rows(sqlite3.connect(live_path), "products")) == 3
