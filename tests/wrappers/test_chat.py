"""ChatMessages on a real scenario, driven by the real openai client against a loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import openai
import pytest

import awm_gym  # noqa: F401 - registers the scenarios
from awm_gym.catalog.solutions import load_reference_solutions
from awm_gym.envs import SYSTEM_PROMPT, tools_json
from awm_gym.errors import ConfigurationError
from awm_gym.llm import ChatReply, OpenAIPolicy
from awm_gym.testing import FakeOpenAIServer, ToolCallReply
from awm_gym.wrappers import (
    AssistantSpace,
    ChatMessages,
    ChatTranscript,
    ExpertAdvice,
    MessagesSpace,
    assistant_message,
)
from awm_gym.wrappers.chat import NOT_EXECUTED

SCENARIO = "AWM/awmgym_pet_clinic-v0"
SOLUTION = load_reference_solutions()["awmgym_pet_clinic", 3]  # cancels an appointment


def native(*calls: tuple[str, dict[str, Any]], content: str | None = None) -> dict[str, Any]:
    """An assistant message with native tool calls."""
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            for i, (name, arguments) in enumerate(calls)
        ],
    }


@pytest.fixture(scope="module")
def base() -> Iterator[gym.Env]:
    env = gym.make(SCENARIO, max_steps=10)
    yield env
    env.close()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


class TestConversation:
    def test_reset_gives_the_system_prompt_with_the_tools_and_the_task(self, base: gym.Env) -> None:
        env = ChatMessages(base)
        messages, info = env.reset(seed=0, options={"task_idx": 3})
        assert messages == [
            {"role": "system", "content": SYSTEM_PROMPT.format(tools=tools_json(info["tools"]))},
            {"role": "user", "content": info["task"]},
        ]
        assert "user_id 1" in messages[0]["content"] and "exactly one function call per turn" in messages[0]["content"]
        assert messages in env.observation_space

    def test_the_system_prompt_offers_ask_expert_when_expert_advice_is_below(self, base: gym.Env) -> None:
        env = ChatMessages(ExpertAdvice(base, lambda question, context: "Look at Luna's appointments."))
        messages, info = env.reset(seed=0, options={"task_idx": 3})
        assert '"name": "ask_expert"' in messages[0]["content"]
        messages, *_ = env.step(native(("ask_expert", {"question": "How?"})))
        assert messages[-1] == {"role": "tool", "tool_call_id": "call_0", "content": "Look at Luna's appointments."}

    def test_a_text_action_gets_the_result_as_a_user_message(self, base: gym.Env) -> None:
        """AWM's convention with hosted APIs: "Tool response:\\n..." as the user."""
        env = ChatMessages(base)
        env.reset(seed=0, options={"task_idx": 3})
        text = f"Let me look.<tool_call>{SOLUTION.actions()[0]}</tool_call>"
        messages, reward, terminated, truncated, info = env.step(text)
        expected = base.unwrapped.trajectory[-1]["observation"]
        assert messages[-2:] == [
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"Tool response:\n{expected}"},
        ]
        assert info["tool_call"]["name"] == "list_my_pets" and (reward, terminated) == (0.0, False)

    def test_tool_response_role_tool_sends_text_results_as_tool_messages(self, base: gym.Env) -> None:
        """AWM's convention with local vLLM servers."""
        env = ChatMessages(base, tool_response_role="tool")
        env.reset(seed=0, options={"task_idx": 3})
        messages, *_ = env.step(SOLUTION.actions()[0])
        assert messages[-1] == {"role": "tool", "content": base.unwrapped.trajectory[-1]["observation"]}

    def test_native_tool_calls_get_tool_messages_and_only_the_first_runs(self, base: gym.Env) -> None:
        env = ChatMessages(base)
        env.reset(seed=0, options={"task_idx": 3})
        action = native(("list_my_pets", {"name": "Luna"}), ("get_my_profile", {}), content="Two calls.")
        messages, *_ = env.step(action)
        assert messages[-3] == {**action, "role": "assistant"}
        assert messages[-2] == {
            "role": "tool",
            "tool_call_id": "call_0",
            "content": base.unwrapped.trajectory[-1]["observation"],
        }
        assert messages[-1] == {"role": "tool", "tool_call_id": "call_1", "content": NOT_EXECUTED}
        assert [step["tool"] for step in base.unwrapped.trajectory] == ["list_my_pets"]

    def test_missing_ids_are_made_up_deterministically(self, base: gym.Env) -> None:
        env = ChatMessages(base)
        env.reset(seed=0, options={"task_idx": 3})
        env.step("<tool_call>not json</tool_call>")
        messages, *_ = env.step({"name": "get_my_profile", "arguments": {}})
        assert messages[-2]["tool_calls"][0]["id"] == "call_1_0"
        assert messages[-2]["tool_calls"][0]["function"] == {"name": "get_my_profile", "arguments": "{}"}
        assert messages[-1]["tool_call_id"] == "call_1_0"

    def test_a_final_answer_ends_the_conversation_with_the_assistant(self, base: gym.Env) -> None:
        env = ChatMessages(base)
        env.reset(seed=0, options={"task_idx": 3})
        for action in SOLUTION.actions()[:-1]:
            env.step(action)
        messages, reward, terminated, truncated, info = env.step(
            {"role": "assistant", "content": SOLUTION.final_answer}
        )
        assert messages[-1] == {"role": "assistant", "content": SOLUTION.final_answer}
        assert (reward, terminated, info["verifier"]["label"]) == (1.0, True, "complete")
        assert len(messages) == 2 + 2 * 3 + 1

    def test_truncation_keeps_the_last_tool_result(self, base: gym.Env) -> None:
        env = ChatMessages(gym.make(SCENARIO, max_steps=1))
        env.reset(seed=0, options={"task_idx": 3})
        messages, _, terminated, truncated, _ = env.step(SOLUTION.actions()[0])
        assert truncated and messages[-1]["content"].endswith(
            "Episode finished: the step limit was reached. Verifier (code mode): others."
        )
        env.close()

    def test_observations_are_fresh_lists(self, base: gym.Env) -> None:
        env = ChatMessages(base)
        first, _ = env.reset(seed=0, options={"task_idx": 3})
        first[0]["content"] = "changed"
        second, *_ = env.step("<tool_call>not json</tool_call>")
        assert second[0]["content"] != "changed" and second[0] is not first[0]

    def test_a_custom_system_prompt_may_use_the_task(self, base: gym.Env) -> None:
        env = ChatMessages(base, system_prompt="Do: {task}\nTools:\n{tools}\nReply {{json}}.")
        messages, info = env.reset(seed=0, options={"task_idx": 3})
        assert messages[0]["content"] == f"Do: {info['task']}\nTools:\n{tools_json(info['tools'])}\nReply {{json}}."


