"""Running verifier code out of process: the shared worker and a per-env connection to it.

One worker process per Python process (:mod:`awm_gym.verifier.worker_process`) is started on first use and
kept; every env gets its own connection, so many envs verify concurrently. A verification costs one fork
of that small pre-imported worker plus the verifier's own SQL (a few milliseconds), instead of a fresh
interpreter per call.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from awm_gym.errors import VerifierError
from awm_gym.host import wire
from awm_gym.host.zygote import child_environment, read_log_tail, runtime_dir

__all__ = ["VerifierConnection", "shutdown_worker", "worker_pid"]

_REPLY_GRACE = 5.0  # seconds the worker may need beyond the job's own deadline


class _Worker:
    """The process; started lazily, restarted if it died, killed at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self.log_path: Path | None = None

    def _start(self) -> None:
        self.log_path = runtime_dir() / "verifier-worker.log"
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "awm_gym.verifier.worker_process", str(child_end.fileno())],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=child_environment(),
                start_new_session=True,
            )
        child_end.close()

    def connect(self) -> socket.socket:
        """A new stream socket served by the worker (starting or restarting it as needed)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._stop()
                self._start()
            assert self._control is not None
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                wire.send_message(self._control, {"op": "connect"}, [theirs.fileno()])
            except OSError as exc:
                ours.close()
                raise VerifierError(f"the verifier worker is unreachable ({exc}); log: {self.log_path}") from exc
            finally:
                theirs.close()
            return ours

    def _stop(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._process.wait()
            self._process = None
        if self._control is not None:
            self._control.close()
            self._control = None

    def shutdown(self) -> None:
        with self._lock:
            self._stop()

    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None and self._process.poll() is None else None


_worker = _Worker()
shutdown_worker = _worker.shutdown
worker_pid = _worker.pid
atexit.register(shutdown_worker)


class VerifierConnection:
    """One env's connection to the verifier worker.

    Example:
        >>> import sqlite3, tempfile, pathlib
        >>> workdir = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ("initial.db", "final.db"):
        ...     sqlite3.connect(workdir / name).close()
        >>> connection = VerifierConnection()
        >>> outcome = connection.run(
        ...     code="def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\\n"
        ...     "    return {'result': 'complete' if final_answer == 'yes' else 'others'}",
        ...     function="verify_task_completion", workdir=workdir, final_answer="yes", timeout=10)
        >>> outcome["status"], outcome["value"]
        ('ok', {'result': 'complete'})
        >>> connection.close()
    """

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
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
        or ``{"status": "timeout", ...}``, with ``elapsed_s`` and the verifier's printed ``output``.

        Raises:
            VerifierError: The worker itself failed (not the verifier code).
        """
        workdir = Path(workdir).resolve()
        job = {
            "code": code,
            "function": function,
            "workdir": str(workdir),
            "initial_db": str(workdir / "initial.db"),
            "final_db": str(workdir / "final.db"),
            "final_answer": final_answer,
            "timeout": timeout,
        }
        with self._lock:
            for attempt in (1, 2):  # a worker that died since the last call is restarted once
                if self._socket is None:
                    self._socket = _worker.connect()
                try:
                    self._socket.settimeout(timeout + _REPLY_GRACE)
                    wire.send_frame(self._socket, job)
                    outcome, _ = wire.recv_frame(self._socket)
                    return outcome
                except (OSError, ValueError) as exc:
                    self._socket.close()
                    self._socket = None
                    if attempt == 2 or isinstance(exc, TimeoutError):
                        log = read_log_tail(_worker.log_path) if _worker.log_path else ""
                        raise VerifierError(f"the verifier worker failed ({type(exc).__name__}: {exc})\n{log}") from exc
                except BaseException:
                    self._socket.close()  # interrupted mid-frame: never reuse this connection
                    self._socket = None
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close this connection (the shared worker keeps running)."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None
