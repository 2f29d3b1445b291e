"""The scenario's server, as a child process: a per-scenario zygote that forks one uvicorn server per env.

Normally a fork of the root process (:mod:`awm_gym.host.root_process`, which has done step 1 once and calls
:func:`run_zygote`); with ``AWM_GYM_ZYGOTE_ROOT=0``, started by :mod:`awm_gym.host.zygote` as
``python -m awm_gym.host.server_process CONTROL_FD WORKDIR``. Never imported by the parent. What it does, in
order:

1. :func:`prepare`: imports the web stack (FastAPI, Pydantic, SQLAlchemy, uvicorn) and installs two
   SQLAlchemy event hooks (``do_connect``, ``connect``) that send every SQLite connection to this process's
   database file and turn off fsync (``synchronous=OFF``: an episode database needs no durability), so code
   that hard-codes a path still serves the right file.
2. Runs the scenario's generated ``full_code`` as ``__main__`` with the contract's environment
   (``DATABASE_PATH`` as a full SQLAlchemy URL, ``HOST``, ``PORT``). The code's own
   ``uvicorn.run(app, ...)`` hands us the app instead of binding a port: nothing in the code is patched.
3. Writes the app's OpenAPI (computed the way fastapi-mcp computes it) to ``WORKDIR/openapi.json`` and says
   so on the control socket (the parent reads it meanwhile), warms the app up on a scratch copy of the
   database (``AWM_GYM_WARM_UP``; see :func:`_warm_up`) and reports ready.
4. For every ``spawn`` message (carrying a private channel socket and a listening Unix socket), forks a
   server that starts uvicorn on the listening socket (a real HTTP server for debugging and outside
   clients), replays the warm-up requests on a scratch copy (see :func:`_serve`) and answers tool calls
   arriving on the channel by calling the app in-process (ASGI), the same way fastapi-mcp calls it.

One deliberate difference from a stock server: work FastAPI would hand to a worker thread (sync
dependencies such as the generated ``get_db``, sync handlers) runs on the event loop thread. A server
answers its env's calls one at a time, so the two thread hops per request bought no concurrency and cost
about half of each call's time; results are unchanged.

Lifetime: the zygote exits, killing its servers, when the control socket closes (the parent exited or
died). Each server exits when its channel closes and dies with the zygote (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from awm_gym.host import wire

__all__ = [
    "WARM_UP_BUDGET",
    "WARM_UP_TIMEOUT",
    "build_zygote_app",
    "forget_app",
    "fork_child",
    "main",
    "prepare",
    "run_zygote",
    "write_openapi",
]

# The database file SQLite connections of this process are routed to (the zygote's copy, then each server's).
_database_path = ""
# The app's SQLAlchemy engines, found once it is built.
_engines: list[Any] = []
# Requests each server replays on a scratch copy as it starts (see _serve): one that succeeded in the zygote's
# warm-up, and one read the zygote did not run (its SQL is compiled in the server, touching the compiler).
_replays: list[tuple[dict[str, Any], bytes]] = []
WARM_UP_TIMEOUT = 1.0  # seconds one warm-up request may take before it is abandoned
WARM_UP_BUDGET = 3.0  # seconds the whole warm-up may take; routes not reached by then stay cold


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


def write_openapi(app: Any, workdir: str) -> dict[str, Any]:
    """Compute the app's OpenAPI document, write it to ``WORKDIR/openapi.json`` and return it."""
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
    return document


def _run_thread_work_inline() -> None:
    import anyio.to_thread

    async def run_sync(func: Any, *args: Any, **_options: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]  # Starlette looks it up at call time


def _find_engines() -> None:
    """Remember the app's SQLAlchemy engines (after ``gc.freeze`` the collector no longer lists them)."""
    from sqlalchemy.engine import Engine

    _engines[:] = [obj for obj in gc.get_objects() if isinstance(obj, Engine)]


def _dispose_engines() -> None:
    """Close the engines' pooled connections (so no forked server inherits one, or none to a scratch file)."""
    for engine in _engines:
        engine.dispose()


def forget_app() -> None:
    """Drop what :func:`build_zygote_app` remembers about the app it built (the root's warm-up app)."""
    _engines.clear()
    _replays.clear()


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
    dispatcher = _Dispatcher(app, server.lifespan.state)
    if _replays:
        # A forked process's first request is slow even when nothing is left to initialise: every object it
        # touches sits on a page shared with the zygote, and the first write to each (a reference count) copies
        # that page. Replaying requests here, on a scratch copy, takes those copies before the env's ping is
        # answered, so they count toward the reset, not the agent's first call: the common request path with
        # the first replay, SQLAlchemy's statement compiler (used by every route the zygote did not run) with
        # the second.
        with _time_limit(WARM_UP_TIMEOUT), _scratch_database(os.getcwd()), contextlib.redirect_stderr(io.StringIO()):
            for request in _replays:
                await dispatcher.http(*request)
    for engine in _engines:  # and open the episode database's connections now, not on the first call
        with contextlib.suppress(Exception):
            engine.connect().close()
    ticks = asyncio.create_task(server.main_loop())  # uvicorn's housekeeping: Date/Server headers, exit flag
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


