"""What an evaluation compares: conditions, each a policy with optional expert advice and reward shaping.

A :class:`Condition` is either an OpenAI-compatible endpoint (``base_url`` + ``model``; vLLM, OpenAI,
Azure) or a Python callable, optionally with an expert (:class:`~awm_gym.wrappers.ExpertAdvice`) and with
:class:`~awm_gym.wrappers.RewardShaping` (a diagnostic only: success is always the verifier's label). Every
condition plays through the same stack, innermost first: ``RewardShaping`` (if any), ``ExpertAdvice`` (if
any), ``ChatMessages``; the policy sees the conversation so far and answers with the assistant's turn (text
with ``<tool_call>`` blocks, AWM's agent convention, or an assistant message).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from awm_gym.errors import ConfigurationError

__all__ = ["Condition", "describe_callable"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_EXPERT_OPTIONS = frozenset({"max_calls", "count_toward_max_steps", "availability", "nudge", "verifier_informed"})


def describe_callable(value: Any) -> str:
    """A stable description of a policy or expert for the results file (never its secrets).

    Example:
        >>> describe_callable(len)
        'builtins.len'
    """
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    text = repr(value)
    return text if " at 0x" not in text else f"{type(value).__module__}.{type(value).__qualname__}"


@dataclass(frozen=True)
class Condition:
    """One thing to evaluate: a policy, optionally with an expert and reward shaping.

    Example:
        >>> baseline = Condition("qwen", base_url="http://localhost:8000/v1", model="Qwen3-4B", temperature=0.7)
        >>> baseline.config()["policy"]["model"], baseline.config()["expert"]
        ('Qwen3-4B', None)

    Args:
        name: Short unique name (letters, digits, ``_.+-``), used as the condition's key in every output.
        policy: A batched policy ``list[messages] -> list[action]`` (sync or async, or an object with a
            ``batch`` method), where ``messages`` is one episode's conversation so far.
        base_url: Instead of ``policy``: an OpenAI-compatible endpoint's base URL ...
        model: ... and the model it serves.
        api_key: Its API key (never written to the results).
        temperature: Sampling temperature of the endpoint.
        max_tokens: Most tokens per reply.
        extra_body: Extra JSON fields of each request (e.g. vLLM's ``{"top_k": 20}``).
        expert: ``(question, context) -> str`` answering the virtual ``ask_expert`` tool (e.g.
            :class:`~awm_gym.wrappers.OpenAIExpert`); ``None`` for no expert.
        expert_options: Keyword arguments of :class:`~awm_gym.wrappers.ExpertAdvice` (``max_calls``,
            ``verifier_informed``, ``count_toward_max_steps``, ``availability``, ``nudge``).
        shaping: A :class:`~awm_gym.wrappers.RewardShaping` preset name, or a dict of its keyword arguments;
            the shaped return is reported as a diagnostic.
        simulation: The policy is synthetic (the offline mode); every output says so.
        description: Free text kept with the condition's configuration.

    Raises:
        ConfigurationError: A bad name, neither or both of ``policy`` and ``base_url``/``model``, unknown
            expert options.
    """

    name: str
    policy: Callable[..., Any] | Any | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: str = field(default="EMPTY", repr=False)
    temperature: float = 1.0
    max_tokens: int = 2048
    extra_body: Mapping[str, Any] | None = None
    expert: Callable[..., str] | None = None
    expert_options: Mapping[str, Any] = field(default_factory=dict)
    shaping: str | Mapping[str, Any] | None = None
    simulation: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        """Check the configuration."""
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigurationError(
                f"a condition's name must be letters, digits and _.+- (starting with a letter or digit), "
                f"got {self.name!r}"
            )
        endpoint = self.base_url is not None or self.model is not None
        if (self.policy is None) == (not endpoint):
            raise ConfigurationError(
                f"condition {self.name!r}: give either policy= (a Python callable) or base_url= and model= (an "
                f"OpenAI-compatible endpoint); got policy={self.policy!r}, base_url={self.base_url!r}, "
                f"model={self.model!r}"
            )
        if endpoint and not (self.base_url and self.model):
            raise ConfigurationError(
                f"condition {self.name!r}: an endpoint needs both base_url and model, got base_url="
                f"{self.base_url!r}, model={self.model!r}"
            )
        if self.policy is not None and not callable(getattr(self.policy, "batch", self.policy)):
            raise ConfigurationError(f"condition {self.name!r}: policy must be callable, got {self.policy!r}")
        unknown = set(self.expert_options) - _EXPERT_OPTIONS
        if unknown:
            raise ConfigurationError(
                f"condition {self.name!r}: unknown expert option(s) {sorted(unknown)}; expected some of "
                f"{sorted(_EXPERT_OPTIONS)}"
            )
        if self.expert_options and self.expert is None:
            raise ConfigurationError(f"condition {self.name!r}: expert_options given without an expert")

    # ------------------------------------------------------------------------------------------ building

    def wrap(self, env: gym.Env) -> gym.Env:
        """Build this condition's stack on one AWM env: shaping, expert advice, chat messages."""
        from awm_gym.wrappers import ChatMessages, ExpertAdvice, RewardShaping

        if isinstance(self.shaping, str):
            env = RewardShaping(env, preset=self.shaping)
        elif self.shaping is not None:
            env = RewardShaping(env, **dict(self.shaping))
        if self.expert is not None:
            env = ExpertAdvice(env, self.expert, **dict(self.expert_options))
        return ChatMessages(env)

    def make_policy(self, seed: int) -> Any:
        """The batched policy for one repeat; an endpoint gets ``seed`` with every request."""
        if self.policy is not None:
            return self.policy
        from awm_gym.llm import OpenAIPolicy

        assert self.base_url is not None and self.model is not None
        return OpenAIPolicy(
            model=self.model,
            base_url=self.base_url,
            api_key=self.api_key,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            extra_body={**(self.extra_body or {}), "seed": int(seed)},
            use_native_tools=False,  # AWM's convention: the system prompt lists the tools
        )

    # ---------------------------------------------------------------------------------------- reporting

    def config(self) -> dict[str, Any]:
        """The condition's configuration as JSON-ready data (no API key), as written to the results."""
        if self.policy is not None:
            policy: dict[str, Any] = {"kind": "python", "callable": describe_callable(self.policy)}
        else:
            policy = {
                "kind": "openai",
                "base_url": "loopback (simulation)" if self.simulation else self.base_url,
                "model": self.model,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "extra_body": dict(self.extra_body) if self.extra_body else None,
            }
        expert = None
        if self.expert is not None:
            options = {
                key: describe_callable(value) if callable(value) else value
                for key, value in sorted(self.expert_options.items())
            }
            expert = {"expert": describe_callable(self.expert), **options}
        return {
            "name": self.name,
            "policy": policy,
            "expert": expert,
            "shaping": self.shaping if isinstance(self.shaping, str | None) else dict(self.shaping),
            "simulation": self.simulation,
            "description": self.description,
        }
