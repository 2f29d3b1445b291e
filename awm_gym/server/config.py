"""Settings of ``awm-gym serve``: where it listens, who may connect, how much each client may use."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from awm_gym.errors import ConfigurationError

if TYPE_CHECKING:
    from awm_gym.catalog import TaskSet

__all__ = ["LOOPBACK_HOSTS", "ServeConfig", "is_loopback"]

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (``127.0.0.0/8``, ``::1``, ``localhost``).

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    """Everything :func:`awm_gym.server.build_app` and ``awm-gym serve`` need.

    Args:
        host: Address to bind. Loopback by default; any other address requires ``token``.
        port: TCP port (0 picks a free one).
        token: Access token. When set, every request but ``GET /health`` must carry
            ``Authorization: Bearer <token>`` (or HTTP Basic with the token as password, which is how
            URL credentials such as ``ws://awm:<token>@host/ws`` arrive). Compared in constant time.
        scenarios: Scenario names clients may choose (``None``: every scenario found).
        tasks: A task set: clients may only start its (scenario, task) pairs, and a reset that names no
            scenario or no task draws one of its pairs (seeded by the reset's ``seed``).
        default_scenario: Scenario of sessions that do not name one (``None``: they must name one).
        data_dir: Directory of AgentWorldModel-1K files to load scenarios from.
        max_sessions: Concurrent client sessions (each owns one env: a server process and a database).
        idle_timeout: Seconds without a request after which a session and its env are reaped.
        max_request_bytes: Largest HTTP request body or WebSocket message accepted.
        max_argument_bytes: Largest tool-call arguments (as JSON) accepted.
        env_kwargs: Keyword arguments of every session's :class:`~awm_gym.envs.AWMEnv` (e.g. ``max_steps``,
            ``verifier_mode``, ``reward_config``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    scenarios: Sequence[str] | None = None
    tasks: TaskSet | None = None
    default_scenario: str | None = None
    data_dir: str | os.PathLike[str] | None = None
    max_sessions: int = 64
    idle_timeout: float = 600.0
    max_request_bytes: int = 1 << 20
    max_argument_bytes: int = 64 << 10
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise ConfigurationError(
                f"binding to {self.host!r} exposes the environments beyond this machine, so an access token is "
                "required: pass --token (or AWM_SERVE_TOKEN), or bind to 127.0.0.1"
            )
        if self.token is not None and len(self.token) < 16:
            raise ConfigurationError(f"the access token must be at least 16 characters, got {len(self.token)}")
        for name in ("max_sessions", "idle_timeout", "max_request_bytes", "max_argument_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.max_argument_bytes > self.max_request_bytes:
            raise ConfigurationError(
                f"max_argument_bytes ({self.max_argument_bytes}) cannot exceed max_request_bytes "
                f"({self.max_request_bytes}): arguments travel inside a request"
            )
