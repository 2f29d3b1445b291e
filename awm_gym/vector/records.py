"""Training records: an episode as on-policy training consumes it (messages, token ids, logprobs, reward).

The rollout driver keeps each policy reply on its step (``Transition.reply``, a
:class:`~awm_gym.llm.ChatReply` when the policy is :class:`~awm_gym.llm.OpenAIPolicy`): the messages the model
was sent, the raw choice, and, when the server returned them, the prompt's and the completion's token ids and
the completion's logprobs. :func:`training_record` turns a finished episode into one JSON-able dict:

- ``prompt``: the messages of the first model call (system prompt and task), as sent;
- ``completion``: everything after: the model's assistant messages (tool calls included, as it generated
  them) and the env's observations (``user`` turns, as the rollout driver sends them), in order;
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


def _conversation(episode: Episode, system_prompt: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The first prompt as the model was sent it, and the turns after it (its replies, the observations)."""
    steps = episode.trajectory
    replies = [getattr(step, "reply", None) for step in steps]
    first = getattr(replies[0], "messages", None) if replies else None
    if first is None:  # no replies kept: rebuild the prompt as Episode.messages does
        first = episode.messages(system_prompt)[: 2 if system_prompt is not None else 1] if steps else []
    completion: list[dict[str, Any]] = []
    for i, (step, reply) in enumerate(zip(steps, replies, strict=True)):
        completion.append(
            reply.assistant_message if reply is not None else {"role": "assistant", "content": step.action}
        )
        if i + 1 < len(steps):
            completion.append({"role": "user", "content": steps[i + 1].observation})
    return list(first), completion


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
    prompt, completion = _conversation(episode, system_prompt)
    replies = [getattr(step, "reply", None) for step in episode.trajectory]
    turns = [_turn(reply) for reply in replies if reply is not None]
    sequence = _sequence(turns) if len(turns) == len(replies) else None
    return {
        "scenario": episode.scenario,
        "task_idx": episode.task_idx,
        "task": episode.task,
        "prompt": prompt,
        "completion": completion,
        "turns": turns,
        "token_ids": sequence[0] if sequence else None,
        "loss_mask": sequence[1] if sequence else None,
        "logprobs": sequence[2] if sequence else None,
        "reward": episode.reward,
        "label": episode.label,
    }
