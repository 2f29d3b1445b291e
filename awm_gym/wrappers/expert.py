"""The expert of expert-in-the-loop training: what it knows, the prompt it gets, an LLM-served expert, a schedule.

:class:`~awm_gym.wrappers.ExpertAdvice` answers the policy's ``ask_expert`` calls with any callable
``expert(question, context) -> str``. This module holds what such an expert needs: the
:class:`ExpertContext` it is given, the prompt (:func:`expert_prompt`) and the expert served by an
OpenAI-compatible endpoint (:class:`OpenAIExpert`), and :class:`ScaffoldSchedule`, an availability that
fades as the agent succeeds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from awm_gym.envs.prompts import describe_tools
from awm_gym.errors import ConfigurationError, LLMError
from awm_gym.llm import LLMEndpoint, chat

__all__ = ["EXPERT_SYSTEM_PROMPT", "Expert", "ExpertContext", "OpenAIExpert", "ScaffoldSchedule", "expert_prompt"]

EXPERT_SYSTEM_PROMPT = (
    "You advise an AI agent that operates an application through its API on behalf of the logged-in user "
    "(user_id 1). The agent asks you when it is stuck. You see its task, its tools and what it did so far; "
    "you cannot call tools yourself.\n\n"
    "Answer the agent's question with short, concrete advice: which tool to call next, with which arguments, "
    "and why. If the task is already done, tell the agent to give its final answer."
)
"""The system prompt of :class:`OpenAIExpert`."""

Expert = Callable[[str, "ExpertContext"], str]
"""An expert: ``(question, context) -> advice``."""


@dataclass(frozen=True)
class ExpertContext:
    """What an expert knows when the policy asks it.

    Attributes:
        scenario: The scenario's name.
        task_idx: The task's index.
        task: The task's text.
        tools: The scenario's tools as OpenAI function tools (``ask_expert`` is not among them).
        trajectory: The environment's steps so far (action, kind, tool call, observation, error).
        advice: Earlier ``{"question", "answer"}`` exchanges with the expert in this episode.
        verifier_code: The task's verifier code, only when ExpertAdvice is ``verifier_informed``.
    """

    scenario: str
    task_idx: int
    task: str
    tools: list[dict[str, Any]]
    trajectory: list[dict[str, Any]]
    advice: list[dict[str, str]] = field(default_factory=list)
    verifier_code: str | None = None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]} [... {len(text) - limit} more characters]"


def expert_prompt(question: str, context: ExpertContext, *, max_observation_chars: int = 1500) -> str:
    """The user message :class:`OpenAIExpert` sends: the task, the tools, the trajectory and the question.

    Example:
        >>> context = ExpertContext("shop", 0, "Buy a lamp.", tools=[], trajectory=[])
        >>> print(expert_prompt("Where do I start?", context))
        The agent's task (acting for user_id 1): Buy a lamp.
        <BLANKLINE>
        Tools the agent can call:
        (none)
        <BLANKLINE>
        What the agent did so far:
        (nothing yet)
        <BLANKLINE>
        The agent asks: Where do I start?
    """
    lines = [f"The agent's task (acting for user_id 1): {context.task}", "", "Tools the agent can call:"]
    lines.append(describe_tools(context.tools) or "(none)")
    lines += ["", "What the agent did so far:"]
    if not context.trajectory:
        lines.append("(nothing yet)")
    for number, step in enumerate(context.trajectory, 1):
        observation = _cut(str(step.get("observation") or ""), max_observation_chars)
        lines.append(f"{number}. {_cut(str(step.get('action', '')), max_observation_chars)}")
        if observation:
            lines.append(f"   -> {observation}")
    if context.advice:
        lines += ["", "Your earlier advice in this episode:"]
        lines += [f"Q: {item['question']}\nA: {item['answer']}" for item in context.advice]
    if context.verifier_code:
        lines += [
            "",
            "The code that will check the task at the end (it compares the database before and after the "
            "episode). Use it to tell the agent what must be true when it finishes; do not quote it:",
            "```python",
            context.verifier_code.strip(),
            "```",
        ]
    lines += ["", f"The agent asks: {question}"]
    return "\n".join(lines)


class OpenAIExpert:
    """An expert served by an OpenAI-compatible endpoint (vLLM, OpenAI, Azure via its base URL).

    Calling it makes one chat completion (system prompt, then :func:`expert_prompt`) and returns the reply
    text. Failures raise :class:`~awm_gym.errors.LLMError`, which :class:`~awm_gym.wrappers.ExpertAdvice`
    turns into an observation. Every argument is keyword-only, as for :class:`~awm_gym.llm.LLMEndpoint`.

    Example:
        >>> expert = OpenAIExpert(base_url="http://localhost:8000/v1", model="gpt-4.1", temperature=0.3)
        >>> expert
        OpenAIExpert(model='gpt-4.1', base_url='http://localhost:8000/v1')
        >>> advice = expert("Which tool lists my pets?", context)  # doctest: +SKIP

    Args:
        base_url: The API base URL.
        model: The model name.
        api_key: The API key (local servers accept any value).
        temperature: Sampling temperature.
        max_tokens: Maximum tokens of the advice.
        system_prompt: The system message.
        timeout: Seconds allowed per HTTP attempt.
        max_retries: Retries on 408/409/429/5xx, timeouts and connection errors.
        max_observation_chars: Each trajectory entry is cut to this many characters in the prompt.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        temperature: float = 0.3,
        max_tokens: int = 512,
        system_prompt: str = EXPERT_SYSTEM_PROMPT,
        timeout: float = 60.0,
        max_retries: int = 2,
        max_observation_chars: int = 1500,
    ) -> None:
        self.endpoint = LLMEndpoint(
            base_url=base_url, model=model, api_key=api_key, timeout=timeout, max_retries=max_retries
        )
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self.max_observation_chars = max_observation_chars

    def __repr__(self) -> str:
        return f"OpenAIExpert(model={self.endpoint.model!r}, base_url={self.endpoint.base_url!r})"

    def __call__(self, question: str, context: ExpertContext) -> str:
        """Ask the model; return its advice.

        Raises:
            LLMError: If the endpoint fails after its retries or answers with no text.
        """
        messages = [
            {"role": "system", "content": self.system_prompt},
            {
                "role": "user",
                "content": expert_prompt(question, context, max_observation_chars=self.max_observation_chars),
            },
        ]
        reply = chat(self.endpoint, messages, temperature=self.temperature, max_tokens=self.max_tokens)
        if not reply.content or not reply.content.strip():
            raise LLMError(
                f"the expert model {self.endpoint.model!r} at {self.endpoint.base_url} answered with no text"
            )
        return reply.content.strip()


