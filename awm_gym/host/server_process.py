"""The scenario's server, as a child process: a per-scenario zygote that forks one uvicorn server per env.

Started by :mod:`awm_gym.host.zygote` as ``python -m awm_gym.host.server_process CONTROL_FD WORKDIR``; never
imported by the parent. What it does, in order:

1. Imports the web stack (FastAPI, Pydantic, SQLAlchemy, uvicorn) once.
2. Runs the scenario's generated ``full_code`` as ``__main__`` with the contract's environment
   (``DATABASE_PATH`` as a full SQLAlchemy URL, ``HOST``, ``PORT``). The code's own
   ``uvicorn.run(app, ...)`` hands us the app instead of binding a port: nothing in the code is patched.
   Two SQLAlchemy event hooks (``do_connect``, ``connect``) send every SQLite connection to this process's
   database file and turn off fsync (``synchronous=OFF``: an episode database needs no durability), so
   code that hard-codes a path still serves the right file.
3. Writes the app's OpenAPI (computed the way fastapi-mcp computes it) to ``WORKDIR/openapi.json`` and
   reports ready on the control socket.
4. For every ``spawn`` message (carrying a private channel socket and a listening Unix socket), forks a
   server that starts uvicorn on the listening socket (a real HTTP server for debugging and outside
   clients) and answers tool calls arriving on the channel by calling the app in-process (ASGI), the same
   way fastapi-mcp calls it.

One deliberate difference from a stock server: work FastAPI would hand to a worker thread (sync
dependencies such as the generated ``get_db``, sync handlers) runs on the event loop thread. A server
answers its env's calls one at a time, so the two thread hops per request bought no concurrency and cost
about half of each call's time; results are unchanged.

Lifetime: the zygote exits, killing its servers, when the control socket closes (the parent exited or
died). Each server exits when its channel closes and dies with the zygote (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import signal
import socket
import sqlite3
import sys
import traceback
import types
from typing import Any
from urllib.parse import unquote

from awm_gym.host import wire

# The database file SQLite connections of this process are routed to (the zygote's copy, then each server's).
_database_path = ""


def _route_sqlite_connections() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "do_connect")
    def _to_this_process_database(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if dialect.name != "sqlite":
            return
        target = str(cparams.get("database", cargs[0] if cargs else ""))
        if not target or target == ":memory:" or "mode=memory" in target:
            return
        if "database" in cparams:
            cparams["database"] = _database_path
        else:
            cargs[:1] = [_database_path]
        # A request's session may be created in the threadpool and used on the event loop thread.
        cparams["check_same_thread"] = False

    @event.listens_for(Engine, "connect")
    def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=OFF")


def _load_app(workdir: str) -> Any:
    """Run the scenario code as ``__main__`` and return its FastAPI app."""
    import builtins

    import uvicorn
    from fastapi import FastAPI

    captured: dict[str, Any] = {}

    def run_captured(app: Any, *_args: Any, **_kwargs: Any) -> None:
        captured["app"] = app

    uvicorn.run = run_captured  # type: ignore[assignment]
    path = os.path.join(workdir, "app.py")
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = module
    exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - running the scenario is the point

    app = captured.get("app")
    if isinstance(app, str):  # uvicorn.run("module:app")
        app = module.__dict__.get(app.rpartition(":")[2] or "app")
    if not isinstance(app, FastAPI):
        app = module.__dict__.get("app")
    if not isinstance(app, FastAPI):
        app = next((v for v in module.__dict__.values() if isinstance(v, FastAPI)), None)
    if app is None:
        raise RuntimeError("the scenario code defines no FastAPI app (expected a module-level FastAPI instance)")
    return app


def _write_openapi(app: Any, workdir: str) -> None:
    from fastapi.openapi.utils import get_openapi

    # fastapi-mcp computes the document like this (not app.openapi(), which caches and adds servers).
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    with open(os.path.join(workdir, "openapi.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle)


def _run_thread_work_inline() -> None:
    import anyio.to_thread

    async def run_sync(func: Any, *args: Any, **_options: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]  # Starlette looks it up at call time


def _dispose_engines() -> None:
    """Close connections opened while importing (create_all) so no forked server inherits one."""
    from sqlalchemy.engine import Engine

    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the closed channel still ends the server
        pass


class _Dispatcher:
    """Calls the app in-process for each request frame, like httpx's ASGI transport does for fastapi-mcp."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def http(self, header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        raw_path, _, query = header["target"].encode("ascii").partition(b"?")
        headers = [(b"host", b"apiserver"), (b"accept", b"*/*"), (b"user-agent", b"awm-gym")]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in header.get("headers", [])]
        if header.get("has_body"):
            headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": header["method"],
            "headers": headers,
            "scheme": "http",
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": query,
            "server": ("apiserver", None),
            "client": ("127.0.0.1", 123),
            "root_path": "",
            "state": dict(self.state),
        }
        done = asyncio.Event()
        request_sent = False
        status: int | None = None
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if request_sent:
                await done.wait()
                return {"type": "http.disconnect"}
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        try:
            async with asyncio.timeout(header["timeout"]):
                await self.app(scope, receive, send)
        except TimeoutError:
            return {"error": "timeout"}, b""
        except Exception:  # the app's own error: 500, as the ASGI transport reports it; the log keeps the trace
            traceback.print_exc()
        return {"status": status or 500}, b"".join(parts)


