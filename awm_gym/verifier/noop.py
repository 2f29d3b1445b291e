"""No-op passes: tasks whose verifier already says "complete" when the agent does nothing.

Such a task rewards an agent for answering immediately, which made earlier AWM benchmarks look better
than they were. A task is a no-op pass when its code-mode verifier returns complete for an untouched
database (initial and final identical) and an empty final answer. The result depends only on the verifier
code and the scenario's data, so it is cached per process and on disk (``AWM_GYM_CACHE_DIR``, default
``~/.cache/awm_gym``): ``AWMEnv(exclude_noop_tasks=True)`` pays for it once per scenario and machine.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from awm_gym.catalog import Scenario
from awm_gym.host.process import cache_dir
from awm_gym.verifier.runner import VerifierConnection

__all__ = ["accepted_answers", "cache_dir", "cached", "find_noop_passes"]

_memory: dict[str, Any] = {}
_lock = threading.Lock()


def _key(scenario: Scenario) -> str:
    digest = hashlib.sha256(scenario.fingerprint.encode())
    for record in scenario.verifiers.get("code", ()):
        digest.update(b"\0" + (record.code or "").encode() if record else b"\0-")
    return f"{scenario.name}-{digest.hexdigest()[:16]}"


def find_noop_passes(
    scenario: Scenario, initial_database: bytes, connection: VerifierConnection | None = None
) -> frozenset[int]:
    """Indices of the scenario's no-op-pass tasks (verifier errors do not count as passes)."""

    def compute() -> list[int]:
        accepted = accepted_answers(scenario, initial_database, lambda idx: {"empty": ""}, connection)
        return sorted(accepted)

    return cached("noop", scenario, compute, frozenset)


def cached(kind: str, scenario: Scenario, compute: Callable[[], Any], convert: Callable[[Any], Any]) -> Any:
    """``convert(compute())`` (``compute`` returns JSON), kept per process and on disk under ``cache_dir()/kind``.

    The key is the scenario's content (data and verifier code), so an edited scenario is audited again.
    """
    key = f"{kind}/{_key(scenario)}"
    with _lock:
        if key in _memory:
            return _memory[key]
    path = cache_dir() / f"{key}.json"
    try:
        value = convert(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        raw = compute()
        value = convert(raw)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(raw))
        except OSError:  # a read-only home is fine: the process cache still holds it
            pass
    with _lock:
        return _memory.setdefault(key, value)


def accepted_answers(
    scenario: Scenario,
    initial_database: bytes,
    answers: Callable[[int], dict[str, str]],
    connection: VerifierConnection | None = None,
) -> dict[int, list[str]]:
    """Per task, the names of the ``answers(task_idx)`` its code verifier calls complete on an untouched database."""
    own = connection is None
    connection = connection or VerifierConnection()
    found: dict[int, list[str]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="awm_gym-audit-") as workdir:
            for name in ("initial.db", "final.db"):
                Path(workdir, name).write_bytes(initial_database)
            for idx in range(len(scenario.tasks)):
                record = scenario.verifier("code", idx)
                if record is None or not record.usable or record.code is None:
                    continue
                for label, answer in answers(idx).items():
                    outcome = connection.run(
                        code=record.code, function=record.function_name, workdir=workdir, final_answer=answer
                    )
                    value = outcome.get("value")
                    if outcome.get("status") == "ok" and isinstance(value, dict) and value.get("result") == "complete":
                        found.setdefault(idx, []).append(label)
    finally:
        if own:
            connection.close()
    return found
