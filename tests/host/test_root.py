"""The root server process and the zygote pool: forking, isolation, replacement, caps, warm-up."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import pid_alive, wait_gone

from awm_gym.catalog import Scenario, load_scenario
from awm_gym.errors import SubEnvStartError
from awm_gym.host import SubEnvHost, shutdown_zygotes, zygote_stats
from awm_gym.host import root as root_module
from awm_gym.host import zygote as zygote_module

_copies = itertools.count()


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario("awmgym_pet_clinic")


def fresh(base: Scenario, extra_code: str = "") -> Scenario:
    """A scenario this process has not seen (new name and fingerprint), optionally with code appended."""
    n = next(_copies)
    return dataclasses.replace(base, name=f"root_test_{os.getpid()}_{n}", full_code=f"{base.full_code}\n{extra_code}\n")


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.fixture
def started(base: Scenario) -> Iterator[SubEnvHost]:
    """A running host of a new scenario (so a root exists), closed afterwards."""
    with SubEnvHost(fresh(base), tool_timeout=5.0) as host:
        host.reset()
        yield host


def rows(database: bytes | Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(":memory:")
    if isinstance(database, Path):
        connection.close()
        connection = sqlite3.connect(database)
    else:
        connection.deserialize(database)
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: connection.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


class TestRootForksZygotes:
    def test_each_new_scenario_zygote_is_a_child_of_one_single_threaded_root(self, base: Scenario) -> None:
        """Two new scenarios get two zygotes, both forked by the same root, which never starts a thread."""
        with SubEnvHost(fresh(base)) as first, SubEnvHost(fresh(base)) as second:
            first.reset()
            second.reset()
            root = root_module.root_pid()
            assert root is not None and first.zygote_pid != second.zygote_pid
            assert parent_of(first.zygote_pid) == parent_of(second.zygote_pid) == root
            assert threads_of(root) == 1
            assert json.loads(first.call_tool("get_my_profile", {}).text)["id"] == 1

    def test_without_the_root_each_zygote_is_a_fresh_interpreter(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWM_GYM_ZYGOTE_ROOT=0: the zygote is this process's own child, and serves the same app."""
        monkeypatch.setenv("AWM_GYM_ZYGOTE_ROOT", "0")
        with SubEnvHost(fresh(base)) as host:
            host.reset()
            assert parent_of(host.zygote_pid) == os.getpid()
            assert json.loads(host.call_tool("get_my_profile", {}).text)["id"] == 1

    @pytest.mark.parametrize(
        "code",
        [
            "raise RuntimeError('broken at import')",
            "import os; os._exit(3)",
            "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
            "import fastapi.openapi.utils as u; u.get_openapi = lambda **kw: 1 / 0",
        ],
        ids=["exception", "exit", "segfault", "openapi"],
    )
    def test_a_bad_scenario_fails_alone_and_the_root_survives(
        self, base: Scenario, started: SubEnvHost, code: str
    ) -> None:
        """Scenario code runs in the zygote only: its failure is a typed error naming it; the root lives on."""
        root = root_module.root_pid()
        bad = fresh(base, code)
        with SubEnvHost(bad) as host, pytest.raises(SubEnvStartError, match=bad.name):
            host.reset()
        assert root_module.root_pid() == root and pid_alive(root)
        with SubEnvHost(fresh(base)) as good:
            good.reset()
            assert parent_of(good.zygote_pid) == root

    @pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "stopped"])
    def test_a_dead_or_stopped_root_is_replaced(self, base: Scenario, started: SubEnvHost, sig: signal.Signals) -> None:
        """The next new scenario gets a new root; the stopped one is killed, not left behind."""
        old_root = root_module.root_pid()
        assert old_root is not None
        os.kill(old_root, sig)
        with SubEnvHost(fresh(base)) as host:
            host.reset()
            assert root_module.root_pid() not in (None, old_root)
            assert parent_of(host.zygote_pid) == root_module.root_pid()
        assert wait_gone([old_root]) == []
        assert json.loads(started.call_tool("get_my_profile", {}).text)["id"] == 1  # older zygotes live on

    def test_a_stopped_zygote_is_replaced_when_a_server_is_needed(self, started: SubEnvHost) -> None:
        """A SIGSTOPped zygote is detected (not waited on): a crashed server comes back from a new zygote."""
        old_zygote, old_server = started.zygote_pid, started.server_pid
        os.kill(old_zygote, signal.SIGSTOP)
        os.kill(old_server, signal.SIGKILL)
        assert wait_gone([old_server]) == []
        result = started.call_tool("get_my_profile", {})
        assert result.error is None and json.loads(result.text)["id"] == 1
        assert started.zygote_pid != old_zygote
        assert wait_gone([old_zygote]) == []

    def test_a_zygote_that_does_not_answer_a_spawn_is_marked_broken(self, started: SubEnvHost) -> None:
        """Zygote.spawn gives up on a stopped zygote with a typed error and the zygote no longer counts as alive."""
        import socket

        zygote = started._resources.zygote
        assert zygote is not None and zygote.alive
        os.kill(zygote.pid, signal.SIGSTOP)
        a, b = socket.socketpair()
        try:
            with pytest.raises(SubEnvStartError, match="could not fork a server"):
                zygote.spawn(a, b, db_path=Path("x"), log_path=Path("y"), workdir=Path("z"), timeout=0.5)
        finally:
            a.close()
            b.close()
            os.kill(zygote.pid, signal.SIGCONT)
        assert not zygote.alive


