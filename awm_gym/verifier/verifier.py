"""Deciding whether a task was done: verifier code out of process, plus the LLM judge in sql mode.

Labels (``VerifierResult.label``):

- code mode: ``complete`` or ``others`` from ``verify_task_completion``'s ``{"result": ...}``;
- sql mode: the judge's ``complete``, ``incomplete``, ``server_error`` or ``agent_error``;
- both: ``error`` when the verifier raised, hung, returned something other than a dict, or the judge
  failed; ``unverifiable`` when the data has no verifier code for the task.

Nothing here raises for a bad verifier: every failure is a label with details. ``result`` (what the verifier
returned) is always a dict, empty when there is none, so that batched infos of a vector env keep one type
per key.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any

from awm_gym.catalog import VERIFIER_MODES, VerifierMode, VerifierRecord
from awm_gym.errors import ConfigurationError, IsolationUnavailableError, VerifierError
from awm_gym.llm import LLMEndpoint
from awm_gym.verifier.judge import judge
from awm_gym.verifier.runner import VerifierConnection, isolation_level

__all__ = ["LABELS", "Verifier", "VerifierResult"]

LABELS = ("complete", "others", "incomplete", "server_error", "agent_error", "error", "unverifiable")


@dataclass(frozen=True)
class VerifierResult:
    """The verdict on one episode."""

    mode: VerifierMode
    label: str
    result: dict[str, Any] = field(default_factory=dict)  # always a dict, so batched infos keep one type
    details: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    isolation: str = ""  # the sandbox level the verifier code ran under (see awm_gym.verifier.sandbox)

    @property
    def complete(self) -> bool:
        """Whether the task counts as done."""
        return self.label == "complete"

    def to_info(self) -> dict[str, Any]:
        """The verdict for ``info["verifier"]`` (a fresh copy; timing left out so equal runs give equal infos)."""
        return {
            "mode": self.mode,
            "label": self.label,
            "result": copy.deepcopy(self.result),
            "details": copy.deepcopy(self.details),
            "isolation": self.isolation,
        }


class Verifier:
    """Runs a task's verifier in one mode.

    Args:
        mode: ``"code"`` (deterministic, no LLM) or ``"sql"`` (facts judged by an LLM).
        timeout: Wall-clock seconds for the verifier code (CPU seconds are limited to the same).
        judge: The OpenAI-compatible endpoint of the sql-mode judge (required in sql mode).
        judge_temperature: Sampling temperature of the judge.
        max_answer_length: Final answers longer than this are not verified (label ``others``, or ``incomplete``
            in sql mode); ``None`` for no limit.

    Raises:
        ConfigurationError: Unknown mode, or sql mode without a judge.
    """

    def __init__(
        self,
        mode: VerifierMode = "code",
        *,
        timeout: float = 20.0,
        judge: LLMEndpoint | None = None,
        judge_temperature: float = 0.0,
        max_answer_length: int | None = None,
    ) -> None:
        if mode not in VERIFIER_MODES:
            raise ConfigurationError(f"verifier_mode must be one of {VERIFIER_MODES}, got {mode!r}")
        if mode == "sql" and judge is None:
            raise ConfigurationError(
                "verifier_mode='sql' needs an LLM judge: pass judge_base_url=, judge_model= (and judge_api_key=), "
                "or set AWM_JUDGE_BASE_URL and AWM_JUDGE_MODEL; use verifier_mode='code' for no LLM at all"
            )
        self.mode: VerifierMode = mode
        self.timeout = timeout
        self.judge = judge
        self.judge_temperature = judge_temperature
        self.max_answer_length = max_answer_length
        self._connection = VerifierConnection()

    def run_code(self, record: VerifierRecord, workdir: str | os.PathLike[str], final_answer: str) -> dict[str, Any]:
        """Run the record's function on ``workdir/{initial,final}.db``; the worker's raw outcome."""
        assert record.code is not None
        return self._connection.run(
            code=record.code,
            function=record.function_name,
            workdir=workdir,
            final_answer=final_answer,
            timeout=self.timeout,
        )

    def verify(
        self,
        record: VerifierRecord | None,
        *,
        workdir: str | os.PathLike[str],
        task: str,
        final_answer: str,
        trajectory: list[dict[str, Any]],
    ) -> VerifierResult:
        """Judge the episode whose databases are ``workdir/initial.db`` and ``workdir/final.db``."""
        if record is None or not record.usable:
            return VerifierResult(
                self.mode,
                "unverifiable",
                details={"error": "the data has no verifier code for this task"},
                isolation=isolation_level().value,
            )
        if self.max_answer_length is not None and len(final_answer) > self.max_answer_length:
            # Never shown to the verifier: a long enough answer can contain every value a lenient check looks for.
            return VerifierResult(
                self.mode,
                "others" if self.mode == "code" else "incomplete",
                details={
                    "error": f"the final answer is {len(final_answer)} characters long; "
                    f"max_answer_length is {self.max_answer_length}"
                },
                isolation=isolation_level().value,
            )
        try:
            outcome = self.run_code(record, workdir, final_answer)
        except IsolationUnavailableError:
            raise
        except VerifierError as exc:
            return VerifierResult(self.mode, "error", details={"error": str(exc)}, isolation=isolation_level().value)
        elapsed = float(outcome.get("elapsed_s", 0.0))
        isolation = str(outcome.get("isolation", ""))
        details: dict[str, Any] = {"function": record.function_name}
        if outcome.get("output"):
            details["output"] = outcome["output"]
        if outcome.get("status") != "ok":
            details["error"] = outcome.get("error", "unknown failure")
            if outcome.get("traceback"):
                details["traceback"] = outcome["traceback"]
            return VerifierResult(self.mode, "error", details=details, elapsed_s=elapsed, isolation=isolation)
        value = outcome.get("value")
        if not isinstance(value, dict):
            details["error"] = f"the verifier returned {type(value).__name__} {value!r:.200}, expected a dict"
            return VerifierResult(self.mode, "error", details=details, elapsed_s=elapsed, isolation=isolation)
        if self.mode == "code":
            label = "complete" if value.get("result") == "complete" else "others"
            return VerifierResult("code", label, result=value, details=details, elapsed_s=elapsed, isolation=isolation)
        assert self.judge is not None
        label, judged = judge(
            self.judge,
            task=task,
            trajectory=trajectory,
            final_answer=final_answer,
            facts=value,
            raw_response=record.raw_response,
            temperature=self.judge_temperature,
        )
        return VerifierResult(
            "sql", label, result=value, details={**details, **judged}, elapsed_s=elapsed, isolation=isolation
        )

    def close(self) -> None:
        """Close this verifier's connection to the shared worker."""
        self._connection.close()
