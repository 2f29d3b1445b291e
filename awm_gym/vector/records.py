"""Training records: an episode as on-policy training consumes it (messages, token ids, logprobs, reward).

The rollout driver keeps each policy reply on its step (``Transition.reply``, a
:class:`~awm_gym.llm.ChatReply` when the policy is :class:`~awm_gym.llm.OpenAIPolicy`): the messages the model
was sent, the raw choice, and, when the server returned them, the prompt's and the completion's token ids and
the completion's logprobs. :func:`training_record` turns a finished episode into one JSON-able dict:

- ``prompt``: the messages of the first model call (system prompt and task);
- ``completion``: everything after, as the model saw it: its assistant messages (tool calls included) and the
  env's observations, in order;
- ``turns``: per model call, ``prompt_token_ids``, ``token_ids`` (the completion's), ``logprobs`` and
  ``finish_reason`` (``None`` where the server did not return them);
- ``token_ids``, ``loss_mask`` and ``logprobs``: the whole episode as one token sequence, when each call's
  prompt tokens extend the previous call's prompt and completion (the usual case for a chat template with a
  generation prompt): ``loss_mask`` is 1 on generated tokens and 0 on prompt and observation tokens, and
  ``logprobs`` is 0.0 where the mask is 0. ``None`` otherwise (e.g. when the policy saw only the latest
  observation, or the server returned no token ids);
- ``reward`` (the episode's return), ``label`` (the verifier's), ``scenario``, ``task_idx`` and ``task``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awm_gym.vector.episode import Episode

__all__ = ["training_record"]


def _conversation(episode: Episode, system_prompt: str | None) -> tuple[list[dict[str, Any]], int]:
    """The episode's messages as the model saw them, and how many of them formed the first prompt."""
    replies = [getattr(step, "reply", None) for step in episode.trajectory]
    sent = [getattr(reply, "messages", None) for reply in replies]
    chained = bool(sent) and all(m is not None for m in sent)
    chained = chained and all(
        later[: len(earlier) + 1] == [*earlier, replies[i].assistant_message]
        for i, (earlier, later) in enumerate(zip(sent, sent[1:], strict=False))
    )
    if chained:  # each call's messages extend the previous call's and its reply: one conversation
        return [*sent[-1], replies[-1].assistant_message], len(sent[0])
    messages = episode.messages(system_prompt)
    return messages, 2 if system_prompt is not None else 1


def _turn(reply: Any) -> dict[str, Any]:
    choice = getattr(reply, "choice", None) or {}
    return {
        "prompt_token_ids": getattr(reply, "prompt_token_ids", None),
        "token_ids": getattr(reply, "token_ids", None),
        "logprobs": getattr(reply, "logprobs", None),
        "finish_reason": choice.get("finish_reason"),
    }


def _sequence(turns: list[dict[str, Any]]) -> tuple[list[int], list[int], list[float]] | None:
    """The episode as one sequence, when every call's prompt tokens extend the previous prompt and completion."""
    if not turns or any(turn["prompt_token_ids"] is None or turn["token_ids"] is None for turn in turns):
        return None
    tokens: list[int] = list(turns[0]["prompt_token_ids"])
    mask = [0] * len(tokens)
    logprobs = [0.0] * len(tokens)
    for turn in turns:
        prompt = turn["prompt_token_ids"]
        if prompt[: len(tokens)] != tokens:
            return None
        added = prompt[len(tokens) :]  # the observation (and chat-template glue) since the last completion
        generated = turn["token_ids"]
        generated_logprobs = turn["logprobs"]
        if generated_logprobs is None or len(generated_logprobs) != len(generated):
            generated_logprobs = [0.0] * len(generated)
        tokens += [*added, *generated]
        mask += [0] * len(added) + [1] * len(generated)
        logprobs += [0.0] * len(added) + list(generated_logprobs)
    return tokens, mask, logprobs


def training_record(episode: Episode, system_prompt: str | None = None) -> dict[str, Any]:
    """One finished episode as a JSON-able training record (see the module docstring).

    Args:
        episode: The episode.
        system_prompt: The system message to put first when the replies do not carry the messages sent (as
            for :meth:`Episode.messages`).

    Returns:
        The record.
    """
    conversation, prompt_length = _conversation(episode, system_prompt)
    replies = [getattr(step, "reply", None) for step in episode.trajectory]
    turns = [_turn(reply) for reply in replies if reply is not None]
    sequence = _sequence(turns) if len(turns) == len(replies) else None
    return {
        "scenario": episode.scenario,
        "task_idx": episode.task_idx,
        "task": episode.task,
        "prompt": conversation[:prompt_length],
        "completion": conversation[prompt_length:],
        "turns": turns,
        "token_ids": sequence[0] if sequence else None,
        "loss_mask": sequence[1] if sequence else None,
        "logprobs": sequence[2] if sequence else None,
        "reward": episode.reward,
        "label": episode.label,
    }
