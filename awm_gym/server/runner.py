"""Run the server: bind, print where it listens, serve until SIGTERM or Ctrl-C, reap every session."""

from __future__ import annotations

import signal
import socket
import sys
from typing import TextIO

from awm_gym.server.config import ServeConfig

__all__ = ["bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0`` picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
    # every response on a kept-alive connection waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: ServeConfig, *, out: TextIO = sys.stdout, log_level: str = "warning") -> None:
    """Serve ``config`` until SIGTERM/SIGINT; every session's env is closed before this returns.

    Prints one line per endpoint as soon as the socket listens, e.g.
    ``awm-gym serve: listening on http://127.0.0.1:8000 (OpenEnv ws://127.0.0.1:8000/ws, MCP
    http://127.0.0.1:8000/mcp)``.
    """
    import uvicorn

    from awm_gym.server.app import build_app

    app = build_app(config)
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    print(
        f"awm-gym serve: listening on {base} (OpenEnv {base.replace('http', 'ws', 1)}/ws, MCP {base}/mcp; "
        f"{config.max_sessions} sessions max, idle timeout {config.idle_timeout:g} s"
        f"{', access token required' if config.token else ''})",
        file=out,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=log_level,
            ws_max_size=4 * config.max_request_bytes,
            timeout_graceful_shutdown=5,
            lifespan="on",
            server_header=False,
        )
    )

    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown (the app's lifespan reaps every session), then
    # re-raises the signal against the handlers it found; these make that re-raise (or a signal that arrives
    # before uvicorn listens) one more request to stop, so the command exits 0 after cleaning up.
    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        print("awm-gym serve: stopped; every session was closed", file=out, flush=True)
