"""A verifier's valid result dict keeps its verdict however large its other fields are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from awm_gym.catalog import VerifierRecord
from awm_gym.verifier import Verifier

CODE = """
def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    return {"result": "complete", "log": "x" * 1_000_000, "checked": 3}
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("initial.db", "final.db"):
        sqlite3.connect(tmp_path / name).close()
    return tmp_path


def test_a_large_extra_field_is_cut_and_the_verdict_kept(workdir: Path) -> None:
    """A 1 MB log field beside "result" is cut; the label is still complete and the small fields stay as they are."""
    verifier = Verifier("code", timeout=10.0)
    try:
        result = verifier.verify(
            VerifierRecord(mode="code", task_idx=0, code=CODE),
            workdir=workdir,
            task="t",
            final_answer="",
            trajectory=[],
        )
    finally:
        verifier.close()
    assert result.label == "complete"
    assert result.result["result"] == "complete" and result.result["checked"] == 3
    assert result.result["log"].endswith("[... cut]") and len(result.result["log"]) < 2000
