"""The verifier worker, as a child process: pre-imported once, it runs each verification in a fresh sandbox.

Started by :mod:`awm_gym.verifier.runner` as ``python -m awm_gym.verifier.worker_process CONTROL_FD LEVEL
RUNTIME_DIR`` with a scrubbed environment. At start it builds one sandbox at the strongest level it can (``LEVEL`` is
``auto`` or a level name; see :mod:`awm_gym.verifier.sandbox`) and says which in a ``hello`` message on
the control socket. Each ``connect`` message brings a stream socket for one env; each request frame on it
is a verification job; ``ping`` is answered with ``pong`` (the runner's health check).

Two sandboxed processes are kept prepared ahead of time, built asynchronously while the worker serves (fork,
namespaces, filesystem, credentials, seccomp: all off the job's path); a job only hard-links its two database
copies into a ready sandbox's ``/job`` and writes the job to it (more jobs at once than ready sandboxes get
one built for them). The job process:

- holds no descriptor but its job pipe, its own result pipe and its own output buffer (a memfd that
  stdout and stderr go to, read back by the worker: there is no shared file to replace);
- sets resource limits (CPU seconds, address space, file size, open files, processes, no core dumps);
- installs an audit hook refusing sockets, subprocesses, signals, ``ctypes`` and writes outside its
  scratch directory: defence in depth only, the kernel sandbox is the boundary;
- writes one length-prefixed JSON result; the worker reads at most ``_MAX_RESULT`` bytes of it, then
  SIGKILLs the job's PID 1 (the kernel kills its whole namespace) before it answers, and collects the
  remains after answering (the kernel's teardown takes milliseconds on a busy machine).

So nothing a verification started runs once its answer is out, and nothing one job does reaches another.
"""

from __future__ import annotations

# collections, datetime, decimal, math, re and statistics are what verifier code commonly imports: loaded once
# here, so every job starts warm (and needs no file access to import them).
import builtins
import collections  # noqa: F401
import ctypes
import datetime  # noqa: F401
import decimal  # noqa: F401
import errno
import fcntl
import gc
import inspect
import json
import math
import os
import re  # noqa: F401
import resource
import select
import selectors
import shutil
import signal
import socket
import sqlite3  # noqa: F401
import statistics  # noqa: F401
import struct
import sys
import tempfile
import time
import traceback
from typing import Any

from awm_gym.host import wire
from awm_gym.verifier import sandbox
from awm_gym.verifier.sandbox import IsolationLevel

