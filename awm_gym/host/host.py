"""The sub-environment host: one scenario server process and its episode database, for one env instance.

:class:`SubEnvHost` is a transport in the httpx sense: ``reset()`` restores the episode database,
``call_tool()`` sends one tool call and returns the agent-visible text, ``close()`` ends it all. Behind it:

- a server forked from the scenario's zygote (:mod:`awm_gym.host.zygote`), long-lived across episodes;
- the episode database, a real SQLite file in a private directory, restored from the template with SQLite's
  backup API at every reset (the server keeps running and sees the restored data);
- two ways to the same app: a private channel (the default: one frame each way, the server calling the app
  in-process as fastapi-mcp does) and the server's real HTTP listener on a Unix socket (``transport="http"``,
  also reachable from outside, e.g. ``curl --unix-socket <host.socket_path> http://x/docs``).

A server that crashes or hangs (no answer within ``tool_timeout`` + a grace) is killed and reported as an
error result; the next call or reset starts a fresh one over the same database file. Every process is
reaped on ``close()``, on garbage collection and at interpreter exit; if this process dies, the closed
sockets end the server and its zygote within milliseconds.
"""

from __future__ import annotations

import enum
import os
import select
import shutil
import socket
import sqlite3
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awm_gym.catalog import Scenario
from awm_gym.errors import ConfigurationError, SubEnvClosedError, SubEnvStartError
from awm_gym.host import wire
from awm_gym.host.database import build_template, restore_database, snapshot_database
from awm_gym.host.process import ChildProcess
from awm_gym.host.tools import HTTPCall, ToolCallError, ToolCatalog, render_response
from awm_gym.host.zygote import (
    START_TIMEOUT,
    Zygote,
    acquire_zygote,
    read_log_tail,
    release_zygote,
    runtime_dir,
)

__all__ = ["HostState", "SubEnvHost", "ToolResult"]

_GRACE = 2.0  # seconds past tool_timeout before a silent server counts as hung


class HostState(enum.Enum):
    """Lifecycle of a :class:`SubEnvHost`."""

    NEW = "new"  # constructed; nothing started yet
    RUNNING = "running"  # a server is up
    DEAD = "dead"  # the server crashed or was killed; the next call or reset starts another
    CLOSED = "closed"  # close() was called; any further use raises SubEnvClosedError


@dataclass(frozen=True)
class ToolResult:
    """What a tool call produced: the text the agent sees and, on failure, an error kind.

    ``error`` is ``None`` on success, else one of ``unknown_tool``, ``invalid_arguments`` (schema or HTTP 422),
    ``http_error`` (any other status >= 400), ``timeout`` or ``server_crash``.
    """

    text: str
    error: str | None = None
    status: int | None = None


class _Server:
    """The OS resources of one forked server; closing them never needs the host (safe in a finalizer)."""

    def __init__(self, channel: socket.socket, pid: int) -> None:
        self.channel = channel
        self.pid = pid
        self.process = ChildProcess(pid)

    def kill(self, *, wait: bool = True) -> None:
        """Close the channel and SIGKILL the server; with ``wait``, until it has exited (at most 2 s).

        A server replaced over the same database file is waited for, so no write of it can land after its
        successor starts; one whose files go away with it (close, scenario switch) is not: its zygote reaps it.
        """
        self.channel.close()
        if wait:
            self.process.kill()
        else:
            self.process.kill(wait=0)


