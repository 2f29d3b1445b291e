"""The verifier layer: a task's verifier code, run out of process, and the sql-mode LLM judge."""

from __future__ import annotations

from awm_gym.verifier.judge import JUDGE_LABELS, JUDGE_SYSTEM_PROMPT, judge
from awm_gym.verifier.noop import cache_dir, find_noop_passes
from awm_gym.verifier.runner import VerifierConnection, shutdown_worker, worker_pid
from awm_gym.verifier.verifier import LABELS, Verifier, VerifierResult

__all__ = [
    "JUDGE_LABELS",
    "JUDGE_SYSTEM_PROMPT",
    "LABELS",
    "Verifier",
    "VerifierConnection",
    "VerifierResult",
    "cache_dir",
    "find_noop_passes",
    "judge",
    "shutdown_worker",
    "worker_pid",
]
