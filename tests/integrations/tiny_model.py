"""A tiny causal LM and tokenizer built locally (no hub), with a chat template that renders tools.

The tokenizer is a byte-level BPE trained on the scenarios' tool schemas and tasks, so prompts stay a few
thousand tokens long; it uses TRL's copy of Qwen3's chat template, which TRL knows how to parse tool calls
from. Whole strings (a tool call, an answer) can be added as single tokens, which a generation-time
``sequence_bias`` then makes the untrained model emit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import gymnasium as gym

import awm_gym
from awm_gym.envs.prompts import NATIVE_TOOLS_SYSTEM_PROMPT

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TEMPLATE_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"]


def _corpus(scenarios: Iterable[str]) -> list[str]:
    from trl.chat_template_utils import qwen3_chat_template

    texts = [NATIVE_TOOLS_SYSTEM_PROMPT, qwen3_chat_template]
    for scenario in scenarios:
        env = gym.make(awm_gym.env_id(scenario)).unwrapped
        try:
            texts += [json.dumps(tool) for tool in env.tool_schemas()] + list(env.scenario.tasks)
        finally:
            env.close()
    return texts


def tiny_tokenizer(scenarios: Iterable[str], whole_tokens: Iterable[str] = ()):
    """A fast tokenizer with Qwen3's chat template; each of ``whole_tokens`` is one token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from trl.chat_template_utils import qwen3_chat_template

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_corpus(scenarios), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", padding_side="left"
    )
    tokenizer.add_tokens([*TEMPLATE_TOKENS, *whole_tokens])
    tokenizer.chat_template = qwen3_chat_template
    return tokenizer


def tiny_model(tokenizer):
    """A one-layer Qwen3 causal LM sized for ``tokenizer``, randomly initialised (seed the caller's torch)."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=32768,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return Qwen3ForCausalLM(config)