class TestActions:
    def test_chat_replies_and_openai_message_objects_are_actions(self) -> None:
        reply = ChatReply(None, [{"id": "c9", "name": "get_pet", "arguments": {"pet_id": 2}}], latency_s=0.1)
        message, action = assistant_message(reply)
        assert json.loads(action) == {"name": "get_pet", "arguments": {"pet_id": 2}}
        assert message["tool_calls"][0] == {
            "id": "c9",
            "type": "function",
            "function": {"name": "get_pet", "arguments": '{"pet_id": 2}'},
        }
        from openai.types.chat import ChatCompletionMessage

        typed = ChatCompletionMessage.model_validate({"role": "assistant", "content": "All done."})
        assert assistant_message(typed) == ({"role": "assistant", "content": "All done."}, "All done.")

    def test_an_empty_assistant_message_is_an_empty_final_answer(self) -> None:
        assert assistant_message({"role": "assistant", "content": None}) == ({"role": "assistant", "content": None}, "")

    def test_bad_arguments_reach_the_env_as_they_are(self) -> None:
        _, action = assistant_message(native())
        assert action == ""
        message = {"role": "assistant", "tool_calls": [{"function": {"name": "get_pet", "arguments": "{oops"}}]}
        assert json.loads(assistant_message(message)[1]) == {"name": "get_pet", "arguments": "{oops"}

    @pytest.mark.parametrize("action", [3, {"role": "user", "content": "hi"}, {"foo": 1}])
    def test_other_objects_are_rejected(self, action: Any) -> None:
        with pytest.raises(TypeError, match="an action must be text or an assistant message"):
            assistant_message(action)

    def test_spaces(self) -> None:
        messages, actions = MessagesSpace(seed=1), AssistantSpace(50, seed=1)
        assert messages.sample() in messages and actions.sample() in actions
        assert [{"role": "robot"}] not in messages and "x" * 51 not in actions
        assert ChatReply("hi", [], 0.0) in actions and MessagesSpace() == messages


