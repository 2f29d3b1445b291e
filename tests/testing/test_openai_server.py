"""Tests of the fake OpenAI-compatible server, driven by the real ``openai`` client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from awm_gym.testing.openai_server import (
    DelayedReply,
    ErrorReply,
    FakeOpenAIServer,
    ToolCallReply,
)

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """Serve a fresh fake OpenAI server for one test."""
    with FakeOpenAIServer() as server:
        yield server


def client(server: FakeOpenAIServer, **options: Any) -> openai.OpenAI:
    """Return a real OpenAI client for the fake server."""
    return openai.OpenAI(base_url=server.base_url, api_key="EMPTY", **options)


def ask(server: FakeOpenAIServer, model: str = "agent", **options: Any) -> Any:
    """Send one chat completion request and return the completion."""
    return client(server, **options).chat.completions.create(model=model, messages=HI)


def test_text_reply_is_a_valid_chat_completion(server: FakeOpenAIServer) -> None:
    """A queued string comes back as the assistant text of a chat.completion."""
    server.enqueue("Hello!")
    completion = ask(server, model="my-model")
    assert completion.object == "chat.completion"
    assert completion.model == "my-model"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Hello!"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0


def test_tool_call_reply_serialises_arguments(server: FakeOpenAIServer) -> None:
    """A ToolCallReply becomes one function tool call with JSON-string arguments."""
    server.enqueue(ToolCallReply("get_weather", {"city": "Paris"}))
    completion = ask(server)
    [call] = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.choices[0].message.content is None
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_list_reply_makes_one_message(server: FakeOpenAIServer) -> None:
    """A list reply joins its strings into the content and keeps every tool call."""
    server.enqueue(["Let me check.", ToolCallReply("a", "{bad"), ToolCallReply("b")])
    message = ask(server).choices[0].message
    assert message.content == "Let me check."
    assert [call.function.name for call in message.tool_calls] == ["a", "b"]
    assert [call.function.arguments for call in message.tool_calls] == ["{bad", "{}"]


def test_replies_are_consumed_in_order(server: FakeOpenAIServer) -> None:
    """Queued replies are served first in, first out."""
    server.enqueue("one", "two")
    assert [ask(server).choices[0].message.content for _ in range(2)] == ["one", "two"]


def test_replies_are_routed_by_model(server: FakeOpenAIServer) -> None:
    """Replies queued for a model go only to requests for that model."""
    server.enqueue("agent says")
    server.enqueue("expert says", model="expert")
    server.enqueue("PASS", model="judge")
    assert ask(server, model="judge").choices[0].message.content == "PASS"
    assert ask(server, model="agent").choices[0].message.content == "agent says"
    assert ask(server, model="expert").choices[0].message.content == "expert says"


def test_responder_answers_when_the_queue_is_empty(server: FakeOpenAIServer) -> None:
    """The responder sees the request JSON and answers once the queue is empty."""
    server.enqueue("scripted")
    server.responder = lambda request: f"echo {request['messages'][-1]['content']}"
    assert ask(server).choices[0].message.content == "scripted"
    assert ask(server).choices[0].message.content == "echo Hi"


def test_responder_can_be_given_to_the_constructor() -> None:
    """A responder passed to the constructor may return any reply type."""
    with FakeOpenAIServer(responder=lambda request: ToolCallReply("f")) as server:
        assert ask(server).choices[0].message.tool_calls[0].function.name == "f"


def test_no_reply_left_fails_at_once(server: FakeOpenAIServer) -> None:
    """Without replies or responder the server answers a non-retried 500."""
    with pytest.raises(openai.InternalServerError, match="no scripted reply left"):
        ask(server, max_retries=3)
    assert len(server.requests) == 1


def test_failing_responder_is_reported(server: FakeOpenAIServer) -> None:
    """A responder that raises yields a 500 naming the exception."""
    server.responder = lambda request: 1 / 0
    with pytest.raises(openai.InternalServerError, match="ZeroDivisionError"):
        ask(server, max_retries=0)


def test_error_reply_has_an_openai_error_body(server: FakeOpenAIServer) -> None:
    """An ErrorReply answers its status with an OpenAI-style error body."""
    server.enqueue(ErrorReply(400, "bad tools"))
    with pytest.raises(openai.BadRequestError) as caught:
        ask(server)
    assert caught.value.status_code == 400
    assert caught.value.body["message"] == "bad tools"


def test_retryable_errors_are_retried_quickly(server: FakeOpenAIServer) -> None:
    """429 and 500 replies are retried by the client without a long backoff."""
    server.enqueue(ErrorReply(429, "slow down"), ErrorReply(500, "oops"), "finally")
    start = time.perf_counter()
    assert ask(server, max_retries=2).choices[0].message.content == "finally"
    assert time.perf_counter() - start < 1.0
    assert len(server.requests) == 3


def test_delayed_reply_arrives_late(server: FakeOpenAIServer) -> None:
    """A DelayedReply is answered only after its delay."""
    server.enqueue(DelayedReply(0.2, "late"))
    start = time.perf_counter()
    assert ask(server).choices[0].message.content == "late"
    assert time.perf_counter() - start >= 0.2


def test_streaming_sends_the_reply_as_events(server: FakeOpenAIServer) -> None:
    """A stream=true request is answered with server-sent events the openai client reassembles."""
    server.enqueue(["Checking.", ToolCallReply("search", {"q": "x"})])
    stream = client(server).chat.completions.create(
        model="m", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    delta = chunks[0].choices[0].delta
    assert delta.content == "Checking." and delta.tool_calls[0].function.name == "search"
    assert json.loads(delta.tool_calls[0].function.arguments) == {"q": "x"}
    assert chunks[1].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage.completion_tokens > 0


def test_token_ids_and_logprobs_when_asked(server: FakeOpenAIServer) -> None:
    """logprobs=true gives per-token logprobs; vLLM's return_token_ids gives prompt and completion token ids."""
    from awm_gym.testing.openai_server import fake_token_ids, render_completion, render_prompt

    server.enqueue("Hi!", "Hi!")
    plain = ask(server)
    assert plain.choices[0].logprobs is None and plain.model_extra.get("prompt_token_ids") is None
    completion = client(server).chat.completions.create(
        model="m",
        messages=HI,
        logprobs=True,
        extra_body={"return_token_ids": True, "return_tokens_as_token_ids": True},
    )
    choice = completion.choices[0]
    assert [entry.token for entry in choice.logprobs.content] == ["token_id:72", "token_id:105", "token_id:33"]
    assert all(entry.logprob < 0 for entry in choice.logprobs.content)
    assert choice.model_extra["token_ids"] == fake_token_ids(render_completion({"content": "Hi!"}))
    assert completion.model_extra["prompt_token_ids"] == fake_token_ids(render_prompt(HI))


