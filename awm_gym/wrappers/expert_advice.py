"""Expert in the loop: a virtual ``ask_expert`` tool that the wrapper answers itself.

The expert is client-side only, as in the public expert-in-the-loop work on AWM: ``ask_expert`` is never
sent to the scenario's server, never appears in its tool catalog, and the verifier and the reward stay
inside the environment. A policy that only asks the expert cannot change the database or the verdict.

Steps answered above a wrapper never reach its ``step``. So that a wrapper below :class:`ExpertAdvice`
(reward shaping, recording) still sees them, ExpertAdvice hands each of its own steps to every wrapper
below it that has a ``virtual_step`` method (:class:`VirtualStepHandler`), innermost first, exactly as a
real step result travels up the stack. Such a wrapper therefore sees the same steps, rewards and infos
whether ExpertAdvice sits above or below it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, SupportsFloat, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from awm_gym.envs.actions import ToolCall, parse_action
from awm_gym.envs.awm_env import AWMEnv
from awm_gym.envs.prompts import describe_tools, render_catalog
from awm_gym.errors import ConfigurationError, LLMError
from awm_gym.llm import LLMEndpoint, chat
from awm_gym.wrappers._stack import has_layer, layers

__all__ = [
    "ASK_EXPERT",
    "DEFAULT_NUDGE",
    "EXPERT_SYSTEM_PROMPT",
    "ExpertAdvice",
    "ExpertContext",
    "OpenAIExpert",
    "ScaffoldSchedule",
    "VirtualStepHandler",
    "ask_expert_tool",
    "expert_prompt",
    "pass_virtual_step",
]

ASK_EXPERT = "ask_expert"
"""The virtual tool's name."""

DEFAULT_NUDGE = "If you are stuck, call ask_expert with a specific question; otherwise fix the call and try again."
"""The nudge appended to tool-error observations with ``nudge=True`` ("try first, ask if stuck")."""

EXPERT_SYSTEM_PROMPT = (
    "You advise an AI agent that operates an application through its API on behalf of the logged-in user "
    "(user_id 1). The agent asks you when it is stuck. You see its task, its tools and what it did so far; "
    "you cannot call tools yourself.\n\n"
    "Answer the agent's question with short, concrete advice: which tool to call next, with which arguments, "
    "and why. If the task is already done, tell the agent to give its final answer."
)
"""The system prompt of :class:`OpenAIExpert`."""

_AWM_PREFIXES = ("mcp_tool_", "mcp_server_")
_LIST_TOOLS = "list_tools"
_EXPERT_INFO_KEYS = ("expert_calls", "expert_available", "expert_call")

Step = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]
Expert = Callable[[str, "ExpertContext"], str]


def ask_expert_tool() -> dict[str, Any]:
    """The ``ask_expert`` tool as an OpenAI function tool (a fresh copy).

    Example:
        >>> ask_expert_tool()["function"]["parameters"]["required"]
        ['question']
    """
    return {
        "type": "function",
        "function": {
            "name": ASK_EXPERT,
            "description": (
                "Ask an expert for advice when you are stuck (for example after a tool error). The expert sees "
                "the task, the tools and what you did so far, and answers in text; it cannot act for you."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "description": "What you want to know; be specific."},
                },
                "required": ["question"],
            },
        },
    }


# --------------------------------------------------------------------------------------------- the expert


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
    text. Failures raise :class:`~awm_gym.errors.LLMError`, which :class:`ExpertAdvice` turns into an
    observation.

    Example:
        >>> expert = OpenAIExpert("http://localhost:8000/v1", "gpt-4.1", temperature=0.3)
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
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        *,
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

    The reference work's adaptive schedule as an availability for :class:`ExpertAdvice`: the current phase's
    probability is used at each reset, and ExpertAdvice reports every finished episode to :meth:`record`.
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


# ------------------------------------------------------------------------------------------ virtual steps


