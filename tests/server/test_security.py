"""Security defaults: loopback unless a token, constant-time token check, size limits, session cap, idle reaping."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from helpers import assert_gone
from openenv.core.mcp_client import MCPToolClient
from serving import SCENARIO, Running, start_server, stop_server

from awm_gym.errors import ConfigurationError
from awm_gym.server import ServeConfig
from awm_gym.server.security import FrontDoor

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def guarded() -> Iterator[Running]:
    """A server that requires the access token (and allows 2 sessions, reaped after 1 s idle)."""
    running, server, thread = start_server(
        ServeConfig(
            scenarios=[SCENARIO],
            token=TOKEN,
            max_sessions=2,
            idle_timeout=1.0,
            max_request_bytes=32 << 10,
            max_argument_bytes=4096,
        )
    )
    yield running
    stop_server(server, thread)


class TestConfig:
    def test_non_loopback_needs_a_token(self) -> None:
        """Binding beyond this machine without a token is refused, with the fix in the message."""
        with pytest.raises(ConfigurationError, match="an access token is required: pass --token"):
            ServeConfig(host="0.0.0.0")
        assert ServeConfig(host="0.0.0.0", token=TOKEN).host == "0.0.0.0"
        assert ServeConfig(host="::1").token is None

    def test_short_tokens_and_bad_limits_are_refused(self) -> None:
        """A guessable token or a non-positive limit is a configuration error."""
        with pytest.raises(ConfigurationError, match="at least 16 characters"):
            ServeConfig(token="short")
        with pytest.raises(ConfigurationError, match="max_sessions must be positive"):
            ServeConfig(max_sessions=0)


class TestToken:
    @pytest.mark.parametrize(
        ("header", "allowed"),
        [
            (None, False),
            (f"Bearer {TOKEN}", True),
            (f"bearer {TOKEN}", True),
            (f"Bearer {TOKEN}x", False),
            ("Bearer ", False),
            ("Basic " + base64.b64encode(f"awm:{TOKEN}".encode()).decode(), True),
            ("Basic " + base64.b64encode(b"awm:nope").decode(), False),
            ("Basic !!!", False),
        ],
    )
    def test_authorization_header(self, header: str | None, allowed: bool) -> None:
        """Bearer or Basic-with-the-token-as-password pass; anything else fails."""
        door = FrontDoor(None, token=TOKEN, max_request_bytes=1)
        headers = [] if header is None else [(b"authorization", header.encode())]
        assert door.authorized(headers) is allowed

    def test_http_routes_need_the_token_but_health(self, guarded: Running) -> None:
        """Every route but /health answers 401 without the token."""
        assert httpx.get(guarded.url + "/health").status_code == 200
        assert httpx.get(guarded.url + "/sessions").status_code == 401
        assert httpx.post(guarded.url + "/mcp", json={}).status_code == 401
        wrong = {"Authorization": "Bearer wrong-token-0123456789"}
        assert httpx.get(guarded.url + "/sessions", headers=wrong).status_code == 401
        ok = httpx.get(guarded.url + "/sessions", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json() == {"sessions": []}

    def test_openenv_client_with_the_token_in_the_url(self, guarded: Running) -> None:
        """openenv-core's client sends URL credentials; without them the socket is refused."""
        with_token = guarded.url.replace("http://", f"http://awm:{TOKEN}@")

        async def go() -> str:
            with pytest.raises(ConnectionError):
                await MCPToolClient(base_url=guarded.url).connect()
            async with MCPToolClient(base_url=with_token) as env:
                reset = await env.reset(scenario=SCENARIO, task_idx=0)
                return reset.observation.metadata["scenario"]

        assert asyncio.run(go()) == SCENARIO

    def test_mcp_client_with_a_bearer_header(self, guarded: Running) -> None:
        """The official MCP client reaches the endpoint with the bearer header."""
        import httpx2
        from mcp.client import Client
        from mcp.client.streamable_http import streamable_http_client

        async def go() -> int:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                transport = streamable_http_client(f"{guarded.url}/mcp?scenario={SCENARIO}&task=0", http_client=http)
                async with Client(transport) as client:
                    return len((await client.list_tools()).tools)

        assert asyncio.run(go()) > 0


