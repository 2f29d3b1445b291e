"""The private wire between awm-gym and its child processes (stdlib only: children import it too).

Two kinds of sockets, both Unix-domain socket pairs so no port is ever bound:

- **Frames** on a stream socket (env <-> scenario server, env <-> verifier worker): an 8-byte header with the
  lengths of a JSON object and of a raw body, then both. Tool calls travel as one frame each way.
- **Messages** on a ``SOCK_SEQPACKET`` socket (env <-> zygote): one JSON object per packet, optionally carrying
  file descriptors (``SCM_RIGHTS``), which is how a freshly forked server receives its sockets.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any

__all__ = [
    "MAX_MESSAGE",
    "read_frame",
    "recv_frame",
    "recv_message",
    "send_frame",
    "send_message",
    "write_frame",
]

_HEADER = struct.Struct("!II")
MAX_MESSAGE = 64 * 1024  # control messages are small; bulky data goes through files or frames
_MAX_FDS = 8


def _pack(header: dict[str, Any], body: bytes) -> bytes:
    meta = json.dumps(header, separators=(",", ":")).encode()
    return _HEADER.pack(len(meta), len(body)) + meta + body


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        n = sock.recv_into(view[received:])
        if n == 0:
            raise ConnectionResetError("the peer closed the connection")
        received += n
    return bytes(buffer)


def send_frame(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    """Send one frame on a blocking stream socket."""
    sock.sendall(_pack(header, body))


def recv_frame(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """Receive one frame from a blocking stream socket.

    Raises:
        ConnectionResetError: The peer closed the socket (for a child: it exited or crashed).
        TimeoutError: The socket's timeout expired.
    """
    meta_len, body_len = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    payload = _recv_exactly(sock, meta_len + body_len)
    return json.loads(payload[:meta_len]), payload[meta_len:]


async def read_frame(reader: asyncio.StreamReader) -> tuple[dict[str, Any], bytes]:
    """Receive one frame from an asyncio stream (raises ``asyncio.IncompleteReadError`` at EOF)."""
    meta_len, body_len = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    payload = await reader.readexactly(meta_len + body_len)
    return json.loads(payload[:meta_len]), payload[meta_len:]


async def write_frame(writer: asyncio.StreamWriter, header: dict[str, Any], body: bytes = b"") -> None:
    """Send one frame on an asyncio stream."""
    writer.write(_pack(header, body))
    await writer.drain()


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
    """Send one JSON message (and optionally file descriptors) on a ``SOCK_SEQPACKET`` socket."""
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"control message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    socket.send_fds(sock, [data], list(fds))


def recv_message(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """Receive one JSON message and the descriptors sent with it; ``(None, [])`` when the peer closed."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, _MAX_FDS)
    if not data:
        for fd in fds:
            socket.close(fd)
        return None, []
    return json.loads(data), fds
