"""OpenEnv's protocol, driven by the real ``openenv-core`` client (``MCPToolClient``) and raw WebSocket frames."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest
from helpers import assert_gone
from openenv.core.env_server.mcp_types import CallToolAction
from openenv.core.mcp_client import MCPToolClient
from serving import SCENARIO, Running

from awm_gym.catalog import load_reference_solutions
from awm_gym.envs import AWMEnv


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def call(env: MCPToolClient, name: str, arguments: dict[str, Any]) -> Any:
    """One tool call through ``step`` (``call_tool(name, **arguments)`` cannot pass an argument called ``name``)."""
    return (await env.step(CallToolAction(tool_name=name, arguments=arguments))).observation


def appointment_status(running: Running, appointment_id: int) -> str:
    with sqlite3.connect(running.only_session().env.host.database_path) as db:
        return db.execute("SELECT status FROM appointments WHERE id = ?", (appointment_id,)).fetchone()[0]


class TestEpisode:
    def test_reset_lists_the_fastapi_mcp_tools(self, served: Running, reference_env: AWMEnv) -> None:
        """reset(scenario, task_idx) gives the task and a control key; list_tools gives the catalog unchanged."""

        async def go() -> tuple[Any, Any]:
            async with MCPToolClient(base_url=served.url) as env:
                result = await env.reset(scenario=SCENARIO, task_idx=3)
                return result, await env.list_tools()

        result, tools = run(go())
        metadata = result.observation.metadata
        assert result.done is False and result.reward is None
        assert metadata["scenario"] == SCENARIO and metadata["task_idx"] == 3
        assert metadata["task"] == reference_env.scenario.tasks[3]
        assert metadata["control_key"] and metadata["control_key"] not in metadata["prompt"]
        expected = [(t.name, t.description, dict(t.input_schema)) for t in reference_env.host.tools]
        assert [(t.name, t.description, t.input_schema) for t in tools] == expected

    def test_read_write_end_and_reward(self, served: Running, reference_env: AWMEnv) -> None:
        """The reference solution's calls change the session's database; done with the key returns the reward."""
        solution = load_reference_solutions()[(SCENARIO, 3)]
        read, *_, write = solution.calls

        async def go() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            async with MCPToolClient(base_url=served.url) as env:
                reset = await env.reset(scenario=SCENARIO, task_idx=3)
                key = reset.observation.metadata["control_key"]
                seen["read"] = (await call(env, read["name"], read["arguments"])).result
                seen["before"] = appointment_status(served, 9)
                for step in solution.calls[1:]:
                    seen["write"] = (await call(env, step["name"], step["arguments"])).result
                seen["after"] = appointment_status(served, 9)
                end = CallToolAction(tool_name="done", arguments={"control_key": key, "final_answer": "Cancelled."})
                seen["end"] = await env.step(end)
                seen["again"] = await env.step(CallToolAction(tool_name="verify", arguments={"control_key": key}))
                with pytest.raises(RuntimeError, match="The episode is over"):
                    await call(env, read["name"], read["arguments"])
                seen["state"] = await env.state()
            return seen

        seen = run(go())
        assert seen["read"] == reference_env.host.call_tool(read["name"], read["arguments"]).text
        assert (seen["before"], seen["after"]) == ("scheduled", "cancelled")
        assert json.loads(seen["write"])  # the write tool's JSON answer, as fastapi-mcp renders it
        end = seen["end"]
        assert end.done is True
        assert end.observation.metadata["reward_type"] == "complete"
        assert end.reward == 1.0
        assert seen["again"].reward == end.reward and seen["again"].done is True
        assert seen["state"].step_count == len(solution.calls) + 1

    def test_error_texts_are_fastapi_mcps(self, served: Running) -> None:
        """Unknown tools and bad arguments fail with the texts an AWM agent sees through fastapi-mcp."""

        async def go() -> list[str]:
            messages = []
            async with MCPToolClient(base_url=served.url) as env:
                await env.reset(scenario=SCENARIO, task_idx=0)
                for name, arguments in (("no_such_tool", {}), ("get_veterinarian", {"vet_id": "x"})):
                    with pytest.raises(RuntimeError) as caught:
                        await env.call_tool(name, **arguments)
                    messages.append(str(caught.value))
                pet = {"name": "Ziggy", "class": "reptile", "species": "Dragon", "date_of_birth": "yesterday"}
                messages.append((await call(env, "register_pet", pet)).error.message)
            return messages

        unknown, invalid, rejected = run(go())
        assert "Unknown tool: no_such_tool (type: tool_not_found)" in unknown
        assert "Input validation error: 'x' is not of type 'integer' (type: invalid_args)" in invalid
        assert rejected.startswith('Error calling register_pet. Status code: 422. Response: {"detail":')


class TestRewardLeak:
    @pytest.mark.parametrize("arguments", [{}, {"control_key": "guess"}, {"control_key": None}])
    def test_done_and_verify_are_unknown_tools_without_the_key(self, served: Running, arguments: dict) -> None:
        """An agent's relayed call to done/verify is an unknown tool: no reward, the episode goes on."""

        async def go() -> list[str]:
            messages = []
            async with MCPToolClient(base_url=served.url) as env:
                await env.reset(scenario=SCENARIO, task_idx=0)
                for name in ("done", "verify"):
                    result = await env.step(CallToolAction(tool_name=name, arguments=arguments))
                    assert result.done is False and not result.reward
                    messages.append(result.observation.error.message)
                assert await env.call_tool("list_my_pets")  # still running
            return messages

        assert run(go()) == ["Unknown tool: done", "Unknown tool: verify"]

    def test_control_key_changes_every_episode(self, served: Running) -> None:
        """The key of an earlier episode does not end the next one."""

        async def go() -> Any:
            async with MCPToolClient(base_url=served.url) as env:
                first = (await env.reset(scenario=SCENARIO, task_idx=0)).observation.metadata["control_key"]
                await env.reset(scenario=SCENARIO, task_idx=1)
                return await env.step(CallToolAction(tool_name="done", arguments={"control_key": first}))

        result = run(go())
        assert result.done is False and result.observation.error.message == "Unknown tool: done"


