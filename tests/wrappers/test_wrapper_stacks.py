"""The acceptance checks of the wrapper layer, on real scenarios, real servers and the real verifier."""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import openai
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import pid_alive, wait_gone  # tests/helpers.py, on the path through tests/conftest.py
from wrapping import advise as expert
from wrapping import ask, mask_clock, run

import awm_gym  # noqa: F401 - registers the scenarios
from awm_gym.catalog.solutions import load_reference_solutions
from awm_gym.testing import FakeOpenAIServer, ToolCallReply
from awm_gym.wrappers import (
    ChatMessages,
    ExpertAdvice,
    OpenAIExpert,
    RecordEpisodes,
    RewardShaping,
    read_episodes,
    replay,
)

SCENARIO = "AWM/awmgym_pet_clinic-v0"
MAX_STEPS = 10
SOLUTION = load_reference_solutions()["awmgym_pet_clinic", 3]  # cancels Luna's appointment
ZERO = dict.fromkeys(("step", "format_error", "solo", "recovery", "blind"), 0.0)
SHAPING = {"preset": "expert_in_the_loop", "step": -0.01, "format_error": -0.1}


def expert_above(env: gym.Env, **options: Any) -> gym.Env:
    return ExpertAdvice(RewardShaping(env, **SHAPING), expert, **options)


def expert_below(env: gym.Env, **options: Any) -> gym.Env:
    return RewardShaping(ExpertAdvice(env, expert, **options), **SHAPING)


ORDERS = pytest.mark.parametrize("build", [expert_above, expert_below], ids=["expert_above", "expert_below"])

# Ask before trying anything (blind), make a format error, ask right after it (recovery), then solve.
SCRIPT = [
    ask("Where do I start?"),
    '{"name": "get_pet", "arguments": {}}',
    ask("Why did that fail?"),
    *SOLUTION.actions(),
]
SCRIPT_TERMS = [
    {**ZERO, "step": -0.01, "blind": -0.2},
    {**ZERO, "step": -0.01, "format_error": -0.1},
    {**ZERO, "step": -0.01},
    {**ZERO, "step": -0.01},
    {**ZERO, "step": -0.01},
    {**ZERO, "step": -0.01},
    {**ZERO, "step": -0.01, "recovery": 0.3},
]


def comparable(step: tuple[Any, ...]) -> tuple[Any, ...]:
    """A step without the expert's wall-clock latency and the server's clock."""
    obs, reward, terminated, truncated, info = step
    info = dict(info)
    if "expert_call" in info:
        info["expert_call"] = {k: v for k, v in info["expert_call"].items() if k != "latency_s"}
    return mask_clock(obs), reward, terminated, truncated, mask_clock(info)


def database(env: gym.Env, directory: Path) -> list[str]:
    """The live database of ``env`` as SQL."""
    _, final = env.unwrapped.host.snapshot(directory)
    connection = sqlite3.connect(final)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def base() -> Iterator[gym.Env]:
    env = gym.make(SCENARIO, max_steps=MAX_STEPS)
    yield env
    env.close()


@pytest.fixture
def fresh() -> Iterator[gym.Env]:
    env = gym.make(SCENARIO, max_steps=MAX_STEPS)
    yield env
    env.close()


class TestOrder:
    def test_both_orders_give_the_same_steps_rewards_and_infos(self, base: gym.Env) -> None:
        above = [comparable(step) for step in run(expert_above(base), SCRIPT)]
        below = [comparable(step) for step in run(expert_below(base), SCRIPT)]
        assert above == below

    def test_both_orders_agree_when_an_expert_call_ends_the_episode(self, base: gym.Env) -> None:
        script = [ask("Help?"), SOLUTION.actions()[0]] + [ask("More?")] * (MAX_STEPS - 2)
        above = [comparable(s) for s in run(expert_above(base, count_toward_max_steps=True), script)]
        below = [comparable(s) for s in run(expert_below(base, count_toward_max_steps=True), script)]
        assert above == below
        assert above[-1][3] is True and above[-1][4]["verifier"]["label"] == "others"
        assert above[-1][4]["shaping"] == {**ZERO, "step": -0.01}

    @ORDERS
    def test_the_shaped_return_matches_the_preset_term_by_term(
        self, base: gym.Env, build: Callable[..., gym.Env]
    ) -> None:
        steps = run(build(base), SCRIPT)
        assert [step[4]["shaping"] for step in steps] == SCRIPT_TERMS
        assert [step[1] for step in steps] == pytest.approx(
            [sum(terms.values()) for terms in SCRIPT_TERMS[:-1]] + [1.0 + 0.3 - 0.01]
        )
        assert sum(step[1] for step in steps) == pytest.approx(1.0 - 0.2 - 0.1 + 0.3 - 7 * 0.01)

    @ORDERS
    def test_verifier_reward_equals_the_unwrapped_envs_reward(
        self, base: gym.Env, build: Callable[..., gym.Env]
    ) -> None:
        shaped = run(build(base), SCRIPT)
        bare = run(base.unwrapped, [a for a in SCRIPT if "ask_expert" not in a])
        assert [s[4]["verifier_reward"] for s in shaped if "expert_call" not in s[4]] == [s[1] for s in bare]
        assert shaped[-1][4]["verifier"] == bare[-1][4]["verifier"]


