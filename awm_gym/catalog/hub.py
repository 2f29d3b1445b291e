"""The Hugging Face hub copy of AgentWorldModel-1K: finding it in the cache, and downloading it on request.

Finding the cache copy mirrors ``huggingface_hub``'s cache layout without importing it, so it is cheap
enough for ``import awm_gym``. Downloading imports ``huggingface_hub`` and runs only when asked.
"""

from __future__ import annotations

import os
from pathlib import Path

from awm_gym.errors import DownloadError

__all__ = ["DATASET_REPO_ID", "cached_snapshot", "download", "hub_cache_dir"]

DATASET_REPO_ID = "Snowflake/AgentWorldModel-1K"


def hub_cache_dir() -> Path:
    """The hub cache directory ``huggingface_hub`` uses (``HF_HUB_CACHE``, else ``$HF_HOME/hub``)."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(cache)))


def cached_snapshot(repo_id: str = DATASET_REPO_ID, revision: str = "main") -> Path | None:
    """The snapshot directory of a downloaded dataset revision, or ``None`` if it is not in the cache."""
    repo_dir = hub_cache_dir() / f"datasets--{repo_id.replace('/', '--')}"
    ref = repo_dir / "refs" / revision
    if ref.is_file():
        snapshot = repo_dir / "snapshots" / ref.read_text().strip()
        if snapshot.is_dir():
            return snapshot
    snapshot = repo_dir / "snapshots" / revision  # a commit hash given as the revision
    return snapshot if snapshot.is_dir() else None


def download(
    repo_id: str = DATASET_REPO_ID,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_dir: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
) -> Path:
    """Download the AgentWorldModel-1K jsonl files (with progress bars) and return their directory.

    Files land in the hub cache (or ``local_dir``); scenarios found there are available from then on
    (``awm_gym.download()`` also registers them with Gymnasium). ``local_files_only=True`` resolves an
    existing cache copy without touching the network.

    Raises:
        DownloadError: The hub is unreachable or the repository/revision does not exist; the message says
            how to provide the files by hand instead.
    """
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            cache_dir=cache_dir if cache_dir is not None else hub_cache_dir(),
            local_dir=local_dir,
            token=token,
            local_files_only=local_files_only,
            allow_patterns=["*.jsonl", "*.md"],
        )
    except Exception as exc:  # huggingface_hub raises many unrelated types for the same "not reachable"
        raise DownloadError(
            f"Could not get {repo_id} from the Hugging Face hub ({type(exc).__name__}: {exc}). Without network "
            "access, copy its jsonl files to a directory and set AWM_DATA_DIR to it (or pass data_dir=...)."
        ) from exc
    return Path(path)
