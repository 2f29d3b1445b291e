"""Reward hacks: tasks whose verifier accepts an answer that cannot be right.

A careless verifier checks that the final answer *contains* the right value somewhere; an agent can then
win by answering with every value at once. On an untouched database (initial and final identical) each
task's code-mode verifier is tried with three answers that a correct verifier must reject:

- ``empty``: nothing at all (the no-op pass of :mod:`awm_gym.verifier.noop`);
- ``echo``: the task text itself;
- ``spam``: thousands of numbers in several formats plus every text and number stored in the initial
  database.

A task any of them passes is flagged. Results are cached like no-op passes (per process and on disk under
``AWM_GYM_CACHE_DIR``), keyed by the scenario's content. ``AWMEnv(exclude_noop_tasks=True)`` and task splits
with ``exclude_flagged=True`` skip flagged tasks; ``awm-gym check`` lists them.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from awm_gym.catalog import Scenario
from awm_gym.verifier.noop import accepted_answers, cached
from awm_gym.verifier.runner import VerifierConnection

__all__ = ["ADVERSARIAL_ANSWERS", "adversarial_answers", "find_reward_hacks", "probe_reward_hacks"]

ADVERSARIAL_ANSWERS = ("empty", "echo", "spam")
_SPAM_NUMBERS = 3000
_MAX_DATABASE_VALUES = 20_000


def _database_values(initial_database: bytes) -> list[str]:
    """Every distinct text and number stored in the database (as text; numbers also with two decimals)."""
    values: dict[str, None] = {}
    with tempfile.TemporaryDirectory(prefix="awm_gym-spam-") as directory:
        path = Path(directory, "initial.db")
        path.write_bytes(initial_database)
        connection = sqlite3.connect(path)
        try:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                quoted = '"' + table.replace('"', '""') + '"'
                for row in connection.execute(f"SELECT * FROM {quoted}"):  # noqa: S608 - names from the schema
                    for value in row:
                        if isinstance(value, str) and value.strip():
                            values[value.strip()] = None
                        elif isinstance(value, int | float) and not isinstance(value, bool):
                            values[str(value)] = None
                            values[f"{value:,.2f}"] = None
                    if len(values) >= _MAX_DATABASE_VALUES:
                        break
        finally:
            connection.close()
    return list(values)[:_MAX_DATABASE_VALUES]


def adversarial_answers(task: str, database_values: list[str]) -> dict[str, str]:
    """The three answers of the module docstring for one task (``database_values`` from the initial database)."""
    numbers = [str(n) for n in range(_SPAM_NUMBERS)]
    numbers += [f"{n}.{d}0" for n in range(0, 500) for d in (0, 5)]
    numbers += [f"${n:,}.00" for n in range(0, 5000, 5)]
    numbers += [f"{n / 10:.1f}%" for n in range(0, 1001)]
    spam = "Answer: " + ", ".join(numbers + database_values)
    return {"empty": "", "echo": task, "spam": spam}


def probe_reward_hacks(
    scenario: Scenario, initial_database: bytes, connection: VerifierConnection | None = None
) -> dict[int, list[str]]:
    """Per flagged task, the names of the adversarial answers its verifier accepted (cached)."""

    def compute() -> dict[str, list[str]]:
        values = _database_values(initial_database)
        found = accepted_answers(
            scenario, initial_database, lambda idx: adversarial_answers(scenario.tasks[idx], values), connection
        )
        return {str(idx): names for idx, names in found.items()}

    return cached("hacks", scenario, compute, lambda raw: {int(idx): list(names) for idx, names in raw.items()})


def find_reward_hacks(
    scenario: Scenario, initial_database: bytes, connection: VerifierConnection | None = None
) -> frozenset[int]:
    """Indices of the scenario's tasks whose verifier accepts an empty, echoed or spam answer (cached)."""
    return frozenset(probe_reward_hacks(scenario, initial_database, connection))
