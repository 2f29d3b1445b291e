"""Per-scenario zygotes: one long-lived process per scenario that has built the app and forks servers.

Building a scenario's app means importing the web stack (about 0.4 s in a fresh interpreter) and running the
scenario's module (about 0.1 s); forking a ready server from the zygote costs a few milliseconds. So the first
env of a scenario in this process starts a zygote, and every env instance after that only forks (see
:mod:`awm_gym.host.server_process`). Zygotes are themselves forked from the root process
(:mod:`awm_gym.host.root`), which has imported the web stack once, so a new scenario costs only its own module;
``AWM_GYM_ZYGOTE_ROOT=0`` starts each zygote as a fresh interpreter instead. The app's OpenAPI document (the
tool catalog's source) is cached on disk by a digest of the code and the web stack's versions
(:func:`openapi_cache_path`), so only the first zygote of a scenario's code ever computes it.

The pool is bounded. A zygote with a live env is never evicted; among idle ones (no live env), least recently
used first, zygotes are closed while any of these limits is exceeded:

- ``AWM_GYM_MAX_IDLE_ZYGOTES`` (default 8) idle zygotes;
- ``AWM_GYM_MAX_ZYGOTES`` (default 64) zygotes in all;
- ``AWM_GYM_MAX_ZYGOTE_MEMORY_MB`` (default 2048) MiB of zygote memory in all, counted as USS (the memory
  closing them gives back), measured from ``/proc`` when a zygote starts and whenever it becomes idle.

Each zygote runs in its own session and process group, is killed with its servers at exit, and exits with them
by itself if this process dies (its control socket closes). One that crashed, stopped (SIGSTOP) or stopped
answering is detected (liveness via ``/proc``, answers with a timeout) and replaced.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from awm_gym.catalog import Scenario
from awm_gym.errors import SubEnvStartError
from awm_gym.host import wire
from awm_gym.host.process import (
    ChildProcess,
    MemoryUsage,
    cache_dir,
    child_environment,
    memory_usage,
    read_log_tail,
    remove_stale_runtime_dirs,
    runtime_dir,
)
from awm_gym.host.root import fork_zygote, root_enabled, root_pid, shutdown_root, wait_for_message
from awm_gym.host.tools import ToolCatalog

__all__ = [
    "MAX_IDLE_ZYGOTES",
    "MAX_ZYGOTES",
    "MAX_ZYGOTE_MEMORY",
    "START_TIMEOUT",
    "Zygote",
    "acquire_zygote",
    "child_environment",
    "openapi_cache_path",
    "read_log_tail",
    "release_zygote",
    "runtime_dir",
    "shutdown_zygotes",
    "zygote_stats",
]

START_TIMEOUT = float(os.environ.get("AWM_GYM_START_TIMEOUT", "60"))
MAX_IDLE_ZYGOTES = int(os.environ.get("AWM_GYM_MAX_IDLE_ZYGOTES", "8"))
MAX_ZYGOTES = int(os.environ.get("AWM_GYM_MAX_ZYGOTES", "64"))
MAX_ZYGOTE_MEMORY = int(float(os.environ.get("AWM_GYM_MAX_ZYGOTE_MEMORY_MB", "2048")) * 2**20)

_remove_stale_runtime_dirs = remove_stale_runtime_dirs  # the name tests/host/test_lifecycle.py imports


_OPENAPI_CACHE_FORMAT = "1"  # bump when what write_openapi produces changes for the same code and packages


@functools.cache
def _web_stack_versions() -> str:
    """Python and the web stack's package versions: the OpenAPI of the same code may change with them."""
    from importlib.metadata import PackageNotFoundError, version

    versions = [sys.version, _OPENAPI_CACHE_FORMAT]
    for package in ("fastapi", "starlette", "pydantic", "pydantic-core", "sqlalchemy"):
        try:
            versions.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package}=-")
    return "\0".join(versions)


