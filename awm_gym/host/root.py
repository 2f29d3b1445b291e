"""The root server process, parent side: one per awm-gym process, it forks every scenario's zygote.

A zygote started as a fresh interpreter spends most of its start importing the web stack; the root
(:mod:`awm_gym.host.root_process`) has done that once, so a new scenario's zygote is a fork plus the scenario's
own module. The root starts on the first zygote request, lives as long as the zygote pool (until
:func:`awm_gym.host.shutdown_zygotes` or interpreter exit) and runs in its own session, so Ctrl-C at a terminal
reaches only this process, whose exit handlers kill it. If this process dies, the root's control socket closes
and it exits at once.

A root that has crashed, stopped (SIGSTOP) or stopped answering is killed and replaced on the next request.
``AWM_GYM_ZYGOTE_ROOT=0`` turns the root off: each zygote is then a fresh interpreter (the slower, older path).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from awm_gym.errors import SubEnvStartError
from awm_gym.host import wire
from awm_gym.host.process import ChildProcess, child_environment, read_log_tail, runtime_dir

__all__ = [
    "FORK_TIMEOUT",
    "RootProcess",
    "fork_zygote",
    "root_enabled",
    "root_pid",
    "shutdown_root",
    "wait_for_message",
]

FORK_TIMEOUT = 5.0  # seconds the root may take to answer a fork request (it answers in milliseconds)
_POLL = 0.1  # seconds between liveness checks while waiting for a child's message


def root_enabled() -> bool:
    """Whether zygotes are forked from the root process (``AWM_GYM_ZYGOTE_ROOT``, on by default)."""
    return os.environ.get("AWM_GYM_ZYGOTE_ROOT", "1").strip().lower() not in ("0", "false", "no", "off")


def wait_for_message(
    control: socket.socket, process: ChildProcess, timeout: float
) -> tuple[dict[str, object] | None, str]:
    """Wait up to ``timeout`` s for one message from ``process``; gives up early if it stops or exits.

    Returns:
        The message (``None`` when there is none) and, without a message, why: ``"exited"``, ``"stopped"`` or
        ``"timeout"``.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if select.select([control], [], [], max(0.0, min(_POLL, remaining)))[0]:
            try:
                message, _fds = wire.recv_message(control)
            except OSError:
                message = None
            return message, "" if message is not None else "exited"
        if process.stopped:
            return None, "stopped"
        if process.exited(0):
            return None, "exited"
        if remaining <= 0:
            return None, "timeout"


class RootProcess:
    """The started root process and its control socket.

    Raises:
        SubEnvStartError: The root could not start (its log is in the message).
    """

    def __init__(self, start_timeout: float) -> None:
        self.log_path = Path(runtime_dir()) / "root.log"
        self._lock = threading.Lock()
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(self.log_path, "ab") as log:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", "awm_gym.host.root_process", str(child_end.fileno())],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=runtime_dir(),
                env=child_environment(),
                start_new_session=True,
            )
        child_end.close()
        self.process = ChildProcess(self._popen.pid)
        try:
            ready, why = wait_for_message(self._control, self.process, start_timeout)
        except BaseException:  # Ctrl-C while it imports: do not leave it behind
            self.close()
            raise
        if not ready or not ready.get("ok"):
            self.close()
            error = (ready or {}).get("error") or f"it {why} before reporting ready"
            raise SubEnvStartError(
                f"the root server process could not start.\n{error}\n"
                f"--- root log ({self.log_path}) ---\n{read_log_tail(self.log_path)}\n"
                "Set AWM_GYM_ZYGOTE_ROOT=0 to start each scenario in a fresh interpreter instead."
            )

    @property
    def pid(self) -> int:
        """The root's process id."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """Whether the root is running and not stopped."""
        return self.process.alive

    def fork(self, zygote_end: socket.socket, *, workdir: Path, log_path: Path, env: dict[str, str]) -> int:
        """Fork a zygote that owns ``zygote_end`` (its control socket); returns the zygote's pid.

        Raises:
            SubEnvStartError: The root did not answer within :data:`FORK_TIMEOUT`, stopped, exited or refused.
        """
        message = {"op": "fork", "workdir": str(workdir), "log_path": str(log_path), "env": env}
        with self._lock:
            try:
                wire.send_message(self._control, message, [zygote_end.fileno()])
                reply, why = wait_for_message(self._control, self.process, FORK_TIMEOUT)
            except OSError as exc:
                reply, why = None, f"{type(exc).__name__}: {exc}"
        if not reply or not reply.get("ok"):
            error = (reply or {}).get("error") or why
            raise SubEnvStartError(f"the root server process could not fork a zygote ({error}); log: {self.log_path}")
        return int(reply["pid"])

    def close(self) -> None:
        """Kill the root (zygotes it forked live on in their own sessions; the pool kills those)."""
        self.process.kill(group=True)
        self._popen.wait()
        self._control.close()


_root: RootProcess | None = None
_root_lock = threading.Lock()


def _fork_once(workdir: Path, log_path: Path, env: dict[str, str], timeout: float) -> tuple[int, socket.socket]:
    global _root
    control, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        with _root_lock:
            if _root is not None and not _root.alive:
                _root.close()
                _root = None
            if _root is None:
                _root = RootProcess(timeout)
            root = _root
        try:
            return root.fork(zygote_end, workdir=workdir, log_path=log_path, env=env), control
        except SubEnvStartError:
            with _root_lock:
                if _root is root:
                    _root = None
            root.close()
            raise
    except BaseException:
        control.close()  # a zygote the failed root may have forked sees it close, and exits
        raise
    finally:
        zygote_end.close()


def fork_zygote(
    *, workdir: Path, log_path: Path, env: dict[str, str], start_timeout: float
) -> tuple[int, socket.socket]:
    """Fork a zygote from the root (starting or replacing the root as needed).

    A root that fails a request is killed, and the request is tried once more on a fresh root, over a fresh
    control socket.

    Returns:
        The zygote's pid and this end of its control socket.

    Raises:
        SubEnvStartError: No root could fork the zygote.
    """
    try:
        return _fork_once(workdir, log_path, env, start_timeout)
    except SubEnvStartError:
        return _fork_once(workdir, log_path, env, start_timeout)


def shutdown_root() -> None:
    """Kill the root process, if one is running (the next zygote request starts a new one)."""
    global _root
    with _root_lock:
        root, _root = _root, None
    if root is not None:
        root.close()


def root_pid() -> int | None:
    """The running root's pid, if any."""
    root = _root
    return root.pid if root is not None else None
