"""Helpers the benchmark scripts share: the machine record, throughput tables, figures and the results' output.

The scripts import this module by name (it sits beside them, like ``machine`` and ``report``).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from machine import conditions
from report import write_docs

__all__ = ["descendants", "machine_record", "publish", "pyplot", "save_figure", "throughput_rows"]


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, their children, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def machine_record(load_at_start: Sequence[float], cpu_at_start: list[int], **versions: str) -> dict[str, Any]:
    """The ``"machine"`` entry of a results file: CPUs, versions, load at start and end, steal during the run.

    Args:
        load_at_start: ``os.getloadavg()`` when the run started.
        cpu_at_start: :func:`machine.cpu_times` when the run started.
        **versions: Package versions to record (``gymnasium=gym.__version__``, ...), in this order.
    """
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **versions,
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load_at_start],
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "during_run": conditions(cpu_at_start),
    }


def throughput_rows(
    rows: Sequence[dict[str, Any]], baseline: str
) -> Iterator[tuple[int, str, dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]]:
    """Throughput rows as table lines: per N (ascending) and implementation, its two workloads and the baseline's.

    Args:
        rows: Rows with ``num_envs``, ``impl`` and ``workload`` (``"read"`` or ``"episodes"``).
        baseline: The implementation the others are compared with.

    Yields:
        ``(N, impl, read row, episodes row, the baseline's rows at N by workload)``.
    """
    table: dict[int, dict[str, dict[str, dict[str, Any]]]] = {}
    for row in rows:
        table.setdefault(row["num_envs"], {}).setdefault(row["impl"], {})[row["workload"]] = row
    for n, impls in sorted(table.items()):
        for impl, workloads in impls.items():
            yield n, impl, workloads["read"], workloads["episodes"], impls[baseline]


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend (imported on use: matplotlib is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 110) -> None:
    """Lay the figure out, write it to ``path`` and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def publish(
    results: dict[str, Any],
    out: Path,
    stem: str,
    plot: Callable[[dict[str, Any], Path], None],
    notes: Sequence[str] = (),
) -> None:
    """Write ``stem.json`` and ``stem.png`` under ``out``, print the tables and notes, regenerate the docs page.

    Args:
        results: The run's results, with its tables under ``"markdown"``.
        out: The results directory (created if missing).
        stem: The file names' stem (the script's name).
        plot: Draws the results into a PNG file.
        notes: Lines printed after the tables, each as ``note: ...``.
    """
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / f"{stem}.json", out / f"{stem}.png"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, png_path)
    print(results["markdown"])
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {json_path} and {png_path}")
    print(f"wrote {write_docs(out)}")
