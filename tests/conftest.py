"""Shared fixtures: AgentWorldModel-1K data written in the release format."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test modules import awm_data and helpers by name

from awm_data import write_release  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the on-disk caches (no-op audits) of a test run out of the user's home."""
    os.environ["AWM_GYM_CACHE_DIR"] = str(tmp_path_factory.mktemp("awm_gym_cache"))


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small scenarios with the real data's quirks, as the eight release jsonl files."""
    return write_release(tmp_path_factory.mktemp("awm_release"))
