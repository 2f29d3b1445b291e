"""OpenAI-compatible chat endpoints, and a policy that acts through one.

``LLMEndpoint`` says where a model is served; ``chat`` makes one chat-completion call,
retrying with the ``openai`` client's own backoff and raising ``LLMError`` when all
retries fail; ``OpenAIPolicy`` turns an observation into an action string, one at a
time (``policy(obs)``) or many at once (``policy.batch(observations)``).

Example:
    >>> endpoint = LLMEndpoint(base_url="http://localhost:8000/v1", model="Qwen3-4B")
    >>> reply = chat(endpoint, [{"role": "user", "content": "Hi"}])  # doctest: +SKIP
    >>> reply.content  # doctest: +SKIP
    'Hello! How can I help?'

"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from awm_gym.errors import ConfigurationError, LLMError

if TYPE_CHECKING:
    import openai

__all__ = ["VLLM_TOKEN_FIELDS", "ChatReply", "LLMEndpoint", "OpenAIPolicy", "PolicyAction", "chat"]

_AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")
_AZURE_PATH = "/openai/v1"
_MAX_BATCH_WORKERS = 32
_TOKEN_ID_PREFIX = "token_id:"  # how vLLM spells tokens with return_tokens_as_token_ids

VLLM_TOKEN_FIELDS: dict[str, Any] = {"return_token_ids": True, "return_tokens_as_token_ids": True}
"""vLLM's request fields for token ids (``OpenAIPolicy(token_level=True)`` sends them with ``logprobs``)."""
# One lock for every endpoint: clients are built rarely, and only once per endpoint.
_client_lock = threading.Lock()


