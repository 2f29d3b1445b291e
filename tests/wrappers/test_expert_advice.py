"""ExpertAdvice on a real scenario (real server, real verifier); the OpenAI expert over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.error import ResetNeeded
from wrapping import ask, call, mask_clock

import awm_gym  # noqa: F401 - registers the scenarios
from awm_gym.catalog.solutions import load_reference_solutions
from awm_gym.errors import ConfigurationError
from awm_gym.testing import DelayedReply, ErrorReply, FakeOpenAIServer
from awm_gym.wrappers import (
    DEFAULT_NUDGE,
    ChatMessages,
    ExpertAdvice,
    ExpertContext,
    OpenAIExpert,
    ScaffoldSchedule,
    ask_expert_tool,
)

SCENARIO = "AWM/awmgym_pet_clinic-v0"
MAX_STEPS = 8
SOLUTION = load_reference_solutions()["awmgym_pet_clinic", 3].actions()  # cancels an appointment


class ScriptedExpert:
    """An expert that answers from the question and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ExpertContext]] = []

    def __call__(self, question: str, context: ExpertContext) -> str:
        self.calls.append((question, context))
        return f"Advice on: {question}"


@pytest.fixture(scope="module")
def base() -> Iterator[gym.Env]:
    """One real pet-clinic env shared by the module's tests (each test wraps it anew)."""
    env = gym.make(SCENARIO, max_steps=MAX_STEPS)
    yield env
    env.close()


@pytest.fixture
def expert() -> ScriptedExpert:
    return ScriptedExpert()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def names(tools: list[dict[str, Any]]) -> list[str]:
    return [tool["function"]["name"] for tool in tools]


