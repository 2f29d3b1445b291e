"""The verifier layer: a task's verifier code, run in a kernel sandbox, and the sql-mode LLM judge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awm_gym._lazy import lazy_exports

if TYPE_CHECKING:
    from awm_gym.verifier.hacks import find_reward_hacks
    from awm_gym.verifier.judge import JUDGE_LABELS, JUDGE_SYSTEM_PROMPT, judge
    from awm_gym.verifier.noop import cache_dir, find_noop_passes
    from awm_gym.verifier.runner import VerifierConnection, isolation_level, prestart, shutdown_worker, worker_pid
    from awm_gym.verifier.sandbox import IsolationLevel
    from awm_gym.verifier.verifier import LABELS, Verifier, VerifierResult

# Name -> module; loaded on first use, so importing one submodule (e.g. in a child process) stays cheap.
_EXPORTS = {
    "IsolationLevel": "awm_gym.verifier.sandbox",
    "JUDGE_LABELS": "awm_gym.verifier.judge",
    "JUDGE_SYSTEM_PROMPT": "awm_gym.verifier.judge",
    "LABELS": "awm_gym.verifier.verifier",
    "Verifier": "awm_gym.verifier.verifier",
    "VerifierConnection": "awm_gym.verifier.runner",
    "VerifierResult": "awm_gym.verifier.verifier",
    "cache_dir": "awm_gym.verifier.noop",
    "find_noop_passes": "awm_gym.verifier.noop",
    "find_reward_hacks": "awm_gym.verifier.hacks",
    "isolation_level": "awm_gym.verifier.runner",
    "judge": "awm_gym.verifier.judge",
    "prestart": "awm_gym.verifier.runner",
    "shutdown_worker": "awm_gym.verifier.runner",
    "worker_pid": "awm_gym.verifier.runner",
}


__all__ = [
    "JUDGE_LABELS",
    "JUDGE_SYSTEM_PROMPT",
    "LABELS",
    "IsolationLevel",
    "Verifier",
    "VerifierConnection",
    "VerifierResult",
    "cache_dir",
    "find_noop_passes",
    "find_reward_hacks",
    "isolation_level",
    "judge",
    "prestart",
    "shutdown_worker",
    "worker_pid",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
