"""The no-op-pass audit: which tasks pass on an untouched database, cached in memory and on disk."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from awm_data import NOTES_CODE

from awm_gym.catalog import load_scenario
from awm_gym.host import build_template
from awm_gym.verifier import find_noop_passes


def test_noop_passes_are_found_and_cached(release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a verifier that says complete for an untouched database and an empty answer is flagged; the result is kept."""
    monkeypatch.setenv("AWM_GYM_CACHE_DIR", str(tmp_path))
    # A variant nobody else audits in this process, so the process cache starts empty for it.
    notes = dataclasses.replace(load_scenario("tiny_notes_2", release_dir), full_code="# variant\n" + NOTES_CODE)
    template, _ = build_template(notes)
    found = find_noop_passes(notes, template)
    assert found == frozenset()  # adding a note and counting them both need the agent
    assert find_noop_passes(notes, template) is found  # from the process cache, not recomputed
    [cached] = (tmp_path / "noop").iterdir()
    assert cached.name.startswith("tiny_notes_2-") and json.loads(cached.read_text()) == []
