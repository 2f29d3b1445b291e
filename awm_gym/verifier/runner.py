"""Running verifier code out of process: the shared worker and a per-env connection to it.

One worker process per Python process (:mod:`awm_gym.verifier.worker_process`) is started early
(:func:`prestart`, which every env calls when it is built) and kept; every env gets its own connection, so
many envs verify concurrently. Each verification runs in a kernel sandbox the worker prepared while idle
(:mod:`awm_gym.verifier.sandbox`), so it costs the verifier's own SQL plus a few milliseconds.

The isolation level is chosen by ``AWM_GYM_VERIFIER_ISOLATION``: ``auto`` (default: the strongest level this
machine allows, and an :class:`~awm_gym.errors.IsolationUnavailableError` when none is kernel-enforced),
``namespaces``, ``seccomp``, or ``none`` (no kernel isolation: an explicit opt-in, warned about once).

Health: while a job is in flight the connection checks every second that the worker is neither stopped
nor wedged (a ``ping`` on its control socket must come back within a second); a worker that fails is
killed with its whole process group and replaced, and the job is sent again while its timeout allows.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from awm_gym.errors import IsolationUnavailableError, VerifierError
from awm_gym.host import wire
from awm_gym.host.zygote import read_log_tail, runtime_dir
from awm_gym.verifier.sandbox import IsolationLevel

__all__ = ["VerifierConnection", "isolation_level", "prestart", "shutdown_worker", "worker_pid"]

ISOLATION_VARIABLE = "AWM_GYM_VERIFIER_ISOLATION"
_REPLY_GRACE = 5.0  # seconds the worker may need beyond the job's own deadline
_START_TIMEOUT = 30.0
_HEALTH_INTERVAL = 1.0  # seconds between health checks while a job is in flight
_PING_TIMEOUT = 1.0
_KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE")
_warned_unisolated = False


def _requested_level() -> str:
    value = os.environ.get(ISOLATION_VARIABLE, "auto").strip().lower() or "auto"
    choices = ["auto", *(level.value for level in IsolationLevel)]
    if value not in choices:
        raise IsolationUnavailableError(f"{ISOLATION_VARIABLE} must be one of {choices}, got {value!r}")
    return value


def _worker_environment() -> dict[str, str]:
    """Only what the interpreter needs: never the training process's secrets (API keys live in the env)."""
    env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env["AWM_GYM_CHILD"] = "1"  # awm_gym/__init__ skips Gymnasium registration in children
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"  # generated code uses deprecated APIs freely
    return env


