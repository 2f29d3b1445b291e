"""Token-level rollouts: OpenAIPolicy keeps the choice, token ids and logprobs; episodes export training records."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from awm_gym.envs.prompts import NATIVE_TOOLS_SYSTEM_PROMPT
from awm_gym.llm import LLMEndpoint, OpenAIPolicy, chat
from awm_gym.testing import FakeOpenAIServer, ToolCallReply
from awm_gym.testing.openai_server import fake_logprob, fake_token_ids, render_completion, render_prompt
from awm_gym.vector import AWMVectorEnv, rollouts

PETS = "awmgym_pet_clinic"
INVOICE_CALL = '<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>'
ANSWER = "You currently owe $1,084.15 in total."


def expected_logprobs(text: str) -> list[float]:
    return [fake_logprob(token_id, i) for i, token_id in enumerate(fake_token_ids(text))]


class TestChatReply:
    def test_token_data_when_the_server_returns_it(self) -> None:
        """chat() keeps the raw choice, the messages sent, prompt/completion token ids and logprobs."""
        messages = [{"role": "user", "content": "Hi"}]
        with FakeOpenAIServer() as server:
            server.enqueue("Hello!")
            endpoint = LLMEndpoint(base_url=server.base_url, model="m")
            reply = chat(endpoint, messages, logprobs=True, extra_body={"return_token_ids": True})
        assert reply.content == "Hello!"
        assert reply.messages == messages and reply.messages is not messages
        assert reply.choice["finish_reason"] == "stop" and reply.choice["message"]["content"] == "Hello!"
        assert reply.prompt_token_ids == fake_token_ids(render_prompt(messages))
        assert reply.token_ids == fake_token_ids("Hello!")
        assert reply.tokens == list("Hello!") and reply.logprobs == expected_logprobs("Hello!")
        assert reply.assistant_message == {"role": "assistant", "content": "Hello!"}

    def test_token_ids_from_vllm_token_strings(self) -> None:
        """Without return_token_ids, vLLM's return_tokens_as_token_ids spelling gives the ids."""
        with FakeOpenAIServer() as server:
            server.enqueue("Ok")
            endpoint = LLMEndpoint(base_url=server.base_url, model="m")
            reply = chat(
                endpoint,
                [{"role": "user", "content": "?"}],
                logprobs=True,
                extra_body={"return_tokens_as_token_ids": True},
            )
        assert reply.tokens == ["token_id:79", "token_id:107"] and reply.token_ids == [79, 107]
        assert reply.prompt_token_ids is None

    def test_nothing_asked_nothing_kept(self) -> None:
        """A plain call keeps the choice but has no token data (and its repr is unchanged)."""
        with FakeOpenAIServer() as server:
            server.enqueue(ToolCallReply("list_my_pets", {}))
            reply = chat(LLMEndpoint(base_url=server.base_url, model="m"), [{"role": "user", "content": "?"}])
        assert reply.token_ids is None and reply.logprobs is None and reply.prompt_token_ids is None
        assert reply.choice["finish_reason"] == "tool_calls"
        message = reply.assistant_message
        assert message["tool_calls"][0]["function"] == {"name": "list_my_pets", "arguments": "{}"}
        assert repr(reply).startswith("ChatReply(content=None, tool_calls=[")


class TestPolicy:
    def test_token_level_requests_and_action_carries_the_reply(self) -> None:
        """token_level=True asks for logprobs and vLLM's token ids; the action string carries its reply."""
        with FakeOpenAIServer() as server:
            server.enqueue(INVOICE_CALL)
            policy = OpenAIPolicy(model="m", base_url=server.base_url, token_level=True, use_native_tools=False)
            [action] = policy.batch(["Task"])
            request = server.requests[0]
        assert action == INVOICE_CALL and action.reply.token_ids == fake_token_ids(INVOICE_CALL)
        assert request["logprobs"] is True
        assert request["return_token_ids"] is True and request["return_tokens_as_token_ids"] is True
        restored = pickle.loads(pickle.dumps(action))  # actions cross process boundaries (Ray, recorders)
        assert restored == action and restored.reply.token_ids == action.reply.token_ids
        assert copy.deepcopy([{"content": action}])[0]["content"] is action  # conversations copy cheaply

    def test_plain_policy_asks_for_nothing_extra(self) -> None:
        """Without token_level the request carries no logprobs or vLLM fields; the action still has its reply."""
        with FakeOpenAIServer() as server:
            server.enqueue("Done.")
            [action] = OpenAIPolicy(model="m", base_url=server.base_url).batch(["Task"])
            request = server.requests[0]
        assert "logprobs" not in request and "return_token_ids" not in request
        assert action == "Done." and action.reply.choice["message"]["content"] == "Done."


@pytest.mark.parametrize("native", [False, True])
def test_rollout_training_record(native: bool) -> None:
    """A rollout's episode exports prompt/completion messages, per-turn and whole-sequence tokens, and the reward."""

    def responder(request):
        if len(request["messages"]) <= 2:
            return ToolCallReply("list_my_invoices", {}) if native else INVOICE_CALL
        return ANSWER

    with FakeOpenAIServer(responder=responder) as server:
        policy = OpenAIPolicy(model="m", base_url=server.base_url, token_level=True, use_native_tools=native)
        with AWMVectorEnv(PETS, num_envs=1, max_steps=5) as envs:
            [episode] = list(
                rollouts(
                    envs,
                    policy,
                    tasks=[1],
                    inputs="messages",
                    system_prompt=NATIVE_TOOLS_SYSTEM_PROMPT,
                    progress=False,
                )
            )
    assert episode.reward == 1.0 and episode.label == "complete"
    record = episode.training_record()
    json.dumps(record)  # JSON-able
    assert record["reward"] == 1.0 and record["label"] == "complete" and record["task_idx"] == 1
    assert [m["role"] for m in record["prompt"]] == ["system", "user"]
    assert (
        record["prompt"][0]["content"] == NATIVE_TOOLS_SYSTEM_PROMPT and episode.task in record["prompt"][1]["content"]
    )
    roles = [m["role"] for m in record["completion"]]
    assert roles == ["assistant", "user", "assistant"]
    assert record["completion"][-1]["content"] == ANSWER
    first, second = record["turns"]
    assert first["finish_reason"] == ("tool_calls" if native else "stop") and second["finish_reason"] == "stop"
    assert second["token_ids"] == fake_token_ids(ANSWER) and second["logprobs"] == expected_logprobs(ANSWER)
    if native:
        # The policy saw its tool call as the env's action text, not as what the model generated:
        # the two calls' tokens do not chain, so there is no whole-episode sequence.
        assert record["token_ids"] is None and record["loss_mask"] is None
        return
    tokens, mask, logprobs = record["token_ids"], record["loss_mask"], record["logprobs"]
    assert tokens == second["prompt_token_ids"] + second["token_ids"]
    generated = [t for t, m in zip(tokens, mask, strict=True) if m]
    assert generated == fake_token_ids(render_completion({"content": INVOICE_CALL}) + ANSWER)
    assert [lp for lp, m in zip(logprobs, mask, strict=True) if m] == expected_logprobs(
        INVOICE_CALL
    ) + expected_logprobs(ANSWER)
    assert all(lp == 0.0 for lp, m in zip(logprobs, mask, strict=True) if not m)
    observation = "".join(chr(t) for t, m in zip(tokens, mask, strict=True) if not m)
    assert "INV-22160" in observation  # the tool result sits in the masked-out part