def prepare() -> None:
    """Import the web stack and install this process's hooks; done once, before any scenario code runs.

    In the root process (:mod:`awm_gym.host.root_process`) this happens before it forks each scenario's
    zygote; a zygote started as a fresh interpreter does it itself.
    """
    import fastapi  # noqa: F401 - imported here so every later import of it is free
    import sqlalchemy.orm  # noqa: F401
    import uvicorn  # noqa: F401

    _route_sqlite_connections()
    _run_thread_work_inline()


def _warm_requests(document: dict[str, Any]) -> list[tuple[dict[str, Any], bytes]]:
    """One plausible request per tool (reads first), with example arguments derived from its input schema."""
    from awm_gym.host.tools import ToolCatalog, _example

    calls = []
    for tool in sorted(ToolCatalog.from_openapi(document), key=lambda t: t.method.lower() != "get"):
        try:
            call = tool.http_call(_example(tool.input_schema) or {})
        except (ValueError, TypeError):  # an odd schema: that route just stays cold
            continue
        header = {
            "method": call.method,
            "target": call.target,
            "headers": list(call.headers),
            "has_body": call.body is not None,
            "timeout": WARM_UP_TIMEOUT,
        }
        calls.append((header, call.body or b""))
    return calls


class _WarmUpOver(BaseException):
    """The warm-up ran out of time (raised from SIGALRM wherever the app happens to be)."""


@contextlib.contextmanager
def _scratch_database(workdir: str) -> Iterator[None]:
    """Route this process's SQLite connections to a throwaway copy of its database for the block.

    Afterwards the engines' connections to the copy are closed, the copy is deleted and the routing is back.
    """
    global _database_path
    original = _database_path
    scratch = os.path.join(workdir, "warm_up.db")
    shutil.copyfile(original, scratch)
    _database_path = scratch
    try:
        yield
    finally:
        _dispose_engines()
        _database_path = original
        with contextlib.suppress(OSError):
            os.unlink(scratch)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """End the block after ``seconds`` (``SIGALRM``), even inside a sync handler that never returns."""

    def out_of_time(_signum: int, _frame: Any) -> None:
        raise _WarmUpOver

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _WarmUpOver:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _warm_up(app: Any, requests: list[tuple[dict[str, Any], bytes]], workdir: str, *, every_route: bool) -> None:
    """Serve requests in this process, on a scratch copy of the database, until one succeeds (or all, if asked).

    What a request does the first time in a process (build Starlette's middleware stack, configure the ORM
    mappers, first-use imports and caches in FastAPI, Pydantic and the JSON encoders, SQLite connection
    set-up; with ``every_route`` also each route's SQL compiled into the engine's statement cache) then
    happens here once, in the zygote, and every forked server inherits it. The request that succeeded, and
    the next read, are kept for :func:`_serve` to replay at each server's start (see there). Errors are
    expected (example arguments may name rows that do not exist) and their output goes nowhere; a handler that
    never returns is cut off after :data:`WARM_UP_BUDGET` seconds in all.
    """
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    dispatcher = _Dispatcher(app, {})

    async def run() -> None:
        for n, (header, body) in enumerate(requests):
            reply, _ = await dispatcher.http(header, body)
            if not _replays and 200 <= reply.get("status", 500) < 300:
                _replays.append((header, body))
                unrun_read = next((r for r in requests[n + 1 :] if r[0]["method"] == "GET"), None)
                if not every_route and unrun_read is not None:
                    _replays.append(unrun_read)
                if not every_route:
                    return

    _replays.clear()
    with _time_limit(WARM_UP_BUDGET), _scratch_database(workdir), contextlib.redirect_stderr(io.StringIO()):
        with contextlib.redirect_stdout(io.StringIO()):
            asyncio.run(run())


def _needs_input(dependant: Any) -> bool:
    """Whether a route (or a dependency of it) requires a query, header, cookie or body parameter."""
    own = [*dependant.query_params, *dependant.header_params, *dependant.cookie_params, *dependant.body_params]
    return any(field.field_info.is_required() for field in own) or any(map(_needs_input, dependant.dependencies))


