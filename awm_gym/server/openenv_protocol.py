"""OpenEnv's environment protocol on ``/ws``: what ``openenv-core``'s ``MCPToolClient`` speaks, unchanged.

One WebSocket is one session with its own env. Messages (JSON text), as in ``openenv.core.env_server``:

- ``{"type": "reset", "data": {"scenario": ..., "task_idx": ..., "seed": ...}}`` starts an episode. The
  observation carries ``scenario``, ``task``, ``task_idx``, ``num_tools``, ``prompt`` (the env's reset
  observation) and ``reward_type: "reset_ok"``; its ``metadata`` repeats them and adds ``control_key``, the
  episode's key for ending it (below).
- ``{"type": "step", "data": {"type": "list_tools"}}`` lists the scenario's tools (fastapi-mcp's names,
  descriptions and input schemas).
- ``{"type": "step", "data": {"type": "call_tool", "tool_name": ..., "arguments": {...}}}`` calls one; the
  observation has ``tool_name``, ``result`` (the text the agent sees) and ``error``
  (``{"error_type", "message"}`` with fastapi-mcp's message, or ``null``). ``reward`` is 0 until the end.
- ``call_tool`` of ``done`` or ``verify`` **with** ``arguments.control_key`` equal to the episode's key ends the
  episode, runs the verifier once and returns ``reward``, ``done: true``, ``reward_type`` (the verifier's
  label) and ``verify_result``; both names are idempotent after the end. Without the key they are unknown
  tools, exactly like any name outside the scenario: an agent whose calls a trainer relays cannot reach the
  verifier (the reward leak OpenEnv's review of its own AWM env flagged).
- ``{"type": "state"}`` returns ``episode_id``, ``step_count``, ``scenario``, ``task_idx``, ``done``;
  ``{"type": "close"}`` ends the session.

Errors come back as ``{"type": "error", "data": {"message", "code"}}`` (``openenv-core`` raises them as
``RuntimeError``) and never end the session, except ``CAPACITY_REACHED`` when the server is full. Over plain
HTTP, ``POST /reset`` and ``POST /step`` answer 400 pointing to ``/ws``, as OpenEnv's AWM server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from awm_gym.errors import AWMGymError, SessionLimitError
from awm_gym.server.sessions import CallOutcome, EpisodeResult, Session, SessionManager

__all__ = ["CONTROL_TOOLS", "http_not_supported", "openenv_websocket"]

CONTROL_TOOLS = ("done", "verify")

# awm-gym error kinds -> openenv's ToolErrorType values
_ERROR_TYPES = {
    "unknown_tool": "tool_not_found",
    "invalid_arguments": "invalid_args",
    "too_large": "invalid_args",
    "malformed_call": "invalid_args",
    "timeout": "timeout",
    "server_crash": "transport_error",
}


def _error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message, "code": code, **extra}}


def _observation(observation: dict[str, Any], *, reward: float | None = None, done: bool = False) -> dict[str, Any]:
    return {"type": "observation", "data": {"observation": observation, "reward": reward, "done": done}}


def _end_observation(session: Session, result: EpisodeResult) -> dict[str, Any]:
    fields = {
        "reward_type": result.label,
        "scenario": session.scenario,
        "task_idx": session.task_idx,
        "steps_taken": result.steps,
        "verify_result": result.verifier,
    }
    metadata = {**fields, "truncated": result.truncated}
    return _observation({**fields, "metadata": metadata}, reward=result.reward, done=True)


def _call_observation(name: str, outcome: CallOutcome) -> dict[str, Any]:
    error = None
    if outcome.error is not None:
        error = {"error_type": _ERROR_TYPES.get(outcome.error, "execution_error"), "message": outcome.text}
    observation = {
        "tool_name": name,
        "result": None if error else outcome.text,
        "error": error,
        "reward_type": "tool_call_ok" if error is None else outcome.error,
    }
    if outcome.ended is not None:
        observation["metadata"] = {"verify_result": outcome.ended.verifier, "reward_type": outcome.ended.label}
        return _observation(observation, reward=outcome.ended.reward, done=True)
    return _observation(observation, reward=0.0)


async def _reset(manager: SessionManager, session: Session, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return _error(f"reset data must be an object, got {type(data).__name__}", "VALIDATION_ERROR")
    task_idx = data.get("task_idx")
    prompt = await manager.run(session, session.start, data.get("scenario"), task_idx, data.get("seed"))
    fields = {
        "reward_type": "reset_ok",
        "scenario": session.scenario,
        "task": session.env.task if session.env is not None else None,
        "task_idx": session.task_idx,
        "num_tools": len(session.tool_schemas()),
    }
    metadata = {**fields, "prompt": prompt, "episode_id": session.episode_id, "control_key": session.control_key}
    return _observation({**fields, "metadata": metadata})


async def _step(manager: SessionManager, session: Session, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return _error(f"step data must be an action object, got {type(data).__name__}", "VALIDATION_ERROR")
    kind = data.get("type")
    if kind == "list_tools":
        if not session.started:
            return _error("no episode: send reset (with scenario and task_idx) before listing tools", "NO_EPISODE")
        return _observation({"tools": session.tool_schemas()})
    if kind != "call_tool":
        return _error(
            f"unknown action type {kind!r}: expected 'list_tools' or 'call_tool' (ListToolsAction, CallToolAction)",
            "VALIDATION_ERROR",
        )
    name, arguments = data.get("tool_name"), data.get("arguments", {})
    if not isinstance(name, str) or not name:
        return _error("call_tool needs a non-empty string 'tool_name'", "VALIDATION_ERROR")
    if arguments is not None and not isinstance(arguments, dict):
        return _error(f"call_tool 'arguments' must be an object, got {type(arguments).__name__}", "VALIDATION_ERROR")
    arguments = arguments or {}
    if name in CONTROL_TOOLS and session.started and session.check_control_key(arguments.get("control_key")):
        result = await manager.run(session, session.finish, str(arguments.get("final_answer") or ""))
        return _end_observation(session, result)
    outcome = await manager.run(session, session.call, name, arguments)
    if outcome.error in ("no_episode", "episode_over"):
        return _error(outcome.text, outcome.error.upper())
    return _call_observation(name, outcome)


async def _handle(manager: SessionManager, session: Session, raw: str) -> dict[str, Any] | None:
    if len(raw.encode()) > manager.config.max_request_bytes:
        return _error(
            f"the message is {len(raw.encode())} bytes; the limit is {manager.config.max_request_bytes} bytes",
            "MESSAGE_TOO_LARGE",
        )
    try:
        message = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        return _error(f"Invalid JSON: {exc}", "INVALID_JSON")
    if not isinstance(message, dict):
        return _error("a message must be a JSON object with a 'type'", "VALIDATION_ERROR")
    kind = message.get("type")
    try:
        if kind == "reset":
            return await _reset(manager, session, message.get("data", {}))
        if kind == "step":
            return await _step(manager, session, message.get("data"))
        if kind == "state":
            return {"type": "state", "data": session.describe()}
        if kind == "close":
            return None
        return _error(f"Unknown message type: {kind!r} (expected reset, step, state or close)", "UNKNOWN_TYPE")
    except AWMGymError as exc:
        return _error(str(exc), "EXECUTION_ERROR")


async def openenv_websocket(websocket: Any, manager: SessionManager) -> None:
    """Serve one OpenEnv WebSocket session until the client closes it, disconnects or idles out."""
    from starlette.websockets import WebSocketDisconnect

    await websocket.accept()
    try:
        session = manager.open("openenv")
    except SessionLimitError as exc:
        # Answer the client's first message (its reset), so its client raises the error instead of a closed socket.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.receive(), timeout=10)
        reply = _error(
            str(exc), "CAPACITY_REACHED", active_sessions=len(manager), max_sessions=manager.config.max_sessions
        )
        with contextlib.suppress(Exception):
            await websocket.send_text(json.dumps(reply))
            await websocket.close(code=1013)
        return
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
            if session.closed_reason is not None:
                await websocket.send_text(
                    json.dumps(_error(f"the session was closed ({session.closed_reason}); reconnect", "SESSION_ERROR"))
                )
                break
            reply = await _handle(manager, session, raw)
            if reply is None:
                break
            await websocket.send_text(json.dumps(reply, ensure_ascii=False, default=str))
    except WebSocketDisconnect:
        pass
    finally:
        await manager.close(session.id)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # already closed by the client
            await websocket.close()


async def http_not_supported(request: Any) -> Any:
    """``POST /reset`` and ``POST /step`` over plain HTTP: 400, pointing to the WebSocket (as OpenEnv's AWM server)."""
    from starlette.responses import JSONResponse

    return JSONResponse(
        {
            "error": "HTTP mode not supported for AWM environments",
            "reason": "each session owns a running scenario server and database that must persist across steps",
            "solution": "use the WebSocket endpoint /ws (openenv-core's clients do), or MCP at /mcp",
        },
        status_code=400,
    )
