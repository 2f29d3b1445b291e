"""The Hugging Face hub path, exercised on a local cache written in the hub's layout (the hub is unreachable)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import awm_gym
from awm_gym.catalog import DATASET_REPO_ID, cached_snapshot, default_sources, download, hub_cache_dir
from awm_gym.errors import DownloadError

REVISION = "0123456789abcdef0123456789abcdef01234567"


def _fake_cache(root: Path, release_dir: Path) -> Path:
    repo = root / f"datasets--{DATASET_REPO_ID.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    for file in release_dir.iterdir():
        shutil.copy(file, snapshot / file.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path: Path, release_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return _fake_cache(tmp_path / "hub", release_dir)


def test_cache_dir_follows_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without HF_HUB_CACHE, the cache is $HF_HOME/hub, as huggingface_hub computes it."""
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert hub_cache_dir() == tmp_path / "hub"


def test_cached_snapshot_is_a_scenario_source(hub_cache: Path) -> None:
    """A downloaded snapshot is found through refs/main and its scenarios become loadable."""
    assert cached_snapshot() == hub_cache
    assert [s.origin for s in default_sources()] == ["huggingface", "bundled"]
    assert "tiny_shop_1" in awm_gym.list_scenarios()


def test_download_resolves_the_cache_with_huggingface_hub(hub_cache: Path) -> None:
    """download() runs the real snapshot_download against the cache and returns the snapshot directory."""
    assert download(local_files_only=True).resolve() == hub_cache.resolve()


def test_download_registers_the_scenarios(hub_cache: Path) -> None:
    """awm_gym.download() also registers Gymnasium ids for the scenarios it brought."""
    import gymnasium as gym

    awm_gym.download(local_files_only=True)
    assert "AWM/tiny_notes_2-v0" in gym.registry


def test_unreachable_hub_is_a_typed_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing cached and no network, DownloadError explains how to provide the files by hand."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(DownloadError, match="AWM_DATA_DIR"):
        download(local_files_only=True)
