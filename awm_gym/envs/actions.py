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
However deeply an action nests its JSON, reading it never recurses past Python's limit.

AWM's own agent wraps calls in meta-functions: ``call_tool(tool_name, arguments)``, ``list_tools()``, and
names prefixed ``mcp_tool_``/``mcp_server_``. :func:`resolve_awm_call` reads them (the env and the expert
wrapper both use it), taking a name the scenario does have as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LIST_TOOLS", "Action", "FinalAnswer", "MalformedAction", "ToolCall", "parse_action", "resolve_awm_call"]

LIST_TOOLS = "list_tools"
"""AWM's meta-function listing the tools; the env answers it with the catalog when no tool has that name."""
_CALL_TOOL = "call_tool"
_AWM_NAME_PREFIXES = ("mcp_tool_", "mcp_server_")

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
            except (json.JSONDecodeError, RecursionError):
                return value
            if not isinstance(decoded, str):
                return decoded
        value = decoded
    return value


def _call(value: Any) -> ToolCall | None:
    """The first call in ``value``, depth first (lists and ``tool_calls`` walked without recursion)."""
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(reversed(value))
            continue
        if not isinstance(value, Mapping):
            continue
        if "tool_calls" in value:
            pending.append(value["tool_calls"])
            continue
        source = value["function"] if isinstance(value.get("function"), Mapping) else value
        name = source.get("name")
        if isinstance(name, str) and name.strip():
            raw = next((source[k] for k in ("arguments", "parameters", "args") if k in source), None)
            return ToolCall(name.strip(), _arguments(raw))
    return None


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


def resolve_awm_call(call: ToolCall, tools: Container[str]) -> ToolCall:
    """The call ``call`` means under AWM's agent conventions, given the names in ``tools``.

    A name in ``tools`` is taken as it is. Otherwise ``call_tool`` is unwrapped into the call it carries
    (``{"tool_name": ..., "arguments": ...}``, arguments possibly a JSON string), and ``mcp_tool_`` /
    ``mcp_server_`` prefixes are stripped when that yields a name in ``tools``. A name that stays unknown is
    returned unstripped (``list_tools`` among them: the caller answers it when no tool has that name).

    Example:
        >>> tools = {"get_pet", "call_tool_log"}
        >>> resolve_awm_call(ToolCall("call_tool", {"tool_name": "get_pet", "arguments": '{"id": 2}'}), tools)
        ToolCall(name='get_pet', arguments={'id': 2})
        >>> resolve_awm_call(ToolCall("mcp_tool_get_pet", {"id": 2}), tools).name
        'get_pet'
        >>> resolve_awm_call(ToolCall("mcp_tool_delete_pet", {}), tools).name
        'mcp_tool_delete_pet'
    """
    if call.name in tools:
        return call
    arguments = call.arguments
    if call.name == _CALL_TOOL and isinstance(arguments, Mapping) and isinstance(arguments.get("tool_name"), str):
        inner = _call({"name": arguments["tool_name"], "arguments": arguments.get("arguments")})
        if inner is not None:
            call = inner
    name = call.name
    for prefix in _AWM_NAME_PREFIXES:
        while name.startswith(prefix) and name not in tools:
            name = name[len(prefix) :]
    return ToolCall(name, call.arguments) if name in tools else call
