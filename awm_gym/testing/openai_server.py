"""A small OpenAI-compatible HTTP server for tests.

``FakeOpenAIServer`` speaks real HTTP on loopback, so the real ``openai`` client (and
everything built on it) can be tested without mocks. Replies are scripted with
``enqueue`` or computed by a ``responder``; one server can play several models at once
(e.g. the agent, the expert and the judge) by routing replies on the request's
``model``.

Like vLLM, it can return what on-policy training needs: with ``logprobs: true`` each
choice has per-token ``logprobs`` (the tokens spelled ``token_id:<id>`` with vLLM's
``return_tokens_as_token_ids``), and with vLLM's ``return_token_ids`` the response has
``prompt_token_ids`` and each choice ``token_ids``. Its tokenizer is a stand-in, one
token per character (id = code point) of :func:`render_prompt` and
:func:`render_completion`. ``stream: true`` is answered with server-sent events.

Example:
    >>> from openai import OpenAI
    >>> with FakeOpenAIServer() as server:
    ...     server.enqueue("Hello!")
    ...     client = OpenAI(base_url=server.base_url, api_key="EMPTY")
    ...     completion = client.chat.completions.create(
    ...         model="m", messages=[{"role": "user", "content": "Hi"}]
    ...     )
    >>> completion.choices[0].message.content
    'Hello!'

"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeAlias

__all__ = [
    "DelayedReply",
    "ErrorReply",
    "FakeOpenAIServer",
    "Reply",
    "Responder",
    "ToolCallReply",
    "fake_logprob",
    "fake_token_ids",
    "render_completion",
    "render_prompt",
]

_DEFAULT_MODEL = "fake-model"


@dataclass(frozen=True)
class ToolCallReply:
    """One assistant tool call.

    Attributes:
        name: The function name.
        arguments: A dict, serialised to a JSON string as OpenAI does, or a string
            sent verbatim (e.g. to test malformed arguments).

    Example:
        >>> ToolCallReply("get_weather", {"city": "Paris"})
        ToolCallReply(name='get_weather', arguments={'city': 'Paris'})

    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error with an OpenAI-style ``{"error": {...}}`` body.

    The response carries ``retry-after-ms: 1`` so that the ``openai`` client's retries
    (on 408/409/429/5xx) do not slow tests down.

    Attributes:
        status: The HTTP status code.
        message: The error message.

    Example:
        >>> ErrorReply(429, "rate limited")
        ErrorReply(status=429, message='rate limited')

    """

    status: int
    message: str = "injected error"


@dataclass(frozen=True)
class DelayedReply:
    """A reply sent only after ``seconds`` (e.g. to trigger client timeouts).

    Attributes:
        seconds: How long to wait before answering.
        reply: What to answer then.

    Example:
        >>> DelayedReply(0.5, "late")
        DelayedReply(seconds=0.5, reply='late')

    """

    seconds: float
    reply: Reply


Reply: TypeAlias = str | ToolCallReply | ErrorReply | DelayedReply | list[str | ToolCallReply]
"""A scripted reply.

A list makes one assistant message: its strings form the content, its tool calls the
``tool_calls``; an empty list gives a null content.
"""

Responder: TypeAlias = Callable[[dict[str, Any]], Reply]
"""Computes a reply from the request's JSON body."""


