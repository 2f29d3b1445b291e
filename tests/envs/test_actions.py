"""Reading text actions: every tool-call format policies emit, near-JSON repair, final answers, malformed calls."""

from __future__ import annotations

import json

import pytest

from awm_gym.envs import FinalAnswer, MalformedAction, ToolCall, parse_action, resolve_awm_call

CALL = ToolCall("list_products", {"limit": 5})


@pytest.mark.parametrize(
    "action",
    [
        '{"name": "list_products", "arguments": {"limit": 5}}',
        '{"name": "list_products", "parameters": {"limit": 5}}',
        '{"type": "function", "function": {"name": "list_products", "arguments": {"limit": 5}}}',
        '{"type": "function", "function": {"name": "list_products", "arguments": "{\\"limit\\": 5}"}}',
        json.dumps({"name": "list_products", "arguments": json.dumps(json.dumps({"limit": 5}))}),
        'I will look.\n<tool_call>\n{"name": "list_products", "arguments": {"limit": 5}}\n</tool_call>\nthanks',
        '<tool_call>{"name": "list_products", "arguments": {"limit": 5}}',
        '```json\n{"name": "list_products", "arguments": {"limit": 5}}\n```',
        "{'name': 'list_products', 'arguments': {'limit': 5,},}",
        '{"name": "list_products", "arguments": {"limit": 5}',
        '[{"name": "list_products", "arguments": {"limit": 5}}, {"name": "other", "arguments": {}}]',
        '{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "list_products", '
        '"arguments": "{\\"limit\\": 5}"}}]}',
        '<tool_call>{"name": "list_products", "arguments": {"limit": 5}}</tool_call><tool_call>{"name": "x"}</tool_call>',
    ],
)
def test_tool_call_forms(action: str) -> None:
    """Each accepted form yields the first call with decoded arguments."""
    assert parse_action(action) == CALL


def test_objects_are_accepted_directly() -> None:
    """A dict action (an already-decoded call) works like its JSON text."""
    assert parse_action({"name": "list_products", "arguments": {"limit": 5}}) == CALL


@pytest.mark.parametrize(
    "text", ["The answer is 42.", "", "{", "[1, 2]", '{"answer": 3}', "I used <tool> tags wrongly"]
)
def test_text_without_a_call_is_the_final_answer(text: str) -> None:
    """Text (even JSON) that does not try to name a tool is the final answer, verbatim."""
    assert parse_action(text) == FinalAnswer(text)


@pytest.mark.parametrize(
    "action",
    ["<tool_call>definitely not json</tool_call>", '<tool_call>{"arguments": {}}</tool_call>', '{"name": 12}', 42],
)
def test_unreadable_calls_are_malformed(action: object) -> None:
    """An attempted call that names no tool is malformed (the env answers with an error observation)."""
    assert isinstance(parse_action(action), MalformedAction)


def test_missing_or_empty_arguments_mean_none() -> None:
    """A call without arguments, or with null or "" arguments, has an empty argument object."""
    for action in ('{"name": "x"}', '{"name": "x", "arguments": null}', '{"name": "x", "arguments": ""}'):
        assert parse_action(action) == ToolCall("x", {})


def test_non_object_arguments_are_kept_for_validation() -> None:
    """Arguments that are not an object are passed on, so schema validation can say so."""
    assert parse_action('{"name": "x", "arguments": [1, 2]}') == ToolCall("x", [1, 2])


class TestDeepNesting:
    CALL_TEXT = '{"name": "list_products", "arguments": {"limit": 5}}'

    @pytest.mark.parametrize("depth", [495, 5_000, 50_000])
    def test_a_call_inside_deeply_nested_lists_never_recurses(self, depth: int) -> None:
        """The issue's 1,037-character action (495 lists) reads as its call; deeper ones read or are malformed."""
        action = "[" * depth + self.CALL_TEXT + "]" * depth
        parsed = parse_action(action)
        assert parsed == CALL if depth == 495 else parsed == CALL or isinstance(parsed, MalformedAction)

    @pytest.mark.parametrize(
        "action",
        [
            '{"tool_calls": ' * 3_000 + CALL_TEXT + "}" * 3_000,
            '{"name": "get", "arguments": "' + "[" * 3_000 + "]" * 3_000 + '"}',
            "<tool_call>" + "[" * 3_000 + CALL_TEXT + "]" * 3_000 + "</tool_call>",
        ],
        ids=["nested tool_calls", "deep JSON string arguments", "deep tool_call block"],
    )
    def test_other_deep_shapes_give_an_action(self, action: str) -> None:
        """Deeply nested tool_calls, arguments or <tool_call> blocks give an action, never a RecursionError."""
        assert isinstance(parse_action(action), ToolCall | MalformedAction)


class TestAWMMetaCalls:
    TOOLS = frozenset({"get_pet", "call_tool_log"})

    @pytest.mark.parametrize(
        ("call", "expected"),
        [
            (ToolCall("get_pet", {"id": 1}), ToolCall("get_pet", {"id": 1})),
            (ToolCall("call_tool", {"tool_name": "get_pet", "arguments": '{"id": 2}'}), ToolCall("get_pet", {"id": 2})),
            (ToolCall("mcp_tool_mcp_server_get_pet", {"id": 3}), ToolCall("get_pet", {"id": 3})),
            (ToolCall("call_tool", {"tool_name": "mcp_tool_get_pet", "arguments": {}}), ToolCall("get_pet", {})),
            (ToolCall("mcp_tool_delete_pet", {}), ToolCall("mcp_tool_delete_pet", {})),
            (ToolCall("call_tool", {"tool_name": "nope", "arguments": {}}), ToolCall("nope", {})),
            (ToolCall("list_tools", {}), ToolCall("list_tools", {})),
        ],
    )
    def test_resolution(self, call: ToolCall, expected: ToolCall) -> None:
        """call_tool is unwrapped, prefixes are stripped only when that names a tool, unknown names stay."""
        assert resolve_awm_call(call, self.TOOLS) == expected

    def test_a_real_tool_named_like_a_meta_call_wins(self) -> None:
        """A scenario tool called call_tool (or mcp_tool_x) is called as itself."""
        tools = frozenset({"call_tool", "mcp_tool_x", "x"})
        call = ToolCall("call_tool", {"tool_name": "x", "arguments": {}})
        assert resolve_awm_call(call, tools) == call
        assert resolve_awm_call(ToolCall("mcp_tool_x", {}), tools).name == "mcp_tool_x"
