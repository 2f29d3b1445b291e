"""Start a real ``awm-gym serve`` app on loopback (uvicorn in a thread) for the server tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from awm_gym.server import ServeConfig, build_app
from awm_gym.server.runner import bind

SCENARIO = "awmgym_pet_clinic"


@dataclass
class Running:
    """A server running in this process: its base URL and its app (``app.manager`` holds the sessions)."""

    url: str
    app: Any
    config: ServeConfig

    @property
    def manager(self) -> Any:
        return self.app.manager

    def only_session(self) -> Any:
        """The one session the server holds (fails unless there is exactly one)."""
        (session,) = self.manager.sessions.values()
        return session

    def wait_sessions(self, count: int, timeout: float = 10.0) -> int:
        """Wait until the server holds ``count`` sessions; return how many it holds."""
        deadline = time.monotonic() + timeout
        while len(self.manager) != count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.manager)


def start_server(config: ServeConfig) -> tuple[Running, Any, threading.Thread]:
    """Start ``build_app(config)`` under uvicorn on a free loopback port."""
    import uvicorn

    app = build_app(config)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", ws_max_size=4 * config.max_request_bytes))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    return Running(f"http://127.0.0.1:{port}", app, config), server, thread


def stop_server(server: Any, thread: threading.Thread) -> None:
    """Ask uvicorn to exit (runs the app's shutdown, which reaps every session) and wait for it."""
    server.should_exit = True
    thread.join(timeout=30)