def _evict_idle() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zygote_module, "MAX_IDLE_ZYGOTES", 0)
        zygote_module._pool._evict()


class TestPoolCaps:
    @pytest.fixture(autouse=True)
    def _no_idle_zygotes(self) -> Iterator[None]:
        """Start and end with no idle zygote (the root stays: restarting it is the slow part)."""
        _evict_idle()
        yield
        _evict_idle()

    def _idle_zygotes(self, base: Scenario, n: int) -> list[int]:
        pids = []
        for _ in range(n):
            with SubEnvHost(fresh(base)) as host:
                host.reset()
                pids.append(host.zygote_pid)
        return pids

    def test_count_cap_evicts_least_recently_used_idle_zygotes(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With at most 2 zygotes, a third scenario evicts the oldest idle one; a zygote in use is never evicted."""
        monkeypatch.setattr(zygote_module, "MAX_ZYGOTES", 2)
        with SubEnvHost(fresh(base)) as busy:
            busy.reset()
            first, second, third = self._idle_zygotes(base, 3)
            assert wait_gone([first, second]) == []
            assert pid_alive(third) and pid_alive(busy.zygote_pid)
            assert zygote_stats()["live"] == 2

    def test_idle_cap(self, base: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
        """At most MAX_IDLE_ZYGOTES idle zygotes stay; the most recently used ones."""
        monkeypatch.setattr(zygote_module, "MAX_IDLE_ZYGOTES", 1)
        first, second = self._idle_zygotes(base, 2)
        assert wait_gone([first]) == [] and pid_alive(second)

    def test_memory_cap_evicts_idle_zygotes_and_stats_report_memory(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Over the memory cap every idle zygote goes; the one in use stays, and its memory is reported."""
        with SubEnvHost(fresh(base)) as busy:
            busy.reset()
            (idle,) = self._idle_zygotes(base, 1)
            stats = zygote_stats()
            assert (stats["live"], stats["idle"]) == (2, 1)
            assert 0 < stats["uss_bytes"] <= stats["pss_bytes"]
            assert stats["root_pid"] == root_module.root_pid() and stats["root_pss_bytes"] > 0
            monkeypatch.setattr(zygote_module, "MAX_ZYGOTE_MEMORY", 1)
            zygote_module._pool._evict()
            assert wait_gone([idle]) == [] and pid_alive(busy.zygote_pid)
            assert zygote_stats()["live"] == 1

    def test_shutdown_kills_zygotes_servers_and_root(self, started: SubEnvHost) -> None:
        """shutdown_zygotes() leaves no zygote, server or root; the next env starts a fresh root."""
        pids = [started.zygote_pid, started.server_pid, root_module.root_pid()]
        shutdown_zygotes()
        assert wait_gone(pids) == [] and root_module.root_pid() is None


class TestWarmUp:
    @pytest.mark.parametrize("mode", ["1", "all"])
    def test_warm_up_leaves_the_episode_database_untouched(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch, mode: str
    ) -> None:
        """Routes run at zygote start (all of them, writes included, with "all") and are replayed at server
        start, yet the episode database is the template, and no scratch copy is left.
        """
        monkeypatch.setenv("AWM_GYM_WARM_UP", mode)
        with SubEnvHost(fresh(base)) as host:
            host.reset()
            zygote = host._resources.zygote
            assert zygote is not None
            assert rows(host.database_path) == rows(zygote.episode_template)
            assert rows(zygote.episode_template) == rows(host.initial_database)
            assert not list(Path(zygote.workdir).glob("warm_up.db")) and not list(host.workdir.glob("warm_up.db"))

    @pytest.mark.slow
    def test_a_handler_that_never_returns_cannot_stall_start_up(self, base: Scenario) -> None:
        """A sync route stuck in a loop is cut off by the warm-up budget; the scenario still starts."""
        code = textwrap.dedent(
            """
            @app.get("/aaa_spin", operation_id="aaa_spin")
            def aaa_spin():
                while True:
                    pass
            """
        )
        with SubEnvHost(fresh(base, code), tool_timeout=1.0) as host:
            host.reset()
            assert json.loads(host.call_tool("get_my_profile", {}).text)["id"] == 1


def new_code(base: Scenario) -> Scenario:
    """A new scenario whose code no zygote has run yet (the OpenAPI cache is keyed by the code)."""
    return fresh(base, f"# copy {os.getpid()}-{next(_copies)}")


class TestOpenAPICache:
    def test_a_cached_catalog_equals_a_fresh_one(self, base: Scenario) -> None:
        """The second zygote of the same code takes the cached document: identical OpenAPI, tools and calls."""
        scenario = new_code(base)
        path = zygote_module.openapi_cache_path(scenario.full_code)
        assert path is not None and not path.exists()
        with SubEnvHost(scenario) as host:
            host.reset()
            fresh_zygote = host._resources.zygote
            assert fresh_zygote is not None and not fresh_zygote.openapi_cached
            fresh_openapi, fresh_tools = fresh_zygote.openapi, host.tools.openai_schemas()
            fresh_answer = host.call_tool("get_my_profile", {})
        assert json.loads(path.read_text()) == fresh_openapi
        shutdown_zygotes()  # the next host needs a new zygote: the pool no longer has one
        with SubEnvHost(scenario) as host:
            host.reset()
            cached_zygote = host._resources.zygote
            assert cached_zygote is not None and cached_zygote.openapi_cached
            assert cached_zygote.openapi == fresh_openapi and host.tools.openai_schemas() == fresh_tools
            assert host.call_tool("get_my_profile", {}) == fresh_answer

    @pytest.mark.parametrize("mode", ["1", "all"])
    def test_a_damaged_entry_is_recomputed_and_replaced(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch, mode: str
    ) -> None:
        """A cache entry that is not JSON is never served: the zygote computes the document and rewrites it."""
        monkeypatch.setenv("AWM_GYM_WARM_UP", mode)
        scenario = new_code(base)
        path = zygote_module.openapi_cache_path(scenario.full_code)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"openapi": "3.1.0", "paths": {')
        with SubEnvHost(scenario) as host:
            host.reset()
            assert not host._resources.zygote.openapi_cached
            assert "get_my_profile" in [tool.name for tool in host.tools]
        assert json.loads(path.read_text())["paths"]

    def test_the_key_changes_with_the_code_and_the_cache_can_be_off(
        self, base: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Different code, different entry; AWM_GYM_OPENAPI_CACHE=0 computes every document and stores none."""
        scenario = new_code(base)
        path = zygote_module.openapi_cache_path(scenario.full_code)
        assert path is not None and path != zygote_module.openapi_cache_path(scenario.full_code + "\n# edited\n")
        monkeypatch.setenv("AWM_GYM_OPENAPI_CACHE", "0")
        assert zygote_module.openapi_cache_path(scenario.full_code) is None
        with SubEnvHost(scenario) as host:
            assert "get_my_profile" in [tool.name for tool in host.tools]
            assert not host._resources.zygote.openapi_cached
        assert not path.exists()


ROOT_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job (SIGINT ignored)
    import gymnasium as gym
    import awm_gym
    from awm_gym.host import root

    env = gym.make("AWM/awmgym_pet_clinic-v0")
    env.reset(seed=0)
    host = env.unwrapped.host
    print(json.dumps([root.root_pid(), host.zygote_pid, host.server_pid]), flush=True)
    if sys.argv[1] == "wait":
        time.sleep(60)
    """
)


def _start(mode: str) -> tuple[subprocess.Popen[str], list[int]]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    env.pop("AWM_GYM_ZYGOTE_ROOT", None)
    process = subprocess.Popen([sys.executable, "-c", ROOT_SCRIPT, mode], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the child script failed before printing its pids"
    pids = json.loads(line)
    assert all(pids), pids
    return process, pids


@pytest.mark.slow
class TestRootLifetime:
    def test_interpreter_exit_reaps_the_root(self) -> None:
        """A script that never closes anything leaves no root, zygote or server behind."""
        process, pids = _start("exit")
        assert process.wait(timeout=60) == 0
        assert wait_gone(pids) == []

    def test_ctrl_c_reaps_the_root(self) -> None:
        """SIGINT in the parent (the root ignores it, sitting in its own session) still ends the root."""
        process, pids = _start("wait")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert wait_gone(pids) == []

    def test_parent_sigkill_leaves_nothing_after_two_seconds(self) -> None:
        """kill -9 of the parent: the root's and the zygote's control sockets close and both exit."""
        process, pids = _start("wait")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert wait_gone(pids, timeout=2.0) == []


class TestChildProcess:
    def test_alive_stopped_and_killed(self) -> None:
        """A stopped process exists but is not alive (it cannot answer); kill() ends it and is idempotent."""
        from awm_gym.host.process import ChildProcess

        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            child = ChildProcess(sleeper.pid)
            assert child.alive and not child.stopped
            os.kill(sleeper.pid, signal.SIGSTOP)
            assert wait_until(lambda: child.stopped) and not child.alive
            child.kill()
            child.kill()
            assert sleeper.wait(timeout=10) == -signal.SIGKILL
            assert child.state is None and not child.alive
        finally:
            sleeper.kill()
            sleeper.wait()

    def test_memory_usage_reads_uss_and_pss(self) -> None:
        """USS and PSS come from /proc (USS never exceeds PSS); a missing process gives None."""
        from awm_gym.host.process import memory_usage

        usage = memory_usage(os.getpid())
        assert usage is not None and 0 < usage.uss <= usage.pss
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        assert memory_usage(gone.pid) is None


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes (a bound against hangs, not a timing assertion)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