class TestClientSideExpert:
    @ORDERS
    def test_the_server_never_sees_ask_expert(self, base: gym.Env, build: Callable[..., gym.Env]) -> None:
        env = build(base)
        _, info = env.reset(seed=0, options={"task_idx": 3})
        assert "ask_expert" in [tool["function"]["name"] for tool in info["tools"]]
        for action in SCRIPT:
            env.step(action)
        assert "ask_expert" not in base.unwrapped.host.tools
        assert "ask_expert" not in json.dumps(base.unwrapped.tool_schemas())
        assert all("ask_expert" not in step["action"] for step in base.unwrapped.trajectory)

    @ORDERS
    def test_an_expert_only_policy_changes_neither_the_database_nor_the_verdict(
        self, base: gym.Env, build: Callable[..., gym.Env], tmp_path: Path
    ) -> None:
        base.reset(seed=0, options={"task_idx": 3})
        untouched = database(base, tmp_path / "untouched")
        *_, nothing = base.step("I could not do it.")
        env = build(base)
        steps = run(env, [ask(f"Question {i}") for i in range(5)] + ["I could not do it."])
        assert database(base, tmp_path / "after") == untouched
        verdict = steps[-1][4]["verifier"]
        assert (verdict["label"], verdict["result"]) == (nothing["verifier"]["label"], nothing["verifier"]["result"])
        assert verdict["label"] == "others" and steps[-1][4]["verifier_reward"] == 0.0


EXPERT_OPTIONS = {"nudge": True, "max_calls": 3, "count_toward_max_steps": True}


def full_stack(env: gym.Env, path: Path, **expert_options: Any) -> gym.Env:
    """Every wrapper: shaping, then the expert, then chat messages, then the recorder."""
    options = {**EXPERT_OPTIONS, **expert_options}
    return RecordEpisodes(ChatMessages(ExpertAdvice(RewardShaping(env, **SHAPING), expert, **options)), path)


class TestFullStack:
    @pytest.mark.parametrize(
        "build",
        [
            lambda env, path: full_stack(env, path, availability=0.5),
            lambda env, path: ChatMessages(RecordEpisodes(RewardShaping(ExpertAdvice(env, expert), **SHAPING), path)),
        ],
        ids=["record_chat_expert_shaping", "chat_record_shaping_expert"],
    )
    def test_check_env_passes(self, tmp_path: Path, build: Callable[[gym.Env, Path], gym.Env]) -> None:
        env = build(gym.make(SCENARIO, max_steps=MAX_STEPS), tmp_path / "episodes.jsonl")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # check_env warns that it is given a wrapped env
            check_env(env)
        env.close()

    def test_closing_the_outermost_wrapper_stops_the_scenario_server(self, tmp_path: Path) -> None:
        env = full_stack(gym.make(SCENARIO, max_steps=MAX_STEPS), tmp_path / "episodes.jsonl")
        env.reset(seed=0, options={"task_idx": 3})
        env.step(ask("Anything?"))
        pid = env.unwrapped.host.server_pid
        assert pid_alive(pid)
        env.close()
        assert wait_gone([pid]) == []
        [episode] = read_episodes(tmp_path / "episodes.jsonl")
        assert episode["partial"] and episode["length"] == 1

    def test_the_stack_prints_in_order(self, base: gym.Env, tmp_path: Path) -> None:
        assert str(full_stack(base, tmp_path / "e.jsonl")) == (
            "<RecordEpisodes<ChatMessages<ExpertAdvice<RewardShaping<OrderEnforcing<PassiveEnvChecker"
            "<AWMEnv<AWM/awmgym_pet_clinic-v0>>>>>>>>"
        )

    def test_a_full_stack_recording_replays_on_a_fresh_stack(
        self, base: gym.Env, fresh: gym.Env, tmp_path: Path
    ) -> None:
        path = tmp_path / "episodes.jsonl"
        messages = [
            {"role": "assistant", "content": None, "tool_calls": [{"id": "a", "function": call}]}
            for call in [{"name": "ask_expert", "arguments": {"question": "How?"}}, *SOLUTION.calls]
        ]
        steps = run(full_stack(base, path), [*messages, SOLUTION.final_answer])
        assert steps[-1][4]["verifier"]["label"] == "complete"
        [episode] = read_episodes(path)
        assert episode["observation_format"] == "messages" and len(episode["expert_calls"]) == 1
        twin = ChatMessages(ExpertAdvice(RewardShaping(fresh, **SHAPING), expert, **EXPERT_OPTIONS))
        result = replay(episode, twin, normalize=mask_clock)
        assert result.ok and result.steps == 5 and result.verifier["label"] == "complete"