_MEMORY_LIMIT = 1024 * 1024 * 1024  # address space of one job
_WORKER_MEMORY_LIMIT = 4 * 1024 * 1024 * 1024  # address space of the worker itself
_FILE_SIZE_LIMIT = 64 * 1024 * 1024
_OPEN_FILES_LIMIT = 64
_MAX_RESULT = 256 * 1024  # bytes of a job's result frame; more is an error, never buffered
_MAX_NESTING = 100  # lists and dicts in a result value; verdicts are a few levels deep
_MAX_JOB = 64 * 1024 * 1024
_OUTPUT_TAIL = 2000
_SETUP_TIMEOUT = 10.0
_SPARES = 2  # sandboxes kept built (or building) ahead of the next jobs
_MAX_PIPE = 1024 * 1024
_LENGTH = struct.Struct("!I")
_PR_SET_CHILD_SUBREAPER = 36

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
_PATH_EVENTS = {  # event -> which arguments are paths that must stay inside the scratch directory
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


def _install_guard(root: str) -> None:
    """Defence in depth: an audit hook that needs nothing from module globals (which job code could rebind)."""
    realpath, fsdecode, sep = os.path.realpath, os.fsdecode, os.sep

    def inside(path: Any) -> bool:
        if isinstance(path, int):
            return True
        try:
            real = realpath(fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real == root or real.startswith(root + sep)

    def guard(
        event: str,
        args: tuple[Any, ...],
        blocked: tuple[str, ...] = _BLOCKED_EVENT_PREFIXES,
        path_events: dict[str, tuple[int, ...]] = dict(_PATH_EVENTS),  # noqa: B006, B008 - a private copy
        write_flags: int = _WRITE_FLAGS,
    ) -> None:
        if event.startswith(blocked):
            raise PermissionError(f"verifier sandbox: {event} is not allowed")
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & write_flags)
            if writing and not inside(path):
                raise PermissionError(f"verifier sandbox: writing {path!r} is not allowed")
        elif event in path_events:
            for index in path_events[event]:
                if index < len(args) and not inside(args[index]):
                    raise PermissionError(f"verifier sandbox: {event} on {args[index]!r} is not allowed")

    sys.addaudithook(guard)


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


def _read_to_end(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ValueError(f"more than {limit} bytes")
    return b"".join(chunks)


def _run_job(job: dict[str, Any], result_fd: int, scratch: str, job_dir: str) -> None:
    """In the sandboxed job process: limits, guard, run the verifier, write one framed JSON result."""
    # A collection would write to every inherited object and copy each page the worker shares with this
    # short-lived process; the address-space limit bounds what it may allocate instead.
    gc.disable()
    sandbox.set_limits(
        cpu_seconds=int(job["timeout"]) + 1,
        memory=_MEMORY_LIMIT,
        file_size=_FILE_SIZE_LIMIT,
        open_files=_OPEN_FILES_LIMIT,
    )
    _install_guard(scratch)
    try:
        namespace: dict[str, Any] = {"__name__": "verifier", "__builtins__": builtins}
        exec(compile(job["code"], "<verifier>", "exec"), namespace)  # noqa: S102 - running it is the point
        function = namespace.get(job["function"])
        if not callable(function):
            raise NameError(f"the verifier code defines no function {job['function']!r}")
        initial, final = os.path.join(job_dir, "initial.db"), os.path.join(job_dir, "final.db")
        value = _call(function, initial, final, job["final_answer"] or "")
        data = json.dumps({"status": "ok", "value": value}, default=repr)
        if len(data) > _MAX_RESULT - 64 and isinstance(value, dict):  # keep the verdict: cut the long fields
            value = {
                str(k): v if len(json.dumps(v, default=repr)) <= 1000 else f"{repr(v)[:1000]} [... cut]"
                for k, v in value.items()
            }
            data = json.dumps({"status": "ok", "value": value}, default=repr)
        if len(data) > _MAX_RESULT - 64:
            data = json.dumps({"status": "ok", "value": repr(value)[: _MAX_RESULT // 2]})
    except BaseException as exc:  # noqa: BLE001 - anything the dataset code does is reported, not raised
        data = json.dumps(
            {
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}"[:2000],
                "traceback": traceback.format_exc()[-4000:],
            }
        )
    sys.stdout.flush()
    sys.stderr.flush()
    payload = data.encode()
    os.write(result_fd, _LENGTH.pack(len(payload)) + payload)


def _close_fds_except(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep):
        if low < fd:  # closerange(n, n) is not a no-op: it closes everything from n up
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _job_process(
    level: IsolationLevel, slot: str, sandbox_root: str, job_read: int, result_write: int, output: int
) -> None:
    """The forked child: build the sandbox, report ready, run one job. Never returns."""
    status = 0
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        sync_read, sync_write = os.pipe()
        _close_fds_except({0, 1, 2, job_read, result_write, sync_read, sync_write})
        timezone = os.environ.get("TZ")
        os.environ.clear()
        if level is IsolationLevel.NAMESPACES:
            sandbox.unshare_namespaces()
            pid = os.fork()
            if pid:  # the first child: tell the worker who runs the job, then leave it to the worker (subreaper)
                os.write(result_write, _LENGTH.pack(pid))
                os._exit(0)
            os.close(sync_write)
            sandbox.enter_namespaces(sandbox_root, slot)
            os.read(sync_read, 1)  # EOF once the first child is gone, so the worker now is our parent
            scratch, job_dir = sandbox.SCRATCH_DIR, sandbox.JOB_DIR
        else:
            os.close(sync_write)
            os.setpgid(0, 0)  # the worker kills the group
            os.write(result_write, _LENGTH.pack(os.getpid()))
            scratch, job_dir = os.path.join(slot, "scratch"), slot
            os.mkdir(scratch, 0o700)
            if os.getuid() == 0 and level is IsolationLevel.SECCOMP:
                os.chown(scratch, sandbox.UNPRIVILEGED_ID, sandbox.UNPRIVILEGED_ID)
            os.chdir(scratch)
        os.close(sync_read)
        os.environ.update({"HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8"})
        if timezone:
            os.environ["TZ"] = timezone
        if level is not IsolationLevel.NONE:
            sandbox.drop_privileges()
            sandbox.load_seccomp()
        os.write(result_write, b"R")
        job = json.loads(_read_to_end(job_read, _MAX_JOB))
        os.close(job_read)
        _run_job(job, result_write, scratch, job_dir)
    except BaseException as exc:  # noqa: BLE001 - the setup failed: tell the worker why
        try:
            os.write(result_write, b"E" + f"{type(exc).__name__}: {exc}".encode()[:2000])
        except OSError:
            pass
        status = 1
    finally:
        os._exit(status)


def _nesting(value: Any) -> int:
    """How deeply lists and dicts nest in a parsed JSON value (counted without recursion: it may be deep)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _finite_or_text(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


def _parse_result(frame: bytes) -> dict[str, Any]:
    """The outcome a job's result frame carries, rebuilt from its known fields (the frame is the job's to forge).

    A value nested deeper than ``_MAX_NESTING`` is refused: parsing or printing it would exhaust the recursion
    limit of the worker or of the env process. ``NaN`` and infinities become strings (``"NaN"``, ``"1e999"``):
    strict JSON encoders (the server's responses, loggers) refuse them.
    """
    try:
        outcome = json.loads(frame, parse_constant=str, parse_float=_finite_or_text)
    except (ValueError, RecursionError):
        outcome = None
    if not isinstance(outcome, dict) or outcome.get("status") not in ("ok", "error"):
        return {"status": "error", "error": "the verifier's result channel carried no valid result"}
    if outcome["status"] == "error":
        return {
            "status": "error",
            "error": str(outcome.get("error", "unknown failure"))[:2000],
            "traceback": str(outcome.get("traceback", ""))[-4000:],
        }
    if _nesting(outcome.get("value")) > _MAX_NESTING:
        return {"status": "error", "error": f"the verifier's result nests deeper than {_MAX_NESTING} levels"}
    return {"status": "ok", "value": outcome.get("value")}


class _Sandbox:
    """A job process forked ahead of time; its pipe carries a prelude (its pid, then ready) and later the result."""

    def __init__(self, level: IsolationLevel, slots: str, sandbox_root: str) -> None:
        self.level = level
        self.created = time.monotonic()
        self.slot = tempfile.mkdtemp(prefix="job-", dir=slots)
        os.chmod(self.slot, 0o755)
        job_read, self.job_write = os.pipe()
        self.result_read, result_write = os.pipe()
        try:
            fcntl.fcntl(self.job_write, fcntl.F_SETPIPE_SZ, _MAX_PIPE)  # most jobs then never block the worker
        except OSError:
            pass
        self.output = os.memfd_create("verifier-output")
        self.pid = 0
        self.ready = False
        self.failure: str | None = None
        self.buffer = bytearray()
        self._forked = os.fork()
        if self._forked == 0:
            _job_process(level, self.slot, sandbox_root, job_read, result_write, self.output)
        os.close(job_read)
        os.close(result_write)
        os.set_blocking(self.result_read, False)  # the worker never blocks on a sandbox

    def read(self) -> None:
        """Take what the pipe holds (never more than a result may be); sets pid, ready, failure, buffer."""
        try:
            chunk = os.read(self.result_read, max(1, min(65536, _MAX_RESULT + _LENGTH.size + 1 - len(self.buffer))))
        except BlockingIOError:  # a stale readiness event: nothing to read yet
            return
        if self.ready:
            self.buffer += chunk
            if not chunk:
                self.closed = True
            return
        self.buffer += chunk
        if not self.pid and len(self.buffer) >= _LENGTH.size and not self.buffer.startswith(b"E"):
            self.pid = _LENGTH.unpack_from(self.buffer)[0]  # a pid's first byte is never "E"
            del self.buffer[: _LENGTH.size]
            if self.pid != self._forked:
                os.waitpid(self._forked, 0)  # the namespace's first child exits at once; the job process is ours
                self._forked = 0  # collected: its pid may be reused
        if self.pid and self.buffer[:1] == b"R":
            self.ready = True
            del self.buffer[:1]
        elif not chunk:
            detail = self.buffer[1:] if self.buffer[:1] == b"E" else b"it exited"
            self.failure = f"the {self.level.value} sandbox could not be built: {detail.decode(errors='replace')}"

    closed = False

    def wait_ready(self, timeout: float) -> None:
        """Block until ready (used once, to choose the level at start).

        Raises:
            OSError: The sandbox could not be built.
            TimeoutError: It was not ready in time.
        """
        deadline = time.monotonic() + timeout
        while not self.ready and self.failure is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.result_read], [], [], remaining)[0]:
                raise TimeoutError(f"the {self.level.value} sandbox was not ready within {timeout:g} s")
            self.read()
        if self.failure is not None:
            raise OSError(self.failure)

    def result(self) -> dict[str, Any] | None:
        """The job's outcome once its frame is complete, refused (too big, garbled) or the process is gone."""
        if len(self.buffer) >= _LENGTH.size:
            size = _LENGTH.unpack_from(self.buffer)[0]
            if size > _MAX_RESULT or len(self.buffer) > _LENGTH.size + size:
                return {"status": "error", "error": f"the verifier's result exceeds {_MAX_RESULT} bytes or is garbled"}
            if len(self.buffer) == _LENGTH.size + size:
                return _parse_result(bytes(self.buffer[_LENGTH.size :]))
        if self.failure is not None:
            return {"status": "error", "error": self.failure}
        if self.closed:
            return {"status": "error", "error": "the verifier process died before answering (a resource limit?)"}
        return None

    @property
    def job_pid(self) -> int:
        """The process that runs (or will run) the job, 0 once collected."""
        return self.pid or self._forked

    def kill(self) -> None:
        """SIGKILL the job process and, with it, its whole PID namespace (or its process group); no waiting.

        Nothing of the job runs user code after this; :meth:`reap` collects it once the kernel is done.
        """
        pid = self.job_pid
        if pid <= 0:
            return
        try:
            if self.level is IsolationLevel.NAMESPACES:
                os.kill(pid, signal.SIGKILL)  # PID 1: the kernel kills every process of the namespace with it
            else:
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, block: bool) -> bool:
        """Collect the killed job process; ``False`` while the kernel is still tearing it down."""
        for child in {self.pid, self._forked} - {0}:
            try:
                if os.waitpid(child, 0 if block else os.WNOHANG)[0] == 0:
                    return False
            except ChildProcessError:  # collected already
                pass
        self.pid = self._forked = 0
        return True

    def output_tail(self) -> str:
        """The end of what the job printed."""
        try:
            size = os.fstat(self.output).st_size
            return os.pread(self.output, _OUTPUT_TAIL, max(0, size - _OUTPUT_TAIL)).decode(errors="replace")
        except OSError:
            return ""

    def discard(self) -> None:
        """Kill the job process, wait for it, and release everything this sandbox holds."""
        self.kill()
        self.reap(block=True)
        for fd in (self.job_write, self.result_read, self.output):
            if fd >= 0:
                os.close(fd)
        self.job_write = self.result_read = self.output = -1
        shutil.rmtree(self.slot, ignore_errors=True)


class _Job:
    """One verification in flight: its sandbox, the env waiting for the answer, a deadline."""

    def __init__(self, conn: socket.socket, request: dict[str, Any], box: _Sandbox) -> None:
        self.conn = conn
        self.box = box
        self.started = time.monotonic()
        self.deadline = self.started + float(request["timeout"])
        for name in ("initial", "final"):
            source, target = request[f"{name}_db"], os.path.join(box.slot, f"{name}.db")
            try:
                os.link(source, target)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM):
                    raise
                shutil.copyfile(source, target)
        job = {key: request[key] for key in ("code", "function", "final_answer", "timeout")}
        with os.fdopen(box.job_write, "wb") as handle:  # read by the sandbox as soon as it is ready
            box.job_write = -1
            handle.write(json.dumps(job).encode())

    def finish(self, outcome: dict[str, Any]) -> None:
        """Kill the sandbox (nothing the job started runs after this), then answer the env.

        The kernel's teardown of the namespace (milliseconds on a busy machine) happens after the answer;
        the worker reaps it then (:meth:`_Worker._reap`).
        """
        self.box.kill()
        outcome["elapsed_s"] = round(time.monotonic() - self.started, 6)
        outcome["output"] = self.box.output_tail()
        outcome["isolation"] = self.box.level.value
        try:
            wire.send_frame(self.conn, outcome)
        except OSError:  # the env went away; nothing to tell
            pass


def _choose_level(requested: str, slots: str, sandbox_root: str) -> tuple[IsolationLevel, _Sandbox | None, str]:
    """The strongest level that builds here (only ``requested`` unless it is ``auto``), a first sandbox, why."""
    if requested == "auto":
        candidates = [IsolationLevel.NAMESPACES, IsolationLevel.SECCOMP]
    else:
        candidates = [IsolationLevel(requested)]
    reasons = []
    for level in candidates:
        box = _Sandbox(level, slots, sandbox_root)
        try:
            box.wait_ready(_SETUP_TIMEOUT)
            return level, box, ""
        except (OSError, TimeoutError) as exc:
            box.discard()
            reasons.append(f"{level.value}: {exc}")
    return IsolationLevel.NONE, None, "; ".join(reasons)


class _Worker:
    """The event loop: env connections, jobs, and sandboxes kept ready ahead of them."""

    def __init__(self, control: socket.socket, requested: str, runtime: str) -> None:
        self.control = control
        self.slots, self.sandbox_root = os.path.join(runtime, "slots"), os.path.join(runtime, "root")
        os.mkdir(self.slots, 0o755)
        os.mkdir(self.sandbox_root, 0o755)
        self.level, first, self.reason = _choose_level(requested, self.slots, self.sandbox_root)
        self.usable = self.level is not IsolationLevel.NONE or requested == "none"
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, None)
        self.boxes: dict[int, _Sandbox] = {}  # by pipe fd: every sandbox, building, ready or running a job
        self.dying: dict[int, _Sandbox] = {}  # by pidfd: killed after answering, until the kernel is done
        self.jobs: dict[int, _Job] = {}  # by the pipe fd of the sandbox running it
        if first is not None:
            self._add(first)

    def _add(self, box: _Sandbox) -> None:
        self.boxes[box.result_read] = box
        self.selector.register(box.result_read, selectors.EVENT_READ, box)

    def _remove(self, box: _Sandbox) -> None:
        self.selector.unregister(box.result_read)
        del self.boxes[box.result_read]
        self.jobs.pop(box.result_read, None)

    def _replenish(self) -> None:
        """Keep ``_SPARES`` sandboxes without a job (built or building), dropping any stuck in its setup."""
        now = time.monotonic()
        for fd, box in list(self.boxes.items()):
            if fd not in self.jobs and not box.ready and now - box.created > _SETUP_TIMEOUT:
                self._remove(box)
                box.discard()
        idle = sum(fd not in self.jobs for fd in self.boxes)
        for _ in range(_SPARES - idle if self.usable else 0):
            self._add(_Sandbox(self.level, self.slots, self.sandbox_root))

    def _start_job(self, conn: socket.socket) -> None:
        try:
            request, _ = wire.recv_frame(conn)
        except (OSError, ValueError):
            self.selector.unregister(conn)
            conn.close()
            return
        if not self.usable:
            wire.send_frame(conn, {"status": "error", "error": f"no sandbox available ({self.reason})"})
            return
        idle = [box for fd, box in self.boxes.items() if fd not in self.jobs]
        if not idle:  # more jobs at once than sandboxes kept ready: build one for this job
            idle.append(_Sandbox(self.level, self.slots, self.sandbox_root))
            self._add(idle[0])
        box = min(idle, key=lambda b: (not b.ready, b.created))  # a ready one, else the one closest to ready
        try:
            self.jobs[box.result_read] = _Job(conn, request, box)
        except OSError as exc:
            self._remove(box)
            box.discard()
            wire.send_frame(conn, {"status": "error", "error": f"could not start the job: {exc}"})

    def _finish(self, job: _Job, outcome: dict[str, Any]) -> None:
        """Answer the job (its sandbox killed first), then wait for the sandbox's end off the answer's path."""
        job.finish(outcome)
        box = job.box
        try:
            pidfd = os.pidfd_open(box.job_pid)
        except (OSError, ValueError):  # already collected, or no pidfd here: wait now
            box.discard()
            return
        self.dying[pidfd] = box
        self.selector.register(pidfd, selectors.EVENT_READ, "dying")

    def _reaped(self, pidfd: int) -> None:
        """The job process is gone (PID 1's pidfd fires once its whole namespace is): release its sandbox."""
        self.selector.unregister(pidfd)
        os.close(pidfd)
        self.dying.pop(pidfd).discard()

    def _on_sandbox(self, box: _Sandbox) -> None:
        box.read()
        job = self.jobs.get(box.result_read)
        if job is None:
            if box.failure is not None or box.closed or (box.ready and box.buffer):
                print(f"verifier worker: {box.failure or 'a spare sandbox died'}", file=sys.stderr, flush=True)
                self._remove(box)
                box.discard()
            return
        outcome = box.result() if box.ready or box.failure else None
        if outcome is not None:
            self._remove(box)
            self._finish(job, outcome)

    def serve(self) -> int:
        """Serve until the control socket closes."""
        try:
            while True:
                self._replenish()
                now = time.monotonic()
                timeout = min((job.deadline for job in self.jobs.values()), default=now + 1.0) - now
                for key, _ in self.selector.select(max(0.0, timeout)):
                    if key.fileobj is self.control:
                        message, fds = wire.recv_message(self.control)
                        if message is None:  # the env process is gone: stop everything
                            return 0
                        if message.get("op") == "ping":
                            wire.send_message(self.control, {"op": "pong"})
                        for fd in fds:
                            self.selector.register(socket.socket(fileno=fd), selectors.EVENT_READ, "conn")
                    elif key.data == "conn":
                        self._start_job(key.fileobj)  # type: ignore[arg-type]
                    elif key.fd in self.boxes:
                        self._on_sandbox(key.data)
                    elif key.fd in self.dying:
                        self._reaped(key.fd)
                now = time.monotonic()
                for job in list(self.jobs.values()):
                    if now >= job.deadline:
                        self._remove(job.box)
                        error = f"no result within {job.deadline - job.started:g} s"
                        self._finish(job, {"status": "timeout", "error": error})
        finally:
            for box in [*self.boxes.values(), *self.dying.values()]:
                box.discard()


def main(control_fd: int, requested: str, runtime: str) -> int:
    """Serve verification jobs until the control socket closes; ``runtime`` is an empty directory of ours.

    It should be on the filesystem of the envs' database snapshots, so that a job's copies are hard links.
    """
    try:  # built here, where the library can still be looked up: a sandbox cannot run ldconfig
        sandbox.prepare()
    except (ImportError, RuntimeError, OSError) as exc:
        print(f"verifier worker: no seccomp ({exc})", file=sys.stderr, flush=True)
    resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_LIMIT, _WORKER_MEMORY_LIMIT))
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    gc.collect()
    gc.freeze()  # forked jobs then share the worker's objects instead of copying them on the first collection
    control = socket.socket(fileno=control_fd)
    try:
        worker = _Worker(control, requested, runtime)
        wire.send_message(control, {"op": "hello", "isolation": worker.level.value, "reason": worker.reason})
        return worker.serve()
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
