"""The wrapper layer: what an RL-for-LLM researcher stacks on an AWM environment.

Each wrapper does one thing and composes with the others; a typical stack, innermost first::

    env = gym.make("AWM/awmgym_pet_clinic-v0")
    env = RewardShaping(env, preset="expert_in_the_loop")   # shaped reward, verifier reward kept in info
    env = ExpertAdvice(env, expert=OpenAIExpert(base_url=url, model=model))  # virtual ask_expert tool
    env = ChatMessages(env)                                  # observations as chat messages
    env = RecordEpisodes(env, "episodes.jsonl")              # one JSON line per episode

RewardShaping and RecordEpisodes may sit above or below ExpertAdvice; ChatMessages sits above ExpertAdvice.
"""

from __future__ import annotations

# Wrapper stacks: steps answered above a wrapper reach it through virtual_step
from awm_gym.wrappers._stack import VirtualStepHandler, pass_virtual_step

# Chat formatting
from awm_gym.wrappers.chat import (
    NOT_EXECUTED,
    TOOL_RESPONSE_PREFIX,
    AssistantSpace,
    ChatMessages,
    ChatTranscript,
    MessagesSpace,
    assistant_message,
)

# Expert in the loop: the wrapper, and the expert it asks
from awm_gym.wrappers.expert import (
    EXPERT_SYSTEM_PROMPT,
    Expert,
    ExpertContext,
    OpenAIExpert,
    ScaffoldSchedule,
    expert_prompt,
)
from awm_gym.wrappers.expert_advice import ASK_EXPERT, DEFAULT_NUDGE, ExpertAdvice, ask_expert_tool
from awm_gym.wrappers.playback import ReplayResult, read_episodes, replay

# Episode recording and replay
from awm_gym.wrappers.recording import RECORD_VERSION, RecordEpisodes, recover_partial_episodes

# Reward shaping
from awm_gym.wrappers.reward_shaping import FORMAT_ERRORS, SHAPING_PRESETS, RewardShaping, ShapingTerms

# stable-baselines3 spaces (imports no SB3 or torch)
from awm_gym.wrappers.sb3 import DEFAULT_FINAL_ANSWER, SB3Spaces, default_action_menu, encode_text, hash_text

__all__ = [
    "ASK_EXPERT",
    "DEFAULT_FINAL_ANSWER",
    "DEFAULT_NUDGE",
    "EXPERT_SYSTEM_PROMPT",
    "FORMAT_ERRORS",
    "NOT_EXECUTED",
    "RECORD_VERSION",
    "SHAPING_PRESETS",
    "TOOL_RESPONSE_PREFIX",
    "AssistantSpace",
    "ChatMessages",
    "ChatTranscript",
    "Expert",
    "ExpertAdvice",
    "ExpertContext",
    "MessagesSpace",
    "OpenAIExpert",
    "RecordEpisodes",
    "ReplayResult",
    "RewardShaping",
    "SB3Spaces",
    "ScaffoldSchedule",
    "ShapingTerms",
    "VirtualStepHandler",
    "ask_expert_tool",
    "assistant_message",
    "default_action_menu",
    "encode_text",
    "expert_prompt",
    "hash_text",
    "pass_virtual_step",
    "read_episodes",
    "recover_partial_episodes",
    "replay",
]