async def _serve(app: Any, config: Any, channel: socket.socket, listener: socket.socket) -> None:
    import uvicorn

    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[listener])
    ticks = asyncio.create_task(server.main_loop())  # uvicorn's housekeeping: Date/Server headers, exit flag
    dispatcher = _Dispatcher(app, server.lifespan.state)
    reader, writer = await asyncio.open_unix_connection(sock=channel)
    while True:
        try:
            header, body = await wire.read_frame(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            ticks.cancel()
            return  # the env closed the channel (or died): this server is done
        if header.get("op") == "http":
            reply, reply_body = await dispatcher.http(header, body)
        else:
            reply, reply_body = {"ok": True, "pid": os.getpid()}, b""
        await wire.write_frame(writer, reply, reply_body)


def _run_server(
    zygote_pid: int, control: socket.socket, fds: list[int], message: dict[str, Any], app: Any, config: Any
) -> int:
    global _database_path
    control.close()
    _die_with_parent()
    if os.getppid() != zygote_pid:
        return 1
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(message["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _database_path = message["db_path"]
    os.environ["DATABASE_PATH"] = "sqlite:///" + _database_path
    os.chdir(message["workdir"])
    channel = socket.socket(fileno=fds[0])
    listener = socket.socket(fileno=fds[1])
    asyncio.run(_serve(app, config, channel, listener))
    return 0


def main(control_fd: int, workdir: str) -> int:
    """Build the app, report ready, then fork a server for every ``spawn`` message until the parent goes."""
    global _database_path
    control = socket.socket(fileno=control_fd)
    _database_path = os.path.join(workdir, "server_template.db")
    try:
        import uvicorn

        _route_sqlite_connections()
        app = _load_app(workdir)
        _write_openapi(app, workdir)
        _dispose_engines()
        _run_thread_work_inline()
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto")
        config.load()
    except BaseException:
        traceback.print_exc()
        wire.send_message(control, {"ok": False, "error": traceback.format_exc()[-8000:]})
        return 1
    gc.collect()
    gc.freeze()  # keep the app's objects out of the collector so forked servers share their pages
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps exited servers
    wire.send_message(control, {"ok": True, "pid": os.getpid()})
    zygote_pid = os.getpid()
    while True:
        message, fds = wire.recv_message(control)
        if message is None:
            break
        if message.get("op") != "spawn" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            wire.send_message(control, {"ok": False, "error": f"unexpected control message {message!r}"})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _run_server(zygote_pid, control, fds, message, app, config)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        wire.send_message(control, {"ok": True, "pid": pid})
    # The parent is gone: take every forked server down with the zygote (they share its process group).
    os.killpg(0, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))
