"""Reference solutions: the tool calls and final answer that solve a task.

They are data for tests, examples and ``awm-gym check``; the environment never reads them. A source may
carry them in ``reference_solutions.jsonl`` beside its AWM files, one record per task::

    {"scenario": "...", "task_idx": 0, "calls": [{"name": "...", "arguments": {...}}],
     "final_answer": "...", "noop_pass": false}

``noop_pass`` marks a task whose verifier deliberately passes on an untouched database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awm_gym.catalog.names import normalize_name
from awm_gym.catalog.sources import BUNDLED_DIR
from awm_gym.errors import DataFormatError

__all__ = ["SOLUTIONS_FILE", "ReferenceSolution", "load_reference_solutions"]

SOLUTIONS_FILE = "reference_solutions.jsonl"


@dataclass(frozen=True)
class ReferenceSolution:
    """How to solve one task: tool calls in order, then the final answer."""

    scenario: str
    task_idx: int
    calls: tuple[dict[str, Any], ...]
    final_answer: str
    noop_pass: bool = False

    def actions(self) -> list[str]:
        """The solution as environment actions: one JSON tool call per step, then the final answer."""
        return [json.dumps(call) for call in self.calls] + [self.final_answer]


def load_reference_solutions(root: str | os.PathLike[str] = BUNDLED_DIR) -> dict[tuple[str, int], ReferenceSolution]:
    """Solutions found in ``root/reference_solutions.jsonl`` keyed by ``(scenario, task_idx)`` (empty if none).

    Example:
        >>> solutions = load_reference_solutions()
        >>> solutions["awmgym_workflow_automation", 0].task_idx
        0
    """
    path = Path(root) / SOLUTIONS_FILE
    if not path.is_file():
        return {}
    solutions = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            solution = ReferenceSolution(
                scenario=normalize_name(record["scenario"]),
                task_idx=int(record["task_idx"]),
                calls=tuple({"name": c["name"], "arguments": c.get("arguments", {})} for c in record["calls"]),
                final_answer=str(record.get("final_answer", "")),
                noop_pass=bool(record.get("noop_pass", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DataFormatError(f"{path}:{number}: not a reference solution record ({exc})") from exc
        solutions[solution.scenario, solution.task_idx] = solution
    return solutions