class TestMalformedMessages:
    def test_bad_frames_get_errors_and_the_session_survives(self, served: Running) -> None:
        """Invalid JSON, unknown types, bad actions and oversized frames get error replies, never a crash."""
        from websockets.asyncio.client import connect

        async def go() -> list[dict[str, Any]]:
            replies = []
            async with connect(served.url.replace("http", "ws") + "/ws", max_size=None) as ws:
                frames = [
                    "{not json",
                    json.dumps([1, 2]),
                    json.dumps({"type": "jump"}),
                    json.dumps({"type": "step", "data": {"type": "list_tools"}}),
                    json.dumps({"type": "reset", "data": {"scenario": "no_such_scenario"}}),
                    json.dumps({"type": "reset", "data": {"scenario": SCENARIO, "task_idx": "zero"}}),
                    json.dumps({"type": "reset", "data": {"scenario": SCENARIO, "task_idx": 99}}),
                    json.dumps({"type": "reset", "data": {"scenario": SCENARIO, "task_idx": 0}}),
                    json.dumps({"type": "step", "data": {"type": "call_tool", "tool_name": 5}}),
                    json.dumps({"type": "step", "data": {"type": "call_tool", "tool_name": "x", "arguments": [1]}}),
                    json.dumps({"type": "step", "data": "list_tools"}),
                    "x" * (served.config.max_request_bytes + 1),
                    json.dumps({"type": "step", "data": {"type": "list_tools"}}),
                ]
                for frame in frames:
                    await ws.send(frame)
                    replies.append(json.loads(await ws.recv()))
            return replies

        replies = run(go())
        codes = [r["data"].get("code") if r["type"] == "error" else r["type"] for r in replies]
        assert codes == [
            "INVALID_JSON",
            "VALIDATION_ERROR",
            "UNKNOWN_TYPE",
            "NO_EPISODE",
            "EXECUTION_ERROR",
            "EXECUTION_ERROR",
            "EXECUTION_ERROR",
            "observation",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "VALIDATION_ERROR",
            "MESSAGE_TOO_LARGE",
            "observation",
        ]
        assert "not served here" in replies[4]["data"]["message"]
        assert "task_idx must be" in replies[5]["data"]["message"]
        assert len(replies[-1]["data"]["observation"]["tools"]) > 0

    def test_oversized_arguments_are_refused(self, served: Running) -> None:
        """Tool arguments over the limit fail as a validation error, before reaching the scenario server."""

        async def go() -> Any:
            async with MCPToolClient(base_url=served.url) as env:
                await env.reset(scenario=SCENARIO, task_idx=0)
                return await call(env, "list_my_pets", {"name": "x" * served.config.max_argument_bytes})

        error = run(go()).error
        assert error.error_type.value == "invalid_args"
        assert error.message.startswith("Input validation error: the arguments are ")
        assert error.message.endswith(f"the limit is {served.config.max_argument_bytes} bytes")

    def test_http_reset_points_to_the_websocket(self, served: Running) -> None:
        """Plain HTTP reset/step answer 400, as OpenEnv's AWM server does."""
        import httpx

        response = httpx.post(served.url + "/reset", json={})
        assert response.status_code == 400 and "/ws" in response.json()["solution"]


class TestLifecycle:
    def test_disconnect_reaps_the_session_and_its_server(self, served: Running) -> None:
        """Closing the client closes the session's env: its scenario server process is gone."""
        pids = []

        async def go() -> None:
            async with MCPToolClient(base_url=served.url) as env:
                await env.reset(scenario=SCENARIO, task_idx=0)
                pids.append(served.only_session().env.host.server_pid)

        run(go())
        assert served.wait_sessions(0) == 0
        assert_gone(pids)

    def test_sessions_do_not_see_each_others_writes(self, served: Running) -> None:
        """Two sessions of one scenario: a write in one leaves the other's database untouched."""
        cancel = {"appointment_id": 9, "cancellation_reason": "Skin has cleared up"}
        read = {"pet_id": 2, "status": "scheduled"}

        async def go() -> tuple[str, str]:
            async with MCPToolClient(base_url=served.url) as first, MCPToolClient(base_url=served.url) as second:
                await asyncio.gather(
                    first.reset(scenario=SCENARIO, task_idx=3), second.reset(scenario=SCENARIO, task_idx=3)
                )
                assert not (await call(first, "cancel_appointment", cancel)).error
                mine = (await call(first, "list_my_appointments", read)).result
                theirs = (await call(second, "list_my_appointments", read)).result
            return mine, theirs

        mine, theirs = run(go())
        assert '"id": 9' not in mine  # cancelled: no longer scheduled in the first session
        assert '"id": 9' in theirs  # still scheduled in the second
