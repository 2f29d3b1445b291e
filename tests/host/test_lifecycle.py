"""No process outlives its owner: interpreter exit, Ctrl-C and kill -9 of the parent (separate interpreters)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import children_of, wait_gone

SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, time
    # Ctrl-C raises KeyboardInterrupt even when this runs as a background job (which inherits SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import gymnasium as gym
    import awm_gym
    from awm_gym.verifier import worker_pid

    env = gym.make("AWM/awmgym_pet_clinic-v0")
    env.reset(seed=0)
    env.step("I am done.")  # runs the verifier, so its worker exists too
    host = env.unwrapped.host
    print(json.dumps({"server": host.server_pid, "zygote": host.zygote_pid, "verifier": worker_pid()}), flush=True)
    if sys.argv[1] == "wait":
        time.sleep(60)
    """
)


def _start(mode: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, mode], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the child script failed before printing its pids"
    pids = json.loads(line)
    assert all(pids.values()), pids
    return process, pids


def test_interpreter_exit_reaps_everything() -> None:
    """A script that never calls close() leaves no server, zygote or verifier worker behind."""
    process, pids = _start("exit")
    assert process.wait(timeout=30) == 0
    assert wait_gone(list(pids.values())) == []


def test_ctrl_c_reaps_everything() -> None:
    """SIGINT (Ctrl-C) in the parent ends it and every process it started."""
    process, pids = _start("wait")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) != 0  # ended by the KeyboardInterrupt, not by its 60 s sleep running out
    assert wait_gone(list(pids.values())) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_parent_death_leaves_no_orphan_within_two_seconds(sig: signal.Signals) -> None:
    """kill -9 (or TERM) of the parent: the closed sockets end the servers and the zygote within 2 s."""
    process, pids = _start("wait")
    descendants = children_of(process.pid)
    process.send_signal(sig)
    process.wait(timeout=10)
    assert wait_gone(list(pids.values()) + descendants, timeout=2.0) == []


def test_runtime_dirs_of_dead_processes_are_removed(tmp_path: Path) -> None:
    """A killed process's scratch directory (named after its pid) is removed by the next process; live ones stay."""
    from awm_gym.host.zygote import _remove_stale_runtime_dirs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale, live = tmp_path / f"awm_gym-{dead.pid}-abc", tmp_path / f"awm_gym-{os.getpid()}-def"
    for path in (stale, live):
        (path / "zygote").mkdir(parents=True)
    _remove_stale_runtime_dirs(tmp_path)
    assert not stale.exists() and live.exists()
