"""Expert in the loop: a virtual ``ask_expert`` tool that the wrapper answers itself.

The expert is client-side only, as in the public expert-in-the-loop work on AWM: ``ask_expert`` is never
sent to the scenario's server, never appears in its tool catalog, and the verifier and the reward stay
inside the environment. A policy that only asks the expert cannot change the database or the verdict.
The expert itself (its context, prompt, an LLM-served expert, a schedule) is in
:mod:`awm_gym.wrappers.expert`.

Steps answered above a wrapper never reach its ``step``. So that a wrapper below :class:`ExpertAdvice`
(reward shaping, recording) still sees them, ExpertAdvice hands each of its own steps to them through the
virtual-step protocol (:func:`~awm_gym.wrappers._stack.pass_virtual_step`). Such a wrapper therefore sees
the same steps, rewards and infos whether ExpertAdvice sits above or below it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from awm_gym._lazy import lazy_exports
from awm_gym.envs.actions import LIST_TOOLS, ToolCall, parse_action, resolve_awm_call
from awm_gym.envs.awm_env import AWMEnv
from awm_gym.envs.prompts import render_catalog
from awm_gym.envs.spaces import fit_text
from awm_gym.errors import ConfigurationError
from awm_gym.wrappers._stack import Step, check_info_keys_free, has_layer, pass_virtual_step
from awm_gym.wrappers.expert import Expert, ExpertContext

__all__ = ["ASK_EXPERT", "DEFAULT_NUDGE", "ExpertAdvice", "ask_expert_tool"]

# Names this module held before the expert and the virtual-step protocol got modules of their own.
_MOVED = dict.fromkeys(
    ("EXPERT_SYSTEM_PROMPT", "OpenAIExpert", "ScaffoldSchedule", "expert_prompt"), "awm_gym.wrappers.expert"
)
__getattr__, _ = lazy_exports(__name__, {**_MOVED, "VirtualStepHandler": "awm_gym.wrappers._stack"})

ASK_EXPERT = "ask_expert"
"""The virtual tool's name."""

DEFAULT_NUDGE = "If you are stuck, call ask_expert with a specific question; otherwise fix the call and try again."
"""The nudge appended to tool-error observations with ``nudge=True`` ("try first, ask if stuck")."""


_EXPERT_INFO_KEYS = ("expert_calls", "expert_available", "expert_call")


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
    ``expert(question, context)`` (:class:`~awm_gym.wrappers.expert.ExpertContext`): the advice is the
    observation and the reward is 0. The environment never sees the call. Every other action goes to the
    environment unchanged.

    - **Budget.** At most ``max_calls`` expert calls per episode; beyond that the observation says so and
      the expert is not called.
    - **Step limit.** With ``count_toward_max_steps``, ``ask_expert`` actions count toward the env's
      ``max_steps`` (:meth:`~awm_gym.envs.AWMEnv.count_external_step`): when one reaches the limit, the env
      ends the episode as at any truncation (verifier with an empty answer, ``truncated=True``).
    - **Availability.** At each reset the expert is available with probability ``availability`` (a number,
      or a callable returning one, e.g. :class:`~awm_gym.wrappers.expert.ScaffoldSchedule`; change it during
      training with :meth:`set_availability`). The draw comes from a stream spawned from the env's seeded RNG, so seeded
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
        expert: ``(question, context) -> str``, e.g. :class:`~awm_gym.wrappers.expert.OpenAIExpert`.
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
                "expert must be a callable (question, context) -> str, e.g. OpenAIExpert(base_url=..., model=...), "
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
        self._known: frozenset[str] = frozenset((ASK_EXPERT,))

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
        check_info_keys_free(info, _EXPERT_INFO_KEYS, "ExpertAdvice")
        tools = list(info.get("tools") or base.tool_schemas())
        if any(tool.get("function", tool).get("name") == ASK_EXPERT for tool in tools):
            raise ConfigurationError(
                f"scenario {base.scenario.name!r} already has a tool named {ASK_EXPERT!r}; ExpertAdvice cannot add its "
                "virtual tool of the same name"
            )
        self._known = frozenset((*(tool.name for tool in base.host.tools), ASK_EXPERT))
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
        parsed = parse_action(action) if isinstance(action, str) else None
        if not isinstance(parsed, ToolCall):
            return None
        call = resolve_awm_call(parsed, self._known)
        return (call.arguments,) if call.name == ASK_EXPERT else None

    def _fit(self, text: str) -> str:
        return fit_text(text, getattr(self.observation_space, "max_length", None))

    def _budget_left(self) -> bool:
        return self.max_calls is None or self._calls < self.max_calls

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        check_info_keys_free(info, _EXPERT_INFO_KEYS, "ExpertAdvice")
        info["expert_available"] = self._available
        info["expert_calls"] = self._calls
        return info

    def _env_step(self, action: Any) -> Step:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self._available and not (terminated or truncated):
            call = info.get("tool_call") or {}
            if (
                call.get("name") == LIST_TOOLS
                and "error" not in info
                and LIST_TOOLS not in self.env.unwrapped.host.tools
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
        task_idx = base.current_task_idx
        if task_idx is None:
            raise ResetNeeded("the expert has no task to advise on: call reset() first")
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
