"""The MCP endpoint (``/mcp``, streamable HTTP, built on the official ``mcp`` SDK's low-level server).

One MCP session is one awm-gym session with its own env. Its tools are the scenario's, with the names,
descriptions and input schemas fastapi-mcp gives, and calls answer with fastapi-mcp's texts (a failed call is
a result with ``isError`` and the same message an AWM agent sees). The session picks its episode either

- **at start**, from the endpoint URL: ``/mcp?scenario=<name>&task=<n>`` (``seed=<s>`` draws a task when
  ``task`` is absent); its tool list is then exactly the scenario's; or
- **with the control tool** ``awm_start_episode(scenario, task_idx)``, the only tool of a session opened on a
  bare ``/mcp``. It returns the task and the tools; the tool list then becomes the scenario's (the server sends
  ``notifications/tools/list_changed``) and the control tool disappears.

The verifier is never a tool. The trainer or harness ends an episode over HTTP, outside MCP:
``POST /sessions/<mcp-session-id>/end`` (body ``{"final_answer": "..."}``) returns the reward and the
verifier's report; ``GET /sessions`` lists the open sessions. A session is reaped when the client deletes it
(the SDK's client does on exit), after the idle timeout, and at shutdown.

Only handshake-era MCP (protocol versions up to 2025-11-25) is served: a stateless 2026-era probe is
answered with an error, so the SDK's client falls back to a session, which is what holds the env.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from awm_gym.errors import AWMGymError, SessionLimitError
from awm_gym.server.sessions import Session, SessionManager

__all__ = ["START_TOOL", "McpEndpoint"]

START_TOOL = "awm_start_episode"
_SESSION_HEADER = b"mcp-session-id"
_VERSION_HEADER = b"mcp-protocol-version"


def _start_tool_schema() -> dict[str, Any]:
    return {
        "name": START_TOOL,
        "description": (
            "Start the episode of this session: choose the AWM scenario and the task. Returns the task and the "
            "scenario's tools, which then replace this one."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "scenario": {"type": "string", "title": "scenario", "description": "Scenario name"},
                "task_idx": {"type": "integer", "title": "task_idx", "description": "Task index (0-based)"},
            },
            "required": ["scenario"],
            "title": f"{START_TOOL}Arguments",
        },
    }


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    value = next((v for k, v in scope.get("headers", []) if k.lower() == name), None)
    return value.decode("latin-1") if value is not None else None


class McpEndpoint:
    """The ``/mcp`` ASGI app and its MCP server; ``lifespan()`` must run while it serves.

    Args:
        manager: The server's session manager.
    """

    def __init__(self, manager: SessionManager) -> None:
        import mcp_types as types
        from mcp.server.lowlevel import Server
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        self.manager = manager
        self._types = types
        self.server: Any = Server(
            "awm-gym",
            version=_version(),
            instructions="AWM scenario tools. Open /mcp?scenario=<name>&task=<n>, or call awm_start_episode first.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        config = manager.config
        self.session_manager = StreamableHTTPSessionManager(
            app=self.server,
            json_response=True,
            session_idle_timeout=config.idle_timeout,
            max_request_body_size=config.max_request_bytes,
            # DNS-rebinding protection stays the SDK's business only on loopback; with a token the token guards.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the SDK's session manager (its task group holds every MCP session)."""
        async with self.session_manager.run():
            yield

    # ------------------------------------------------------------------------------------------ ASGI

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Route one request to the SDK, keeping awm-gym's sessions in step with the SDK's."""
        from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

        session_id = _header(scope, _SESSION_HEADER)
        version = _header(scope, _VERSION_HEADER)
        if session_id is None and version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            message = f"awm-gym serves MCP sessions only (protocol <= 2025-11-25), not {version}"
            await _json_rpc_error(send, 400, -32601, message)
            return
        if scope.get("method") != "POST" or session_id is not None:
            await self.session_manager.handle_request(scope, receive, send)
            if scope.get("method") == "DELETE" and session_id is not None:
                await self.manager.close(session_id)
            return
        # A POST without a session id opens a session. Only an initialize request may: anything else is answered
        # here, before the SDK would create (and keep until its idle timeout) a transport for it.
        body, receive = await _buffer(receive)
        if not _is_initialize(body):
            message = "a new MCP session starts with an initialize request (send mcp-session-id for later requests)"
            await _json_rpc_error(send, 400, -32600, message)
            return
        try:  # reserve the session's slot before the SDK creates it
            reserved = self.manager.open("mcp")
        except SessionLimitError as exc:
            await _json_rpc_error(send, 503, -32000, str(exc))
            return
        created: list[str] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message.get("status", 500) < 400:
                sid = next((v for k, v in message.get("headers", []) if k.lower() == _SESSION_HEADER), None)
                if sid is not None:  # a refused request may name a session id too: only a success opens one
                    created.append(sid.decode("latin-1"))
            await send(message)

        try:
            await self.session_manager.handle_request(scope, receive, capture)
        finally:
            if self.manager.sessions.pop(reserved.id, None) is not None:
                if created:
                    reserved.id = created[0]
                    self.manager.sessions[reserved.id] = reserved
                else:
                    reserved.close("the MCP session was not created")

    # -------------------------------------------------------------------------------------- handlers

    def _session(self, ctx: Any) -> Session:
        request = ctx.request
        session_id = request.headers.get("mcp-session-id") if request is not None else None
        session = self.manager.sessions.get(session_id) if session_id else None
        if session is None:
            from mcp.shared.exceptions import MCPError

            raise MCPError(code=-32001, message="no awm-gym session for this MCP session (expired?); reconnect")
        return session

    async def _ensure_started(self, ctx: Any, session: Session) -> None:
        """Start the episode named by the endpoint URL on the session's first request."""
        if session.started or ctx.request is None:
            return
        query = ctx.request.query_params
        if "scenario" not in query and self.manager.config.default_scenario is None:
            return
        task = _int_or_none(query.get("task", query.get("task_idx")), "task")
        seed = _int_or_none(query.get("seed"), "seed")
        await self.manager.run(session, session.start, query.get("scenario"), task, seed)

    async def _list_tools(self, ctx: Any, params: Any) -> Any:
        types = self._types
        session = self._session(ctx)
        try:
            await self._ensure_started(ctx, session)
        except AWMGymError as exc:
            from mcp.shared.exceptions import MCPError

            raise MCPError(code=-32602, message=str(exc)) from exc
        schemas = session.tool_schemas() if session.started else [_start_tool_schema()]
        return types.ListToolsResult(
            tools=[
                types.Tool(name=s["name"], description=s["description"], input_schema=s["input_schema"])
                for s in schemas
            ]
        )

    async def _call_tool(self, ctx: Any, params: Any) -> Any:
        session = self._session(ctx)
        name, arguments = params.name, params.arguments
        try:
            await self._ensure_started(ctx, session)
            if not session.started:
                if name != START_TOOL:
                    return self._text(f"Unknown tool: {name}", error=True)
                return await self._start(ctx, session, arguments or {})
            outcome = await self.manager.run(session, session.call, name, arguments)
        except AWMGymError as exc:
            return self._text(f"Error calling {name}: {exc}", error=True)
        return self._text(outcome.text, error=outcome.error is not None)

    async def _start(self, ctx: Any, session: Session, arguments: dict[str, Any]) -> Any:
        scenario, task_idx = arguments.get("scenario"), arguments.get("task_idx")
        if not isinstance(scenario, str) or (task_idx is not None and not isinstance(task_idx, int)):
            return self._text(
                "Input validation error: expected {'scenario': <string>, 'task_idx': <integer>}", error=True
            )
        observation = await self.manager.run(session, session.start, scenario, task_idx, None)
        with contextlib.suppress(Exception):  # a client without a notification channel still sees the new list
            await ctx.session.send_tool_list_changed()
        return self._text(observation, error=False)

    def _text(self, text: str, *, error: bool) -> Any:
        types = self._types
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


async def _buffer(receive: Any) -> tuple[bytes, Any]:
    """Read a request body (the front door already bounds its size) and a ``receive`` that replays it."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("method") == "initialize"


def _int_or_none(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        from awm_gym.errors import ConfigurationError

        raise ConfigurationError(f"the URL's {name} must be an integer, got {value!r}") from None


async def _json_rpc_error(send: Any, status: int, code: int, message: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _version() -> str:
    from awm_gym import __version__

    return __version__
