"""The verifier sandbox, attacked with nothing but plain Python in a verifier's body.

Every hostile verifier first disarms the audit hook (the Python-level guard is defence in depth only), then
tries its route and reports what it managed; each test then checks containment from the outside: nothing
written outside, no packet on a loopback listener the test runs, no process left behind, the env process
and the worker alive, another env's concurrent verification right, and the next verification or episode
normal. Cases that need the ``namespaces`` level are skipped, saying so, where the machine does not allow it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from awm_gym.envs import AWMEnv
from awm_gym.verifier import IsolationLevel, VerifierConnection, isolation_level, shutdown_worker, worker_pid

DISARM = '''
import gc, os, sys

def _disarm():
    """Neuter the worker's audit hook from inside, as an attacker would."""
    for obj in gc.get_objects():
        code = getattr(obj, "__code__", None)
        if code is not None and obj.__name__ == "guard" and "worker_process" in code.co_filename:
            obj.__defaults__ = ((), {}, 0)
            for cell in obj.__closure__ or ():
                cell.cell_contents = lambda path: True

def _try(report, name, action):
    try:
        report[name] = repr(action())
    except BaseException as exc:
        report[name] = "refused: " + repr(exc)

'''


def hostile(body: str) -> str:
    """Verifier code: disarm the guard, run ``body`` (which fills ``report``), return it with result others."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        DISARM
        + "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n"
        + "    _disarm()\n    report = {}\n"
        + lines
        + "\n    return {'result': 'others', 'report': report}\n"
    )


BENIGN = """import sqlite3
def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    v = sqlite3.connect(final_db_path).execute('SELECT v FROM t').fetchone()[0]
    return {'result': 'complete' if v == 2 and final_answer == 'two' else 'others', 'v': v}
"""


@pytest.fixture(scope="module")
def level() -> IsolationLevel:
    found = isolation_level()
    if found is IsolationLevel.NONE:
        pytest.skip("no kernel isolation on this machine (or AWM_GYM_VERIFIER_ISOLATION=none): nothing to contain")
    return found


@pytest.fixture
def namespaces(level: IsolationLevel) -> None:
    if level is not IsolationLevel.NAMESPACES:
        pytest.skip(f"needs the namespaces isolation level; this machine allows only {level.value!r}")


@pytest.fixture
def connection() -> Iterator[VerifierConnection]:
    conn = VerifierConnection()
    yield conn
    conn.close()


def run(connection: VerifierConnection, code: str, workdir: Path, timeout: float = 10.0) -> dict[str, Any]:
    return connection.run(
        code=code, function="verify_task_completion", workdir=workdir, final_answer="two", timeout=timeout
    )


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def worker_descendants() -> tuple[list[int], list[int]]:
    """(the worker's children, every process below them)."""
    pid = worker_pid()
    assert pid is not None
    children = _children(pid)
    below, todo = [], list(children)
    while todo:
        grandchildren = _children(todo.pop())
        below += grandchildren
        todo += grandchildren
    return children, below


def assert_nothing_left(level: IsolationLevel) -> None:
    """Only the worker's idle sandboxes remain: no process a verification started, none below them."""
    deadline = time.monotonic() + 5
    while True:  # the worker replenishes its idle sandboxes asynchronously: let it settle
        children, below = worker_descendants()
        settled = not below and len(children) <= 2
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert below == [], "a process started by a verification is still running"
    assert len(children) <= 2, f"more than the idle sandboxes are left: {children}"
    if level is IsolationLevel.NAMESPACES:
        namespaces = [os.readlink(f"/proc/{pid}/ns/pid") for pid in children if Path(f"/proc/{pid}").exists()]
        assert len(set(namespaces)) == len(namespaces), "two sandboxes share a PID namespace"


def assert_benign_works(connection: VerifierConnection, workdir: Path) -> None:
    outcome = run(connection, BENIGN, workdir)
    assert outcome["status"] == "ok" and outcome["value"] == {"result": "complete", "v": 2}, outcome


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, socket.socket, int]]:
    """A TCP listener and a UDP socket on loopback, on the same port number."""
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp.settimeout(0.5)
    udp.settimeout(0.5)
    yield tcp, udp, port
    tcp.close()
    udp.close()


def assert_no_packet(tcp: socket.socket, udp: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        tcp.accept()
    with pytest.raises(TimeoutError):
        udp.recvfrom(100)


# ------------------------------------------------------------------------------------------------ files


def test_file_writes_by_every_route_stay_inside(
    connection: VerifierConnection, workdir: Path, tmp_path: Path, level: IsolationLevel, namespaces: None
) -> None:
    """open, os.open with dir_fd, mkfifo, link/symlink/rename, shutil, pathlib, ctypes, SQLite: nothing lands outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("original")
    target = str(outside)
    body = f"""
import ctypes, shutil, pathlib, sqlite3
_try(report, "open", lambda: open({target!r} + "/a.txt", "w").write("x"))
_try(report, "overwrite", lambda: open({str(victim)!r}, "w").write("x"))
_try(report, "dir_fd", lambda: os.open("b.txt", os.O_CREAT | os.O_WRONLY, dir_fd=os.open({target!r}, os.O_RDONLY)))
_try(report, "mkfifo", lambda: os.mkfifo({target!r} + "/fifo"))
_try(report, "symlink", lambda: os.symlink("/etc/passwd", {target!r} + "/link"))
_try(report, "rename", lambda: os.rename(final_db_path, {target!r} + "/moved.db"))
_try(report, "copy", lambda: shutil.copy(initial_db_path, {target!r} + "/copy.db"))
_try(report, "pathlib", lambda: pathlib.Path({target!r}, "p.txt").write_text("x"))
_try(report, "chdir", lambda: (os.chdir({target!r}), open("c.txt", "w").write("x")))
libc = ctypes.CDLL(None, use_errno=True)
_try(report, "ctypes", lambda: libc.open(({target!r} + "/d.txt").encode(), os.O_CREAT | os.O_WRONLY, 0o644))
conn = sqlite3.connect(":memory:")
conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 10)
_try(report, "attach", lambda: conn.execute("ATTACH ? AS x", ({target!r} + "/attached.db",)).fetchall())
_try(report, "vacuum_into", lambda: sqlite3.connect(final_db_path).execute("VACUUM INTO ?", ({target!r} + "/v.db",)))
"""
    outcome = run(connection, hostile(body), workdir)
    assert outcome["status"] == "ok", outcome
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert victim.read_text() == "original"
    assert sorted(p.name for p in workdir.iterdir()) == ["final.db", "initial.db"]
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


def test_database_copies_are_read_only_and_the_live_episode_is_out_of_reach(
    level: IsolationLevel, namespaces: None
) -> None:
    """The copies cannot be changed (so neither can the env's files) and the live episode database is not visible."""
    env = AWMEnv("awmgym_pet_clinic", max_steps=5)
    try:
        env.reset(options={"task_idx": 0})
        live = env.host.database_path
        before = hashlib.sha256(live.read_bytes()).hexdigest()
        body = f"""
import sqlite3
def corrupt(path):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'garbage'")
    conn.commit()
for name, path in (("final", final_db_path), ("initial", initial_db_path), ("live", {str(live)!r})):
    _try(report, name, lambda: corrupt(path))
    _try(report, name + "_truncate", lambda: open(path, "r+b").truncate(0))
conn = sqlite3.connect(final_db_path)
conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 10)
_try(report, "attach_live", lambda: conn.execute("ATTACH ? AS live", ({str(live)!r},)).execute("DELETE FROM live.users"))
"""
        record = env.scenario.verifier("code", 0)
        hostile_record = type(record)(mode="code", task_idx=0, code=hostile(body))
        workdir = env.host.workdir / "attack"
        env.host.snapshot(workdir)
        outcome = env.verifier.run_code(hostile_record, workdir, "")
        assert outcome["status"] == "ok", outcome
        assert all(value.startswith("refused") for key, value in outcome["value"]["report"].items()), outcome
        assert hashlib.sha256(live.read_bytes()).hexdigest() == before
        assert sqlite3.connect(workdir / "final.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert_nothing_left(level)
        # The next episode is normal.
        env.reset(options={"task_idx": 0})
        _obs, _reward, terminated, _truncated, info = env.step("I could not do it.")
        assert terminated and info["verifier"]["label"] == "others" and info["verifier"]["isolation"] == level.value
    finally:
        env.close()


# ---------------------------------------------------------------------------------------------- network


def test_no_network_by_any_route(
    connection: VerifierConnection,
    workdir: Path,
    listener: tuple[socket.socket, socket.socket, int],
    level: IsolationLevel,
) -> None:
    """TCP, UDP, raw ctypes syscalls and a spawned interpreter: not one packet reaches a loopback listener."""
    tcp, udp, port = listener
    body = f"""
import socket, ctypes, subprocess, _posixsubprocess
_try(report, "tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1))
_try(report, "udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {port})))
libc = ctypes.CDLL(None, use_errno=True)
_try(report, "raw_socket", lambda: libc.socket(2, 2, 0))
script = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'y', ('127.0.0.1', {port}))"
_try(report, "subprocess", lambda: subprocess.run([{sys.executable!r}, "-c", script], timeout=5))
_try(report, "fork_exec", lambda: _posixsubprocess.fork_exec(
    [{sys.executable!r}, "-c", script], [{sys.executable.encode()!r}], True, (), None, None,
    -1, -1, -1, -1, -1, -1, -1, -1, False, False, -1, None, None, None, -1, None, True))
"""
    outcome = run(connection, hostile(body), workdir)
    assert outcome["status"] == "ok", outcome
    report = outcome["value"]["report"]
    assert report["raw_socket"] == "-1", report  # the syscall itself fails
    assert all(report[key].startswith("refused") for key in ("tcp", "udp", "subprocess", "fork_exec")), report
    assert_no_packet(tcp, udp)
    assert_nothing_left(level)


# -------------------------------------------------------------------------------------------- processes


def test_no_process_is_started_or_left_behind(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel
) -> None:
    """fork, posix_spawn, subprocess, _posixsubprocess, raw clone/fork syscalls and a fork bomb: all refused."""
    body = f"""
import ctypes, subprocess, _posixsubprocess
_try(report, "fork", os.fork)
_try(report, "posix_spawn", lambda: os.posix_spawn({sys.executable!r}, ["python", "-c", "import time; time.sleep(60)"], {{}}))
_try(report, "subprocess", lambda: subprocess.Popen(["sleep", "60"]))
_try(report, "fork_exec", lambda: _posixsubprocess.fork_exec(
    ["sleep", "60"], [b"/bin/sleep"], True, (), None, None,
    -1, -1, -1, -1, -1, -1, -1, -1, False, False, -1, None, None, None, -1, None, True))
libc = ctypes.CDLL(None, use_errno=True)
_try(report, "raw_fork", lambda: libc.syscall(57))
_try(report, "raw_clone", lambda: libc.syscall(56, 17, 0, 0, 0, 0))
_try(report, "multiprocessing", lambda: __import__("multiprocessing").Process(target=lambda: None).start())
bomb = 0
for _ in range(200):
    try:
        if os.fork() == 0:
            import time
            time.sleep(60)
        bomb += 1
    except OSError:
        pass
report["bomb"] = bomb
"""
    outcome = run(connection, hostile(body), workdir)
    assert outcome["status"] == "ok", outcome
    report = outcome["value"]["report"]
    assert report["bomb"] == 0, report
    assert report["raw_fork"] == "-1" and report["raw_clone"] == "-1", report
    assert all(report[k].startswith("refused") for k in ("fork", "posix_spawn", "subprocess", "fork_exec")), report
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


@pytest.mark.parametrize("body", ["while True:\n    pass", "import time\ntime.sleep(60)"], ids=["loop", "sleep"])
def test_timeouts_hold_and_kill_everything(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, body: str
) -> None:
    """A loop or a sleep is cut at the step's timeout; nothing of it keeps running."""
    outcome = run(
        connection,
        hostile("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + body),
        workdir,
        timeout=1.0,
    )
    assert outcome["status"] == "timeout" and "no result within 1 s" in outcome["error"]
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


# ----------------------------------------------------------------------------------- signals and memory


def test_no_signal_pidfd_or_memory_access_to_other_processes(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, namespaces: None
) -> None:
    """kill, killpg, pidfd_send_signal, ptrace-free /proc/<pid>/mem and process_vm_writev: the env and worker live."""
    canary = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        targets = {"env": os.getpid(), "worker": worker_pid(), "canary": canary.pid}
        body = f"""
import signal, ctypes
targets = {targets!r}
libc = ctypes.CDLL(None, use_errno=True)
for name, pid in targets.items():
    _try(report, name + "_kill", lambda: os.kill(pid, signal.SIGKILL))
    _try(report, name + "_killpg", lambda: os.killpg(pid, signal.SIGKILL))
    _try(report, name + "_pidfd", lambda: signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL))
    _try(report, name + "_mem", lambda: open("/proc/%d/mem" % pid, "r+b").write(b"x"))
    _try(report, name + "_raw_kill", lambda: libc.kill(pid, 9))
_try(report, "parent", lambda: os.kill(os.getppid(), signal.SIGKILL))
_try(report, "everyone", lambda: os.kill(-1, signal.SIGKILL))
_try(report, "raw_everyone", lambda: libc.kill(-1, 9))
"""
        outcome = run(connection, hostile(body), workdir)
        assert outcome["status"] == "ok", outcome
        report = outcome["value"]["report"]
        assert all(v.startswith("refused") or v == "-1" for v in report.values()), report
        assert canary.poll() is None
        assert worker_pid() == targets["worker"]
        assert_nothing_left(level)
        assert_benign_works(connection, workdir)
    finally:
        canary.kill()
        canary.wait()


# ----------------------------------------------------------------------------------------------- secrets


def test_secrets_are_not_readable(
    workdir: Path, level: IsolationLevel, namespaces: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The env process's variables, /etc/passwd, /proc and the reference solutions are out of sight."""
    secret = "sk-awm-test-" + os.urandom(8).hex()
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    shutdown_worker()  # a worker started now would inherit the variable if anything leaked it
    import awm_gym

    solutions = Path(awm_gym.__file__).parent / "catalog" / "bundled" / "reference_solutions.jsonl"
    body = f"""
found = []
found.append(repr(dict(os.environ)))
for path in ("/etc/passwd", "/proc/self/environ", "/proc/1/environ", "/proc/%d/environ" % {os.getpid()}, {str(solutions)!r}):
    try:
        found.append(open(path, errors="replace").read())
    except OSError as exc:
        found.append(repr(exc))
report["found"] = "\\n".join(found)
"""
    connection = VerifierConnection()
    try:
        outcome = run(connection, hostile(body), workdir)
    finally:
        connection.close()
    assert outcome["status"] == "ok", outcome
    found = outcome["value"]["report"]["found"]
    assert secret not in found and "root:x:0:0" not in found and '"calls"' not in found
    assert "OPENAI_API_KEY" not in found


# ------------------------------------------------------------------------------ the worker and the channel


def _concurrently(workdir: Path) -> tuple[threading.Thread, list[dict[str, Any]]]:
    """Another env's benign verification, started while an attack runs."""
    results: list[dict[str, Any]] = []

    def other_env() -> None:
        conn = VerifierConnection()
        try:
            time.sleep(0.2)
            results.append(run(conn, BENIGN, workdir))
        finally:
            conn.close()

    thread = threading.Thread(target=other_env)
    thread.start()
    return thread, results


def _worker_rss_mb() -> float:
    pid = worker_pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        # garbage into every descriptor the job holds (the result channel included), then a normal return
        "for fd in range(3, 64):\n    _try(report, str(fd), lambda: os.write(fd, b'garbage\\n' * 1000))",
        # a flood on the result channel: far more than the cap
        "chunk = b'x' * (1 << 20)\nfor fd in range(3, 8):\n    _try(report, str(fd), lambda: [os.write(fd, chunk) for _ in range(1500)])",
        # FIFOs and replaced output files in every writable place, stdout closed
        "_try(report, 'fifo', lambda: os.mkfifo('verifier.log'))\n_try(report, 'fifo_job', lambda: os.mkfifo('/job/verifier.log'))\n"
        "os.close(1)\nos.close(2)",
        # memory bombs: one big allocation, then a slow growth
        "_try(report, 'big', lambda: bytearray(8 * 1024 ** 3))\nhoard = []\n"
        "_try(report, 'grow', lambda: [hoard.append(bytearray(64 * 1024 ** 2)) for _ in range(100)])",
    ],
    ids=["garbage", "flood", "fifo", "memory"],
)
def test_worker_cannot_be_poisoned(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, body: str
) -> None:
    """Nothing a job does to its channel, files or memory touches another env's concurrent verification or later ones."""
    thread, results = _concurrently(workdir)
    outcome = run(connection, hostile(body), workdir)
    thread.join()
    assert results[0]["status"] == "ok" and results[0]["value"] == {"result": "complete", "v": 2}, results
    assert outcome["status"] in ("ok", "error")
    if outcome["status"] == "ok":
        assert outcome["value"]["result"] == "others"
    assert _worker_rss_mb() < 300
    assert_nothing_left(level)
    for _ in range(3):
        assert_benign_works(connection, workdir)


@pytest.mark.slow
def test_a_stopped_worker_is_replaced_within_the_timeout(connection: VerifierConnection, workdir: Path) -> None:
    """A SIGSTOPped worker is detected by the health check and replaced; the verification still succeeds."""
    assert_benign_works(connection, workdir)
    stopped = worker_pid()
    assert stopped is not None
    os.kill(stopped, signal.SIGSTOP)
    try:
        outcome = run(connection, BENIGN, workdir, timeout=5.0)
    finally:
        try:
            os.kill(stopped, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert outcome["status"] == "ok" and outcome["value"]["result"] == "complete"
    assert worker_pid() not in (None, stopped)


@pytest.mark.parametrize(
    "body",
    [
        # a forged frame on the result channel: valid length, JSON nested far past any recursion limit
        "import struct\npayload = b'{\"status\":\"ok\",\"value\":' + b'[' * 100000 + b']' * 100000 + b'}'\n"
        "for fd in range(3, 16):\n    _try(report, str(fd), lambda: os.write(fd, struct.pack('!I', len(payload)) + payload))\n"
        "os._exit(0)",
        # a returned value the job can still encode (its recursion limit raised) but the worker's parser cannot take
        "sys.setrecursionlimit(100000)\nvalue = 'x'\nfor _ in range(998):\n    value = [value]\n"
        "return {'result': 'complete', 'deep': value}",
    ],
    ids=["forged_deep_frame", "deep_value"],
)
def test_hostile_result_values_harm_neither_the_worker_nor_the_env(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, body: str
) -> None:
    """Results whose JSON would exhaust a recursion limit are refused: the worker and another env carry on."""
    assert_benign_works(connection, workdir)
    before = worker_pid()
    thread, results = _concurrently(workdir)
    outcome = run(connection, hostile(body), workdir)
    thread.join()
    json.dumps(outcome)  # what the env logs and records stays printable
    assert outcome["status"] == "error", outcome
    assert results[0]["status"] == "ok" and results[0]["value"] == {"result": "complete", "v": 2}, results
    assert worker_pid() == before, "the worker died"
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


def test_no_memory_outside_the_address_space_limit(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel
) -> None:
    """Memory files hold pages the address-space limit does not count: a job cannot pile up gigabytes in them."""
    body = """
held, fds = 0, []
try:
    for i in range(60):
        fd = os.memfd_create("hoard%d" % i)
        fds.append(fd)
        os.posix_fallocate(fd, 0, 60 << 20)
        held += 60 << 20
except OSError as exc:
    report["stopped"] = repr(exc)
report["held_mb"] = held >> 20
"""
    outcome = run(connection, hostile(body), workdir, timeout=30.0)
    assert outcome["status"] == "ok", outcome
    assert outcome["value"]["report"]["held_mb"] < 1024, outcome["value"]["report"]
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


def test_installed_packages_are_out_of_sight(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, namespaces: None
) -> None:
    """site-packages and dist-packages below the bound stdlib and /usr (where awm-gym and scenario packs install) are hidden."""
    import glob
    import site

    places = [*site.getsitepackages(), *glob.glob("/usr/lib/python3*/dist-packages"), *glob.glob("/usr/local/lib/python3*/*-packages")]
    places = [p for p in {os.path.realpath(p) for p in places} if os.path.isdir(p) and os.listdir(p)]
    body = f"""
for place in {sorted(places)!r}:
    try:
        report[place] = os.listdir(place)
    except OSError as exc:
        report[place] = []
"""
    outcome = run(connection, hostile(body), workdir)
    assert outcome["status"] == "ok", outcome
    assert {place: names for place, names in outcome["value"]["report"].items() if names} == {}


def test_no_signal_through_descriptor_ownership(
    workdir: Path, level: IsolationLevel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F_SETOWN/F_SETSIG/FIOSETOWN (a descriptor signals its owner on I/O) reach no process of the job's uid.

    Run at the ``seccomp`` level, where that uid is shared with every other job (another env's verification).
    """
    if os.getuid() != 0:
        pytest.skip("needs root: the seccomp level runs jobs as uid 65534 only when started as root")
    canary = subprocess.Popen(["sleep", "120"], user=65534)
    monkeypatch.setenv("AWM_GYM_VERIFIER_ISOLATION", "seccomp")
    shutdown_worker()
    connection = VerifierConnection()
    try:
        body = f"""
import fcntl, signal, struct
def owned(how):
    read_end, write_end = os.pipe()
    how(read_end)
    fcntl.fcntl(read_end, fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK)
    os.write(write_end, b"x")
    return "sent"
def setown_setsig(fd):
    fcntl.fcntl(fd, fcntl.F_SETOWN, {canary.pid})
    fcntl.fcntl(fd, 10, signal.SIGKILL)
_try(report, "f_setown", lambda: owned(setown_setsig))
_try(report, "f_setown_only", lambda: owned(lambda fd: fcntl.fcntl(fd, fcntl.F_SETOWN, {canary.pid})))
_try(report, "fiosetown", lambda: owned(lambda fd: fcntl.ioctl(fd, 0x8901, struct.pack("i", {canary.pid}))))
"""
        outcome = run(connection, hostile(body), workdir)
        assert outcome["status"] == "ok" and outcome["isolation"] == "seccomp", outcome
        assert canary.poll() is None, outcome["value"]["report"]
        assert all(v.startswith("refused") for v in outcome["value"]["report"].values()), outcome
    finally:
        connection.close()
        shutdown_worker()  # the next test's worker starts at the level the machine allows
        canary.kill()
        canary.wait()


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the x32 and i386 system call ABIs exist on x86_64 only")
@pytest.mark.parametrize(
    "body",
    [
        # the x32 ABI's socket() (number | 0x40000000), past a filter written for x86_64 numbers
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nreport['x32_socket'] = libc.syscall(0x40000000 | 41, 2, 2, 0)",
        # the i386 ABI (int 0x80): socketcall(SYS_SOCKET) from machine code in an executable mapping
        "import ctypes, mmap\nargs = (ctypes.c_uint32 * 3)(2, 2, 0)\n"
        "code = bytes([0xB8, 102, 0, 0, 0, 0xBB, 1, 0, 0, 0, 0xB9]) + (ctypes.addressof(args) & 0xFFFFFFFF).to_bytes(4, 'little')"
        " + bytes([0xCD, 0x80, 0xC3])\n"
        "page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\npage.write(code)\n"
        "report['int80_socket'] = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()",
        # threads: a second flow of control that could outlive the result
        "import threading, _thread\n_try(report, 'thread', lambda: threading.Thread(target=lambda: None).start())\n"
        "_try(report, 'start_new_thread', lambda: _thread.start_new_thread(lambda: None, ()))\n"
        "report['thread_refused'] = all(v.startswith('refused') for v in report.values())",
    ],
    ids=["x32", "int80", "threads"],
)
def test_no_syscall_abi_or_thread_escapes_the_filter(
    connection: VerifierConnection, workdir: Path, level: IsolationLevel, body: str
) -> None:
    """Other system call ABIs are killed by the filter; threads cannot start (clone is refused)."""
    outcome = run(connection, hostile(body), workdir)
    if outcome["status"] == "ok":  # the call failed and the job carried on: it must have got nothing
        report = outcome["value"]["report"]
        assert report in ({"x32_socket": -1}, {"int80_socket": -1}) or report.get("thread_refused") is True, report
    else:  # the filter killed the job for using a foreign ABI
        assert outcome["status"] == "error" and "died" in outcome["error"], outcome
    assert_nothing_left(level)
    assert_benign_works(connection, workdir)


def test_non_finite_numbers_in_a_result_stay_strict_json(connection: VerifierConnection, workdir: Path) -> None:
    """NaN and infinities (returned, or forged as ``1e999``) arrive as text: strict JSON encoders can send the result."""
    code = """import math, os, struct
def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    if final_answer == "forged":
        payload = b'{"status":"ok","value":{"result":"complete","huge":1e999,"neg":-1e999}}'
        for fd in range(3, 16):  # the result channel is one of them
            try:
                os.write(fd, struct.pack("!I", len(payload)) + payload)
            except OSError:
                pass
        os._exit(0)
    return {"result": "complete", "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "fine": 0.5}
"""
    for answer in ("returned", "forged"):
        outcome = connection.run(
            code=code, function="verify_task_completion", workdir=workdir, final_answer=answer, timeout=10
        )
        assert outcome["status"] == "ok" and outcome["value"]["result"] == "complete", outcome
        json.dumps(outcome, allow_nan=False)  # what the server's JSON responses and strict loggers need
    assert outcome["value"] == {"result": "complete", "huge": "1e999", "neg": "-1e999"}
