"""Process helpers shared by test modules."""

from __future__ import annotations

import os
import time


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