def _process_state(pid: int) -> str:
    """The kernel's one-letter state of ``pid`` (``T`` stopped, ``Z`` zombie, ``?`` unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return "?"


class _Worker:
    """The process; started early, replaced when it died, stopped or wedged, killed at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._hello: dict[str, Any] | None = None
        self._requested = "auto"
        self._runtime: Path | None = None
        self.log_path: Path | None = None

    def _start(self) -> None:
        self._requested = _requested_level()
        self.log_path = runtime_dir() / "verifier-worker.log"
        # Beside this process's runtime directory (same filesystem: the job's database copies are hard links),
        # named so that a later process removes it if this one is killed; traversable by the sandbox's uid.
        self._runtime = Path(tempfile.mkdtemp(prefix=f"awm_gym-{os.getpid()}-verifier-", dir=runtime_dir().parent))
        self._runtime.chmod(0o755)
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "awm_gym.verifier.worker_process",
                    str(child_end.fileno()),
                    self._requested,
                    str(self._runtime),
                ],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=_worker_environment(),
                cwd="/",
                start_new_session=True,
            )
        child_end.close()
        self._hello = None

    def _ensure(self) -> None:
        """Started, alive and said hello (under the lock)."""
        if self._process is None or self._process.poll() is not None:
            self._stop()
            self._start()
        if self._hello is None:
            assert self._control is not None
            self._control.settimeout(_START_TIMEOUT)
            try:
                hello, _ = wire.recv_message(self._control)
            except OSError as exc:
                hello = None
                error = f"{type(exc).__name__}: {exc}"
            else:
                error = "it exited"
            if not hello or hello.get("op") != "hello":
                self._stop()
                raise VerifierError(
                    f"the verifier worker did not start ({error}); log: {self.log_path}\n"
                    f"{read_log_tail(self.log_path) if self.log_path else ''}"
                )
            self._hello = hello
        self._check_level()

    def _check_level(self) -> None:
        global _warned_unisolated
        assert self._hello is not None
        level = self._hello["isolation"]
        if level == IsolationLevel.NONE.value and self._requested != "none":
            raise IsolationUnavailableError(
                f"no kernel isolation for verifier code is available on this machine "
                f"({self._hello.get('reason') or 'unknown reason'}); expected user or PID/mount/network namespaces "
                f"(root or unprivileged user namespaces) and libseccomp. Fix: allow them (e.g. "
                f"sysctl user.max_user_namespaces, apt-get install libseccomp2), or accept running dataset code "
                f"unisolated with {ISOLATION_VARIABLE}=none"
            )
        if level == IsolationLevel.NONE.value and not _warned_unisolated:
            _warned_unisolated = True
            warnings.warn(
                f"{ISOLATION_VARIABLE}=none: verifier code runs without kernel isolation; a hostile scenario's "
                "verifier can read your files and environment, reach the network and start processes",
                RuntimeWarning,
                stacklevel=4,
            )

    def prestart(self) -> None:
        """Start the worker now, without waiting for it (it prepares its first sandbox meanwhile)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._stop()
                self._start()

    def level(self) -> IsolationLevel:
        """The level in force (starting the worker if needed)."""
        with self._lock:
            try:
                self._ensure()
            except IsolationUnavailableError:
                return IsolationLevel.NONE
            assert self._hello is not None
            return IsolationLevel(self._hello["isolation"])

    def connect(self) -> socket.socket:
        """A new stream socket served by the worker (starting or restarting it as needed)."""
        with self._lock:
            for attempt in (1, 2):  # a worker that died but is not yet collected: replace it once
                self._ensure()
                assert self._control is not None
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    wire.send_message(self._control, {"op": "connect"}, [theirs.fileno()])
                    return ours
                except OSError as exc:
                    ours.close()
                    if attempt == 2:
                        message = f"the verifier worker is unreachable ({exc}); log: {self.log_path}"
                        raise VerifierError(message) from exc
                    self._stop()
                finally:
                    theirs.close()
            raise AssertionError("unreachable")

    def healthy(self, pid: int | None) -> bool:
        """Whether the worker ``pid`` is still the running one, not stopped, and answers a ping in time."""
        with self._lock:
            if self._process is None or self._process.pid != pid or self._process.poll() is not None:
                return False
            if _process_state(pid) in ("T", "t", "Z", "X"):
                return False
            assert self._control is not None
            self._control.settimeout(_PING_TIMEOUT)
            try:
                wire.send_message(self._control, {"op": "ping"})
                reply, _ = wire.recv_message(self._control)
            except OSError:
                return False
            return bool(reply) and reply.get("op") == "pong"  # type: ignore[union-attr]

    def replace(self, pid: int | None) -> None:
        """Kill the worker ``pid`` (if it is still the current one); the next connection starts a new one."""
        with self._lock:
            if self._process is not None and self._process.pid == pid:
                self._stop()

    def _stop(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)  # the worker and every sandbox it forked
            except (ProcessLookupError, PermissionError):
                pass
            self._process.wait()
            self._process = None
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None
        self._hello = None

    def shutdown(self) -> None:
        with self._lock:
            self._stop()

    def forget(self) -> None:
        """In a forked child: the parent's worker is the parent's; this process starts its own when needed."""
        self._lock = threading.Lock()
        if self._control is not None:
            self._control.close()  # our copy only
        self._process = self._control = self._hello = self._runtime = None

    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None and self._process.poll() is None else None


_worker = _Worker()
shutdown_worker = _worker.shutdown
worker_pid = _worker.pid
atexit.register(shutdown_worker)
os.register_at_fork(after_in_child=_worker.forget)


def prestart() -> None:
    """Start the verifier worker in the background now, so the first verification is as fast as the next."""
    _worker.prestart()


def isolation_level() -> IsolationLevel:
    """The isolation level verifications get in this process (``none`` also when none is available)."""
    return _worker.level()


class VerifierConnection:
    """One env's connection to the verifier worker.

    Example:
        >>> import sqlite3, tempfile, pathlib
        >>> scratch = tempfile.TemporaryDirectory()
        >>> workdir = pathlib.Path(scratch.name)
        >>> for name in ("initial.db", "final.db"):
        ...     sqlite3.connect(workdir / name).close()
        >>> connection = VerifierConnection()
        >>> outcome = connection.run(
        ...     code="def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\\n"
        ...     "    return {'result': 'complete' if final_answer == 'yes' else 'others'}",
        ...     function="verify_task_completion", workdir=workdir, final_answer="yes", timeout=10)
        >>> outcome["status"], outcome["value"], outcome["isolation"]
        ('ok', {'result': 'complete'}, 'namespaces')
        >>> connection.close(); scratch.cleanup()
    """

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
        self._worker: int | None = None  # the pid of the worker this connection talks to
        self._owner = os.getpid()  # a connection inherited by a forked child reconnects to the child's worker
        self._lock = threading.Lock()

    def run(
        self,
        *,
        code: str,
        function: str,
        workdir: str | os.PathLike[str],
        final_answer: str = "",
        timeout: float = 20.0,
    ) -> dict[str, Any]:
        """Run ``function`` from ``code`` on ``workdir/initial.db`` and ``workdir/final.db``.

        Returns the worker's outcome: ``{"status": "ok", "value": ...}``, ``{"status": "error", "error", ...}``
        or ``{"status": "timeout", ...}``, with ``elapsed_s``, ``isolation`` and the verifier's printed ``output``.

        Raises:
            IsolationUnavailableError: No kernel isolation here and no opt-in to run without it.
            VerifierError: The worker itself failed (not the verifier code).
        """
        workdir = Path(workdir).resolve()
        job = {
            "code": code,
            "function": function,
            "initial_db": str(workdir / "initial.db"),
            "final_db": str(workdir / "final.db"),
            "final_answer": final_answer,
            "timeout": timeout,
        }
        deadline = time.monotonic() + timeout + _REPLY_GRACE
        with self._lock:
            if self._owner != os.getpid():
                self._drop()
                self._owner = os.getpid()
            for attempt in (1, 2):  # a worker that died or was replaced since the last call is restarted once
                if self._socket is None:
                    self._socket = _worker.connect()
                    self._worker = _worker.pid()
                try:
                    wire.send_frame(self._socket, job)
                    return self._receive(deadline)
                except (OSError, ValueError) as exc:
                    self._drop()
                    if attempt == 2 or time.monotonic() >= deadline:
                        log = read_log_tail(_worker.log_path) if _worker.log_path else ""
                        raise VerifierError(f"the verifier worker failed ({type(exc).__name__}: {exc})\n{log}") from exc
                except BaseException:
                    self._drop()  # interrupted mid-frame: never reuse this connection
                    raise
        raise AssertionError("unreachable")

    def _receive(self, deadline: float) -> dict[str, Any]:
        """The job's outcome; checks the worker's health every second while waiting."""
        assert self._socket is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _worker.replace(self._worker)
                raise TimeoutError("the verifier worker did not answer in time (it was replaced)")
            self._socket.settimeout(min(_HEALTH_INTERVAL, remaining))
            try:
                self._socket.recv(1, socket.MSG_PEEK)
            except TimeoutError:
                if not _worker.healthy(self._worker):
                    _worker.replace(self._worker)
                    raise ConnectionResetError("the verifier worker was stopped, wedged or gone (replaced)") from None
                continue
            self._socket.settimeout(max(0.1, deadline - time.monotonic()))
            outcome, _ = wire.recv_frame(self._socket)
            return outcome

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def close(self) -> None:
        """Close this connection (the shared worker keeps running)."""
        with self._lock:
            self._drop()
