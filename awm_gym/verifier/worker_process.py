"""The verifier worker, as a child process: pre-imported once, it forks one sandboxed child per verification.

Started by :mod:`awm_gym.verifier.runner` as ``python -m awm_gym.verifier.worker_process CONTROL_FD``. Each
``connect`` message on the control socket brings a stream socket for one env; each request frame on it is a
verification job. Every job runs in its own forked child, so verifier code never runs in a process that
outlives it; the worker waits for its result with a wall-clock deadline. To keep the fork (about 1.5 ms for
this process) off the job's path, one child is forked ahead of time while the worker is idle, and the
answer goes back as soon as the child has written its result line, before the child has finished exiting.

A job child, before running dataset code:

- moves into the job's directory, which holds the *copies* of the initial and final databases it may read,
  and sends its stdout/stderr to a log there (so a ``print`` cannot corrupt the result, which travels on a
  separate pipe);
- sets resource limits: CPU seconds, address space, file size, open files, processes, no core dumps;
- installs an audit hook (:func:`sys.addaudithook`, which cannot be removed) that refuses sockets,
  subprocesses, signals, ``ctypes``, writes outside the job directory and SQLite connections to any other
  file; connections from ``sqlite3.connect`` may attach no other database (``SQLITE_LIMIT_ATTACHED`` is 0).

This is defence in depth, not a security boundary against hostile native code: the process boundary, the
limits and the database copies are what keep the environment's own files and processes safe.
"""

from __future__ import annotations

# collections, datetime, decimal, math, re and statistics are what verifier code commonly imports: loaded once
# here, so every forked job starts warm.
import builtins
import collections  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import functools
import gc
import inspect
import json
import math  # noqa: F401
import os
import re  # noqa: F401
import resource
import selectors
import signal
import socket
import sqlite3
import statistics  # noqa: F401
import sys
import time
import traceback
from typing import Any

from awm_gym.host import wire

_MEMORY_LIMIT = 1024 * 1024 * 1024
_FILE_SIZE_LIMIT = 64 * 1024 * 1024
_OPEN_FILES_LIMIT = 64
_MAX_RESULT = 256 * 1024