class TestLimits:
    def test_oversized_request_body_is_413(self, guarded: Running) -> None:
        """A body over max_request_bytes is refused before it is parsed."""
        body = json.dumps({"jsonrpc": "2.0", "method": "ping", "id": 1, "pad": "x" * (64 << 10)})
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        response = httpx.post(guarded.url + "/mcp", content=body, headers=headers)
        assert response.status_code == 413 and "the limit is 32768 bytes" in response.json()["message"]

    def test_session_cap_and_idle_reaping(self, guarded: Running) -> None:
        """The third concurrent session gets CAPACITY_REACHED; idle sessions are reaped with their servers."""
        url = guarded.url.replace("http://", f"http://awm:{TOKEN}@")
        pids: list[int] = []

        async def go() -> str:
            first, second = MCPToolClient(base_url=url), MCPToolClient(base_url=url)
            for env in (first, second):
                await env.reset(scenario=SCENARIO, task_idx=0)
            pids.extend(s.env.host.server_pid for s in guarded.manager.sessions.values())
            third = MCPToolClient(base_url=url)
            try:
                with pytest.raises(RuntimeError) as caught:
                    await third.reset(scenario=SCENARIO, task_idx=0)
            finally:
                await third.close()
            assert guarded.wait_sessions(0) == 0  # both idle past 1 s: reaped
            with pytest.raises((RuntimeError, ConnectionError)):
                await first.list_tools(use_cache=False)
            await first.close()
            await second.close()
            return str(caught.value)

        message = asyncio.run(go())
        assert "the server is full: 2 of 2 sessions are open" in message and "CAPACITY_REACHED" in message
        assert_gone(pids)


class TestSameMachine:
    """Without a token, a loopback server takes no orders from web pages (cross-site WebSocket, DNS rebinding)."""

    @pytest.mark.parametrize(
        ("headers", "allowed"),
        [
            ([], True),
            ([(b"host", b"127.0.0.1:8000")], True),
            ([(b"host", b"localhost:8000"), (b"origin", b"http://localhost:5173")], True),
            ([(b"host", b"[::1]:8000"), (b"origin", b"http://[::1]:8000")], True),
            ([(b"host", b"rebind.evil.example:8000")], False),
            ([(b"host", b"127.0.0.1:8000"), (b"origin", b"https://evil.example")], False),
            ([(b"host", b"127.0.0.1:8000"), (b"origin", b"null")], False),
            ([(b"host", b"127.0.0.1.evil.example")], False),
        ],
    )
    def test_host_and_origin(self, headers: list[tuple[bytes, bytes]], allowed: bool) -> None:
        """Host and Origin must both name this machine when sent."""
        assert FrontDoor.same_machine(headers) is allowed

    def test_web_pages_and_rebound_names_are_refused(self) -> None:
        """A page's WebSocket (foreign Origin) and a rebound Host get 403; local clients and /health are served."""
        import websockets

        running, server, thread = start_server(ServeConfig(scenarios=[SCENARIO]))
        try:
            rebound = {"Host": "rebind.evil.example:80"}
            assert httpx.get(running.url + "/sessions", headers=rebound).status_code == 403
            mcp = httpx.post(running.url + f"/mcp?scenario={SCENARIO}&task=0", headers=rebound, json={})
            assert mcp.status_code == 403 and "access token" in mcp.json()["message"]
            assert httpx.get(running.url + "/health", headers=rebound).status_code == 200
            assert httpx.get(running.url + "/sessions").status_code == 200

            async def page() -> None:
                url = running.url.replace("http://", "ws://") + "/ws"
                async with websockets.connect(url, origin="https://evil.example") as ws:
                    await ws.send(json.dumps({"type": "reset", "data": {"scenario": SCENARIO, "task_idx": 0}}))
                    await ws.recv()

            with pytest.raises(websockets.exceptions.InvalidStatus, match="403"):
                asyncio.run(page())
            assert len(running.manager) == 0
        finally:
            stop_server(server, thread)


def test_deeply_nested_end_body_is_a_clear_error(guarded: Running) -> None:
    """A JSON body nested past the parser's recursion limit gets 400 invalid_json, not a 500."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    opened = httpx.post(f"{guarded.url}/mcp", json=initialize, headers=headers)
    session_id = opened.headers["mcp-session-id"]
    try:
        body = "[" * 5000 + "]" * 5000
        end = httpx.post(
            f"{guarded.url}/sessions/{session_id}/end",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert end.status_code == 400 and end.json()["error"] == "invalid_json", end.text
    finally:
        httpx.delete(f"{guarded.url}/mcp", headers={**headers, "mcp-session-id": session_id})
        assert guarded.wait_sessions(0) == 0
