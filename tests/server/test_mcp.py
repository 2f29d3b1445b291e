"""The MCP endpoint, driven by the official ``mcp`` SDK's client over streamable HTTP."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from helpers import assert_gone
from mcp.client import Client
from serving import SCENARIO, Running

from awm_gym.catalog import load_reference_solutions
from awm_gym.envs import AWMEnv
from awm_gym.server.mcp_endpoint import START_TOOL


def text(result: Any) -> str:
    (content,) = result.content
    return content.text


class TestScenarioFromTheURL:
    def test_tools_calls_errors_and_the_end(self, served: Running, reference_env: AWMEnv) -> None:
        """Tools as fastapi-mcp gives them; a read, a write that changes the DB, error texts; the harness ends it."""
        solution = load_reference_solutions()[(SCENARIO, 3)]
        read = solution.calls[0]

        async def go() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            async with Client(f"{served.url}/mcp?scenario={SCENARIO}&task=3") as client:
                seen["tools"] = (await client.list_tools()).tools
                seen["read"] = await client.call_tool(read["name"], read["arguments"])
                session = served.only_session()
                database = session.env.host.database_path
                for call in solution.calls[1:]:
                    seen["write"] = await client.call_tool(call["name"], call["arguments"])
                with sqlite3.connect(database) as db:
                    seen["status"] = db.execute("SELECT status FROM appointments WHERE id = 9").fetchone()[0]
                seen["unknown"] = await client.call_tool("verify", {})
                seen["invalid"] = await client.call_tool("get_veterinarian", {"vet_id": "x"})
                async with httpx.AsyncClient(base_url=served.url) as http:
                    listed = (await http.get("/sessions")).json()["sessions"]
                    seen["listed"] = listed
                    seen["end"] = (
                        await http.post(f"/sessions/{session.id}/end", json={"final_answer": "Done."})
                    ).json()
                seen["after"] = await client.call_tool(read["name"], read["arguments"])
            return seen

        seen = asyncio.run(go())
        expected = [(t.name, t.description, dict(t.input_schema)) for t in reference_env.host.tools]
        assert [(t.name, t.description, t.input_schema) for t in seen["tools"]] == expected
        assert not seen["read"].is_error
        assert text(seen["read"]) == reference_env.host.call_tool(read["name"], read["arguments"]).text
        assert not seen["write"].is_error and seen["status"] == "cancelled"
        assert seen["unknown"].is_error and text(seen["unknown"]) == "Unknown tool: verify"
        assert seen["invalid"].is_error
        assert text(seen["invalid"]) == "Input validation error: 'x' is not of type 'integer'"
        assert [(s["protocol"], s["scenario"], s["task_idx"]) for s in seen["listed"]] == [("mcp", SCENARIO, 3)]
        assert seen["end"]["done"] is True and seen["end"]["label"] == "complete" and seen["end"]["reward"] == 1.0
        assert seen["after"].is_error and text(seen["after"]).startswith("The episode is over")

    def test_closing_the_client_reaps_the_session(self, served: Running) -> None:
        """The SDK client deletes its session on exit; the env's server process goes with it."""
        pids = []

        async def go() -> None:
            async with Client(f"{served.url}/mcp?scenario={SCENARIO}&task=0") as client:
                await client.list_tools()
                pids.append(served.only_session().env.host.server_pid)

        asyncio.run(go())
        assert served.wait_sessions(0) == 0
        assert_gone(pids)


class TestControlTool:
    def test_start_episode_then_scenario_tools(self, served: Running, reference_env: AWMEnv) -> None:
        """A bare /mcp session lists only the control tool; after it, exactly the scenario's tools."""

        async def go() -> tuple[list[str], Any, Any, list[str], Any]:
            async with Client(f"{served.url}/mcp") as client:
                before = [t.name for t in (await client.list_tools()).tools]
                refused = await client.call_tool("list_my_pets", {})
                started = await client.call_tool(START_TOOL, {"scenario": SCENARIO, "task_idx": 1})
                after = [t.name for t in (await client.list_tools()).tools]
                again = await client.call_tool(START_TOOL, {"scenario": SCENARIO, "task_idx": 2})
                return before, refused, started, after, again

        before, refused, started, after, again = asyncio.run(go())
        assert before == [START_TOOL]
        assert refused.is_error and text(refused) == "Unknown tool: list_my_pets"
        assert not started.is_error and reference_env.scenario.tasks[1] in text(started)
        assert after == [t.name for t in reference_env.host.tools]
        assert again.is_error and text(again) == f"Unknown tool: {START_TOOL}"

    def test_unknown_scenario_is_a_clear_error(self, served: Running) -> None:
        """Choosing a scenario the server does not serve says which ones it serves."""

        async def go() -> Any:
            async with Client(f"{served.url}/mcp") as client:
                return await client.call_tool(START_TOOL, {"scenario": "awmgym_pet_clinc"})

        result = asyncio.run(go())
        assert (
            result.is_error and "not served here" in text(result) and "Did you mean 'awmgym_pet_clinic'" in text(result)
        )


class TestMalformed:
    @pytest.mark.parametrize(
        "body",
        ["{not json", "[]", '{"jsonrpc": "2.0", "id": 1}', '{"jsonrpc": "2.0", "method": 5, "id": 1}'],
    )
    def test_bad_requests_get_errors_and_the_server_keeps_serving(self, served: Running, body: str) -> None:
        """Garbage on /mcp gets a 4xx answer, leaves no session behind, and other sessions go on."""
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        response = httpx.post(served.url + "/mcp", content=body, headers=headers)
        assert 400 <= response.status_code < 500
        assert served.wait_sessions(0) == 0

        async def go() -> bool:
            async with Client(f"{served.url}/mcp?scenario={SCENARIO}&task=0") as client:
                return (await client.call_tool("list_my_pets", {})).is_error

        assert asyncio.run(go()) is False

    def test_unknown_mcp_session_is_404(self, served: Running) -> None:
        """A request for a session that does not exist (or was reaped) is refused, not served by another."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "mcp-session-id": "0" * 32,
            "mcp-protocol-version": "2025-06-18",
        }
        body = {"jsonrpc": "2.0", "method": "tools/list", "id": 1}
        response = httpx.post(served.url + "/mcp", json=body, headers=headers)
        assert response.status_code == 404 and response.json()["error"]["message"] == "Session not found"