def _plain_reads(app: Any) -> list[tuple[dict[str, Any], bytes]]:
    """GET requests that need no input but path parameters (set to 1), read off the routes: no OpenAPI needed."""
    import re

    from fastapi.routing import APIRoute

    requests = []
    for route in app.routes:
        try:
            if not isinstance(route, APIRoute) or "GET" not in route.methods or _needs_input(route.dependant):
                continue
        except AttributeError:  # a FastAPI whose internals differ: that route just stays cold
            continue
        header = {"method": "GET", "target": re.sub(r"\{[^}]*\}", "1", route.path_format), "headers": []}
        requests.append(({**header, "has_body": False, "timeout": WARM_UP_TIMEOUT}, b""))
    return requests


def _cached_openapi(workdir: str) -> dict[str, Any] | None:
    """The OpenAPI document the parent put in ``WORKDIR`` from its cache (same code, same web stack), if any."""
    try:
        with open(os.path.join(workdir, "openapi.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def fork_child(run: Callable[..., int], *args: Any) -> int:
    """Fork a child that runs ``run(*args)`` and exits with its code (1, with the traceback logged, if it raises).

    The child never returns into the caller's loop: whatever ``run`` does, it ends in ``os._exit``. Returns the
    child's pid to the parent.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = run(*args)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def _write_openapi_aside(app: Any, workdir: str) -> int:
    """Fork a child that writes the OpenAPI (on the other core, while this process warms up); its pid."""

    def write() -> int:
        write_openapi(app, workdir)
        return 0

    return fork_child(write)


def build_zygote_app(workdir: str, control: socket.socket | None = None) -> tuple[Any, Any]:
    """Run ``WORKDIR/app.py`` against ``WORKDIR/server_template.db``, write its OpenAPI, warm it up.

    With the default warm-up the OpenAPI is computed in a forked child while this process warms up from the
    app's routes (the two are independent and take about as long, so a free second core hides one); the
    ``all`` warm-up needs every tool's schema first, so it computes the OpenAPI itself, before. Neither is
    computed when ``WORKDIR/openapi.json`` is already there: the parent found it in its cache (see
    :mod:`awm_gym.host.zygote`), computed for this very code by the same web stack.

    Args:
        workdir: The zygote's directory.
        control: If given, an ``{"op": "openapi"}`` message goes there as soon as ``openapi.json`` and the
            template (after the app's own ``create_all``) are final, so the parent reads them meanwhile.

    Returns:
        The FastAPI app and the loaded uvicorn config every forked server starts from.

    Raises:
        RuntimeError: The OpenAPI document could not be computed (the traceback is in the log).
    """
    global _database_path
    import uvicorn

    _database_path = os.path.join(workdir, "server_template.db")
    app = _load_app(workdir)
    _find_engines()
    _dispose_engines()  # no connection is shared with the child below or with any server
    mode = os.environ.get("AWM_GYM_WARM_UP", "1").strip().lower()
    cached = _cached_openapi(workdir)
    if mode == "all":
        document = cached if cached is not None else write_openapi(app, workdir)
        _warm_up(app, _warm_requests(document), workdir, every_route=True)
    else:
        writer = _write_openapi_aside(app, workdir) if cached is None else None
        if mode not in ("0", "off", "false", "no"):
            _warm_up(app, _plain_reads(app), workdir, every_route=False)
        if writer is not None:
            _pid, status = os.waitpid(writer, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("computing the app's OpenAPI document failed (traceback above, in this log)")
    if control is not None:
        wire.send_message(control, {"op": "openapi"})
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto")
    config.load()
    return app, config


def run_zygote(control: socket.socket, workdir: str) -> int:
    """Build the scenario's app, report ready, then fork a server per ``spawn`` message until the parent goes.

    Runs after :func:`prepare`, with ``workdir`` as the working directory and the contract's environment.
    """
    try:
        app, config = build_zygote_app(workdir, control)
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
        pid = fork_child(_run_server, zygote_pid, control, fds, message, app, config)
        for fd in fds:
            os.close(fd)
        wire.send_message(control, {"ok": True, "pid": pid})
    # The parent is gone: take every forked server down with the zygote (they share its process group).
    os.killpg(0, signal.SIGKILL)
    return 0


def main(control_fd: int, workdir: str) -> int:
    """A zygote in a fresh interpreter: :func:`prepare`, then :func:`run_zygote`."""
    control = socket.socket(fileno=control_fd)
    try:
        prepare()
    except BaseException:
        traceback.print_exc()
        wire.send_message(control, {"ok": False, "error": traceback.format_exc()[-8000:]})
        return 1
    return run_zygote(control, workdir)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))