@runtime_checkable
class VirtualStepHandler(Protocol):
    """A wrapper that must also see the steps a wrapper above it answers itself.

    ``virtual_step`` receives such a step's result and returns it, transformed as the wrapper's ``step``
    would transform a result coming from below.
    """

    def virtual_step(
        self,
        action: Any,
        observation: Any,
        reward: SupportsFloat,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> Step:
        """Transform the result of a step answered above this wrapper."""
        ...


def pass_virtual_step(env: gym.Env, action: Any, result: Step) -> Step:
    """Hand a step answered above ``env`` to every :class:`VirtualStepHandler` in ``env``'s stack, innermost first.

    Returns:
        The step result as it comes out of the outermost handler.
    """
    handlers = [layer for layer in layers(env) if callable(getattr(type(layer), "virtual_step", None))]
    for handler in reversed(handlers):
        result = handler.virtual_step(action, *result)
    return result


# --------------------------------------------------------------------------------------------- the wrapper


def _check_probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ConfigurationError(f"the expert's availability must be a probability in [0, 1], got {value!r}")
    return float(value)


class ExpertAdvice(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """Adds a virtual ``ask_expert`` tool that an expert answers, client-side.

    When the expert is available this episode, ``ask_expert`` (argument ``question``, a string) is added to
    ``info["tools"]`` and to the tool list of the reset observation. A call to it, in any form the env
    accepts (JSON, ``<tool_call>`` blocks, OpenAI tool calls, AWM's ``call_tool``), is answered by
    ``expert(question, context)`` (:class:`ExpertContext`): the advice is the observation and the reward is
    0. The environment never sees the call. Every other action goes to the environment unchanged.

    - **Budget.** At most ``max_calls`` expert calls per episode; beyond that the observation says so and
      the expert is not called.
    - **Step limit.** With ``count_toward_max_steps``, ``ask_expert`` actions count toward the env's
      ``max_steps`` (:meth:`~awm_gym.envs.AWMEnv.count_external_step`): when one reaches the limit, the env
      ends the episode as at any truncation (verifier with an empty answer, ``truncated=True``).
    - **Availability.** At each reset the expert is available with probability ``availability`` (a number,
      or a callable returning one, e.g. :class:`ScaffoldSchedule`; change it during training with
      :meth:`set_availability`). The draw comes from a stream spawned from the env's seeded RNG, so seeded
      resets are reproducible and the env's task sequence is the same as without the wrapper.
      ``options={"expert_available": bool}`` forces it for one reset. When unavailable, ``ask_expert`` is
      not offered and a call to it goes to the env, which answers ``Unknown tool: ask_expert``.
    - **Nudge.** With ``nudge`` (``True`` for :data:`DEFAULT_NUDGE`, or a text), the text is appended to the
      observation of a step that ended in a tool error while the expert is available and within budget.
    - **Failures.** An expert that raises (timeout, HTTP error, anything) gives the observation
      ``Expert unavailable: ...``; the episode goes on.

    Info: ``reset`` and every ``step`` add ``expert_available`` (bool) and ``expert_calls`` (times the expert
    was called this episode); a step answered by the wrapper adds ``expert_call`` = ``{"question", "answer",
    "latency_s", "status"}`` with status ``answered``, ``failed`` (plus ``error``), ``over_budget`` or
    ``invalid_arguments`` (then also ``info["error"]``), and, when it ends the episode, ``final_answer`` and
    ``verifier`` as the env's last step has.

    Stack: directly or indirectly on an :class:`~awm_gym.envs.AWMEnv`, below
    :class:`~awm_gym.wrappers.ChatMessages`; reward shaping and recording may sit above or below it (its
    steps reach those below through :func:`pass_virtual_step`). Once per stack. Raises
    :class:`~awm_gym.errors.ConfigurationError` otherwise.

    Vector: no vector version; wrap each sub-environment.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> from awm_gym.wrappers import ExpertAdvice
        >>> def expert(question, context):
        ...     return "Call list_my_pets."
        >>> env = ExpertAdvice(gym.make("AWM/awmgym_pet_clinic-v0"), expert=expert)
        >>> env
        <ExpertAdvice<OrderEnforcing<PassiveEnvChecker<AWMEnv<AWM/awmgym_pet_clinic-v0>>>>>
        >>> obs, info = env.reset(seed=0, options={"task_idx": 0})
        >>> info["tools"][-1]["function"]["name"], info["expert_available"], "- ask_expert(question: string)" in obs
        ('ask_expert', True, True)
        >>> obs, reward, terminated, truncated, info = env.step(
        ...     '<tool_call>{"name": "ask_expert", "arguments": {"question": "Where do I start?"}}</tool_call>')
        >>> obs, reward, info["expert_calls"], info["expert_call"]["status"]
        ('Call list_my_pets.', 0.0, 1, 'answered')
        >>> "ask_expert" in env.unwrapped.host.tools
        False
        >>> env.close()

    Args:
        env: The environment stack to wrap.
        expert: ``(question, context) -> str``, e.g. :class:`OpenAIExpert`.
        max_calls: Expert calls allowed per episode (``None``: no limit).
        count_toward_max_steps: Whether ``ask_expert`` actions count toward the env's ``max_steps``.
        availability: Probability that the expert is available in an episode, or a callable returning it.
        nudge: Text appended to tool-error observations (``True``: :data:`DEFAULT_NUDGE`).
        verifier_informed: Give the expert the task's verifier code (the reference work's verifier-informed
            mode; the policy never sees the code, but the advice may reveal what the verifier checks).
    """

    def __init__(
        self,
        env: gym.Env[str, str],
        expert: Expert,
        *,
        max_calls: int | None = None,
        count_toward_max_steps: bool = False,
        availability: float | Callable[[], float] = 1.0,
        nudge: str | bool | None = None,
        verifier_informed: bool = False,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            expert=expert,
            max_calls=max_calls,
            count_toward_max_steps=count_toward_max_steps,
            availability=availability,
            nudge=nudge,
            verifier_informed=verifier_informed,
        )
        gym.Wrapper.__init__(self, env)
        _check_stack(env)
        if not callable(expert):
            raise ConfigurationError(
                "expert must be a callable (question, context) -> str, e.g. OpenAIExpert(base_url, model), "
                f"got {expert!r}"
            )
        if max_calls is not None and (isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 0):
            raise ConfigurationError(f"max_calls must be None or an int >= 0, got {max_calls!r}")
        self.expert = expert
        self.max_calls = max_calls
        self.count_toward_max_steps = bool(count_toward_max_steps)
        self.nudge: str | None = DEFAULT_NUDGE if nudge is True else (nudge or None)
        self.verifier_informed = bool(verifier_informed)
        self._availability: float | Callable[[], float] = 1.0
        self.set_availability(availability)
        self._rng: np.random.Generator | None = None
        self._rng_parent: np.random.Generator | None = None
        # per episode
        self._available = False
        self._calls = 0
        self._advice: list[dict[str, str]] = []
        self._done = True

    # ------------------------------------------------------------------------------------ availability

    @property
    def availability(self) -> float:
        """The probability that the expert is available in the next episode."""
        value = self._availability() if callable(self._availability) else self._availability
        return _check_probability(value)

    def set_availability(self, availability: float | Callable[[], float]) -> None:
        """Change the availability from the next reset on (the hook for scaffold-to-independence schedules).

        Through other wrappers: ``env.get_wrapper_attr("set_availability")(0.5)``; in a vector env:
        ``envs.call("set_availability", 0.5)``.
        """
        if not callable(availability):
            availability = _check_probability(availability)
        self._availability = availability

    @property
    def expert_available(self) -> bool:
        """Whether the expert is available in the current episode."""
        return self._available

    def _draw(self) -> float:
        parent = self.env.unwrapped.np_random
        if parent is not self._rng_parent or self._rng is None:
            # A seeded reset replaces the env's generator: spawn a child stream from it. Spawning leaves the
            # parent's state untouched, so the env draws the same tasks as without this wrapper.
            self._rng_parent = parent
            try:
                self._rng = parent.spawn(1)[0]
            except (TypeError, ValueError, AttributeError):  # a generator built without a SeedSequence
                self._rng = np.random.default_rng(parent.bit_generator.random_raw())
        return float(self._rng.random())

    # ----------------------------------------------------------------------------------------- Gym API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Reset the env, draw the expert's availability and, if available, offer ``ask_expert``."""
        options = dict(options) if options else {}
        forced = options.pop("expert_available", None)
        if forced is not None and not isinstance(forced, bool):
            raise ConfigurationError(f'options["expert_available"] must be a bool, got {forced!r}')
        observation, info = self.env.reset(seed=seed, options=options)
        base = self.env.unwrapped
        draw = self._draw()  # one draw per episode, forced or not, so later draws do not depend on it
        self._available = forced if forced is not None else draw < self.availability
        self._calls = 0
        self._advice = []
        self._done = False
        for key in _EXPERT_INFO_KEYS:
            assert key not in info, f"info key {key!r} is already used below ExpertAdvice"
        tools = list(info.get("tools") or base.tool_schemas())
        if any(tool.get("function", tool).get("name") == ASK_EXPERT for tool in tools):
            raise ConfigurationError(
                f"scenario {base.scenario.name!r} already has a tool named {ASK_EXPERT!r}; ExpertAdvice cannot add its "
                "virtual tool of the same name"
            )
        if self._available:
            info["tools"] = [*tools, ask_expert_tool()]
            observation = base.describe_task(info["tools"])
        info["expert_available"] = self._available
        info["expert_calls"] = 0
        return observation, info

    def step(self, action: str) -> Step:
        """Answer an ``ask_expert`` call, or pass the action to the env."""
        if self._done:
            raise ResetNeeded("the episode is over (or never started): call reset() before step()")
        arguments = self._expert_arguments(action) if self._available else None
        if arguments is None:
            return self._env_step(action)
        return self._expert_step(action, arguments[0])

    # ---------------------------------------------------------------------------------------- internals

    def _expert_arguments(self, action: Any) -> tuple[Any] | None:
        """``(arguments,)`` when ``action`` calls ``ask_expert`` (in any accepted form), else ``None``."""
        parsed = parse_action(action)
        if not isinstance(parsed, ToolCall):
            return None
        name, arguments = parsed.name, parsed.arguments
        if name == "call_tool" and isinstance(arguments, Mapping) and isinstance(arguments.get("tool_name"), str):
            inner = parse_action({"name": arguments["tool_name"], "arguments": arguments.get("arguments")})
            if isinstance(inner, ToolCall):
                name, arguments = inner.name, inner.arguments
        for prefix in _AWM_PREFIXES:
            while name.startswith(prefix):
                name = name[len(prefix) :]
        return (arguments,) if name == ASK_EXPERT else None

    def _fit(self, text: str) -> str:
        limit = getattr(self.observation_space, "max_length", None)
        if limit is None or len(text) <= limit:
            return text
        note = f"\n[... cut to {limit} characters]"
        return text[: limit - len(note)] + note

    def _budget_left(self) -> bool:
        return self.max_calls is None or self._calls < self.max_calls

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        for key in _EXPERT_INFO_KEYS:
            assert key not in info, f"info key {key!r} is already used below ExpertAdvice"
        info["expert_available"] = self._available
        info["expert_calls"] = self._calls
        return info

    def _env_step(self, action: Any) -> Step:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self._available and not (terminated or truncated):
            call = info.get("tool_call") or {}
            if (
                call.get("name") == _LIST_TOOLS
                and "error" not in info
                and _LIST_TOOLS not in self.env.unwrapped.host.tools
            ):
                observation = render_catalog([*self.env.unwrapped.tool_schemas(), ask_expert_tool()])
            if self.nudge and "error" in info and self._budget_left():
                observation = self._fit(f"{observation}\n\n{self.nudge}")
        if terminated or truncated:
            self._end(info)
        return observation, reward, terminated, truncated, self._info(info)

    def _expert_step(self, action: Any, arguments: Any) -> Step:
        info: dict[str, Any] = {}
        question = arguments.get("question") if isinstance(arguments, Mapping) else None
        if not isinstance(question, str) or not question.strip():
            observation = (
                f'Invalid arguments for {ASK_EXPERT}: expected {{"question": "<your question>"}} with a non-empty '
                f"string, got {arguments!r:.200}"
            )
            call = {"question": None, "answer": None, "latency_s": 0.0, "status": "invalid_arguments"}
            info["error"] = {"type": "invalid_arguments", "message": observation}
        elif not self._budget_left():
            observation = (
                f"Expert budget exhausted: all {self.max_calls} expert calls of this episode are used. "
                "Continue with the other tools."
            )
            call = {"question": question, "answer": None, "latency_s": 0.0, "status": "over_budget"}
        else:
            self._calls += 1
            context = self._context()
            start = time.perf_counter()
            try:
                answer = self.expert(question, context)
                if not isinstance(answer, str):
                    raise TypeError(f"the expert returned {type(answer).__name__}, expected str")
            except Exception as exc:  # noqa: BLE001 - an expert failure is an observation, never an exception
                error = f"{type(exc).__name__}: {exc}"
                observation = f"Expert unavailable: {error}. Continue with the other tools."
                call = {"question": question, "answer": None, "latency_s": time.perf_counter() - start}
                call.update(status="failed", error=error)
            else:
                observation = answer
                call = {"question": question, "answer": answer, "latency_s": time.perf_counter() - start}
                call["status"] = "answered"
                self._advice.append({"question": question, "answer": answer})
        info = self._info(info)
        info["expert_call"] = call
        reward, truncated = 0.0, False
        if self.count_toward_max_steps:
            observation, reward, _, truncated, counted = self.env.unwrapped.count_external_step(observation)
            info.update(counted)  # the step number, and the verdict when this step reached the limit
        result = pass_virtual_step(self.env, action, (self._fit(observation), reward, False, truncated, info))
        if truncated:
            self._end(result[4])
        return result

    def _end(self, info: Mapping[str, Any]) -> None:
        self._done = True
        record = getattr(self._availability, "record", None)
        if callable(record):
            record((info.get("verifier") or {}).get("label") == "complete")

    def _context(self) -> ExpertContext:
        base = self.env.unwrapped
        task_idx = int(base.current_task_idx or 0)
        code = None
        if self.verifier_informed:
            record = base.scenario.verifier(base.verifier.mode, task_idx)
            code = record.code if record is not None else None
        return ExpertContext(
            scenario=base.scenario.name,
            task_idx=task_idx,
            task=base.task,
            tools=base.tool_schemas(),
            trajectory=base.trajectory,
            advice=[dict(item) for item in self._advice],
            verifier_code=code,
        )


def _check_stack(env: gym.Env) -> None:
    from awm_gym.wrappers.chat import ChatMessages  # the chat layer sits above this one

    if not isinstance(env.unwrapped, AWMEnv):
        raise ConfigurationError(
            f"ExpertAdvice needs an AWMEnv at the bottom of its stack (it reads the task, tools and trajectory), "
            f"got {type(env.unwrapped).__name__}"
        )
    if has_layer(env, ExpertAdvice):
        raise ConfigurationError("ExpertAdvice is already in this stack; wrap the env with it once")
    if has_layer(env, ChatMessages):
        raise ConfigurationError(
            "ExpertAdvice must sit below ChatMessages (it reads and writes text actions and observations): "
            "build ChatMessages(ExpertAdvice(env, expert))"
        )
