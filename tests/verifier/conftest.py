"""Fixtures of the verifier tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A job directory of its own holding ``initial.db`` (t.v = 1) and ``final.db`` (t.v = 2)."""
    directory = tmp_path / "job"
    directory.mkdir()
    for name, value in (("initial.db", 1), ("final.db", 2)):
        conn = sqlite3.connect(directory / name)
        conn.execute("CREATE TABLE t (v INTEGER)")
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        conn.commit()
        conn.close()
    return directory