class TestWithModels:
    def test_an_llm_policy_and_an_llm_expert_on_one_loopback_server(self, base: gym.Env, tmp_path: Path) -> None:
        """The agent and the expert are two models of one OpenAI-compatible server; the env stays the judge."""
        with FakeOpenAIServer() as server:
            server.enqueue("Find Luna, then her scheduled recheck, then cancel it.", model="expert")
            agent = [ToolCallReply("ask_expert", {"question": "How do I cancel Luna's recheck?"})]
            agent += [ToolCallReply(call["name"], call["arguments"]) for call in SOLUTION.calls]
            server.enqueue(*agent, SOLUTION.final_answer, model="agent")
            path = tmp_path / "episodes.jsonl"
            stack = ExpertAdvice(RewardShaping(base, **SHAPING), OpenAIExpert(base_url=server.base_url, model="expert"))
            env = RecordEpisodes(ChatMessages(stack), path)
            client = openai.OpenAI(base_url=server.base_url, api_key="EMPTY")
            messages, info = env.reset(seed=0, options={"task_idx": 3})
            rewards, done = [], False
            while not done:
                reply = client.chat.completions.create(model="agent", messages=messages, tools=info["tools"])
                messages, reward, terminated, truncated, step_info = env.step(reply.choices[0].message)
                rewards.append(reward)
                done = terminated or truncated
            expert_request = next(r for r in server.requests if r["model"] == "expert")
        assert messages[3] == {
            "role": "tool",
            "tool_call_id": messages[2]["tool_calls"][0]["id"],
            "content": "Find Luna, then her scheduled recheck, then cancel it.",
        }
        assert "How do I cancel Luna's recheck?" in expert_request["messages"][1]["content"]
        assert step_info["verifier"]["label"] == "complete" and step_info["verifier_reward"] == 1.0
        assert sum(rewards) == pytest.approx(1.0 - 0.2 - 5 * 0.01)  # blind ask, no solo bonus
        [episode] = read_episodes(path)
        assert episode["unshaped_return"] == 1.0 and episode["shaped_return"] == pytest.approx(sum(rewards))
        assert episode["expert_calls"][0]["answer"] == "Find Luna, then her scheduled recheck, then cancel it."

    def test_the_sql_judge_the_expert_and_the_agent_share_one_server(self) -> None:
        """In sql mode the judge reads the env's trajectory, where the client-side expert never appears."""
        verdict = {
            "reasoning": "Cancelled.",
            "confidence_score": [90] * 4,
            "classification": "complete",
            "evidence": {},
        }
        with FakeOpenAIServer() as server:
            server.enqueue(json.dumps(verdict), model="judge")
            server.enqueue("Cancel appointment 9.", model="expert")
            env = gym.make(
                SCENARIO, max_steps=MAX_STEPS, verifier_mode="sql", judge_base_url=server.base_url, judge_model="judge"
            )
            expert = OpenAIExpert(base_url=server.base_url, model="expert")
            stack = RewardShaping(ExpertAdvice(env, expert, verifier_informed=True), **SHAPING)
            steps = run(stack, [ask("How do I cancel it?"), *SOLUTION.actions()])
            env.close()
            judge_request = next(r for r in server.requests if r["model"] == "judge")
            expert_request = next(r for r in server.requests if r["model"] == "expert")
        info = steps[-1][4]
        assert (info["verifier"]["mode"], info["verifier"]["label"], info["verifier_reward"]) == (
            "sql",
            "complete",
            1.0,
        )
        judged = judge_request["messages"][1]["content"]
        assert "cancel_appointment" in judged and "ask_expert" not in judged and "How do I cancel it?" not in judged
        sql_code = env.unwrapped.scenario.verifier("sql", 3).code
        assert sql_code.strip() in expert_request["messages"][1]["content"]


