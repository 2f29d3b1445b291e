"""A finished episode as the rollout driver hands it over: its trajectory, verdict and timing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Episode", "Transition"]


@dataclass(frozen=True)
class Transition:
    """One step of an episode: what the policy saw, what it did, and what the env answered.

    ``reply`` is the model reply the action came from, when the policy attached one (an
    :class:`~awm_gym.llm.OpenAIPolicy` action carries its :class:`~awm_gym.llm.ChatReply`: the raw choice, the
    messages sent, and token ids and logprobs when the server returned them).
    """

    observation: Any
    action: str
    reward: float
    info: dict[str, Any]
    reply: Any = None


@dataclass
class Episode:
    """A finished episode with its trajectory, verdict and timing.

    ``wall_s`` runs from the reset to the last step; of it, ``env_s`` was spent in the sub-environment
    (reset, tool calls, verifier), ``policy_s`` in policy calls that produced this episode's actions and
    ``queue_s`` waiting for a batch to form or a policy slot to free up.
    """

    env_index: int
    scenario: str | None
    task_idx: int | None
    task: str | None
    trajectory: list[Transition]
    final_observation: Any
    reward: float
    terminated: bool
    truncated: bool
    reset_info: dict[str, Any]
    final_info: dict[str, Any]
    wall_s: float
    env_s: float
    policy_s: float
    queue_s: float

    @property
    def num_steps(self) -> int:
        """Actions taken."""
        return len(self.trajectory)

    @property
    def verifier(self) -> dict[str, Any] | None:
        """The verifier's verdict (``info["verifier"]`` of the last step)."""
        return self.final_info.get("verifier")

    @property
    def label(self) -> str | None:
        """The verifier's label (``"complete"``, ``"others"``, ...)."""
        return (self.verifier or {}).get("label")

    @property
    def complete(self) -> bool:
        """Whether the verifier counted the task as done."""
        return self.label == "complete"

    def training_record(self, system_prompt: str | None = None) -> dict[str, Any]:
        """The episode as a JSON-able training record: prompt and completion messages, token ids, logprobs, reward.

        See :func:`awm_gym.vector.records.training_record`.
        """
        from awm_gym.vector.records import training_record

        return training_record(self, system_prompt)

    def messages(self, system_prompt: str | None = None) -> list[dict[str, Any]]:
        """The episode as chat messages: observations as ``user``, actions as ``assistant`` turns."""
        messages = [{"role": "system", "content": system_prompt}] if system_prompt is not None else []
        for step in self.trajectory:
            messages += [{"role": "user", "content": step.observation}, {"role": "assistant", "content": step.action}]
        return messages