class FakeOpenAIServer:
    """An OpenAI-compatible server on ``127.0.0.1`` serving scripted replies.

    Serves ``POST /v1/chat/completions`` (non-streaming) and ``GET /v1/models``. A
    request for a model that was ever named in ``enqueue(..., model=...)`` takes the
    next reply of that model's queue, any other request the next reply of the shared
    queue. When that queue is empty, ``responder`` answers; without one the server
    answers 500 "no scripted reply left", marked not retryable so clients fail at once.

    Args:
        responder: Optional default answerer, called with the request's JSON body.
            Also settable later as the ``responder`` attribute.

    Example:
        >>> with FakeOpenAIServer(responder=lambda request: "default") as server:
        ...     server.enqueue(ToolCallReply("search", {"q": "x"}), model="expert")
        ...     server.base_url.startswith("http://127.0.0.1:")
        True

    """

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder
        self._lock = threading.Lock()
        self._shared: deque[Reply] = deque()
        self._routed: dict[str, deque[Reply]] = {}
        self._requests: list[dict[str, Any]] = []
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._httpd = _HTTPServer(self)

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:8123/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of the chat-completion request bodies received, in order."""
        with self._lock:
            return list(self._requests)

    def enqueue(self, *replies: Reply, model: str | None = None) -> None:
        """Queue replies, consumed in order.

        Args:
            *replies: The replies.
            model: Serve them only to requests for this model (from then on that
                model is served only from its own queue).

        Example:
            >>> with FakeOpenAIServer() as server:
            ...     server.enqueue("first", ErrorReply(500, "boom"), "after the retry")
            ...     server.enqueue("PASS", model="judge")

        """
        with self._lock:
            if model is None:
                self._shared.extend(replies)
            else:
                self._routed.setdefault(model, deque()).extend(replies)

    def start(self) -> FakeOpenAIServer:
        """Start serving in a daemon thread; does nothing if already started.

        Returns:
            The server itself.

        Raises:
            RuntimeError: If the server was closed.

        Example:
            >>> server = FakeOpenAIServer().start()
            >>> server.close()

        """
        with self._lock:
            if self._closing.is_set():
                raise RuntimeError("this FakeOpenAIServer was closed; create a new one")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._httpd.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="fake-openai-server",
                    daemon=True,
                )
                self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port; idempotent. Delayed replies are dropped.

        Example:
            >>> server = FakeOpenAIServer().start()
            >>> server.close()
            >>> server.close()

        """
        with self._lock:
            if self._closing.is_set():
                return
            self._closing.set()
            thread = self._thread
        # shutdown() waits for serve_forever(): it would hang on a server never started.
        if thread is not None:
            self._httpd.shutdown()
            thread.join()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the server."""
        self.close()

    def _record(self, request: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(request)

    def _pick(self, request: dict[str, Any]) -> Reply | None:
        with self._lock:
            model = request.get("model")
            queue = self._routed.get(model, self._shared)
            if queue:
                return queue.popleft()
            responder = self.responder
        # Called outside the lock so that a slow responder does not serialise requests.
        return None if responder is None else responder(request)

    def _model_ids(self) -> list[str]:
        with self._lock:
            return [_DEFAULT_MODEL, *sorted(self._routed)]


class _HTTPServer(ThreadingHTTPServer):
    # Tests fire dozens of concurrent requests; with the default backlog of 5 the
    # kernel drops connection attempts and clients stall for a SYN retransmission.
    request_queue_size = 128

    def __init__(self, fake: FakeOpenAIServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Serve ``/v1/models``."""
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(404, f"unknown path {self.path}", retryable=False)
            return
        created = int(time.time())
        models = [
            {"id": name, "object": "model", "created": created, "owned_by": "awm-gym"}
            for name in self.server.fake._model_ids()
        ]
        self._send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        """Serve ``/v1/chat/completions``."""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"unknown path {self.path}", retryable=False)
            return
        length = int(self.headers.get("Content-Length", 0))
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError as exc:
            self._send_error(400, f"the body is not JSON: {exc}", retryable=False)
            return
        if not isinstance(request, dict):
            self._send_error(400, "the body is not a JSON object", retryable=False)
            return
        self.server.fake._record(request)
        try:
            self._answer(self.server.fake._pick(request), request)
        # A bad reply or a failing responder must reach the test, not kill the thread.
        except Exception as exc:
            message = f"FakeOpenAIServer could not answer: {exc!r}"
            self._send_error(500, message, retryable=False)

    def _answer(self, reply: Reply | None, request: dict[str, Any]) -> None:
        if reply is None:
            message = "no scripted reply left: call enqueue() or set a responder"
            self._send_error(500, message, retryable=False)
        elif isinstance(reply, DelayedReply):
            if not self.server.fake._closing.wait(reply.seconds):
                self._answer(reply.reply, request)
        elif isinstance(reply, ErrorReply):
            self._send_error(reply.status, reply.message)
        elif request.get("stream"):
            self._send_events(_chunks(_completion(reply, request), request))
        else:
            self._send_json(200, _completion(reply, request))

    def _send_error(self, status: int, message: str, *, retryable: bool = True) -> None:
        error_type = "server_error" if status >= 500 else "invalid_request_error"
        error = {"message": message, "type": error_type, "param": None, "code": None}
        headers = {"retry-after-ms": "1"} if retryable else {"x-should-retry": "false"}
        self._send_json(status, {"error": error}, headers)

    def _send_events(self, events: list[dict[str, Any]]) -> None:
        data = b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events) + b"data: [DONE]\n\n"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up before the reply was ready

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. timed out) before the reply was ready


def render_prompt(messages: list[dict[str, Any]]) -> str:
    """The text the fake server's stand-in tokenizer reads for a request: its messages, then the generation prompt.

    Like a chat template with ``add_generation_prompt``, it ends with the assistant header, so a conversation's
    next prompt extends the previous prompt and completion (:func:`render_completion`) token by token.

    Example:
        >>> render_prompt([{"role": "user", "content": "Hi"}])
        '<|user|>Hi\\n<|assistant|>'
    """
    parts = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, str):
            content = json.dumps(content) if content is not None else ""
        calls = "".join(_call_text(call.get("function", {})) for call in message.get("tool_calls") or [])
        parts.append(f"<|{message.get('role', '')}|>{content}{calls}")
    return "\n".join([*parts, "<|assistant|>"])