_BLOCKED_EVENT_PREFIXES = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "os.setuid",
    "ctypes.",
    "pty.",
    "webbrowser.",
)
_PATH_EVENTS = {  # event -> which arguments are paths that must stay inside the job directory
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.link": (0, 1),
    "os.symlink": (0, 1),
    "os.mkdir": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.move": (1,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _inside(path: Any, root: str) -> bool:
    if isinstance(path, int):  # an already open descriptor
        return True
    try:
        real = _realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


@functools.lru_cache(maxsize=256)
def _realpath(path: str) -> str:
    # Verifiers open the same two databases again and again; the job's process ends with the job.
    return os.path.realpath(path)


def _sqlite_target(database: Any) -> str:
    name = os.fsdecode(database) if isinstance(database, str | bytes | os.PathLike) else str(database)
    if name.startswith("file:"):
        name = name[len("file:") :].split("?", 1)[0]
        name = name[2:] if name.startswith("//") else name
    return name


def _install_guard(root: str) -> None:
    def guard(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(_BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"verifier sandbox: {event} is not allowed")
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & _WRITE_FLAGS)
            if writing and not _inside(path, root):
                raise PermissionError(f"verifier sandbox: writing {path!r} is not allowed")
        elif event == "sqlite3.connect":
            target = _sqlite_target(args[0])
            if target not in ("", ":memory:") and not _inside(target, root):
                raise PermissionError(f"verifier sandbox: opening database {target!r} is not allowed")
        elif event in _PATH_EVENTS:
            for index in _PATH_EVENTS[event]:
                if index < len(args) and not _inside(args[index], root):
                    raise PermissionError(f"verifier sandbox: {event} on {args[index]!r} is not allowed")

    sys.addaudithook(guard)
    connect = sqlite3.connect

    def connect_without_attach(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        # No ATTACH, at no cost per statement (an authorizer callback would run for every column read).
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        return connection

    sqlite3.connect = connect_without_attach  # type: ignore[assignment]


def _limit_resources(cpu_seconds: int) -> None:
    limits = (
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_AS, _MEMORY_LIMIT),
        (resource.RLIMIT_FSIZE, _FILE_SIZE_LIMIT),
        (resource.RLIMIT_NOFILE, _OPEN_FILES_LIMIT),
        (resource.RLIMIT_NPROC, 0),
        (resource.RLIMIT_CORE, 0),
    )
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # a hard limit already lower, or not permitted here
            pass


def _call(function: Any, initial: str, final: str, answer: str) -> Any:
    """AWM's argument rule: by keyword for the known names, else positionally when there are at least two."""
    params = inspect.signature(function).parameters
    known = {"initial_db_path": initial, "final_db_path": final, "final_answer": answer}
    if any(name in params for name in known):
        return function(**{name: value for name, value in known.items() if name in params})
    positional = [
        p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(params) >= 2:
        return function(*(initial, final, answer)[: max(2, len(positional))])
    raise TypeError(f"cannot pass the databases to {function.__name__}{inspect.signature(function)}")


def _run_job(job: dict[str, Any], result_fd: int) -> None:
    """In the forked child: sandbox, run the verifier, write one JSON result to ``result_fd``."""
    # A collection would write to every inherited object and copy each page the worker shares with this
    # short-lived child; the address-space limit bounds what it may allocate instead.
    gc.disable()
    root = os.path.realpath(job["workdir"])
    os.chdir(root)
    log = os.open(os.path.join(root, "verifier.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    _limit_resources(int(job["timeout"]) + 1)
    _install_guard(root)
    try:
        namespace: dict[str, Any] = {"__name__": "verifier", "__builtins__": builtins}
        exec(compile(job["code"], "<verifier>", "exec"), namespace)  # noqa: S102 - running it is the point
        function = namespace.get(job["function"])
        if not callable(function):
            raise NameError(f"the verifier code defines no function {job['function']!r}")
        value = _call(function, job["initial_db"], job["final_db"], job["final_answer"] or "")
        payload = {"status": "ok", "value": value}
        data = json.dumps(payload, default=repr)
        if len(data) > _MAX_RESULT:
            data = json.dumps({"status": "ok", "value": repr(value)[:_MAX_RESULT]})
    except BaseException as exc:  # noqa: BLE001 - anything the dataset code does is reported, not raised
        data = json.dumps(
            {
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}"[:2000],
                "traceback": traceback.format_exc()[-4000:],
            }
        )
    sys.stdout.flush()
    os.write(result_fd, data.encode() + b"\n")  # the newline tells the worker the result is complete


class _Child:
    """A forked child that waits for one job on a pipe (forked ahead of time, so no fork is on the job's path)."""

    def __init__(self) -> None:
        job_read, self.job_write = os.pipe()
        self.result_read, result_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.job_write)
                os.close(self.result_read)
                with os.fdopen(job_read, "rb") as handle:
                    job = json.loads(handle.read())
                _run_job(job, result_write)
            finally:
                os._exit(0)
        os.close(job_read)
        os.close(result_write)


class _Job:
    """One verification in flight: a child running it, the env waiting for the answer, a deadline."""

    def __init__(self, conn: socket.socket, job: dict[str, Any], child: _Child) -> None:
        self.conn = conn
        self.started = time.monotonic()
        self.deadline = self.started + float(job["timeout"])
        self.workdir = job["workdir"]
        self.child = child
        self.read_fd = child.result_read
        self.chunks: list[bytes] = []
        self.answered = False
        with os.fdopen(child.job_write, "wb") as handle:
            handle.write(json.dumps(job).encode())

    def reply(self, outcome: dict[str, Any]) -> None:
        self.answered = True
        outcome["elapsed_s"] = round(time.monotonic() - self.started, 6)
        try:
            with open(os.path.join(self.workdir, "verifier.log"), errors="replace") as handle:
                outcome["output"] = handle.read()[-2000:]
        except OSError:
            outcome["output"] = ""
        try:
            wire.send_frame(self.conn, outcome)
        except OSError:  # the env went away; nothing to tell
            pass

    def feed(self, chunk: bytes) -> None:
        """Collect result bytes; answer as soon as the result line is complete (before the child exits)."""
        self.chunks.append(chunk)
        if not self.answered and chunk.endswith(b"\n"):
            self.reply(json.loads(b"".join(self.chunks)))

    def finish(self) -> None:
        """The child closed its result pipe: reap it, and report a death that left no result."""
        os.close(self.read_fd)
        _, status = os.waitpid(self.child.pid, 0)
        if self.answered:
            return
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            self.reply({"status": "error", "error": f"the verifier process was killed by {name} (a resource limit?)"})
        else:
            code = os.waitstatus_to_exitcode(status)
            self.reply({"status": "error", "error": f"the verifier exited with status {code} before answering"})

    def kill(self) -> None:
        os.kill(self.child.pid, signal.SIGKILL)
        os.close(self.read_fd)
        os.waitpid(self.child.pid, 0)
        if not self.answered:
            self.reply({"status": "timeout", "error": f"no result within {self.deadline - self.started:g} s"})


def main(control_fd: int) -> int:
    """Serve verification jobs until the control socket closes."""
    gc.collect()
    gc.freeze()  # forked jobs then share the worker's objects instead of copying them on the first collection
    control = socket.socket(fileno=control_fd)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    jobs: dict[int, _Job] = {}
    spare: _Child | None = None
    while True:
        if spare is None:
            spare = _Child()  # while idle, so the next job finds a child ready
        now = time.monotonic()
        timeout = max(0.0, min((job.deadline for job in jobs.values()), default=now + 60) - now)
        for key, _ in selector.select(timeout):
            if key.data == "control":
                message, fds = wire.recv_message(control)
                if message is None:  # the env process is gone: stop everything
                    for job in list(jobs.values()):
                        job.kill()
                    os.kill(spare.pid, signal.SIGKILL)
                    return 0
                for fd in fds:
                    conn = socket.socket(fileno=fd)
                    selector.register(conn, selectors.EVENT_READ, "conn")
            elif key.data == "conn":
                conn = key.fileobj
                try:
                    job_request, _ = wire.recv_frame(conn)  # type: ignore[arg-type]
                except (OSError, ValueError):
                    selector.unregister(conn)
                    conn.close()  # type: ignore[union-attr]
                    continue
                child, spare = spare or _Child(), None
                job = _Job(conn, job_request, child)  # type: ignore[arg-type]
                jobs[job.read_fd] = job
                selector.register(job.read_fd, selectors.EVENT_READ, "job")
            else:
                job = jobs[key.fd]
                chunk = os.read(key.fd, 65536)
                if chunk:
                    job.feed(chunk)
                    continue
                selector.unregister(key.fd)
                del jobs[key.fd]
                job.finish()
        now = time.monotonic()
        for fd, job in list(jobs.items()):
            if now >= job.deadline:
                selector.unregister(fd)
                del jobs[fd]
                job.kill()


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