@dataclass(frozen=True, kw_only=True)
class LLMEndpoint:
    """An OpenAI-compatible chat endpoint.

    Azure hosts (``*.openai.azure.com``, ``*.cognitiveservices.azure.com``) get
    ``/openai/v1`` appended to ``base_url`` when it is missing, as AWM's own code does.
    Every field is keyword-only, as are the endpoint arguments of :class:`OpenAIPolicy`
    and :class:`~awm_gym.wrappers.OpenAIExpert`.

    Attributes:
        base_url: The API base URL, e.g. ``http://localhost:8000/v1``.
        model: The model name sent with each request.
        api_key: The API key; local servers usually accept any value.
        timeout: Seconds allowed per HTTP attempt.
        max_retries: Retries after the first attempt, on 408/409/429/5xx, timeouts and
            connection errors, with exponential backoff (or the server's
            ``retry-after``).

    Example:
        >>> LLMEndpoint(base_url="https://res.openai.azure.com", model="gpt-4.1").base_url
        'https://res.openai.azure.com/openai/v1'

    """

    base_url: str
    model: str
    api_key: str = "EMPTY"
    timeout: float = 60.0
    max_retries: int = 3

    def __post_init__(self) -> None:
        """Apply the Azure base-URL rule."""
        url = self.base_url.rstrip("/")
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host.endswith(_AZURE_HOST_SUFFIXES) and not parts.path.endswith(_AZURE_PATH):
            url += _AZURE_PATH
        object.__setattr__(self, "base_url", url)

    @classmethod
    def from_env(
        cls,
        prefix: str,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
    ) -> LLMEndpoint:
        """Build an endpoint from ``<PREFIX>_BASE_URL``, ``_MODEL`` and ``_API_KEY``.

        The one place awm-gym reads an endpoint from the environment (the env's sql-mode
        judge uses the prefix ``AWM_JUDGE``). A value passed as an argument wins over its
        variable. ``<PREFIX>_API_KEY`` is optional (default ``"EMPTY"``): local servers
        ignore it.

        Args:
            prefix: The variable prefix, e.g. ``"AWM_JUDGE"``.
            base_url: The base URL, instead of ``<PREFIX>_BASE_URL``.
            model: The model name, instead of ``<PREFIX>_MODEL``.
            api_key: The API key, instead of ``<PREFIX>_API_KEY``.

        Returns:
            The endpoint.

        Raises:
            ConfigurationError: If neither the argument nor the variable gives a base
                URL, or a model.

        Example:
            >>> # with AWM_JUDGE_BASE_URL and AWM_JUDGE_MODEL=gpt-4.1 set:
            >>> LLMEndpoint.from_env("AWM_JUDGE").model  # doctest: +SKIP
            'gpt-4.1'

        """
        url_var, model_var = f"{prefix}_BASE_URL", f"{prefix}_MODEL"
        base_url = base_url or os.environ.get(url_var, "")
        model = model or os.environ.get(model_var, "")
        missing = [var for var, value in ((url_var, base_url), (model_var, model)) if not value]
        if missing:
            raise ConfigurationError(
                f"missing environment variable(s) {', '.join(missing)}: set them to "
                "the base URL and model name of an OpenAI-compatible endpoint "
                f"({prefix}_API_KEY is optional)"
            )
        api_key = api_key or os.environ.get(f"{prefix}_API_KEY") or "EMPTY"
        return cls(base_url=base_url, model=model, api_key=api_key)

    def client(self) -> openai.OpenAI:
        """Return this endpoint's ``openai.OpenAI`` client, created once (thread-safe).

        Returns:
            The client.

        Example:
            >>> endpoint = LLMEndpoint(base_url="http://localhost:8000/v1", model="m")
            >>> endpoint.client() is endpoint.client()
            True

        """
        import openai  # deferred: importing it takes most of a second

        with _client_lock:
            if "_client" not in self.__dict__:
                client = openai.OpenAI(
                    base_url=self.base_url,
                    api_key=self.api_key,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
                object.__setattr__(self, "_client", client)
            return self.__dict__["_client"]

    def __getstate__(self) -> dict[str, Any]:
        """Leave the cached client out of copies and pickles."""
        # The client holds sockets and locks; a copy (e.g. sent to a worker process)
        # builds its own.
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ChatReply:
    """The assistant's reply to one chat call.

    Attributes:
        content: The reply text, or ``None`` (typically when the model calls tools).
        tool_calls: ``{"id", "name", "arguments"}`` dicts; ``arguments`` is parsed to
            a dict when it is a JSON object, else kept as the raw string.
        latency_s: Wall-clock seconds of the call, retries included.
        messages: The messages sent (a shallow copy).
        choice: The raw choice, as a dict (vLLM's extra fields included).
        prompt_token_ids: The prompt's token ids (vLLM's ``return_token_ids``).
        token_ids: The completion's token ids (vLLM's ``return_token_ids``, or read from the
            ``token_id:<id>`` tokens of ``return_tokens_as_token_ids``).
        tokens: The completion's tokens (with ``logprobs=True``).
        logprobs: The completion's per-token logprobs (with ``logprobs=True``).

    Example:
        >>> ChatReply("4", tool_calls=[], latency_s=0.4)
        ChatReply(content='4', tool_calls=[], latency_s=0.4)

    """

    content: str | None
    tool_calls: list[dict[str, Any]]
    latency_s: float
    # What on-policy training needs (``None`` when the server did not return it); left out of the repr.
    messages: list[dict[str, Any]] | None = field(default=None, repr=False)
    choice: dict[str, Any] | None = field(default=None, repr=False)
    prompt_token_ids: list[int] | None = field(default=None, repr=False)
    token_ids: list[int] | None = field(default=None, repr=False)
    tokens: list[str] | None = field(default=None, repr=False)
    logprobs: list[float] | None = field(default=None, repr=False)

    @property
    def assistant_message(self) -> dict[str, Any]:
        """The reply as an OpenAI assistant message (content, and the tool calls with their raw arguments)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        raw = ((self.choice or {}).get("message") or {}).get("tool_calls") or []
        if raw:
            message["tool_calls"] = [
                {"id": call.get("id"), "type": "function", "function": dict(call.get("function") or {})} for call in raw
            ]
        elif self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": _arguments_json(call["arguments"])},
                }
                for call in self.tool_calls
            ]
        return message


def chat(
    endpoint: LLMEndpoint,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None = None,
    **sampling: Any,
) -> ChatReply:
    """Make one chat-completion call.

    Args:
        endpoint: Where to send it.
        messages: OpenAI chat messages.
        tools: OpenAI function-tool schemas; not sent when empty or ``None``.
        **sampling: Further ``chat.completions.create`` arguments (``temperature``,
            ``max_tokens``, ``extra_body``, ...); those set to ``None`` are not sent,
            leaving the server's default.

    Returns:
        The reply.

    Raises:
        LLMError: If the call still fails after the endpoint's retries, or the reply
            has no choice.

    Example:
        >>> endpoint = LLMEndpoint(base_url="http://localhost:8000/v1", model="m")
        >>> messages = [{"role": "user", "content": "Hi"}]
        >>> chat(endpoint, messages, max_tokens=16).content  # doctest: +SKIP
        'Hello!'

    """
    kwargs = {key: value for key, value in sampling.items() if value is not None}
    if tools:
        kwargs["tools"] = tools
    import openai

    where = f"model {endpoint.model!r} at {endpoint.base_url}"
    start = time.perf_counter()
    try:
        completion = endpoint.client().chat.completions.create(model=endpoint.model, messages=messages, **kwargs)
    except openai.OpenAIError as exc:
        raise LLMError(
            f"chat completion with {where} failed (retried up to "
            f"{endpoint.max_retries} times): {type(exc).__name__}: {exc}. Check that "
            "the server is up, serves this model and accepts the API key, or raise "
            "the endpoint's timeout or max_retries"
        ) from exc
    latency_s = time.perf_counter() - start
    if not completion.choices:
        raise LLMError(f"chat completion with {where} returned no choice")
    choice = completion.choices[0]
    message = choice.message
    tool_calls = [
        {
            "id": call.id,
            "name": call.function.name,
            "arguments": _parse_arguments(call.function.arguments),
        }
        for call in message.tool_calls or []
        if call.type == "function"
    ]
    entries = (choice.logprobs.content or []) if choice.logprobs is not None else []
    tokens = [entry.token for entry in entries] if choice.logprobs is not None else None
    token_ids = (choice.model_extra or {}).get("token_ids")
    if token_ids is None and tokens and all(token.startswith(_TOKEN_ID_PREFIX) for token in tokens):
        token_ids = [int(token[len(_TOKEN_ID_PREFIX) :]) for token in tokens]
    return ChatReply(
        message.content,
        tool_calls,
        latency_s,
        messages=list(messages),
        choice=choice.model_dump(),
        prompt_token_ids=(completion.model_extra or {}).get("prompt_token_ids"),
        token_ids=token_ids,
        tokens=tokens,
        logprobs=[entry.logprob for entry in entries] if tokens is not None else None,
    )


def _arguments_json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _parse_arguments(arguments: str) -> dict[str, Any] | str:
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    return parsed if isinstance(parsed, dict) else arguments


class PolicyAction(str):
    """An action string that carries the reply it came from.

    The env steps it as the plain string it is; the rollout driver keeps ``reply`` on the step
    (``Transition.reply``), for :meth:`~awm_gym.vector.Episode.training_record`.

    Example:
        >>> action = PolicyAction("Done.", reply=None)
        >>> action == "Done.", isinstance(action, str), action.reply
        (True, True, None)
    """

    reply: ChatReply | None

    def __new__(cls, text: str, reply: ChatReply | None = None) -> PolicyAction:
        """Make the action ``text`` carrying ``reply``."""
        action = super().__new__(cls, text)
        action.reply = reply
        return action

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the reply."""
        return (PolicyAction, (str(self), self.reply))

    def __copy__(self) -> PolicyAction:
        """The action itself: it is immutable (a copied conversation must not copy every reply's history)."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PolicyAction:
        """The action itself (see ``__copy__``)."""
        return self


class OpenAIPolicy:
    """A policy backed by an OpenAI-compatible endpoint: one observation, one action.

    The action is the reply's first tool call rendered as JSON ``{"name": ...,
    "arguments": {...}}`` (the environment executes one call per step), else the reply
    text (which may itself hold ``<tool_call>`` blocks or be the final answer), or
    ``""`` when the text is null. The policy keeps no state between calls, so threads
    may share it. Each action is a :class:`PolicyAction`: the string, with the reply (raw
    choice, messages sent and, with ``token_level``, token ids and logprobs) as ``reply``.

    Every argument is keyword-only, as for :class:`LLMEndpoint`.

    Args:
        base_url: The API base URL.
        model: The model name.
        api_key: The API key.
        temperature: Sampling temperature.
        max_tokens: Maximum tokens per reply.
        top_p: Nucleus sampling; ``None`` leaves the server's default.
        extra_body: Extra JSON fields merged into each request (e.g. vLLM's
            ``{"top_k": 20}``).
        timeout: Seconds allowed per HTTP attempt.
        max_retries: Retries on 408/409/429/5xx, timeouts and connection errors.
        system_prompt: System message put before string observations.
        use_native_tools: Send ``tools`` as the API's ``tools`` parameter; when
            ``False`` they are not sent (the observation must describe them).
        token_level: Ask for what on-policy training needs: ``logprobs`` and vLLM's
            token ids (:data:`VLLM_TOKEN_FIELDS`, merged under ``extra_body``); for
            vLLM and servers that accept those fields.

    Example:
        >>> policy = OpenAIPolicy(base_url="http://localhost:8000/v1", model="Qwen3-4B")
        >>> tool = {"type": "function", "function": {"name": "list_tickets"}}
        >>> policy("List the open tickets.", tools=[tool])  # doctest: +SKIP
        '{"name": "list_tickets", "arguments": {}}'

    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        temperature: float = 1.0,
        max_tokens: int = 2048,
        top_p: float | None = None,
        extra_body: dict[str, Any] | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        system_prompt: str | None = None,
        use_native_tools: bool = True,
        token_level: bool = False,
    ) -> None:
        self.endpoint = LLMEndpoint(
            base_url=base_url,
            model=model,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        self.sampling: dict[str, Any] = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "top_p": top_p,
            "extra_body": extra_body,
        }
        if token_level:
            self.sampling.update(logprobs=True, extra_body={**VLLM_TOKEN_FIELDS, **(extra_body or {})})
        self.system_prompt = system_prompt
        self.use_native_tools = use_native_tools

    def __call__(
        self,
        observation: str | list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
    ) -> PolicyAction:
        """Map one observation to one action.

        Args:
            observation: A string, sent as a user message after ``system_prompt``, or
                a list of OpenAI chat messages, sent as is.
            tools: OpenAI function-tool schemas.

        Returns:
            The action string, carrying the reply (:class:`PolicyAction`).

        Raises:
            LLMError: If the endpoint fails after all retries.

        Example:
            >>> policy = OpenAIPolicy(base_url="http://localhost:8000/v1", model="m")
            >>> policy([{"role": "user", "content": "2 + 2?"}])  # doctest: +SKIP
            '4'

        """
        if isinstance(observation, str):
            messages = [{"role": "user", "content": observation}]
            if self.system_prompt is not None:
                messages.insert(0, {"role": "system", "content": self.system_prompt})
        else:
            messages = observation
        if not self.use_native_tools:
            tools = None
        reply = chat(self.endpoint, messages, tools=tools, **self.sampling)
        if reply.tool_calls:
            call = {key: reply.tool_calls[0][key] for key in ("name", "arguments")}
            return PolicyAction(json.dumps(call, ensure_ascii=False), reply)
        return PolicyAction(reply.content or "", reply)

    def batch(
        self,
        observations: list[str | list[dict[str, Any]]],
        tools: list[dict[str, Any]] | None = None,
    ) -> list[PolicyAction]:
        """Map many observations to actions concurrently, preserving order.

        Args:
            observations: The observations, as for ``__call__``.
            tools: OpenAI function-tool schemas, shared by all observations.

        Returns:
            One action per observation, in the same order.

        Raises:
            LLMError: If any call fails after all retries.

        Example:
            >>> policy = OpenAIPolicy(base_url="http://localhost:8000/v1", model="m")
            >>> policy.batch(["Say A.", "Say B."])  # doctest: +SKIP
            ['A', 'B']

        """
        if not observations:
            return []
        workers = min(len(observations), _MAX_BATCH_WORKERS)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda obs: self(obs, tools), observations))
