"""The server's front door: access token and request-size limits, as one ASGI middleware.

- **Access token.** With a token configured, every HTTP request and WebSocket handshake but ``GET /health``
  must carry ``Authorization: Bearer <token>``, or HTTP Basic credentials whose password is the token (what
  clients send for a URL such as ``ws://awm:<token>@host:8000``, e.g. OpenEnv's, whose WebSocket client sets
  no headers). The comparison takes constant time (:func:`hmac.compare_digest`).
- **Same machine only, without a token.** A loopback server without a token would otherwise take orders from any
  web page the user opens: browsers let pages open WebSockets to ``127.0.0.1`` and, through DNS rebinding,
  send requests to it under a name of the attacker's. So without a token, a request whose ``Host`` is not a
  loopback name, or that carries an ``Origin`` (browsers send one; awm-gym's and OpenEnv's clients do not)
  that is not a loopback origin, is refused with 403 (WebSocket close 1008).
- **Size limits.** An HTTP request body larger than ``max_request_bytes`` is refused with 413 before it is
  read in full (``Content-Length`` first, then the bytes as they arrive). WebSocket messages are checked by
  the OpenEnv endpoint itself, which answers an oversized message with an error and keeps the socket.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

from awm_gym.server.config import is_loopback

__all__ = ["FrontDoor"]

_Scope = dict[str, Any]


async def _send_json(send: Any, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def _names_this_machine(value: bytes) -> bool:
    """Whether a ``Host`` (``name[:port]``) or ``Origin`` (``scheme://name[:port]``) value names a loopback host."""
    text = value.decode("latin-1").strip().lower().partition("://")
    authority = (text[2] if text[1] else text[0]).split("/", 1)[0]
    if authority.startswith("["):
        host = authority[1 : authority.find("]")]
    else:
        host = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
    return is_loopback(host)


class FrontDoor:
    """ASGI middleware enforcing the access token and the request body limit.

    Args:
        app: The ASGI app behind it.
        token: The access token (``None``: no token required).
        max_request_bytes: Largest request body accepted.
    """

    manager: Any = None  # the app's SessionManager, set by build_app for callers (tests, benchmarks)

    def __init__(self, app: Any, *, token: str | None, max_request_bytes: int) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self.max_request_bytes = max_request_bytes

    def authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the request's ``Authorization`` header carries the token (always true without a token)."""
        if self._token is None:
            return True
        value = next((v for k, v in headers if k.lower() == b"authorization"), b"")
        scheme, _, credentials = value.strip().partition(b" ")
        presented = b""
        if scheme.lower() == b"bearer":
            presented = credentials.strip()
        elif scheme.lower() == b"basic":
            try:
                presented = base64.b64decode(credentials.strip(), validate=True).partition(b":")[2]
            except (binascii.Error, ValueError):
                presented = b""
        return hmac.compare_digest(presented, self._token)

    @staticmethod
    def same_machine(headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether the ``Host`` (when sent) and the ``Origin`` (when sent) both name this machine."""
        return all(_names_this_machine(v) for k, v in headers if k.lower() in (b"host", b"origin"))

    async def __call__(self, scope: _Scope, receive: Any, send: Any) -> None:
        """Refuse unauthorized or oversized requests; pass the rest to the app."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        public = scope["type"] == "http" and scope.get("path") == "/health" and scope.get("method") == "GET"
        if not public and not self.authorized(scope.get("headers", [])):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "missing or wrong access token"})
                return
            await _send_json(
                send,
                401,
                {"error": "unauthorized", "message": "missing or wrong access token: send 'Authorization: Bearer <t>'"},
                [(b"www-authenticate", b'Bearer realm="awm-gym"')],
            )
            return
        if not public and self._token is None and not self.same_machine(scope.get("headers", [])):
            message = "a request from a web page or another host name: refused without an access token (--token)"
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": message})
                return
            await _send_json(send, 403, {"error": "forbidden", "message": message})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_request_bytes
        length = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_json(send, 413, _too_large(int(length), limit))
            return
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_json(send, 413, _too_large(received, limit))


def _too_large(size: int, limit: int) -> dict[str, Any]:
    return {
        "error": "request_too_large",
        "message": f"the request body is at least {size} bytes; the limit is {limit} bytes (--max-request-bytes)",
    }