def openapi_cache_path(full_code: str) -> Path | None:
    """Where the OpenAPI document of ``full_code`` is cached (``None`` when ``AWM_GYM_OPENAPI_CACHE=0``).

    The document depends on the code and the web stack only (not on the data), so the key is a digest of
    both: every zygote of that code after the first, in this process or any other (a vector env's workers,
    a later run), takes the document from here instead of computing it. The directory is
    ``AWM_GYM_CACHE_DIR/openapi`` (default ``~/.cache/awm_gym/openapi``).
    """
    if os.environ.get("AWM_GYM_OPENAPI_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    digest = hashlib.sha256(_web_stack_versions().encode())
    digest.update(b"\0" + full_code.encode())
    return cache_dir() / "openapi" / f"{digest.hexdigest()[:32]}.json"


def _copy_if_present(source: Path | None, destination: Path) -> dict[str, Any] | None:
    """Copy a cached document into a zygote's directory; the document, if there was a valid one."""
    if source is None:
        return None
    try:
        text = source.read_text(encoding="utf-8")
        document = json.loads(text)  # a damaged entry is recomputed (and rewritten), never served
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    destination.write_text(text, encoding="utf-8")
    return document


def _store(path: Path, text: str) -> None:
    """Write a computed document to the cache atomically (a read-only cache is fine: it was computed)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass


class Zygote:
    """A started zygote for one scenario: its tools, its episode template and a ``spawn`` call."""

    def __init__(self, scenario: Scenario, template: bytes) -> None:
        self.scenario = scenario
        self.workdir = Path(tempfile.mkdtemp(prefix=f"zygote-{scenario.name[:32]}-", dir=runtime_dir()))
        self.log_path = self.workdir / "zygote.log"
        (self.workdir / "app.py").write_text(scenario.full_code, encoding="utf-8")
        (self.workdir / "server_template.db").write_bytes(template)
        self._openapi_cache = openapi_cache_path(scenario.full_code)
        cached = _copy_if_present(self._openapi_cache, self.workdir / "openapi.json")
        self.openapi_cached = cached is not None
        self._lock = threading.Lock()
        self.live_hosts = 0
        self.broken = False
        self.memory: MemoryUsage | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        contract = {
            "DATABASE_PATH": f"sqlite:///{self.workdir / 'server_template.db'}",
            "HOST": "127.0.0.1",
            "PORT": "8000",
            "AWM_GYM_WARM_UP": os.environ.get("AWM_GYM_WARM_UP", "1"),  # read per zygote, not once by the root
        }
        try:
            if root_enabled():
                pid, self._control = fork_zygote(
                    workdir=self.workdir, log_path=self.log_path, env=contract, start_timeout=START_TIMEOUT
                )
            else:
                pid, self._control = self._start_interpreter(contract)
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.process = ChildProcess(pid)
        try:
            if cached is not None:  # the catalog is built here while the zygote runs the code, off its path
                self.openapi, self.tools = cached, ToolCatalog.from_openapi(cached)
            # Two messages: the OpenAPI and template are final (read them while the zygote warms up), then ready.
            ready, why = wait_for_message(self._control, self.process, START_TIMEOUT)
            if ready is not None and ready.get("op") == "openapi":  # a failed build skips straight to the error
                self._read_app_files()
                ready, why = wait_for_message(self._control, self.process, START_TIMEOUT)
        except BaseException:  # Ctrl-C while the app builds: do not leave the process behind
            self.close()
            raise
        if not ready or not ready.get("ok"):
            self.close()
            error = (ready or {}).get("error") or f"the zygote {why} before reporting ready"
            raise SubEnvStartError(
                f"scenario {scenario.name!r}: its server code could not be started.\n{error}\n"
                f"--- zygote log ({self.log_path}) ---\n{read_log_tail(self.log_path)}"
            )
        self.pid = int(ready["pid"])  # type: ignore[call-overload]
        self.measure()

    def _read_app_files(self) -> None:
        if not self.openapi_cached:
            text = (self.workdir / "openapi.json").read_text()
            self.openapi = json.loads(text)
            self.tools = ToolCatalog.from_openapi(self.openapi)
            if self._openapi_cache is not None:
                _store(self._openapi_cache, text)
        # What the database looks like after the app's own import-time setup (create_all): episodes start here.
        self.episode_template = (self.workdir / "server_template.db").read_bytes()

    def _start_interpreter(self, contract: dict[str, str]) -> tuple[int, socket.socket]:
        control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with open(self.log_path, "ab") as log:
                self._popen = subprocess.Popen(
                    [sys.executable, "-m", "awm_gym.host.server_process", str(child_end.fileno()), str(self.workdir)],
                    pass_fds=[child_end.fileno()],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.workdir,
                    env=child_environment(**contract),
                    start_new_session=True,
                )
        except BaseException:
            control.close()
            raise
        finally:
            child_end.close()
        return self._popen.pid, control

    @property
    def alive(self) -> bool:
        """Whether the zygote can serve: running, not stopped, and it has not failed a request."""
        return not self.broken and self.process.alive

    def measure(self) -> MemoryUsage | None:
        """Read the zygote's USS and PSS now (kept in ``memory`` for the pool's memory cap)."""
        self.memory = memory_usage(self.process.pid) or self.memory
        return self.memory

    def spawn(
        self,
        channel: socket.socket,
        listener: socket.socket,
        *,
        db_path: Path,
        log_path: Path,
        workdir: Path,
        timeout: float = START_TIMEOUT,
    ) -> int:
        """Fork a server owning ``channel`` and ``listener``; returns its pid.

        Args:
            channel: The env's private socket to the server.
            listener: The bound, listening Unix socket for the server's HTTP.
            db_path: The episode database the server serves.
            log_path: Where the server's output goes.
            workdir: The server's working directory.
            timeout: Seconds to wait for the zygote's answer (it answers in milliseconds; a stopped or
                wedged zygote is given up on after this).

        Raises:
            SubEnvStartError: The zygote is gone, stopped, silent or refused; it is marked broken, so the pool
                replaces it.
        """
        message = {"op": "spawn", "db_path": str(db_path), "log_path": str(log_path), "workdir": str(workdir)}
        with self._lock:
            try:
                wire.send_message(self._control, message, [channel.fileno(), listener.fileno()])
                reply, why = wait_for_message(self._control, self.process, timeout)
            except OSError as exc:
                reply, why = None, f"{type(exc).__name__}: {exc}"
        if not reply or not reply.get("ok"):
            self.broken = True
            raise SubEnvStartError(
                f"scenario {self.scenario.name!r}: the zygote could not fork a server "
                f"({(reply or {}).get('error') or why}); log: {self.log_path}"
            )
        return int(reply["pid"])  # type: ignore[call-overload]

    def close(self) -> None:
        """Kill the zygote and every server it forked (they share its process group), without waiting.

        Its parent reaps it: the root, or (started as an interpreter) this process, right here.
        """
        self.process.kill(group=True, wait=0)
        if self._popen is not None:
            self._popen.wait()
        self._control.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class _ZygotePool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zygotes: OrderedDict[tuple[str, str], Zygote] = OrderedDict()  # least recently used first
        self._starting: dict[tuple[str, str], threading.Lock] = {}
        self._retired: set[Zygote] = set()  # replaced while envs still used them

    def acquire(self, scenario: Scenario, template: bytes) -> Zygote:
        key = (scenario.name, scenario.fingerprint)
        with self._lock:
            start_lock = self._starting.setdefault(key, threading.Lock())
        with start_lock:  # one thread starts a scenario's zygote; the others wait for it
            with self._lock:
                zygote, stale = self._zygotes.get(key), None
                if zygote is not None and not zygote.alive:
                    del self._zygotes[key]
                    zygote, stale = None, zygote
                    if stale.live_hosts > 0:  # its servers still serve their envs: closed at its last release
                        self._retired.add(stale)
                        stale = None
            if stale is not None:
                stale.close()
            if zygote is None:
                zygote = Zygote(scenario, template)
            with self._lock:
                self._zygotes[key] = zygote
                self._zygotes.move_to_end(key)
                zygote.live_hosts += 1
        self._evict()
        return zygote

    def release(self, zygote: Zygote) -> None:
        with self._lock:
            zygote.live_hosts -= 1
            idle = zygote.live_hosts <= 0
            key = (zygote.scenario.name, zygote.scenario.fingerprint)
            pooled = self._zygotes.get(key) is zygote
            if pooled:
                self._zygotes.move_to_end(key)
                if idle and not zygote.alive:  # crashed or stopped: nobody needs it any more
                    del self._zygotes[key]
                    pooled = False
            elif idle:
                self._retired.discard(zygote)
        if idle and not pooled:
            zygote.close()
            return
        if idle:
            zygote.measure()  # its servers' forks may have grown it; the memory cap counts what it holds now
        self._evict()

    def _evict(self) -> None:
        with self._lock:
            evicted = []
            idle = [key for key, z in self._zygotes.items() if z.live_hosts <= 0]
            total = sum(z.memory.uss for z in self._zygotes.values() if z.memory is not None)
            for key in idle:
                over = len(idle) - len(evicted) > MAX_IDLE_ZYGOTES or len(self._zygotes) > MAX_ZYGOTES
                if not over and total <= MAX_ZYGOTE_MEMORY:
                    break
                zygote = self._zygotes.pop(key)
                total -= zygote.memory.uss if zygote.memory is not None else 0
                evicted.append(zygote)
        for old in evicted:
            old.close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            zygotes = list(self._zygotes.values())
        usage = [z.measure() for z in zygotes]
        root = root_pid()
        root_usage = memory_usage(root) if root is not None else None
        return {
            "live": len(zygotes),
            "idle": sum(1 for z in zygotes if z.live_hosts <= 0),
            "uss_bytes": sum(u.uss for u in usage if u is not None),
            "pss_bytes": sum(u.pss for u in usage if u is not None),
            "root_pid": root,
            "root_uss_bytes": root_usage.uss if root_usage else 0,
            "root_pss_bytes": root_usage.pss if root_usage else 0,
        }

    def shutdown(self) -> None:
        with self._lock:
            zygotes = [*self._zygotes.values(), *self._retired]
            self._zygotes.clear()
            self._retired.clear()
        for zygote in zygotes:
            zygote.close()
        shutdown_root()


_pool = _ZygotePool()
acquire_zygote = _pool.acquire
release_zygote = _pool.release
atexit.register(_pool.shutdown)


def shutdown_zygotes() -> None:
    """Kill every zygote (and its servers) and the root process; the next env starts fresh ones."""
    _pool.shutdown()


def zygote_stats() -> dict[str, Any]:
    """The zygote pool now, with memory read from ``/proc`` at this call.

    Returns:
        ``live`` and ``idle`` zygote counts, their summed ``uss_bytes`` and ``pss_bytes``, and the root
        process's ``root_pid``, ``root_uss_bytes`` and ``root_pss_bytes``.
    """
    return _pool.stats()
