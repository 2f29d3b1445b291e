"""The episode as OpenAI-style chat messages, and assistant messages as actions.

Conventions (AWM's agent): the system prompt lists the tools inside ``<tools>`` and asks for one call per
turn written as ``<tool_call>{...}</tool_call>``, for the logged-in user (user 1), and for a direct answer
when done (:data:`~awm_gym.envs.SYSTEM_PROMPT`); the user message is the task. A tool result goes back

- as ``{"role": "tool", "tool_call_id": ..., "content": ...}`` when the assistant used native
  ``tool_calls`` (the only form the OpenAI API accepts after a ``tool_calls`` message); only the first
  call runs, the others get a "not executed" tool message so the conversation stays valid;
- else, for a text action, as AWM does with hosted APIs: a user message ``"Tool response:\\n..."``
  (``tool_response_role="user"``, the default), or a ``{"role": "tool", "content": ...}`` message as AWM
  does with local vLLM servers (``tool_response_role="tool"``).

A final answer ends the conversation with the assistant's message; the env's closing note is not added.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.error import ResetNeeded
from gymnasium.spaces import Space

from awm_gym.envs.actions import FinalAnswer, parse_action
from awm_gym.envs.awm_env import AWMEnv
from awm_gym.envs.prompts import SYSTEM_PROMPT, tools_json
from awm_gym.envs.spaces import UnicodeText
from awm_gym.errors import ConfigurationError
from awm_gym.wrappers._stack import has_layer

__all__ = [
    "NOT_EXECUTED",
    "TOOL_RESPONSE_PREFIX",
    "AssistantSpace",
    "ChatMessages",
    "ChatTranscript",
    "MessagesSpace",
    "assistant_message",
]

TOOL_RESPONSE_PREFIX = "Tool response:\n"
"""What precedes a tool result sent back as a user message (AWM's agent with hosted APIs)."""

NOT_EXECUTED = (
    "Not executed: only the first tool call of a turn runs. Call this tool again in its own turn if you still need it."
)
"""The tool message answering the second and later tool calls of one assistant message."""

_ROLES = ("system", "user", "assistant", "tool")


# ----------------------------------------------------------------------------------------------- spaces


class MessagesSpace(Space[list]):
    """Lists of OpenAI chat messages: dicts with a ``role`` in system/user/assistant/tool.

    Example:
        >>> space = MessagesSpace()
        >>> [{"role": "user", "content": "Hi"}] in space, [{"content": "Hi"}] in space
        (True, False)
    """

    def __init__(self, seed: int | Any | None = None) -> None:
        super().__init__(None, None, seed)
        self._text = UnicodeText(10_000)

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a list of message dicts."""
        return isinstance(x, list) and all(isinstance(m, Mapping) and m.get("role") in _ROLES for m in x)

    def sample(self, mask: Any = None, probability: Any = None) -> list[dict[str, Any]]:
        """A one-message conversation with random text."""
        self._text.seed(int(self.np_random.integers(2**31)))
        return [{"role": "user", "content": self._text.sample()}]

    def __repr__(self) -> str:
        return "MessagesSpace()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessagesSpace)

    def __hash__(self) -> int:
        return hash(MessagesSpace)


class AssistantSpace(Space[Any]):
    """Assistant turns: the model's text, or an assistant message, possibly with ``tool_calls``.

    An assistant message may be a dict, an ``openai`` message object or a :class:`~awm_gym.llm.ChatReply`.

    Example:
        >>> space = AssistantSpace(1000)
        >>> "Done." in space, {"role": "assistant", "content": None, "tool_calls": []} in space, 3 in space
        (True, True, False)
    """

    def __init__(self, max_length: int = 100_000, seed: int | Any | None = None) -> None:
        super().__init__(None, None, seed)
        self.max_length = max_length
        self._text = UnicodeText(max_length)

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is text within the length limit or an assistant message."""
        if isinstance(x, str):
            return len(x) <= self.max_length
        if hasattr(x, "model_dump") or (dataclasses.is_dataclass(x) and hasattr(x, "tool_calls")):
            return True
        return isinstance(x, Mapping) and x.get("role", "assistant") == "assistant"

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """Random text."""
        self._text.seed(int(self.np_random.integers(2**31)))
        return self._text.sample()

    def __repr__(self) -> str:
        return f"AssistantSpace({self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssistantSpace) and other.max_length == self.max_length

    def __hash__(self) -> int:
        return hash((AssistantSpace, self.max_length))


# ------------------------------------------------------------------------------------------- transcript


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps({} if arguments is None else arguments, ensure_ascii=False)


def assistant_message(action: Any, turn: int = 0) -> tuple[dict[str, Any], str]:
    """Read an action as an assistant message; return the message and the env's action string.

    ``action`` may be text, an assistant message dict (``content`` and/or ``tool_calls``), an ``openai``
    message object, a :class:`~awm_gym.llm.ChatReply`, or a bare call ``{"name", "arguments"}``. Tool calls
    get ids ``call_<turn>_<k>`` when they have none; the env action is the first call as JSON.

    Example:
        >>> message, action = assistant_message({"role": "assistant", "content": None, "tool_calls": [
        ...     {"id": "c1", "type": "function", "function": {"name": "list_my_pets", "arguments": "{}"}}]})
        >>> action
        '{"name": "list_my_pets", "arguments": {}}'
        >>> assistant_message("The answer is 4.")
        ({'role': 'assistant', 'content': 'The answer is 4.'}, 'The answer is 4.')

    Raises:
        TypeError: If ``action`` is none of those.
    """
    if isinstance(action, str):
        return {"role": "assistant", "content": action}, action
    if hasattr(action, "model_dump"):  # an openai ChatCompletionMessage
        action = action.model_dump()
    elif dataclasses.is_dataclass(action) and not isinstance(action, type):  # awm_gym.llm.ChatReply
        action = dataclasses.asdict(action)
    if not isinstance(action, Mapping):
        raise TypeError(f"an action must be text or an assistant message, got {type(action).__name__}")
    if "tool_calls" not in action and "content" not in action and ("name" in action or "function" in action):
        action = {"role": "assistant", "content": None, "tool_calls": [action]}
    if action.get("role", "assistant") != "assistant" or not ({"content", "tool_calls"} & action.keys()):
        raise TypeError(
            f"an action must be text or an assistant message with content or tool_calls, got {action!r:.200}"
        )
    content = action.get("content")
    message: dict[str, Any] = {"role": "assistant", "content": content}
    calls = []
    first: dict[str, Any] | None = None
    for k, call in enumerate(action.get("tool_calls") or []):
        function = call.get("function") if isinstance(call.get("function"), Mapping) else call
        name, arguments = function.get("name"), function.get("arguments")
        if first is None:
            decoded = arguments
            if isinstance(arguments, str):
                try:
                    decoded = json.loads(arguments) if arguments.strip() else {}
                except ValueError:
                    decoded = arguments  # the env reports the bad arguments
            first = {"name": name, "arguments": decoded}
        calls.append(
            {
                "id": call.get("id") or f"call_{turn}_{k}",
                "type": "function",
                "function": {"name": name, "arguments": _arguments_text(arguments)},
            }
        )
    if calls:
        message["tool_calls"] = calls
        return message, json.dumps(first, ensure_ascii=False)
    return message, content if isinstance(content, str) else ""


class ChatTranscript:
    """One episode's chat messages, built turn by turn (used by :class:`ChatMessages` and the recorder).

    Example:
        >>> transcript = ChatTranscript(system_prompt="Tools:\\n{tools}")
        >>> transcript.start("Count my pets.", [{"type": "function", "function": {"name": "list_my_pets"}}])
        >>> transcript.assistant('<tool_call>{"name": "list_my_pets", "arguments": {}}</tool_call>')
        '<tool_call>{"name": "list_my_pets", "arguments": {}}</tool_call>'
        >>> transcript.result("[]", final=False)
        >>> [message["role"] for message in transcript.messages], transcript.messages[-1]["content"]
        (['system', 'user', 'assistant', 'user'], 'Tool response:\\n[]')

    Args:
        system_prompt: A ``str.format`` template with ``{tools}`` (the tools as JSON lines) and optionally
            ``{task}``; other braces doubled.
        tool_response_role: ``"user"`` or ``"tool"``: how results of text actions go back (see the module).
    """

    def __init__(self, *, system_prompt: str = SYSTEM_PROMPT, tool_response_role: str = "user") -> None:
        if tool_response_role not in ("user", "tool"):
            raise ConfigurationError(f'tool_response_role must be "user" or "tool", got {tool_response_role!r}')
        self.system_prompt = system_prompt
        self.tool_response_role = tool_response_role
        self._messages: list[dict[str, Any]] = []
        self._pending_ids: list[str] | None = None
        self._turns = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages so far (a deep copy)."""
        return copy.deepcopy(self._messages)

    def start(self, task: str, tools: Sequence[Mapping[str, Any]]) -> None:
        """Begin with the system prompt (listing ``tools``) and the task as the user message."""
        try:
            system = self.system_prompt.format(tools=tools_json(tools), task=task)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(
                f"system_prompt must be a str.format template whose only fields are {{tools}} and {{task}} "
                f"(double other braces): {exc!r}"
            ) from exc
        self._messages = [{"role": "system", "content": system}, {"role": "user", "content": task}]
        self._pending_ids = None
        self._turns = 0

    def assistant(self, action: Any) -> str:
        """Add the assistant's turn; return the action string for the env."""
        message, env_action = assistant_message(action, self._turns)
        self._turns += 1
        self._messages.append(message)
        self._pending_ids = [call["id"] for call in message.get("tool_calls", [])] or None
        return env_action

    def result(self, observation: str, *, final: bool) -> None:
        """Add the env's answer to the last assistant turn (nothing after a final answer)."""
        ids, self._pending_ids = self._pending_ids, None
        if final:
            return
        if ids:
            self._messages.append({"role": "tool", "tool_call_id": ids[0], "content": observation})
            self._messages += [{"role": "tool", "tool_call_id": i, "content": NOT_EXECUTED} for i in ids[1:]]
        elif self.tool_response_role == "tool":
            self._messages.append({"role": "tool", "content": observation})
        else:
            self._messages.append({"role": "user", "content": TOOL_RESPONSE_PREFIX + observation})


# --------------------------------------------------------------------------------------------- wrapper


class ChatMessages(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Presents the episode as OpenAI chat messages and takes assistant messages as actions.

    The observation is the whole conversation so far (a fresh list of message dicts,
    :class:`MessagesSpace`), ready for ``client.chat.completions.create(messages=obs, ...)``; pass
    ``tools=info["tools"]`` from the reset info for native tool calling. An action is the model's text (with
    ``<tool_call>`` blocks, or the final answer) or its assistant message (:class:`AssistantSpace`). See the
    module docstring for how results go back.

    Info: adds nothing (``info["tools"]`` from below is what the system prompt lists).

    Stack: the outermost layer that reads observations or writes actions: above
    :class:`~awm_gym.wrappers.ExpertAdvice` (so ``ask_expert`` is among the tools), on an AWMEnv stack;
    reward shaping and recording may sit above or below it. Once per stack. Raises
    :class:`~awm_gym.errors.ConfigurationError` otherwise.

    Vector: no vector version; wrap each sub-environment.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> from awm_gym.wrappers import ChatMessages
        >>> env = ChatMessages(gym.make("AWM/awmgym_pet_clinic-v0"))
        >>> messages, info = env.reset(seed=0, options={"task_idx": 0})
        >>> [m["role"] for m in messages], messages[1]["content"] == info["task"]
        (['system', 'user'], True)
        >>> call = {"id": "call_1", "type": "function", "function": {"name": "get_my_profile", "arguments": "{}"}}
        >>> messages, reward, terminated, truncated, info = env.step(
        ...     {"role": "assistant", "content": None, "tool_calls": [call]})
        >>> messages[-1]["role"], messages[-1]["tool_call_id"]
        ('tool', 'call_1')
        >>> env.close()

    Args:
        env: The environment stack to wrap.
        system_prompt: A ``str.format`` template with ``{tools}`` and optionally ``{task}``.
        tool_response_role: ``"user"`` (``"Tool response:\\n..."``) or ``"tool"``, for text actions.
    """

    def __init__(self, env: gym.Env, *, system_prompt: str = SYSTEM_PROMPT, tool_response_role: str = "user") -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, system_prompt=system_prompt, tool_response_role=tool_response_role
        )
        gym.Wrapper.__init__(self, env)
        if not isinstance(env.unwrapped, AWMEnv):
            raise ConfigurationError(
                f"ChatMessages needs an AWMEnv at the bottom of its stack, got {type(env.unwrapped).__name__}"
            )
        if has_layer(env, ChatMessages):
            raise ConfigurationError("ChatMessages is already in this stack; wrap the env with it once")
        ChatTranscript(system_prompt=system_prompt, tool_response_role=tool_response_role)  # validates the options
        self.system_prompt = system_prompt
        self.tool_response_role = tool_response_role
        self.observation_space = MessagesSpace()
        self.action_space = AssistantSpace(getattr(env.action_space, "max_length", 100_000))
        self._transcript: ChatTranscript | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Reset the env; the observation is the system prompt and the task."""
        _, info = self.env.reset(seed=seed, options=options)
        self._transcript = ChatTranscript(system_prompt=self.system_prompt, tool_response_role=self.tool_response_role)
        self._transcript.start(info["task"], info["tools"])
        return self._transcript.messages, info

    def step(self, action: Any) -> tuple[list[dict[str, Any]], SupportsFloat, bool, bool, dict[str, Any]]:
        """Add the assistant's turn, step the env with its action, add the result."""
        if self._transcript is None:
            raise ResetNeeded("call reset() before step()")
        env_action = self._transcript.assistant(action)
        observation, reward, terminated, truncated, info = self.env.step(env_action)
        final = terminated and isinstance(parse_action(env_action), FinalAnswer)
        self._transcript.result(observation, final=final)
        return self._transcript.messages, reward, terminated, truncated, info
