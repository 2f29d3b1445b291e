"""Episode records and the append-only log that makes an evaluation resumable.

Every finished episode becomes one :class:`EpisodeRecord`, appended as one JSON line to ``episodes.jsonl``
and flushed at once. An episode is keyed by ``(condition, scenario, task_idx, repeat)``: a resumed run
reads the log, skips every key it holds and runs only the rest, and the reader keeps the first record of a
key, so no episode is ever counted twice. A line cut short by a crash is ignored (that episode runs again).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from awm_gym.errors import DataFormatError

__all__ = ["EpisodeKey", "EpisodeLog", "EpisodeRecord"]

EpisodeKey = tuple[str, str, int, int]
"""``(condition, scenario, task_idx, repeat)``."""


@dataclass(frozen=True)
class EpisodeRecord:
    """One evaluated episode.

    Attributes:
        condition: The condition's name.
        scenario: The scenario.
        task_idx: The task's index in its scenario.
        repeat: Which repeat of the task (``0 .. repeats-1``); conditions share the repeat's seed.
        seed: The seed of this repeat (sent with each request of an endpoint policy).
        label: The verifier's label (``complete``, ``others``, ...).
        success: ``label == "complete"``: the only success measure.
        verifier_reward: The env's (unshaped) reward of the episode.
        shaped_return: Sum of the rewards the condition's stack returned (diagnostic).
        steps: Actions taken (``ask_expert`` calls included).
        tool_errors: Steps whose ``info`` carried an error (malformed call, unknown tool, bad arguments, ...).
        expert_calls: Times the expert was called.
        truncated: The episode hit ``max_steps``.
        wall_s: Seconds from reset to the verdict.
        final_answer: The agent's final answer (empty when truncated).
        actions: The actions, in order (as the env received them).
        verifier: The verifier's verdict (``info["verifier"]``).
    """

    condition: str
    scenario: str
    task_idx: int
    repeat: int
    seed: int
    label: str | None
    success: bool
    verifier_reward: float
    shaped_return: float
    steps: int
    tool_errors: int
    expert_calls: int
    truncated: bool
    wall_s: float
    final_answer: str = ""
    actions: list[str] = field(default_factory=list)
    verifier: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> EpisodeKey:
        """``(condition, scenario, task_idx, repeat)``."""
        return (self.condition, self.scenario, self.task_idx, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeRecord:
        """Read a record written by :meth:`to_dict`.

        Raises:
            DataFormatError: A field is missing or of the wrong kind.
        """
        try:
            record = cls(**data)
            int(record.task_idx), int(record.repeat), bool(record.success)
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"not an episode record ({exc}): {str(data)[:200]}") from exc
        return record


class EpisodeLog:
    """An append-only JSONL file of :class:`EpisodeRecord` s (one per line).

    Example:
        >>> import tempfile
        >>> scratch = tempfile.TemporaryDirectory()
        >>> log = EpisodeLog(Path(scratch.name) / "episodes.jsonl")
        >>> record = EpisodeRecord("base", "shop", 0, 0, 0, "complete", True, 1.0, 1.0, 2, 0, 0, False, 0.1)
        >>> log.append(record)
        >>> list(log.read()) == [record.key]
        True
        >>> scratch.cleanup()

    Args:
        path: The file; created on the first append.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> dict[EpisodeKey, EpisodeRecord]:
        """Every record, keyed; the first record of a key wins; a torn last line (a crash mid-write) is removed.

        Raises:
            DataFormatError: A complete line is not an episode record (not this tool's file).
        """
        records: dict[EpisodeKey, EpisodeRecord] = {}
        if not self.path.is_file():
            return records
        lines = self.path.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):  # the last line, without its newline: a write cut short; drop it
                    os.truncate(self.path, self.path.stat().st_size - len(line.encode("utf-8")))
                    continue
                raise DataFormatError(
                    f"{self.path}:{number}: not a JSON line ({exc}); expected one episode record per line. "
                    "Is this the episodes file of an awm-gym evaluation?"
                ) from exc
            record = EpisodeRecord.from_dict(data)
            records.setdefault(record.key, record)
        return records

    def append(self, record: EpisodeRecord) -> None:
        """Append one record and flush it to disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
