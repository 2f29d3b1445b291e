"""What the machine was doing during a benchmark: CPU time stolen by the hypervisor, and load.

On a shared VM, steal time (CPU the host gave to other guests) moves every figure; the benchmarks record it
so a reader can tell a quiet run from a noisy one.
"""

from __future__ import annotations

import os


def cpu_times() -> list[int]:
    """The aggregate ``cpu`` line of /proc/stat (user, nice, system, idle, iowait, irq, softirq, steal, ...)."""
    with open("/proc/stat") as handle:
        return [int(field) for field in handle.readline().split()[1:]]


def conditions(start: list[int]) -> dict[str, float]:
    """Steal share of CPU time since ``start`` (a :func:`cpu_times` reading) and the load averages now."""
    end = cpu_times()
    delta = [b - a for a, b in zip(start, end, strict=False)]
    steal = delta[7] if len(delta) > 7 else 0
    return {
        "steal_percent": round(100 * steal / max(1, sum(delta)), 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
