"""Reading a policy's text action: a tool call, a final answer, or a malformed call.

Accepted tool-call forms (only the first call of an action is used):

- a JSON object ``{"name": ..., "arguments": {...}}`` (``"parameters"`` also accepted for the arguments);
- OpenAI's ``{"type": "function", "function": {"name": ..., "arguments": ...}}`` or an assistant message
  with ``tool_calls``; arguments may be an object, a JSON string, or a JSON string of a JSON string;
- either of those inside ``<tool_call>...</tool_call>`` with any text around it (AWM's agent format, also
  emitted by Qwen and Arctic-AWM models), or inside a ```` ```json ```` fence.

Near-JSON (single quotes, trailing commas, missing quotes or braces) is repaired with the maintained
``json_repair`` library. Text with no tool call is the final answer. Text that clearly tries to be a call
but cannot be read as one is malformed: the env answers with an error observation and the episode goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Action", "FinalAnswer", "MalformedAction", "ToolCall", "parse_action"]

_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)
_CALL_KEY = re.compile(r"[\"']?(?:name|function|tool_name|tool_calls)[\"']?\s*:")


@dataclass(frozen=True)
class ToolCall:
    """A call of tool ``name`` with ``arguments`` (normally a dict; anything else fails schema validation)."""

    name: str
    arguments: Any


@dataclass(frozen=True)
class FinalAnswer:
    """Text without a tool call: the agent's answer, which ends the episode."""

    text: str


@dataclass(frozen=True)
class MalformedAction:
    """An attempted tool call that could not be read."""

    reason: str


Action = ToolCall | FinalAnswer | MalformedAction


def _loads(text: str) -> Any:
    """Strict JSON, else ``json_repair``; ``None`` when neither yields an object or a list."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        import json_repair  # deferred: only near-JSON needs it

        try:
            value = json_repair.loads(text)
        except Exception:  # noqa: BLE001 - the repairer may fail in many ways on garbage
            return None
    return value if isinstance(value, dict | list) else None


def _arguments(value: Any) -> Any:
    """Decode arguments given as a JSON string (possibly twice encoded); ``None`` or ``""`` mean no arguments."""
    for _ in range(3):
        if value is None or (isinstance(value, str) and not value.strip()):
            return {}
        if not isinstance(value, str):
            return value
        decoded = _loads(value)
        if decoded is None:
            try:
                decoded = json.loads(value)  # a JSON string literal holding more JSON
            except json.JSONDecodeError:
                return value
            if not isinstance(decoded, str):
                return decoded
        value = decoded
    return value


def _call(value: Any) -> ToolCall | None:
    if isinstance(value, list):
        return next((call for call in map(_call, value) if call is not None), None)
    if not isinstance(value, Mapping):
        return None
    if "tool_calls" in value:
        return _call(value["tool_calls"])
    source = value["function"] if isinstance(value.get("function"), Mapping) else value
    name = source.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    raw = next((source[k] for k in ("arguments", "parameters", "args") if k in source), None)
    return ToolCall(name.strip(), _arguments(raw))


def parse_action(action: Any) -> Action:
    """Classify one action.

    Example:
        >>> parse_action('{"name": "list_products", "arguments": {"limit": 5}}')
        ToolCall(name='list_products', arguments={'limit': 5})
        >>> parse_action('Let me look.<tool_call>{"name": "get_product", "arguments": "{\\\\"id\\\\": 2}"}</tool_call>')
        ToolCall(name='get_product', arguments={'id': 2})
        >>> parse_action("The cheapest product is the Lamp.")
        FinalAnswer(text='The cheapest product is the Lamp.')
        >>> parse_action("<tool_call>not json</tool_call>")
        MalformedAction(reason='the <tool_call> block holds no call: expected {"name": ..., "arguments": {...}}')
    """
    if isinstance(action, Mapping):
        return _call(action) or MalformedAction(
            'the action object holds no call: expected {"name": ..., "arguments": {...}}'
        )
    if not isinstance(action, str):
        return MalformedAction(f"an action must be a string, got {type(action).__name__}")
    block = _TOOL_CALL_BLOCK.search(action)
    if block is not None:
        value = _loads(block.group(1).strip())
        call = _call(value) if value is not None else None
        return call or MalformedAction(
            'the <tool_call> block holds no call: expected {"name": ..., "arguments": {...}}'
        )
    text = action.strip()
    fenced = _FENCED.match(text)
    if fenced is not None:
        text = fenced.group(1).strip()
    if text.startswith(("{", "[")):
        value = _loads(text)
        call = _call(value) if value is not None else None
        if call is not None:
            return call
        if _CALL_KEY.search(text):
            return MalformedAction(
                'the action looks like a tool call but could not be read: expected {"name": ..., "arguments": {...}}'
            )
    return FinalAnswer(action)
