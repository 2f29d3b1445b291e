"""Reaching Ray: the lazy import (a missing extra names its install command) and joining a cluster."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from awm_gym.errors import MissingExtraError

__all__ = ["connect", "import_ray"]


def import_ray() -> ModuleType:
    """The ``ray`` module, imported on first use.

    Raises:
        MissingExtraError: Ray is not installed (``pip install awm-gym[ray]``).
    """
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError(
            "awm_gym.distributed runs sub-environments on a Ray cluster and needs Ray, which is not installed: "
            "pip install awm-gym[ray]"
        ) from exc
    return ray


def connect(address: str | None = None, **init_kwargs: Any) -> bool:
    """Join the Ray cluster at ``address`` (or start a local one) unless this process already joined one.

    ``address`` is what ``ray.init`` takes: ``None`` (the ``RAY_ADDRESS`` environment variable, a cluster
    started on this machine with ``ray start --head``, or else a new local instance), ``"auto"``, or
    ``"<head-ip>:6379"``. A local instance started here skips the dashboard unless ``init_kwargs`` ask for it.

    Returns:
        Whether this call initialized Ray (the caller then owns the connection and shuts it down).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    init_kwargs.setdefault("include_dashboard", False)
    init_kwargs.setdefault("log_to_driver", False)
    ray.init(address=address, **init_kwargs)
    return True