def test_models_are_listed(server: FakeOpenAIServer) -> None:
    """GET /v1/models lists the default model and every routed model."""
    server.enqueue("x", model="judge")
    assert [model.id for model in client(server).models.list()] == [
        "fake-model",
        "judge",
    ]


def test_requests_are_recorded(server: FakeOpenAIServer) -> None:
    """Each chat request body is recorded, tools and sampling parameters included."""
    server.enqueue("ok")
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    client(server).chat.completions.create(model="m", messages=HI, tools=tools, temperature=0.3, max_tokens=7)
    [request] = server.requests
    assert request["messages"] == HI
    assert request["tools"] == tools
    assert (request["temperature"], request["max_tokens"]) == (0.3, 7)


def test_concurrent_requests_are_all_answered(server: FakeOpenAIServer) -> None:
    """Many simultaneous requests each get exactly one distinct reply."""
    count = 40
    server.enqueue(*(DelayedReply(0.05, str(i)) for i in range(count)))
    shared = client(server, max_retries=0)
    answers: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        completion = shared.chat.completions.create(model="m", messages=HI)
        with lock:
            answers.append(completion.choices[0].message.content)

    threads = [threading.Thread(target=call) for _ in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=int) == [str(i) for i in range(count)]
    assert len(server.requests) == count
    assert time.perf_counter() - start < 0.05 * count / 2


def test_close_does_not_wait_for_delayed_replies() -> None:
    """close() returns promptly even while a long DelayedReply is pending."""
    server = FakeOpenAIServer().start()
    server.enqueue(DelayedReply(30, "never"))
    errors: list[Exception] = []

    def call() -> None:
        try:
            ask(server, max_retries=0)
        except openai.APIConnectionError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.requests:
        time.sleep(0.01)
    start = time.perf_counter()
    server.close()
    caller.join(timeout=5)
    assert time.perf_counter() - start < 1
    assert len(errors) == 1


def test_close_is_idempotent_and_final() -> None:
    """Closing twice is harmless, frees the port and forbids restarting."""
    server = FakeOpenAIServer()
    base_url = server.start().base_url
    server.close()
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/models")
    with pytest.raises(RuntimeError, match="closed"):
        server.start()


def test_unknown_path_is_404(server: FakeOpenAIServer) -> None:
    """Requests outside the two served routes get a 404 error body."""
    response = httpx.post(f"{server.base_url}/embeddings", json={})
    assert response.status_code == 404
    assert "unknown path" in response.json()["error"]["message"]
