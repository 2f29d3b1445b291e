"""Test helpers for awm-gym and for projects built on it.

Example:
    >>> from awm_gym.testing import FakeOpenAIServer
    >>> with FakeOpenAIServer() as server:
    ...     server.enqueue("Hello!")

"""

from __future__ import annotations

from awm_gym.testing.openai_server import (
    DelayedReply,
    ErrorReply,
    FakeOpenAIServer,
    Reply,
    Responder,
    ToolCallReply,
)
from awm_gym.testing.scale import scaled_name, write_scaled_release

__all__ = [
    "DelayedReply",
    "ErrorReply",
    "FakeOpenAIServer",
    "Reply",
    "Responder",
    "ToolCallReply",
    "scaled_name",
    "write_scaled_release",
]
