"""The environment layer: the Gymnasium API over a sub-environment host, action parsing and the verifier reward."""

from __future__ import annotations

# The environment
from awm_gym.envs.actions import (
    LIST_TOOLS,
    Action,
    FinalAnswer,
    MalformedAction,
    ToolCall,
    parse_action,
    resolve_awm_call,
)
from awm_gym.envs.awm_env import DEFAULT_REWARD_CONFIG, AWMEnv

# What the agent reads and writes
from awm_gym.envs.prompts import (
    NATIVE_TOOLS_SYSTEM_PROMPT,
    NATIVE_TOOLS_TASK_TEMPLATE,
    SYSTEM_PROMPT,
    TASK_TEMPLATE,
    describe_tools,
    render_catalog,
    tool_signature,
    tools_json,
)
from awm_gym.envs.spaces import UnicodeText, fit_text

# The whole distribution: a (scenario, task) drawn per reset
from awm_gym.envs.suite import REWARD_MODES, AWMSuiteEnv, RewardMode, task_weights

__all__ = [
    "DEFAULT_REWARD_CONFIG",
    "LIST_TOOLS",
    "NATIVE_TOOLS_SYSTEM_PROMPT",
    "NATIVE_TOOLS_TASK_TEMPLATE",
    "REWARD_MODES",
    "SYSTEM_PROMPT",
    "TASK_TEMPLATE",
    "AWMEnv",
    "AWMSuiteEnv",
    "Action",
    "FinalAnswer",
    "MalformedAction",
    "RewardMode",
    "ToolCall",
    "UnicodeText",
    "describe_tools",
    "fit_text",
    "parse_action",
    "render_catalog",
    "resolve_awm_call",
    "task_weights",
    "tool_signature",
    "tools_json",
]
