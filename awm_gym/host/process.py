"""Plumbing shared by every child process awm-gym starts: scratch directory, environment, logs, pid handles.

A :class:`ChildProcess` watches a process by pid file descriptor, whether or not this process is its parent
(zygotes are forked by the root process, not by us), so "is it alive", "is it stopped" and "kill it" work the
same for both. :func:`memory_usage` reads a process's USS and PSS from ``/proc``.

Killing need not wait: ``ChildProcess.kill(wait=0)`` sends SIGKILL and leaves the pid file descriptor with
a small registry of exiting processes, whose descriptors are closed once their exit is seen (checked at
every later kill, and awaited for up to 2 s at interpreter exit). A scenario switch thus never waits for the
kernel to tear the old server down; the processes are still reaped as before (by their parent: zygotes and
the root let the kernel reap their children), and nothing of them outlives the registry.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ChildProcess",
    "MemoryUsage",
    "cache_dir",
    "child_environment",
    "collect_exited",
    "memory_usage",
    "read_log_tail",
    "remove_stale_runtime_dirs",
    "runtime_dir",
]

_runtime_dir: Path | None = None
_runtime_lock = threading.Lock()


def cache_dir() -> Path:
    """awm-gym's on-disk cache (``AWM_GYM_CACHE_DIR``, else ``~/.cache/awm_gym``): audits, tool catalogs."""
    return Path(os.environ.get("AWM_GYM_CACHE_DIR") or Path.home() / ".cache" / "awm_gym")
_EXIT_WAIT = 2.0  # seconds a killed process is given to exit (awaited at kill, or at interpreter exit)
_exiting: list[int] = []  # pid fds of processes killed without waiting whose exit was not seen yet
_exiting_lock = threading.RLock()


def runtime_dir() -> Path:
    """This process's scratch directory for databases, sockets and logs (removed at exit).

    ``AWM_GYM_RUNTIME_DIR`` chooses its parent; by default ``/dev/shm`` (memory-backed, so database writes
    never touch a disk) when writable, else the system temp directory. The directory's name carries the
    process id, so directories left by a killed process are removed by the next one.
    """
    global _runtime_dir
    with _runtime_lock:
        if _runtime_dir is None:
            parent = os.environ.get("AWM_GYM_RUNTIME_DIR")
            if not parent:
                parent = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
            remove_stale_runtime_dirs(Path(parent))
            _runtime_dir = Path(tempfile.mkdtemp(prefix=f"awm_gym-{os.getpid()}-", dir=parent))
            atexit.register(shutil.rmtree, _runtime_dir, ignore_errors=True)
        return _runtime_dir


def remove_stale_runtime_dirs(parent: Path) -> None:
    """Remove the ``awm_gym-<pid>-*`` scratch directories in ``parent`` whose process is gone."""
    for path in parent.glob("awm_gym-*-*"):
        try:
            os.kill(int(path.name.split("-")[1]), 0)
        except ProcessLookupError:  # its process is gone (killed before its exit handlers ran)
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            pass


def child_environment(**extra: str) -> dict[str, str]:
    """Environment for awm-gym's child processes: this interpreter's package path, no env registration."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env["AWM_GYM_CHILD"] = "1"  # awm_gym/__init__ skips Gymnasium registration in children
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"  # generated code uses deprecated APIs freely
    env.update(extra)
    return env


def read_log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a child's log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _proc_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` from ``/proc/<pid>/stat`` (``None`` when there is no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


class ChildProcess:
    """A process watched through a pid file descriptor (Linux >= 5.3), falling back to ``/proc`` and signals.

    Args:
        pid: The process to watch. It must be alive when this is built, or ``exited`` is ``True`` at once.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux >= 5.3, or already gone
            self._pidfd = None
        self._killed = False

    def __repr__(self) -> str:
        return f"<ChildProcess {self.pid} {self.state or 'gone'}>"

    @property
    def state(self) -> str | None:
        """The kernel's state letter (``S``, ``R``, ``T`` stopped, ``Z`` zombie...); ``None`` once gone."""
        if self._killed or self.exited(0):
            return None
        return _proc_state(self.pid)

    @property
    def stopped(self) -> bool:
        """Whether the process is stopped (SIGSTOP, or traced): it exists but will not answer."""
        return self.state in ("T", "t")

    @property
    def alive(self) -> bool:
        """Whether the process exists, has not exited and is not stopped: it can answer."""
        return self.state not in (None, "Z", "X", "T", "t")

    def exited(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to exit; whether it has."""
        if self._pidfd is not None:
            return bool(select.select([self._pidfd], [], [], timeout)[0])
        return _proc_state(self.pid) in (None, "Z", "X")

    def kill(self, *, group: bool = False, wait: float = _EXIT_WAIT) -> None:
        """SIGKILL the process (and its process group when ``group``), wait up to ``wait`` s, close the fd.

        With ``wait=0`` it returns at once; the fd goes to the registry of exiting processes (see the module
        docstring) and is closed when the exit is seen. Idempotent: after the first call the pid may belong to
        someone else, so it is never signalled again.
        """
        if self._killed:
            return
        self._killed = True
        if group:  # also when the leader is gone: its group lives on while members do
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not self.exited(0):
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                else:
                    os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if wait <= 0 and self._pidfd is not None and not self.exited(0):
                pidfd, self._pidfd = self._pidfd, None
                with _exiting_lock:
                    _exiting.append(pidfd)
            else:
                self.exited(wait)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        collect_exited(0)


def collect_exited(timeout: float) -> int:
    """Close the fds of killed processes that have exited, waiting up to ``timeout`` s; how many are left.

    Called at every kill (``timeout=0``) and at interpreter exit (with :data:`_EXIT_WAIT`).
    """
    deadline = time.monotonic() + timeout
    with _exiting_lock:  # re-entrant: a finalizer may kill (and collect) while this thread is in here
        while _exiting:
            poller = select.poll()  # not select(): a pid fd may be numbered beyond its range
            for pidfd in _exiting:
                poller.register(pidfd, select.POLLIN)
            ready = [pidfd for pidfd, _event in poller.poll(max(0, int(1000 * (deadline - time.monotonic()))))]
            for pidfd in ready:
                if pidfd in _exiting:  # a nested call may have closed it already
                    _exiting.remove(pidfd)
                    os.close(pidfd)
            if not ready:
                break
        return len(_exiting)


atexit.register(collect_exited, _EXIT_WAIT)


@dataclass(frozen=True)
class MemoryUsage:
    """A process's memory, in bytes: ``uss`` is private to it (what killing it frees), ``pss`` its fair share."""

    uss: int
    pss: int


def memory_usage(pid: int) -> MemoryUsage | None:
    """USS and PSS of ``pid`` from ``/proc/<pid>/smaps_rollup`` (``None`` when it is gone or unreadable)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                key, _, rest = line.partition(b":")
                if key in (b"Pss", b"Private_Clean", b"Private_Dirty"):
                    fields[key.decode()] = int(rest.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError, IndexError):
        return None
    if "Pss" not in fields:
        return None
    return MemoryUsage(uss=fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0), pss=fields["Pss"])
