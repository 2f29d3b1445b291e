"""The environment layer: the Gymnasium API over a sub-environment host, action parsing and the verifier reward."""

from __future__ import annotations

# The environment
from awm_gym.envs.actions import Action, FinalAnswer, MalformedAction, ToolCall, parse_action
from awm_gym.envs.awm_env import DEFAULT_REWARD_CONFIG, AWMEnv

# What the agent reads and writes
from awm_gym.envs.prompts import (
    SYSTEM_PROMPT,
    TASK_TEMPLATE,
    describe_tools,
    render_catalog,
    tool_signature,
    tools_json,
)
from awm_gym.envs.spaces import UnicodeText

__all__ = [
    "DEFAULT_REWARD_CONFIG",
    "SYSTEM_PROMPT",
    "TASK_TEMPLATE",
    "AWMEnv",
    "Action",
    "FinalAnswer",
    "MalformedAction",
    "ToolCall",
    "UnicodeText",
    "describe_tools",
    "parse_action",
    "render_catalog",
    "tool_signature",
    "tools_json",
]
