"""Per-scenario zygotes: one long-lived process per scenario that has built the app and forks servers.

Building a scenario's app costs about a second and a half (imports plus app construction); forking a
ready server from the zygote costs a few milliseconds. So the first env of a scenario in this process
starts a zygote, and every env instance after that only forks (see :mod:`awm_gym.host.server_process`).

Zygotes live until the interpreter exits; at most ``AWM_GYM_MAX_IDLE_ZYGOTES`` (default 8) zygotes
without a live env are kept, least recently used first out. Each runs in its own session and process
group, is killed with its servers at exit, and exits with them by itself if this process dies (its
control socket closes).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from awm_gym.catalog import Scenario
from awm_gym.errors import SubEnvStartError
from awm_gym.host import wire
from awm_gym.host.tools import ToolCatalog

__all__ = [
    "Zygote",
    "acquire_zygote",
    "child_environment",
    "read_log_tail",
    "release_zygote",
    "runtime_dir",
    "shutdown_zygotes",
]

START_TIMEOUT = float(os.environ.get("AWM_GYM_START_TIMEOUT", "60"))
MAX_IDLE_ZYGOTES = int(os.environ.get("AWM_GYM_MAX_IDLE_ZYGOTES", "8"))

_runtime_dir: Path | None = None
_runtime_lock = threading.Lock()


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
            _remove_stale_runtime_dirs(Path(parent))
            _runtime_dir = Path(tempfile.mkdtemp(prefix=f"awm_gym-{os.getpid()}-", dir=parent))
            atexit.register(shutil.rmtree, _runtime_dir, ignore_errors=True)
        return _runtime_dir


def _remove_stale_runtime_dirs(parent: Path) -> None:
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


class Zygote:
    """A started zygote for one scenario: its tools, its episode template and a ``spawn`` call."""

    def __init__(self, scenario: Scenario, template: bytes) -> None:
        self.scenario = scenario
        self.workdir = Path(tempfile.mkdtemp(prefix=f"zygote-{scenario.name[:32]}-", dir=runtime_dir()))
        self.log_path = self.workdir / "zygote.log"
        (self.workdir / "app.py").write_text(scenario.full_code, encoding="utf-8")
        (self.workdir / "server_template.db").write_bytes(template)
        self._lock = threading.Lock()
        self.live_hosts = 0
        self._control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "awm_gym.host.server_process", str(child_end.fileno()), str(self.workdir)],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.workdir,
                env=child_environment(
                    DATABASE_PATH=f"sqlite:///{self.workdir / 'server_template.db'}",
                    HOST="127.0.0.1",
                    PORT="8000",
                ),
                start_new_session=True,
            )
        child_end.close()
        self._control.settimeout(START_TIMEOUT)
        try:
            ready, _ = wire.recv_message(self._control)
        except (TimeoutError, OSError) as exc:
            ready = {"ok": False, "error": f"no ready message within {START_TIMEOUT:.0f} s ({exc})"}
        except BaseException:  # Ctrl-C while the app builds: do not leave the process behind
            self.close()
            raise
        if not ready or not ready.get("ok"):
            error = (ready or {}).get("error") or "the process exited before reporting ready"
            self.close()
            raise SubEnvStartError(
                f"scenario {scenario.name!r}: its server code could not be started.\n{error}\n"
                f"--- zygote log ({self.log_path}) ---\n{read_log_tail(self.log_path)}"
            )
        self.pid = int(ready["pid"])
        self.openapi = json.loads((self.workdir / "openapi.json").read_text())
        self.tools = ToolCatalog.from_openapi(self.openapi)
        # What the database looks like after the app's own import-time setup (create_all): episodes start here.
        self.episode_template = (self.workdir / "server_template.db").read_bytes()

    @property
    def alive(self) -> bool:
        """Whether the zygote process is still running."""
        return self.process.poll() is None

    def spawn(
        self, channel: socket.socket, listener: socket.socket, *, db_path: Path, log_path: Path, workdir: Path
    ) -> int:
        """Fork a server owning ``channel`` and ``listener``; returns its pid.

        Raises:
            SubEnvStartError: The zygote is gone or refused.
        """
        message = {"op": "spawn", "db_path": str(db_path), "log_path": str(log_path), "workdir": str(workdir)}
        with self._lock:
            try:
                wire.send_message(self._control, message, [channel.fileno(), listener.fileno()])
                reply, _ = wire.recv_message(self._control)
            except OSError as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        if not reply or not reply.get("ok"):
            raise SubEnvStartError(
                f"scenario {self.scenario.name!r}: the zygote could not fork a server "
                f"({(reply or {}).get('error', 'it exited')}); log: {self.log_path}"
            )
        return int(reply["pid"])

    def close(self) -> None:
        """Kill the zygote and every server it forked (they share its process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self._control.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class _ZygotePool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zygotes: OrderedDict[tuple[str, str], Zygote] = OrderedDict()
        self._starting: dict[tuple[str, str], threading.Lock] = {}

    def acquire(self, scenario: Scenario, template: bytes) -> Zygote:
        key = (scenario.name, scenario.fingerprint)
        with self._lock:
            start_lock = self._starting.setdefault(key, threading.Lock())
        with start_lock:  # one thread starts a scenario's zygote; the others wait for it
            with self._lock:
                zygote = self._zygotes.get(key)
                if zygote is not None and not zygote.alive:
                    del self._zygotes[key]
                    zygote.close()
                    zygote = None
            if zygote is None:
                zygote = Zygote(scenario, template)
            with self._lock:
                self._zygotes[key] = zygote
                self._zygotes.move_to_end(key)
                zygote.live_hosts += 1
                return zygote

    def release(self, zygote: Zygote) -> None:
        with self._lock:
            zygote.live_hosts -= 1
            idle = [key for key, z in self._zygotes.items() if z.live_hosts <= 0]
            evicted = [self._zygotes.pop(key) for key in idle[: max(0, len(idle) - MAX_IDLE_ZYGOTES)]]
        for old in evicted:
            old.close()

    def shutdown(self) -> None:
        with self._lock:
            zygotes = list(self._zygotes.values())
            self._zygotes.clear()
        for zygote in zygotes:
            zygote.close()


_pool = _ZygotePool()
acquire_zygote = _pool.acquire
release_zygote = _pool.release
shutdown_zygotes = _pool.shutdown
atexit.register(shutdown_zygotes)
