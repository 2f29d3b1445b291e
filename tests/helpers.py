"""Process helpers shared by test modules."""

from __future__ import annotations

import os
import time
from typing import Any


def pid_alive(pid: int | None) -> bool:
    """Whether a process exists and is not a zombie."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return found


def wait_gone(pids: list[int | None], timeout: float = 2.0) -> list[int]:
    """Wait until none of ``pids`` is alive; return those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if pid is not None and pid_alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def server_pids(envs: Any) -> list[int]:
    """Pids of the scenario servers of a vector env's sub-environments (each must have one)."""
    pids = [env.unwrapped.host.server_pid for env in envs.envs]
    assert all(pids), "every sub-environment should have a running server"
    return pids


def assert_gone(pids: list[int | None]) -> None:
    """Fail unless every process in ``pids`` is gone (within the time the kernel needs to reap it)."""
    alive = wait_gone(pids)
    assert not alive, f"server processes still running: {alive}"