class _Resources:
    """Everything a host must give back; a finalizer releases it even if the host is never closed."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server: _Server | None = None
        self.zygote: Zygote | None = None
        self.template: sqlite3.Connection | None = None
        self.http_client: Any = None

    def release(self, wait: bool = True) -> None:
        if self.server is not None:
            self.server.kill(wait=wait)  # its database and socket are deleted below; nothing reuses them
            self.server = None
        if self.http_client is not None:
            self.http_client.close()
            self.http_client = None
        if self.zygote is not None:
            release_zygote(self.zygote)
            self.zygote = None
        if self.template is not None:
            self.template.close()
            self.template = None
        shutil.rmtree(self.workdir, ignore_errors=True)


class SubEnvHost:
    """A scenario's FastAPI app in a real server process, over a real SQLite file, for one env instance.

    Example:
        >>> from awm_gym.catalog import load_scenario
        >>> with SubEnvHost(load_scenario("awmgym_pet_clinic")) as host:
        ...     host.reset()
        ...     result = host.call_tool("no_such_tool", {})
        >>> result.text, result.error
        ('Unknown tool: no_such_tool', 'unknown_tool')

    Args:
        scenario: The scenario to serve.
        tool_timeout: Seconds a tool call may take (fastapi-mcp's default is 10).
        transport: ``"channel"`` (private socket, in-process dispatch) or ``"http"`` (real HTTP to uvicorn).
        foreign_keys: Enforce foreign keys while building the template (see :mod:`awm_gym.host.database`).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        tool_timeout: float = 10.0,
        transport: str = "channel",
        foreign_keys: bool = True,
    ) -> None:
        if transport not in ("channel", "http"):
            raise ConfigurationError(f"transport must be 'channel' or 'http', got {transport!r}")
        if tool_timeout <= 0:
            raise ConfigurationError(f"tool_timeout must be a positive number of seconds, got {tool_timeout!r}")
        self.scenario = scenario
        self.tool_timeout = float(tool_timeout)
        self.transport = transport
        self.initial_database, self.build_report = build_template(scenario, foreign_keys=foreign_keys)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{scenario.name[:24]}-", dir=runtime_dir()))
        self.database_path = self.workdir / "episode.db"
        self.log_path = self.workdir / "server.log"
        self.socket_path = self.workdir / "http.sock"
        self.state = HostState.NEW
        self._tools: ToolCatalog | None = None
        self._lock = threading.RLock()
        self._resources = _Resources(self.workdir)
        self._finalizer = weakref.finalize(self, self._resources.release)

    def __repr__(self) -> str:
        return f"<SubEnvHost {self.scenario.name} {self.state.value} pid={self.server_pid}>"

    def __enter__(self) -> SubEnvHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- lifecycle

    @property
    def tools(self) -> ToolCatalog:
        """The scenario's tool catalog (starts the scenario's zygote on first use)."""
        with self._lock:
            self._check_open()
            if self._tools is None:  # once known it stays right: a replacement zygote runs the same code
                self._start_zygote()
            assert self._tools is not None
            return self._tools

    @property
    def server_pid(self) -> int | None:
        """Pid of the running server process, if any."""
        server = self._resources.server
        return server.pid if server is not None else None

    @property
    def zygote_pid(self) -> int | None:
        """Pid of the scenario's zygote this host forks its servers from, once started."""
        zygote = self._resources.zygote
        return zygote.pid if zygote is not None else None

    def _check_open(self) -> None:
        if self.state is HostState.CLOSED:
            raise SubEnvClosedError(f"the sub-environment of {self.scenario.name!r} was closed; create a new env")

    def _start_zygote(self) -> Zygote:
        self._check_open()
        resources = self._resources
        if resources.zygote is None or not resources.zygote.alive:
            if resources.zygote is not None:
                release_zygote(resources.zygote)
                resources.zygote = None
            resources.zygote = acquire_zygote(self.scenario, self.initial_database)
            self._tools = resources.zygote.tools
            if resources.template is not None:
                resources.template.close()
            resources.template = sqlite3.connect(":memory:", check_same_thread=False)
            resources.template.deserialize(resources.zygote.episode_template)
        return resources.zygote

    def _server_alive(self) -> bool:
        server = self._resources.server
        if server is None:
            return False
        # The server never speaks unprompted, so a readable channel means it closed (exited or crashed).
        if select.select([server.channel], [], [], 0)[0]:
            self._drop_server()
            return False
        return True

    def _drop_server(self) -> None:
        if self._resources.server is not None:
            self._resources.server.kill()
            self._resources.server = None
        if self.state is HostState.RUNNING:
            self.state = HostState.DEAD

    def _spawn_server(self) -> None:
        for attempt in (1, 2):  # a zygote that fails (crashed, stopped, silent) is replaced once, right away
            zygote = self._start_zygote()
            channel, child_channel = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.socket_path.unlink(missing_ok=True)
                listener.bind(str(self.socket_path))
                listener.listen(64)
                pid = zygote.spawn(
                    child_channel,
                    listener,
                    db_path=self.database_path,
                    log_path=self.log_path,
                    workdir=self.workdir,
                    timeout=self.tool_timeout,
                )
                break
            except SubEnvStartError:
                self._resources.zygote = None
                release_zygote(zygote)
                channel.close()
                if attempt == 2:
                    raise
            finally:
                child_channel.close()
                listener.close()
        server = _Server(channel, pid)
        self._resources.server = server
        try:
            channel.settimeout(START_TIMEOUT)
            wire.send_frame(channel, {"op": "ping"})
            wire.recv_frame(channel)
        except (OSError, ConnectionError) as exc:
            self._drop_server()
            raise SubEnvStartError(
                f"scenario {self.scenario.name!r}: the server exited while starting ({exc}).\n"
                f"--- server log ({self.log_path}) ---\n{self.log_tail()}"
            ) from exc
        self.state = HostState.RUNNING

    def reset(self) -> None:
        """Restore the episode database to the template and make sure a server is running.

        Raises:
            SubEnvStartError: The scenario's server cannot be started.
            SubEnvClosedError: The host was closed.
        """
        with self._lock:
            self._check_open()
            if self._resources.template is None:
                self._start_zygote()
            assert self._resources.template is not None
            restore_database(self._resources.template, self.database_path)
            if not self._server_alive():  # only a new server needs the zygote (a dead one is replaced there)
                self._spawn_server()

    def close(self, *, wait: bool = True) -> None:
        """Stop the server, release the zygote and delete the episode files (idempotent).

        Args:
            wait: Return only once the server has exited (at most 2 s). ``False`` returns as soon as it is
                killed (SIGKILL sent, files deleted): what a scenario switch does, so the next scenario's start
                does not wait for the kernel's teardown; its zygote still reaps it.
        """
        with self._lock:
            self.state = HostState.CLOSED
            if self._finalizer.detach() is not None:
                self._resources.release(wait=wait)

    # ------------------------------------------------------------------------------------------- calls

    def call_tool(self, name: str, arguments: Any) -> ToolResult:
        """Validate, send and render one tool call. Failures are results, never exceptions.

        Raises:
            SubEnvStartError: A crashed server could not be restarted.
            SubEnvClosedError: The host was closed.
        """
        try:
            call = self.tools.prepare(name, arguments)
        except ToolCallError as exc:
            return ToolResult(exc.message, exc.kind)
        with self._lock:
            self._check_open()
            if not self._server_alive():
                self._spawn_server()
            if self.transport == "http":
                return self._call_http(name, call)
            return self._call_channel(name, call)

    def _call_channel(self, name: str, call: HTTPCall) -> ToolResult:
        server = self._resources.server
        assert server is not None
        header = {
            "op": "http",
            "method": call.method,
            "target": call.target,
            "headers": call.headers,
            "has_body": call.body is not None,
            "timeout": self.tool_timeout,
        }
        try:
            server.channel.settimeout(self.tool_timeout + _GRACE)
            wire.send_frame(server.channel, header, call.body or b"")
            reply, body = wire.recv_frame(server.channel)
        except TimeoutError:
            self._drop_server()
            return ToolResult(
                f"Error calling {name}: the server did not answer within {self.tool_timeout:g} s and was restarted",
                "timeout",
            )
        except OSError:
            self._drop_server()
            return ToolResult(
                f"Error calling {name}: the server process crashed; it is restarted on the next call", "server_crash"
            )
        except BaseException:
            self._drop_server()  # interrupted mid-frame (Ctrl-C): the channel cannot be trusted any more
            raise
        if reply.get("error") == "timeout":
            return ToolResult(f"Error calling {name}: the request timed out after {self.tool_timeout:g} s", "timeout")
        return self._result(name, int(reply["status"]), body)

    def _call_http(self, name: str, call: HTTPCall) -> ToolResult:
        import httpx

        if self._resources.http_client is None:
            self._resources.http_client = httpx.Client(
                transport=httpx.HTTPTransport(uds=str(self.socket_path)),
                base_url="http://apiserver",
                timeout=self.tool_timeout,
            )
        headers = dict(call.headers)
        if call.body is not None:
            headers["content-type"] = "application/json"
        try:
            response = self._resources.http_client.request(call.method, call.target, content=call.body, headers=headers)
        except httpx.TimeoutException:
            self._drop_server()
            return ToolResult(f"Error calling {name}: the request timed out after {self.tool_timeout:g} s", "timeout")
        except httpx.TransportError:
            self._drop_server()
            return ToolResult(
                f"Error calling {name}: the server process crashed; it is restarted on the next call", "server_crash"
            )
        return self._result(name, response.status_code, response.content)

    @staticmethod
    def _result(name: str, status: int, body: bytes) -> ToolResult:
        text, is_error = render_response(name, status, body)
        if not is_error:
            return ToolResult(text, None, status)
        return ToolResult(text, "invalid_arguments" if status == 422 else "http_error", status)

    # -------------------------------------------------------------------------------------- databases

    def snapshot(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``initial.db`` (the template) and ``final.db`` (the live database now) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        initial, final = directory / "initial.db", directory / "final.db"
        for path in (initial, final):
            path.unlink(missing_ok=True)
        initial.write_bytes(self.initial_database)
        with self._lock:
            snapshot_database(self.database_path, final)
        return initial, final

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log (its stdout and stderr)."""
        return read_log_tail(self.log_path, lines)