class TestOffering:
    def test_ask_expert_is_added_to_the_tools_and_the_observation(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """The tool appears in info["tools"] and the reset observation, never in the server's catalog."""
        env = ExpertAdvice(base, expert)
        obs, info = env.reset(seed=0, options={"task_idx": 3})
        assert names(info["tools"])[-1] == "ask_expert"
        assert info["tools"][-1] == ask_expert_tool()
        assert info["expert_available"] is True and info["expert_calls"] == 0
        scenario_tools = len(base.unwrapped.host.tools)
        assert f"Tools ({scenario_tools + 1}):" in obs
        assert "- ask_expert(question: string): Ask an expert" in obs
        assert "ask_expert" not in base.unwrapped.host.tools
        assert "ask_expert" not in names(base.unwrapped.tool_schemas())

    def test_unavailable_expert_is_not_offered_and_the_env_answers_unknown_tool(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        """Without the expert, ask_expert is an unknown tool answered by the env itself."""
        env = ExpertAdvice(base, expert, availability=0.0)
        obs, info = env.reset(seed=0, options={"task_idx": 3})
        assert info["expert_available"] is False
        assert "ask_expert" not in names(info["tools"]) and "ask_expert" not in obs
        obs, reward, terminated, truncated, info = env.step(ask())
        assert obs == "Unknown tool: ask_expert"
        assert info["error"]["type"] == "unknown_tool" and "expert_call" not in info
        assert expert.calls == [] and len(base.unwrapped.trajectory) == 1

    def test_list_tools_catalog_includes_ask_expert(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """AWM's list_tools meta-call lists the virtual tool too when it is offered."""
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_ = env.step(call("list_tools"))
        count = len(base.unwrapped.host.tools) + 1
        assert obs.startswith(f"Available MCP Tools ({count} tools):")
        assert f"{count}. ask_expert" in obs


class TestAnswering:
    def test_advice_is_the_observation_with_reward_zero(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """The wrapper answers; the env records nothing."""
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, reward, terminated, truncated, info = env.step(ask("Which tool cancels?"))
        assert obs == "Advice on: Which tool cancels?"
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert info["expert_calls"] == 1 and info["expert_available"] is True
        record = info["expert_call"]
        assert record["question"] == "Which tool cancels?" and record["answer"] == obs
        assert record["status"] == "answered" and record["latency_s"] >= 0.0
        assert base.unwrapped.trajectory == []

    @pytest.mark.parametrize(
        "action",
        [
            '{"name": "ask_expert", "arguments": {"question": "Q?"}}',
            'Thinking.<tool_call>{"name": "ask_expert", "arguments": {"question": "Q?"}}</tool_call>',
            '{"type": "function", "function": {"name": "ask_expert", "arguments": "{\\"question\\": \\"Q?\\"}"}}',
            json.dumps(
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "ask_expert", "arguments": '{"question": "Q?"}'}}],
                }
            ),
            call("call_tool", tool_name="ask_expert", arguments='{"question": "Q?"}'),
            call("mcp_tool_ask_expert", question="Q?"),
        ],
        ids=["json", "tool_call_block", "openai_function", "assistant_message", "awm_call_tool", "awm_prefix"],
    )
    def test_every_call_form_the_env_accepts_reaches_the_expert(
        self, base: gym.Env, expert: ScriptedExpert, action: str
    ) -> None:
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_ = env.step(action)
        assert obs == "Advice on: Q?"
        assert [question for question, _ in expert.calls] == ["Q?"]

    def test_other_actions_pass_through_unchanged(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """The reference solution gives the same observations, rewards and env info with or without the wrapper."""
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        wrapped = [env.step(action) for action in SOLUTION]
        base.reset(seed=0, options={"task_idx": 3})
        bare = [base.step(action) for action in SOLUTION]
        for (obs, reward, terminated, truncated, info), expected in zip(wrapped, bare, strict=True):
            assert (mask_clock(obs), reward, terminated, truncated) == (mask_clock(expected[0]), *expected[1:4])
            info = {k: v for k, v in info.items() if k not in ("expert_calls", "expert_available")}
            assert json.loads(mask_clock(json.dumps(info))) == json.loads(mask_clock(json.dumps(expected[4])))
        assert wrapped[-1][1] == 1.0 and wrapped[-1][4]["verifier"]["label"] == "complete"

    def test_context_carries_task_tools_trajectory_and_earlier_advice(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        env.step(SOLUTION[0])
        env.step(ask("first"))
        env.step(ask("second"))
        context = expert.calls[-1][1]
        assert (context.scenario, context.task_idx) == ("awmgym_pet_clinic", 3)
        assert context.task == base.unwrapped.task
        assert names(context.tools) == names(base.unwrapped.tool_schemas())
        assert [step["action"] for step in context.trajectory] == [SOLUTION[0]]
        assert context.advice == [{"question": "first", "answer": "Advice on: first"}]
        assert context.verifier_code is None

    def test_verifier_informed_mode_gives_the_expert_the_verifier_code(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        env = ExpertAdvice(base, expert, verifier_informed=True)
        env.reset(seed=0, options={"task_idx": 3})
        env.step(ask())
        code = base.unwrapped.scenario.verifier("code", 3).code
        assert code and expert.calls[0][1].verifier_code == code

    @pytest.mark.parametrize(
        "arguments", [{}, {"question": ""}, {"question": 3}, "not an object"], ids=["none", "empty", "int", "string"]
    )
    def test_bad_arguments_are_an_invalid_arguments_error(
        self, base: gym.Env, expert: ScriptedExpert, arguments: Any
    ) -> None:
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, reward, terminated, truncated, info = env.step(json.dumps({"name": "ask_expert", "arguments": arguments}))
        assert obs.startswith('Invalid arguments for ask_expert: expected {"question": "<your question>"}')
        assert info["error"] == {"type": "invalid_arguments", "message": obs}
        assert info["expert_call"]["status"] == "invalid_arguments" and info["expert_calls"] == 0
        assert expert.calls == [] and not terminated


class TestBudget:
    def test_calls_over_budget_are_refused_without_calling_the_expert(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        env = ExpertAdvice(base, expert, max_calls=1)
        env.reset(seed=0, options={"task_idx": 3})
        env.step(ask("one"))
        obs, reward, terminated, truncated, info = env.step(ask("two"))
        assert obs == (
            "Expert budget exhausted: all 1 expert calls of this episode are used. Continue with the other tools."
        )
        assert info["expert_call"] == {"question": "two", "answer": None, "latency_s": 0.0, "status": "over_budget"}
        assert info["expert_calls"] == 1 and len(expert.calls) == 1

    def test_the_budget_is_per_episode(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert, max_calls=1)
        for _ in range(2):
            env.reset(seed=0, options={"task_idx": 3})
            assert env.step(ask())[4]["expert_call"]["status"] == "answered"


class TestStepLimit:
    def test_by_default_expert_calls_do_not_count(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        for _ in range(MAX_STEPS + 2):
            assert env.step(ask())[2:4] == (False, False)
        for _ in range(MAX_STEPS - 1):
            assert env.step(call("get_my_profile"))[2:4] == (False, False)
        assert env.step(call("get_my_profile"))[3] is True

    def test_an_expert_call_at_the_limit_truncates_and_runs_the_verifier(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        env = ExpertAdvice(base, expert, count_toward_max_steps=True)
        env.reset(seed=0, options={"task_idx": 3})
        for _ in range(MAX_STEPS - 1):
            assert env.step(ask())[2:4] == (False, False)
        obs, reward, terminated, truncated, info = env.step(ask("last"))
        assert (terminated, truncated, reward) == (False, True, 0.0)
        assert obs == "Advice on: last\n\nEpisode finished: the step limit was reached. Verifier (code mode): others."
        assert info["final_answer"] == "" and info["verifier"]["label"] == "others" and info["step"] == MAX_STEPS
        with pytest.raises(ResetNeeded, match=re.escape("call reset() before step()")):
            env.step(ask())

    def test_the_env_truncates_its_own_step_at_the_combined_limit(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """Three expert calls leave five env steps; the fifth is the env's truncation, with its verdict."""
        env = ExpertAdvice(base, expert, count_toward_max_steps=True)
        env.reset(seed=0, options={"task_idx": 3})
        for _ in range(3):
            env.step(ask())
        for action in SOLUTION[:3]:
            assert env.step(action)[2:4] == (False, False)
        env.step(call("get_my_profile"))
        obs, reward, terminated, truncated, info = env.step(call("get_my_profile"))
        assert (terminated, truncated) == (False, True)
        assert obs.endswith("Episode finished: the step limit was reached. Verifier (code mode): complete.")
        assert reward == 1.0 and info["verifier"]["label"] == "complete" and info["step"] == MAX_STEPS

    def test_expert_steps_stay_out_of_the_trajectory(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """Counted expert steps use up the budget but never enter what the verifier and judge see."""
        env = ExpertAdvice(base, expert, count_toward_max_steps=True)
        env.reset(seed=0, options={"task_idx": 3})
        env.step(ask())
        env.step(SOLUTION[0])
        assert [step["action"] for step in base.unwrapped.trajectory] == [SOLUTION[0]]
        _, info = env.reset(seed=0, options={"task_idx": 3})
        assert info["max_steps"] == MAX_STEPS


class TestAvailability:
    def test_seeded_resets_draw_the_same_availability(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert, availability=0.5)
        first = [env.reset(seed=seed, options={"task_idx": 0})[1]["expert_available"] for seed in range(16)]
        second = [env.reset(seed=seed, options={"task_idx": 0})[1]["expert_available"] for seed in range(16)]
        assert first == second and 0 < sum(first) < 16

    def test_unseeded_resets_continue_the_seeded_stream(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert, availability=0.5)

        def run() -> list[bool]:
            draws = [env.reset(seed=5, options={"task_idx": 0})[1]["expert_available"]]
            return draws + [env.reset(options={"task_idx": 0})[1]["expert_available"] for _ in range(12)]

        assert run() == run()

    def test_the_task_sequence_is_the_same_as_without_the_wrapper(self, base: gym.Env, expert: ScriptedExpert) -> None:
        """The availability stream is spawned from the env's RNG without advancing it."""
        env = ExpertAdvice(base, expert, availability=0.5)
        wrapped = [env.reset(seed=11)[1]["task_idx"]] + [env.reset()[1]["task_idx"] for _ in range(8)]
        bare = [base.reset(seed=11)[1]["task_idx"]] + [base.reset()[1]["task_idx"] for _ in range(8)]
        assert wrapped == bare

    def test_set_availability_applies_from_the_next_reset(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert)
        outer = gym.wrappers.RecordEpisodeStatistics(env)
        assert outer.reset(seed=0, options={"task_idx": 0})[1]["expert_available"] is True
        outer.get_wrapper_attr("set_availability")(0.0)
        assert env.availability == 0.0
        assert outer.reset(seed=0, options={"task_idx": 0})[1]["expert_available"] is False

    def test_options_force_availability_for_one_reset(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert, availability=0.0)
        assert env.reset(options={"task_idx": 0, "expert_available": True})[1]["expert_available"] is True
        assert env.reset(options={"task_idx": 0})[1]["expert_available"] is False

    def test_a_scaffold_schedule_fades_the_expert_as_episodes_complete(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        schedule = ScaffoldSchedule((1.0, 0.0), window=1, advance_at=1.0)
        env = ExpertAdvice(base, expert, availability=schedule)
        assert env.reset(seed=0, options={"task_idx": 3})[1]["expert_available"] is True
        for action in SOLUTION:
            *_, info = env.step(action)
        assert info["verifier"]["label"] == "complete" and schedule.phase == 1
        assert env.reset(seed=0, options={"task_idx": 3})[1]["expert_available"] is False

    @pytest.mark.parametrize("value", [-0.1, 1.5, "high", True])
    def test_a_probability_outside_0_1_is_rejected(self, base: gym.Env, expert: ScriptedExpert, value: Any) -> None:
        with pytest.raises(ConfigurationError, match=re.escape("must be a probability in [0, 1]")):
            ExpertAdvice(base, expert, availability=value)


class TestNudge:
    def test_the_nudge_follows_tool_errors_only(self, base: gym.Env, expert: ScriptedExpert) -> None:
        env = ExpertAdvice(base, expert, nudge=True)
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_, info = env.step(call("get_pet"))
        assert info["error"]["type"] == "invalid_arguments"
        assert obs == f"{info['error']['message']}\n\n{DEFAULT_NUDGE}"
        obs, *_ = env.step(call("get_my_profile"))
        assert DEFAULT_NUDGE not in obs

    def test_no_nudge_once_the_budget_is_spent_or_without_the_expert(
        self, base: gym.Env, expert: ScriptedExpert
    ) -> None:
        env = ExpertAdvice(base, expert, nudge="Ask if stuck.", max_calls=1)
        env.reset(seed=0, options={"task_idx": 3})
        assert env.step("<tool_call>oops</tool_call>")[0].endswith("\n\nAsk if stuck.")
        env.step(ask())
        assert not env.step("<tool_call>oops</tool_call>")[0].endswith("Ask if stuck.")
        env.reset(seed=0, options={"task_idx": 3, "expert_available": False})
        assert not env.step("<tool_call>oops</tool_call>")[0].endswith("Ask if stuck.")


class TestFailures:
    def test_an_expert_that_raises_gives_an_observation(self, base: gym.Env) -> None:
        def broken(question: str, context: ExpertContext) -> str:
            raise RuntimeError("boom")

        env = ExpertAdvice(base, broken)
        env.reset(seed=0, options={"task_idx": 3})
        obs, reward, terminated, truncated, info = env.step(ask())
        assert obs == "Expert unavailable: RuntimeError: boom. Continue with the other tools."
        assert info["expert_call"]["status"] == "failed" and info["expert_call"]["error"] == "RuntimeError: boom"
        assert info["expert_calls"] == 1 and (reward, terminated, truncated) == (0.0, False, False)
        assert env.step(SOLUTION[0])[0].startswith("[")

    def test_an_expert_returning_no_text_is_a_failure(self, base: gym.Env) -> None:
        env = ExpertAdvice(base, lambda question, context: None)  # type: ignore[arg-type,return-value]
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_ = env.step(ask())
        assert obs.startswith("Expert unavailable: TypeError: the expert returned NoneType, expected str")

    def test_an_http_error_of_the_openai_expert_gives_an_observation(
        self, base: gym.Env, server: FakeOpenAIServer
    ) -> None:
        server.enqueue(ErrorReply(500, "the model is down"), model="expert-http-error")
        expert = OpenAIExpert(base_url=server.base_url, model="expert-http-error", max_retries=0)
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_, info = env.step(ask())
        assert obs.startswith("Expert unavailable: LLMError: chat completion with model 'expert-http-error'")
        assert "the model is down" in obs and info["expert_call"]["status"] == "failed"

    def test_a_timeout_of_the_openai_expert_gives_an_observation(self, base: gym.Env, server: FakeOpenAIServer) -> None:
        server.enqueue(DelayedReply(3.0, "too late"), model="expert-slow")
        expert = OpenAIExpert(base_url=server.base_url, model="expert-slow", timeout=0.3, max_retries=0)
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_, info = env.step(ask())
        assert obs.startswith("Expert unavailable: LLMError:") and "Timeout" in obs
        assert info["expert_call"]["latency_s"] < 2.0


class TestOpenAIExpert:
    def test_the_expert_model_sees_the_task_tools_trajectory_and_question(
        self, base: gym.Env, server: FakeOpenAIServer
    ) -> None:
        server.enqueue("Call cancel_appointment with appointment_id 9.", model="expert-ok")
        env = ExpertAdvice(
            base, OpenAIExpert(base_url=server.base_url, model="expert-ok", temperature=0.2, max_tokens=64)
        )
        env.reset(seed=0, options={"task_idx": 3})
        env.step(SOLUTION[0])
        obs, *_ = env.step(ask("How do I cancel it?"))
        assert obs == "Call cancel_appointment with appointment_id 9."
        request = [r for r in server.requests if r["model"] == "expert-ok"][-1]
        assert (request["temperature"], request["max_tokens"]) == (0.2, 64)
        system, user = request["messages"]
        assert system["role"] == "system" and "advise an AI agent" in system["content"]
        assert base.unwrapped.task in user["content"] and "- cancel_appointment(" in user["content"]
        assert SOLUTION[0] in user["content"] and user["content"].endswith("The agent asks: How do I cancel it?")
        assert "def verify" not in user["content"] and "ask_expert" not in user["content"]

    def test_verifier_informed_prompts_include_the_verifier_code(self, base: gym.Env, server: FakeOpenAIServer) -> None:
        server.enqueue("Cancel appointment 9.", model="expert-informed")
        env = ExpertAdvice(
            base, OpenAIExpert(base_url=server.base_url, model="expert-informed"), verifier_informed=True
        )
        env.reset(seed=0, options={"task_idx": 3})
        env.step(ask())
        request = [r for r in server.requests if r["model"] == "expert-informed"][-1]
        code = base.unwrapped.scenario.verifier("code", 3).code
        assert code.strip() in request["messages"][1]["content"]

    def test_an_empty_reply_is_a_failure(self, base: gym.Env, server: FakeOpenAIServer) -> None:
        server.enqueue("   ", model="expert-empty")
        env = ExpertAdvice(base, OpenAIExpert(base_url=server.base_url, model="expert-empty"))
        env.reset(seed=0, options={"task_idx": 3})
        obs, *_ = env.step(ask())
        assert obs.startswith("Expert unavailable: LLMError: the expert model 'expert-empty'")


class TestStack:
    def test_expert_advice_must_sit_below_chat_messages(self, base: gym.Env, expert: ScriptedExpert) -> None:
        with pytest.raises(ConfigurationError, match=re.escape("build ChatMessages(ExpertAdvice(env, expert))")):
            ExpertAdvice(ChatMessages(base), expert)

    def test_expert_advice_is_used_once_per_stack(self, base: gym.Env, expert: ScriptedExpert) -> None:
        with pytest.raises(ConfigurationError, match="ExpertAdvice is already in this stack"):
            ExpertAdvice(ExpertAdvice(base, expert), expert)

    def test_the_env_must_be_an_awm_env(self, expert: ScriptedExpert) -> None:
        env = gym.make("CartPole-v1")
        with pytest.raises(
            ConfigurationError, match=r"ExpertAdvice needs an AWMEnv at the bottom of its stack \(.*\), got CartPoleEnv"
        ):
            ExpertAdvice(env, expert)
        env.close()

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"expert": "not callable"}, "expert must be a callable (question, context) -> str"),
            ({"max_calls": -1}, "max_calls must be None or an int >= 0, got -1"),
        ],
        ids=["expert", "max_calls"],
    )
    def test_bad_options_are_rejected(self, base: gym.Env, expert: ScriptedExpert, options: dict, message: str) -> None:
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            ExpertAdvice(base, **{"expert": expert, **options})

    def test_steps_before_reset_are_refused(self, base: gym.Env, expert: ScriptedExpert) -> None:
        with pytest.raises(ResetNeeded):
            ExpertAdvice(base, expert).step(ask())
