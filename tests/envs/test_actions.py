"""Reading text actions: every tool-call format policies emit, near-JSON repair, final answers, malformed calls."""

from __future__ import annotations

import json

import pytest

from awm_gym.envs import FinalAnswer, MalformedAction, ToolCall, parse_action

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
