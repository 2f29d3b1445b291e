"""Serving environments to outside clients: an MCP endpoint and OpenEnv's protocol (``awm-gym serve``).

Sits above the env layer; needs the ``serve`` extra (``pip install awm-gym[serve]``) only when an app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awm_gym._lazy import lazy_exports

if TYPE_CHECKING:
    from awm_gym.server.app import build_app
    from awm_gym.server.config import ServeConfig, is_loopback
    from awm_gym.server.runner import serve
    from awm_gym.server.sessions import CallOutcome, EpisodeResult, Session, SessionManager

_EXPORTS = {
    "CallOutcome": "awm_gym.server.sessions",
    "EpisodeResult": "awm_gym.server.sessions",
    "ServeConfig": "awm_gym.server.config",
    "Session": "awm_gym.server.sessions",
    "SessionManager": "awm_gym.server.sessions",
    "build_app": "awm_gym.server.app",
    "is_loopback": "awm_gym.server.config",
    "serve": "awm_gym.server.runner",
}

__all__ = [
    "CallOutcome",
    "EpisodeResult",
    "ServeConfig",
    "Session",
    "SessionManager",
    "build_app",
    "is_loopback",
    "serve",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
