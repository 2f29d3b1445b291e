"""The text an agent reads: the task observation and the AWM-style system prompt.

Both follow the conventions of AWM's own agent: the agent acts for the logged-in user (user 1), makes one
tool call per turn inside ``<tool_call>`` tags, and answers directly, without a call, when it is done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "NATIVE_TOOLS_SYSTEM_PROMPT",
    "NATIVE_TOOLS_TASK_TEMPLATE",
    "SYSTEM_PROMPT",
    "TASK_TEMPLATE",
    "describe_tools",
    "render_catalog",
    "tool_signature",
    "tools_json",
]

TASK_TEMPLATE = """You are an agent operating an application through its API on behalf of the logged-in user (user_id 1).

Task: {task}

Tools ({tool_count}):
{tools}

Call exactly one tool per turn:
<tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>
Each call's result comes back as the next observation. When the task is done, reply with your final answer and no tool call; that ends the episode."""

SYSTEM_PROMPT = """You are an agent operating an application through its API on behalf of the logged-in user (user_id 1). The user's request is in the next message.

You can call these functions:
<tools>
{tools}
</tools>

Make exactly one function call per turn, written as:
<tool_call>{{"name": "<function name>", "arguments": {{...}}}}</tool_call>
Each result comes back in the next message. Do not ask the user questions; use the tools. When the task is done, answer the user directly, without a function call: that is your final answer and ends the conversation."""


# Native tool calling: the tools reach the model through the chat template (``tools=``), so neither text lists them.
NATIVE_TOOLS_SYSTEM_PROMPT = """You are an agent operating an application through its API on behalf of the logged-in user (user_id 1). The user's request is in the next message. Use the functions you are given, one call per turn; each result comes back in the next message. Do not ask the user questions. When the task is done, answer the user directly, without a function call: that is your final answer and ends the conversation."""

NATIVE_TOOLS_TASK_TEMPLATE = "{task}"
"""The reset observation for native tool calling (``AWMEnv(prompt_template=...)``): the task text only."""


def _type_of(schema: Mapping[str, Any]) -> str:
    if "type" in schema:
        kind = schema["type"]
        if kind == "array" and isinstance(schema.get("items"), Mapping):
            return f"array[{_type_of(schema['items'])}]"
        return str(kind)
    options = [_type_of(s) for s in schema.get("anyOf", []) if isinstance(s, Mapping) and s.get("type") != "null"]
    return " | ".join(options) if options else "any"


def tool_signature(tool: Mapping[str, Any]) -> str:
    """One line for an OpenAI function tool: ``name(required: type, optional?: type): summary``.

    Example:
        >>> tool_signature({"type": "function", "function": {"name": "get_item", "description": "Get an item\\n\\nMore.",
        ...     "parameters": {"properties": {"item_id": {"type": "integer"}, "verbose": {"type": "boolean"}},
        ...                    "required": ["item_id"]}}})
        'get_item(item_id: integer, verbose?: boolean): Get an item'
    """
    function = tool.get("function", tool)
    parameters = function.get("parameters") or {}
    required = set(parameters.get("required", []))
    args = ", ".join(
        f"{name}{'' if name in required else '?'}: {_type_of(schema)}"
        for name, schema in (parameters.get("properties") or {}).items()
    )
    summary = (function.get("description") or "").strip().split("\n", 1)[0]
    return f"{function['name']}({args}): {summary}"


def describe_tools(tools: Sequence[Mapping[str, Any]]) -> str:
    """The tool list of the task observation, one signature per line."""
    return "\n".join(f"- {tool_signature(tool)}" for tool in tools)


def render_catalog(tools: Sequence[Mapping[str, Any]]) -> str:
    """The answer to AWM's ``list_tools`` meta-call: every tool with its description and parameters."""
    lines = [f"Available MCP Tools ({len(tools)} tools):"]
    for number, tool in enumerate(tools, 1):
        function = tool.get("function", tool)
        parameters = function.get("parameters") or {}
        required = set(parameters.get("required", []))
        lines += ["", f"{number}. {function['name']}", f"   Description: {(function.get('description') or '').strip()}"]
        for name, schema in (parameters.get("properties") or {}).items():
            need = "required" if name in required else "optional"
            lines.append(f"   - {name}: {_type_of(schema)} ({need})")
    return "\n".join(lines)


def tools_json(tools: Sequence[Mapping[str, Any]]) -> str:
    """The tools as JSON lines, for the ``<tools>`` block of :data:`SYSTEM_PROMPT`."""
    return "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