class TestWithTheOpenAIClient:
    def test_native_tool_calling_solves_the_task(self, base: gym.Env, server: FakeOpenAIServer) -> None:
        """The observation goes straight to chat.completions.create and the reply message straight back."""
        replies = [ToolCallReply(c["name"], c["arguments"]) for c in SOLUTION.calls] + [SOLUTION.final_answer]
        server.enqueue(*replies, model="agent-native")
        client = openai.OpenAI(base_url=server.base_url, api_key="EMPTY")
        env = ChatMessages(base)
        messages, info = env.reset(seed=0, options={"task_idx": 3})
        terminated = truncated = False
        while not (terminated or truncated):
            completion = client.chat.completions.create(model="agent-native", messages=messages, tools=info["tools"])
            messages, reward, terminated, truncated, step_info = env.step(completion.choices[0].message)
        assert terminated and reward == 1.0 and step_info["verifier"]["label"] == "complete"
        requests = [r for r in server.requests if r["model"] == "agent-native"]
        last = requests[-1]["messages"]
        assert [m["role"] for m in last] == ["system", "user"] + ["assistant", "tool"] * 3
        assert all(m["tool_call_id"] == a["tool_calls"][0]["id"] for a, m in zip(last[2::2], last[3::2], strict=True))
        assert requests[0]["tools"] == info["tools"]

    def test_the_openai_policy_drives_it_with_text_actions(self, base: gym.Env, server: FakeOpenAIServer) -> None:
        replies = [ToolCallReply(c["name"], c["arguments"]) for c in SOLUTION.calls] + [SOLUTION.final_answer]
        server.enqueue(*replies, model="agent-policy")
        policy = OpenAIPolicy(base_url=server.base_url, model="agent-policy", max_retries=0)
        env = ChatMessages(base)
        messages, info = env.reset(seed=0, options={"task_idx": 3})
        done = False
        while not done:
            messages, reward, terminated, truncated, _ = env.step(policy(messages, info["tools"]))
            done = terminated or truncated
        assert reward == 1.0
        assert messages[3]["role"] == "user" and messages[3]["content"].startswith("Tool response:\n")


class TestStack:
    def test_once_per_stack_and_on_an_awm_env(self, base: gym.Env) -> None:
        with pytest.raises(ConfigurationError, match="ChatMessages is already in this stack"):
            ChatMessages(ChatMessages(base))
        cartpole = gym.make("CartPole-v1")
        with pytest.raises(ConfigurationError, match="ChatMessages needs an AWMEnv at the bottom of its stack"):
            ChatMessages(cartpole)
        cartpole.close()

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"tool_response_role": "assistant"}, 'tool_response_role must be "user" or "tool"'),
        ],
        ids=["tool_response_role"],
    )
    def test_bad_options_are_rejected(self, base: gym.Env, options: dict[str, Any], message: str) -> None:
        with pytest.raises(ConfigurationError, match=message):
            ChatMessages(base, **options)

    def test_a_bad_template_is_reported_at_reset(self, base: gym.Env) -> None:
        env = ChatMessages(base, system_prompt="Use {tool_list}")
        with pytest.raises(ConfigurationError, match="system_prompt must be a str.format template"):
            env.reset(options={"task_idx": 0})

    def test_the_transcript_alone(self) -> None:
        transcript = ChatTranscript(tool_response_role="tool")
        transcript.start("Task.", [])
        transcript.assistant("Final.")
        transcript.result("Episode finished.", final=True)
        assert [m["role"] for m in transcript.messages] == ["system", "user", "assistant"]