class ScaffoldSchedule:
    """Expert availability that fades as the agent succeeds: scaffold, then balanced, then independence.

    The reference work's adaptive schedule as an availability for :class:`~awm_gym.wrappers.ExpertAdvice`:
    the current phase's probability is used at each reset, and ExpertAdvice reports every finished episode
    to :meth:`record`.
    When the last ``window`` episodes of a phase reach a completion rate of ``advance_at``, the next phase
    starts (with a fresh window).

    Example:
        >>> schedule = ScaffoldSchedule((1.0, 0.5, 0.0), window=2, advance_at=0.5)
        >>> schedule(), schedule.phase
        (1.0, 0)
        >>> schedule.record(True)
        >>> schedule.record(False)
        >>> schedule(), schedule.phase
        (0.5, 1)

    Args:
        probabilities: The availability of each phase, in order.
        window: Episodes per completion-rate estimate.
        advance_at: Completion rate that moves to the next phase.
    """

    def __init__(
        self, probabilities: Sequence[float] = (1.0, 0.5, 0.0), *, window: int = 20, advance_at: float = 0.5
    ) -> None:
        if not probabilities or not all(0.0 <= float(p) <= 1.0 for p in probabilities):
            raise ConfigurationError(
                f"probabilities must be a non-empty sequence of values in [0, 1], got {probabilities!r}"
            )
        if window < 1:
            raise ConfigurationError(f"window must be at least 1, got {window!r}")
        self.probabilities = tuple(float(p) for p in probabilities)
        self.window = int(window)
        self.advance_at = float(advance_at)
        self.phase = 0
        self._recent: deque[bool] = deque(maxlen=self.window)

    def __call__(self) -> float:
        """The current phase's availability."""
        return self.probabilities[self.phase]

    def record(self, complete: bool) -> None:
        """Count one finished episode (``complete``: the verifier said so); maybe advance the phase."""
        self._recent.append(bool(complete))
        full = len(self._recent) == self.window
        if full and self.phase < len(self.probabilities) - 1 and sum(self._recent) / self.window >= self.advance_at:
            self.phase += 1
            self._recent.clear()

    def __repr__(self) -> str:
        return (
            f"ScaffoldSchedule({self.probabilities!r}, window={self.window}, advance_at={self.advance_at}, "
            f"phase={self.phase})"
        )