def render_completion(message: dict[str, Any]) -> str:
    """The text a model would have generated for an assistant message: its content, then each tool call.

    Tool calls are written as ``<tool_call>{"name": ..., "arguments": ...}</tool_call>``, as Qwen-style models
    emit them before the server's tool parser turns them into ``tool_calls``.

    Example:
        >>> render_completion({"content": None, "tool_calls": [
        ...     {"function": {"name": "f", "arguments": "{}"}}]})
        '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    """
    calls = "".join(_call_text(call.get("function", {})) for call in message.get("tool_calls") or [])
    return (message.get("content") or "") + calls


def _call_text(function: dict[str, Any]) -> str:
    arguments = function.get("arguments")
    try:
        arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        pass
    return "<tool_call>" + json.dumps({"name": function.get("name"), "arguments": arguments}) + "</tool_call>"


def fake_token_ids(text: str) -> list[int]:
    """The stand-in tokenizer: one token per character, its id the code point.

    Example:
        >>> fake_token_ids("Hi")
        [72, 105]
    """
    return [ord(char) for char in text]


def fake_logprob(token_id: int, position: int) -> float:
    """The log-probability the fake server reports for a sampled token (deterministic, varied, negative).

    Example:
        >>> fake_logprob(72, 0), fake_logprob(105, 1)
        (-0.1, -0.8)
    """
    return -round(((token_id + position) % 9 + 1) / 10, 1)


def _logprobs(text: str, request: dict[str, Any]) -> dict[str, Any]:
    as_ids = bool(request.get("return_tokens_as_token_ids"))
    top = int(request.get("top_logprobs") or 0)
    content = []
    for position, (char, token_id) in enumerate(zip(text, fake_token_ids(text), strict=True)):
        token = f"token_id:{token_id}" if as_ids else char
        logprob = fake_logprob(token_id, position)
        entry = {"token": token, "logprob": logprob, "bytes": list(char.encode())}
        entry["top_logprobs"] = [{"token": token, "logprob": logprob, "bytes": entry["bytes"]}][:top]
        content.append(entry)
    return {"content": content}


def _completion(reply: str | ToolCallReply | list[str | ToolCallReply], request: dict[str, Any]) -> dict[str, Any]:
    texts, calls = [], []
    for part in reply if isinstance(reply, list) else [reply]:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, ToolCallReply):
            calls.append(_tool_call(part))
        else:
            raise TypeError(
                f"unsupported reply {part!r}: expected a str, ToolCallReply, "
                "ErrorReply, DelayedReply or a list of str and ToolCallReply"
            )
    message = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "tool_calls": calls or None,
    }
    generated = render_completion(message)
    prompt_ids = fake_token_ids(render_prompt(request.get("messages", [])))
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "finish_reason": "tool_calls" if calls else "stop",
        "logprobs": _logprobs(generated, request) if request.get("logprobs") else None,
    }
    body: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", _DEFAULT_MODEL),
        "choices": [choice],
        "usage": {
            "prompt_tokens": len(prompt_ids),
            "completion_tokens": len(generated),
            "total_tokens": len(prompt_ids) + len(generated),
        },
    }
    if request.get("return_token_ids"):  # vLLM's extension
        body["prompt_token_ids"] = prompt_ids
        choice["token_ids"] = fake_token_ids(generated)
    return body


def _chunks(completion: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
    """A completion as the chunks of a stream: the message in one delta, then the finish (and usage)."""
    head = {key: completion[key] for key in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    choice = completion["choices"][0]
    message = choice["message"]
    delta: dict[str, Any] = {"role": "assistant", "content": message["content"]}
    if message["tool_calls"]:
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
    first = {"index": 0, "delta": delta, "finish_reason": None, "logprobs": choice["logprobs"]}
    if "token_ids" in choice:
        first["token_ids"] = choice["token_ids"]
    chunks = [
        head | {"choices": [first]},
        head | {"choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"], "logprobs": None}]},
    ]
    if "prompt_token_ids" in completion:
        chunks[0]["prompt_token_ids"] = completion["prompt_token_ids"]
    if (request.get("stream_options") or {}).get("include_usage"):
        chunks.append(head | {"choices": [], "usage": completion["usage"]})
    return chunks


def _tool_call(call: ToolCallReply) -> dict[str, Any]:
    arguments = call.arguments
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }
