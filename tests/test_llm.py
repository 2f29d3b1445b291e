"""Tests of the OpenAI-compatible endpoint helpers and policy, over real HTTP."""

from __future__ import annotations

import copy
import json
import pickle
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from awm_gym.errors import ConfigurationError, LLMError
from awm_gym.llm import ChatReply, LLMEndpoint, OpenAIPolicy, chat
from awm_gym.testing.openai_server import (
    DelayedReply,
    ErrorReply,
    FakeOpenAIServer,
    ToolCallReply,
)

HI = [{"role": "user", "content": "Hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
            },
        },
    }
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """Serve a fresh fake OpenAI server for one test."""
    with FakeOpenAIServer() as server:
        yield server


def endpoint(server: FakeOpenAIServer, **options: Any) -> LLMEndpoint:
    """Return an endpoint for model "agent" on the fake server."""
    return LLMEndpoint(base_url=server.base_url, model="agent", **options)


def policy(server: FakeOpenAIServer, **options: Any) -> OpenAIPolicy:
    """Return a policy for model "agent" on the fake server."""
    return OpenAIPolicy(base_url=server.base_url, model="agent", **options)


# LLMEndpoint


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1"),
        ("https://res.openai.azure.com/", "https://res.openai.azure.com/openai/v1"),
        (
            "https://res.cognitiveservices.azure.com",
            "https://res.cognitiveservices.azure.com/openai/v1",
        ),
        (
            "https://res.openai.azure.com/openai/v1/",
            "https://res.openai.azure.com/openai/v1",
        ),
        ("http://localhost:8000/v1", "http://localhost:8000/v1"),
        ("https://azure.example.com/v1", "https://azure.example.com/v1"),
    ],
)
def test_azure_hosts_get_the_openai_v1_path(base_url: str, expected: str) -> None:
    """Azure hosts get /openai/v1 appended when missing; other URLs are kept."""
    assert LLMEndpoint(base_url=base_url, model="m").base_url == expected
    assert str(LLMEndpoint(base_url=base_url, model="m").client().base_url) == expected + "/"


def test_client_is_cached_and_configured() -> None:
    """client() builds one client per endpoint with its key, timeout and retries."""
    llm = LLMEndpoint(base_url="http://localhost:1/v1", model="m", api_key="key", timeout=5, max_retries=7)
    client = llm.client()
    assert client is llm.client()
    assert (client.api_key, client.timeout, client.max_retries) == ("key", 5, 7)


def test_endpoint_copies_and_pickles_without_the_client() -> None:
    """Copies and pickles of an endpoint are equal to it and build their own client."""
    llm = LLMEndpoint(base_url="http://localhost:1/v1", model="m")
    llm.client()
    for clone in (copy.deepcopy(llm), pickle.loads(pickle.dumps(llm))):
        assert clone == llm
        assert clone.client() is not llm.client()


def test_from_env_reads_the_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """from_env reads <PREFIX>_BASE_URL, _MODEL and _API_KEY."""
    monkeypatch.setenv("JUDGE_BASE_URL", "http://judge:8000/v1")
    monkeypatch.setenv("JUDGE_MODEL", "gpt-4.1")
    monkeypatch.setenv("JUDGE_API_KEY", "secret")
    assert LLMEndpoint.from_env("JUDGE") == LLMEndpoint(
        base_url="http://judge:8000/v1", model="gpt-4.1", api_key="secret"
    )


def test_from_env_api_key_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without <PREFIX>_API_KEY the key defaults to EMPTY."""
    monkeypatch.setenv("JUDGE_BASE_URL", "http://judge:8000/v1")
    monkeypatch.setenv("JUDGE_MODEL", "gpt-4.1")
    monkeypatch.delenv("JUDGE_API_KEY", raising=False)
    assert LLMEndpoint.from_env("JUDGE").api_key == "EMPTY"


def test_from_env_names_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """from_env raises ConfigurationError naming every missing variable."""
    monkeypatch.delenv("EXPERT_BASE_URL", raising=False)
    monkeypatch.setenv("EXPERT_MODEL", "")
    with pytest.raises(ConfigurationError, match="EXPERT_BASE_URL, EXPERT_MODEL"):
        LLMEndpoint.from_env("EXPERT")


def test_from_env_arguments_win_over_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value passed to from_env is used instead of its variable; the others still come from the environment."""
    monkeypatch.setenv("AWM_JUDGE_BASE_URL", "http://env:8000/v1")
    monkeypatch.setenv("AWM_JUDGE_MODEL", "env-model")
    monkeypatch.delenv("AWM_JUDGE_API_KEY", raising=False)
    endpoint = LLMEndpoint.from_env("AWM_JUDGE", model="arg-model", api_key="k")
    assert endpoint == LLMEndpoint(base_url="http://env:8000/v1", model="arg-model", api_key="k")


@pytest.mark.parametrize(
    "make",
    [
        lambda: LLMEndpoint("http://localhost:8000/v1", "m"),  # type: ignore[misc]
        lambda: OpenAIPolicy("http://localhost:8000/v1", "m"),  # type: ignore[misc]
        lambda: __import__("awm_gym.wrappers", fromlist=["OpenAIExpert"]).OpenAIExpert("http://localhost:8000/v1", "m"),
    ],
    ids=["LLMEndpoint", "OpenAIPolicy", "OpenAIExpert"],
)
def test_endpoint_arguments_are_keyword_only(make) -> None:
    """base_url and model are keyword-only everywhere, so they can never be swapped by position."""
    with pytest.raises(TypeError, match="positional"):
        make()


# chat


def test_chat_returns_the_text(server: FakeOpenAIServer) -> None:
    """A chat call returns the reply text, no tool calls and the latency."""
    server.enqueue("Hello!")
    reply = chat(endpoint(server), HI)
    assert (reply.content, reply.tool_calls) == ("Hello!", [])
    assert reply.latency_s > 0


def test_chat_parses_tool_call_arguments(server: FakeOpenAIServer) -> None:
    """Tool-call arguments are parsed when they are a JSON object, else kept raw."""
    server.enqueue(
        [
            ToolCallReply("a", {"x": 1}),
            ToolCallReply("b", "{oops"),
            ToolCallReply("c", "[1]"),
        ]
    )
    reply = chat(endpoint(server), HI, tools=TOOLS)
    assert reply.content is None
    assert [(call["name"], call["arguments"]) for call in reply.tool_calls] == [
        ("a", {"x": 1}),
        ("b", "{oops"),
        ("c", "[1]"),
    ]
    assert all(call["id"].startswith("call_") for call in reply.tool_calls)


def test_chat_sends_tools_and_sampling(server: FakeOpenAIServer) -> None:
    """A chat call sends tools and sampling arguments, omitting those set to None."""
    server.enqueue("ok", "ok")
    chat(endpoint(server), HI, tools=TOOLS, temperature=0.2, top_p=None, seed=3)
    chat(endpoint(server), HI, tools=[])
    first, second = server.requests
    assert first["model"] == "agent"
    assert first["tools"] == TOOLS
    assert (first["temperature"], first["seed"]) == (0.2, 3)
    assert "top_p" not in first
    assert "tools" not in second


def test_chat_retries_transient_errors(server: FakeOpenAIServer) -> None:
    """500 and 429 answers are retried until a reply succeeds."""
    server.enqueue(ErrorReply(500, "overloaded"), ErrorReply(429, "slow down"), "done")
    assert chat(endpoint(server, max_retries=2), HI).content == "done"
    assert len(server.requests) == 3


def test_chat_raises_llm_error_after_the_last_retry(server: FakeOpenAIServer) -> None:
    """When every attempt fails, LLMError names URL, model and cause, chained."""
    server.enqueue(*[ErrorReply(503, "down for maintenance")] * 3)
    with pytest.raises(LLMError) as caught:
        chat(endpoint(server, max_retries=2), HI)
    message = str(caught.value)
    assert server.base_url in message and "'agent'" in message
    assert "down for maintenance" in message
    assert isinstance(caught.value.__cause__, openai.InternalServerError)
    assert len(server.requests) == 3


def test_chat_does_not_retry_client_errors(server: FakeOpenAIServer) -> None:
    """A 400 answer raises LLMError at once."""
    server.enqueue(ErrorReply(400, "unknown tool schema"), "unused")
    with pytest.raises(LLMError, match="unknown tool schema"):
        chat(endpoint(server), HI)
    assert len(server.requests) == 1


def test_chat_times_out(server: FakeOpenAIServer) -> None:
    """A reply slower than the timeout raises LLMError caused by a timeout."""
    server.enqueue(DelayedReply(5, "too late"))
    start = time.perf_counter()
    with pytest.raises(LLMError, match="APITimeoutError") as caught:
        chat(endpoint(server, timeout=0.2, max_retries=0), HI)
    assert time.perf_counter() - start < 2
    assert isinstance(caught.value.__cause__, openai.APITimeoutError)


def test_chat_reports_an_unreachable_server() -> None:
    """A closed port raises LLMError caused by a connection error."""
    with FakeOpenAIServer() as server:
        base_url = server.base_url
    with pytest.raises(LLMError, match="APIConnectionError"):
        chat(LLMEndpoint(base_url=base_url, model="agent", max_retries=0), HI)


# OpenAIPolicy


def test_policy_returns_the_reply_text(server: FakeOpenAIServer) -> None:
    """A string observation follows the system prompt and the reply text is returned."""
    server.enqueue("<tool_call>{}</tool_call>")
    action = policy(server, system_prompt="Be brief.")("Book a flight.")
    assert action == "<tool_call>{}</tool_call>"
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Book a flight."},
    ]


def test_policy_sends_message_lists_as_is(server: FakeOpenAIServer) -> None:
    """A list observation is sent unchanged, without the system prompt."""
    server.enqueue("ok")
    messages = [{"role": "system", "content": "S"}, *HI]
    policy(server, system_prompt="ignored")(messages)
    assert server.requests[0]["messages"] == messages


def test_policy_renders_the_first_tool_call(server: FakeOpenAIServer) -> None:
    """With tool calls, the action is the first call as name/arguments JSON."""
    server.enqueue(
        [
            "thinking",
            ToolCallReply("get_weather", {"city": "Paris"}),
            ToolCallReply("x"),
        ]
    )
    action = policy(server)("Weather?", tools=TOOLS)
    assert json.loads(action) == {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert server.requests[0]["tools"] == TOOLS


def test_policy_returns_empty_string_for_null_content(server: FakeOpenAIServer) -> None:
    """A reply with null content and no tool calls gives the empty action."""
    server.enqueue([])
    assert policy(server)("Hi") == ""


def test_policy_without_native_tools_sends_none(server: FakeOpenAIServer) -> None:
    """With use_native_tools=False the tools are not sent."""
    server.enqueue("ok")
    policy(server, use_native_tools=False)("Hi", tools=TOOLS)
    assert "tools" not in server.requests[0]


def test_policy_sends_its_sampling_parameters(server: FakeOpenAIServer) -> None:
    """The policy's temperature, max_tokens, top_p and extra_body reach the request."""
    server.enqueue("ok", "ok")
    extra = {"top_k": 20}
    policy(server, temperature=0.6, max_tokens=99, top_p=0.9, extra_body=extra)("Hi")
    policy(server)("Hi")
    tuned, default = server.requests
    sent = {k: tuned[k] for k in ("temperature", "max_tokens", "top_p", "top_k")}
    assert sent == {"temperature": 0.6, "max_tokens": 99, "top_p": 0.9, "top_k": 20}
    assert (default["temperature"], default["max_tokens"]) == (1.0, 2048)
    assert "top_p" not in default


def test_policy_raises_llm_error(server: FakeOpenAIServer) -> None:
    """A failing endpoint surfaces as LLMError from the policy."""
    server.enqueue(ErrorReply(500, "boom"), ErrorReply(500, "boom"))
    with pytest.raises(LLMError, match="boom"):
        policy(server, max_retries=1)("Hi")


def test_batch_preserves_order_and_runs_concurrently(server: FakeOpenAIServer) -> None:
    """A batch is answered concurrently and its actions keep observation order."""
    count = 16

    def respond(request: dict[str, Any]) -> DelayedReply:
        index = int(request["messages"][-1]["content"])
        # Later observations answer sooner, so completion order is reversed.
        return DelayedReply(0.02 * (count - index), f"action {index}")

    server.responder = respond
    start = time.perf_counter()
    actions = policy(server).batch([str(i) for i in range(count)])
    assert actions == [f"action {i}" for i in range(count)]
    assert time.perf_counter() - start < sum(0.02 * i for i in range(1, count + 1)) / 2


def test_batch_passes_tools_to_every_call(server: FakeOpenAIServer) -> None:
    """A batch sends the shared tools with each observation."""
    server.responder = lambda request: ToolCallReply("get_weather", {})
    actions = policy(server).batch(["a", "b"], tools=TOOLS)
    assert [json.loads(action)["name"] for action in actions] == ["get_weather"] * 2
    assert all(request["tools"] == TOOLS for request in server.requests)


def test_batch_of_nothing_is_empty(server: FakeOpenAIServer) -> None:
    """A batch of no observations returns an empty list without any request."""
    assert policy(server).batch([]) == []
    assert server.requests == []


def test_chat_reply_is_a_frozen_record() -> None:
    """ChatReply is immutable."""
    reply = ChatReply("hi", [], 0.1)
    with pytest.raises(AttributeError):
        reply.content = "changed"  # type: ignore[misc]