def test_the_package_exports_every_public_name_of_its_modules_once() -> None:
    import awm_gym.wrappers as package
    from awm_gym.wrappers import chat, expert, expert_advice, playback, recording, reward_shaping, sb3

    modules = (chat, expert, expert_advice, playback, recording, reward_shaping, sb3)
    stack_protocol = {"VirtualStepHandler", "pass_virtual_step"}  # _stack's other names are internal
    assert set(package.__all__) == {name for module in modules for name in module.__all__} | stack_protocol
    assert len(set(package.__all__)) == len(package.__all__)


class _Squatter(gym.Wrapper):
    """A foreign wrapper that writes ``key`` into every info (reset and step)."""

    def __init__(self, env: gym.Env, key: str) -> None:
        super().__init__(env)
        self.key = key

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        return observation, {**info, self.key: "mine"}

    def step(self, action: Any) -> tuple[Any, ...]:
        *result, info = self.env.step(action)
        return (*result, {**info, self.key: "mine"})


class TestInfoKeysAreOwned:
    @pytest.mark.parametrize(
        ("wrap", "key", "message"),
        [
            (lambda env: RewardShaping(_Squatter(env, "shaping")), "shaping", "already set below RewardShaping"),
            (lambda env: ExpertAdvice(_Squatter(env, "expert_calls"), expert), "expert_calls", "below ExpertAdvice"),
        ],
        ids=["RewardShaping", "ExpertAdvice"],
    )
    def test_a_key_set_below_is_refused_not_overwritten(
        self, base: gym.Env, wrap: Callable[[gym.Env], gym.Env], key: str, message: str
    ) -> None:
        """A wrapper whose info key is already set below raises ConfigurationError (a real check, kept under -O)."""
        from awm_gym.errors import ConfigurationError

        env = wrap(base)
        with pytest.raises(ConfigurationError, match=f"info key.*'{key}'.*{message}"):
            env.reset(seed=0, options={"task_idx": 3})
            env.step(ask("Where do I start?"))


class TestExpertCallForms:
    @pytest.mark.parametrize(
        "action",
        [
            ask("Q?"),
            json.dumps({"name": "mcp_tool_ask_expert", "arguments": {"question": "Q?"}}),
            json.dumps(
                {"name": "call_tool", "arguments": {"tool_name": "ask_expert", "arguments": '{"question": "Q?"}'}}
            ),
            json.dumps(
                {
                    "name": "call_tool",
                    "arguments": {"tool_name": "mcp_tool_ask_expert", "arguments": {"question": "Q?"}},
                }
            ),
        ],
        ids=["tool_call block", "mcp_tool_ prefix", "call_tool", "call_tool with a prefixed name"],
    )
    def test_every_awm_form_reaches_the_expert(self, base: gym.Env, action: str) -> None:
        """The expert wrapper reads AWM's meta-call forms exactly as the env reads them (one implementation)."""
        env = ExpertAdvice(base, expert)
        env.reset(seed=0, options={"task_idx": 3})
        observation, *_, info = env.step(action)
        assert observation == "Advice on: Q?" and info["expert_call"]["status"] == "answered"


def test_names_keep_their_old_import_paths() -> None:
    """What expert_advice and recording exported before the split still imports from there (the same objects)."""
    import awm_gym.wrappers as package
    from awm_gym.wrappers import expert_advice, recording

    for module, names in (
        (expert_advice, ("EXPERT_SYSTEM_PROMPT", "ExpertContext", "OpenAIExpert", "ScaffoldSchedule", "expert_prompt")),
        (expert_advice, ("VirtualStepHandler", "pass_virtual_step")),
        (recording, ("ReplayResult", "read_episodes", "replay")),
    ):
        for name in names:
            assert getattr(module, name) is getattr(package, name), f"{module.__name__}.{name}"
