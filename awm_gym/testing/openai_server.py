"""A small OpenAI-compatible HTTP server for tests.

``FakeOpenAIServer`` speaks real HTTP on loopback, so the real ``openai`` client (and
everything built on it) can be tested without mocks. Replies are scripted with
``enqueue`` or computed by a ``responder``; one server can play several models at once
(e.g. the agent, the expert and the judge) by routing replies on the request's
``model``.

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
        if request.get("stream"):
            message = "FakeOpenAIServer does not support stream=true"
            self._send_error(400, message, retryable=False)
            return
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
        else:
            self._send_json(200, _completion(reply, request))

    def _send_error(self, status: int, message: str, *, retryable: bool = True) -> None:
        error_type = "server_error" if status >= 500 else "invalid_request_error"
        error = {"message": message, "type": error_type, "param": None, "code": None}
        headers = {"retry-after-ms": "1"} if retryable else {"x-should-retry": "false"}
        self._send_json(status, {"error": error}, headers)

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
    # A rough 4-characters-per-token estimate: tests only need plausible usage.
    prompt_tokens = len(json.dumps(request.get("messages", []))) // 4
    completion_tokens = len(json.dumps(message)) // 4
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", _DEFAULT_MODEL),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _tool_call(call: ToolCallReply) -> dict[str, Any]:
    arguments = call.arguments
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }
