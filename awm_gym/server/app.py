"""The ASGI app of ``awm-gym serve``: OpenEnv's protocol, an MCP endpoint and the trainer's routes.

Routes:

============================  ===========================================================================
``GET /health``               ``{"status": "healthy", "sessions": n, "max_sessions": m}`` (no token needed)
``WS /ws``                    OpenEnv's protocol (:mod:`awm_gym.server.openenv_protocol`)
``POST /reset``, ``/step``    400: use ``/ws`` (as OpenEnv's AWM server)
``/mcp``                      MCP, streamable HTTP (:mod:`awm_gym.server.mcp_endpoint`)
``GET /sessions``             the open sessions (protocol, scenario, task, steps, idle seconds)
``POST /sessions/{id}/end``   end a session's episode: the verifier's reward and report (``{"final_answer"}``)
============================  ===========================================================================

Example:
    >>> from awm_gym.server import ServeConfig, build_app
    >>> app = build_app(ServeConfig(scenarios=["awmgym_pet_clinic"]))
    >>> type(app).__name__
    'FrontDoor'
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from awm_gym.errors import AWMGymError, MissingExtraError
from awm_gym.server.config import ServeConfig
from awm_gym.server.security import FrontDoor
from awm_gym.server.sessions import SessionManager

__all__ = ["build_app"]


def _require_extra() -> None:
    try:
        import mcp  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"serving environments needs the 'serve' extra ({exc.name} is missing): pip install awm-gym[serve]"
        ) from exc


def build_app(config: ServeConfig | None = None) -> FrontDoor:
    """Build the server's ASGI app (serve it with uvicorn or any ASGI server; ``awm-gym serve`` does).

    Args:
        config: Settings; the defaults serve every scenario found, on loopback, without a token.

    Returns:
        The app, behind the access-token and size-limit middleware. ``app.manager`` is its
        :class:`~awm_gym.server.sessions.SessionManager`.

    Raises:
        MissingExtraError: The ``serve`` extra (``mcp``) is not installed.
    """
    _require_extra()
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute

    from awm_gym.server.mcp_endpoint import McpEndpoint
    from awm_gym.server.openenv_protocol import http_not_supported, openenv_websocket

    config = config or ServeConfig()
    manager = SessionManager(config)
    mcp_endpoint = McpEndpoint(manager)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", "sessions": len(manager), "max_sessions": config.max_sessions})

    async def sessions(request: Request) -> JSONResponse:
        return JSONResponse({"sessions": [s.describe() for s in list(manager.sessions.values())]})

    async def end_episode(request: Request) -> JSONResponse:
        session = manager.sessions.get(request.path_params["session_id"])
        if session is None:
            return JSONResponse({"error": "not_found", "message": "no open session with this id"}, status_code=404)
        try:
            body = await request.json() if await request.body() else {}
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested past the parser's limit
            return JSONResponse({"error": "invalid_json", "message": f"the body is not JSON: {exc}"}, status_code=400)
        final_answer = body.get("final_answer", "") if isinstance(body, dict) else None
        if not isinstance(final_answer, str):
            return JSONResponse(
                {"error": "invalid_body", "message": 'expected {"final_answer": <string>} or no body'}, status_code=400
            )
        try:
            result = await manager.run(session, session.finish, final_answer)
        except AWMGymError as exc:
            return JSONResponse({"error": "no_episode", "message": str(exc)}, status_code=409)
        return JSONResponse({"session_id": session.id, "done": True, **result.to_json()})

    async def websocket(ws: Any) -> None:
        await openenv_websocket(ws, manager)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            async with mcp_endpoint.lifespan():
                yield
        finally:
            await manager.aclose()

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            WebSocketRoute("/ws", websocket),
            Route("/reset", http_not_supported, methods=["POST"]),
            Route("/step", http_not_supported, methods=["POST"]),
            Route("/mcp", mcp_endpoint, methods=["GET", "POST", "DELETE"]),
            Route("/sessions", sessions, methods=["GET"]),
            Route("/sessions/{session_id}/end", end_episode, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    front = FrontDoor(app, token=config.token, max_request_bytes=config.max_request_bytes)
    front.manager = manager
    return front
