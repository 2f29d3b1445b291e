"""AWMEnv through Gymnasium's API, on bundled scenarios and on release-format test data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

import awm_gym
from awm_gym.envs import AWMEnv
from awm_gym.errors import ConfigurationError
from awm_gym.testing import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its stripped stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def env():
    env = gym.make("AWM/awmgym_pet_clinic-v0", max_steps=5)
    yield env
    env.close()


@pytest.fixture(scope="module")
def shop(release_dir: Path):
    env = AWMEnv("tiny_shop_1", data_dir=release_dir, max_steps=5)
    yield env
    env.close()


class TestMakeAndRegistry:
    def test_every_scenario_is_registered(self) -> None:
        """import awm_gym registers AWM/<name>-v0 for each scenario found."""
        assert all(awm_gym.env_id(name) in gym.registry for name in awm_gym.list_scenarios())

    def test_module_prefix_form_needs_no_prior_import(self) -> None:
        """gym.make("awm_gym:AWM/...") imports the package itself (Gymnasium 1.x has no plugin hook)."""
        code = (
            "import gymnasium as gym\n"
            "env = gym.make('awm_gym:AWM/awmgym_library_loans-v0')\n"
            "obs, info = env.reset(seed=1)\n"
            "print(info['scenario'])\n"
            "env.close()\n"
        )
        assert _python(code) == "awmgym_library_loans"

    def test_import_loads_no_web_stack(self) -> None:
        """import awm_gym stays light: no FastAPI, uvicorn, httpx, openai, SQLAlchemy or torch."""
        code = "import sys, awm_gym; print(sorted(m for m in ('fastapi', 'uvicorn', 'httpx', 'openai', 'sqlalchemy', 'torch') if m in sys.modules))"
        assert _python(code) == "[]"

    def test_unknown_scenario_id(self) -> None:
        """A scenario that is not present cannot be made and the error says where scenarios come from."""
        with pytest.raises(awm_gym.ScenarioNotFoundError, match="AWM_DATA_DIR"):
            AWMEnv("workflow_automation_1")


class TestEpisode:
    def test_reset_describes_the_task_and_tools(self, env) -> None:
        """The observation states the task and how to act; info holds the task and OpenAI tool schemas."""
        obs, info = env.reset(seed=0, options={"task_idx": 4})
        assert info["scenario"] == "awmgym_pet_clinic" and info["task_idx"] == 4 and info["max_steps"] == 5
        assert info["task"] in obs and "<tool_call>" in obs and "list_my_pets(" in obs
        assert {t["function"]["name"] for t in info["tools"]} == set(env.unwrapped.host.tools.tools)
        assert all(t["type"] == "function" and "parameters" in t["function"] for t in info["tools"])

    def test_seeded_reset_picks_the_same_task(self, env) -> None:
        """The same seed gives the same task; different seeds cover several tasks."""
        picks = [env.reset(seed=s)[1]["task_idx"] for s in (7, 8, 9, 10, 11, 7)]
        assert picks[0] == picks[-1] and len(set(picks)) > 1

    def test_constructor_task_idx_and_its_validation(self, release_dir: Path) -> None:
        """task_idx fixes the task; out-of-range values are rejected with the valid range."""
        with AWMEnv("tiny_notes_2", data_dir=release_dir, task_idx=1) as fixed:
            assert fixed.reset(seed=123)[1]["task_idx"] == 1
            with pytest.raises(ConfigurationError, match=r"\[0, 1\]"):
                fixed.reset(options={"task_idx": 2})
        with pytest.raises(ConfigurationError, match="task_idx"):
            AWMEnv("tiny_notes_2", data_dir=release_dir, task_idx=9)

    def test_tool_step(self, env) -> None:
        """A tool call returns the app's result with reward 0 and records the call in info."""
        env.reset(options={"task_idx": 0})
        obs, reward, terminated, truncated, info = env.step('{"name": "get_pet", "arguments": {"pet_id": 1}}')
        assert json.loads(obs)["id"] == 1
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert info["tool_call"] == {"name": "get_pet", "arguments": {"pet_id": 1}} and "error" not in info

    @pytest.mark.parametrize("name", ["verify", "done", "__list_scenarios__", "ask_expert"])
    def test_no_name_reaches_the_verifier_mid_episode(self, env, name: str) -> None:
        """Reserved-looking names are unknown tools: error observation, reward 0, episode goes on."""
        env.reset(options={"task_idx": 0})
        obs, reward, terminated, truncated, info = env.step(
            json.dumps({"name": name, "arguments": {"verifier_mode": "code"}})
        )
        assert obs == f"Unknown tool: {name}" and reward == 0.0 and not (terminated or truncated)
        assert info["error"] == {"type": "unknown_tool", "message": obs} and "verifier" not in info

    def test_bad_arguments_and_malformed_calls(self, env) -> None:
        """Schema violations and unreadable calls give typed errors; the episode continues."""
        env.reset(options={"task_idx": 0})
        _, _, _, _, info = env.step('{"name": "get_pet", "arguments": {"pet_id": "one"}}')
        assert info["error"]["type"] == "invalid_arguments"
        assert info["error"]["message"] == "Input validation error: 'one' is not of type 'integer'"
        obs, _, terminated, _, info = env.step("<tool_call>{oops</tool_call>")
        assert info["error"]["type"] == "malformed_call" and obs.startswith("Invalid action:") and not terminated

    def test_final_answer_ends_with_the_verifier_reward(self, env) -> None:
        """Text without a call terminates; reward and info["verifier"] come from the verifier."""
        env.reset(options={"task_idx": 1})
        obs, reward, terminated, truncated, info = env.step("You owe nothing.")
        assert terminated and not truncated and reward == 0.0
        assert info["verifier"]["mode"] == "code" and info["verifier"]["label"] == "others"
        assert info["final_answer"] == "You owe nothing." and "Verifier (code mode): others" in obs
        with pytest.raises(ResetNeeded):
            env.step("again")

    def test_step_limit_truncates_and_still_verifies(self, env) -> None:
        """At max_steps the episode is truncated and the verifier runs with an empty answer."""
        env.reset(options={"task_idx": 0})
        for _ in range(4):
            assert not env.step('{"name": "list_veterinarians", "arguments": {}}')[3]
        obs, reward, terminated, truncated, info = env.step('{"name": "list_veterinarians", "arguments": {}}')
        assert truncated and not terminated and info["final_answer"] == "" and info["verifier"]["label"] == "others"
        assert obs.endswith("Episode finished: the step limit was reached. Verifier (code mode): others.")

    def test_noop_pass_tasks_can_be_excluded_from_random_selection(self) -> None:
        """exclude_noop_tasks never draws a task whose verifier passes on an untouched database."""
        with AWMEnv("awmgym_workflow_automation", exclude_noop_tasks=True) as env:
            assert env.noop_tasks() == frozenset({2})
            drawn = {env.reset(seed=seed)[1]["task_idx"] for seed in range(40)}
            assert 2 not in drawn and len(drawn) >= 6
            assert env.reset(options={"task_idx": 2})[1]["task_idx"] == 2  # asking for it explicitly still works
        with AWMEnv("awmgym_workflow_automation") as env:
            assert 2 in {env.reset(seed=seed)[1]["task_idx"] for seed in range(40)}

    def test_reward_config(self, release_dir: Path) -> None:
        """reward_config maps labels to rewards; unlisted labels score 0."""
        with AWMEnv("tiny_shop_1", data_dir=release_dir, reward_config={"complete": 5.0, "others": -1.0}) as env:
            env.reset(options={"task_idx": 0})
            assert env.step("It costs 25 dollars.")[1] == 5.0
            env.reset(options={"task_idx": 0})
            assert env.step("No idea.")[1] == -1.0
            env.reset(options={"task_idx": 3})  # no verifier: unverifiable
            assert env.step("ok")[1:3] == (0.0, True)

    def test_awm_meta_calls_are_understood(self, shop) -> None:
        """AWM's own agent format (list_tools, call_tool with JSON-string arguments, mcp_tool_ prefixes) works."""
        shop.reset(options={"task_idx": 0})
        catalogue = shop.step('<tool_call>{"name": "list_tools", "arguments": {}}</tool_call>')[0]
        assert catalogue.startswith("Available MCP Tools (9 tools):") and "list_products" in catalogue
        call = {"name": "call_tool", "arguments": {"tool_name": "get_product", "arguments": '{"product_id": 3}'}}
        assert json.loads(shop.step(json.dumps(call))[0])["name"] == "Lamp"
        prefixed = shop.step('{"name": "mcp_tool_mcp_server_get_product", "arguments": {"product_id": 1}}')
        assert json.loads(prefixed[0])["name"] == "Kettle" and prefixed[4]["tool_call"]["name"] == "get_product"

    def test_long_actions_and_observations_fit_the_spaces(self, release_dir: Path) -> None:
        """Observations are cut to the observation space; an over-long action is an error observation."""
        with AWMEnv("tiny_shop_1", data_dir=release_dir, max_observation_length=300, max_action_length=100) as env:
            obs, _ = env.reset(options={"task_idx": 0})
            assert len(obs) == 300 and obs.endswith("[... cut to 300 characters]")
            obs, _, terminated, _, info = env.step("x" * 101)
            assert info["error"]["type"] == "malformed_call" and not terminated and obs in env.observation_space

    def test_render_ansi(self, release_dir: Path) -> None:
        """render_mode='ansi' returns the transcript."""
        with AWMEnv("tiny_notes_2", data_dir=release_dir, render_mode="ansi") as env:
            env.reset(options={"task_idx": 1})
            env.step('{"name": "list_notes", "arguments": {}}')
            text = env.render()
        assert "How many notes" in text and "list_notes" in text and "call mom" in text

    def test_http_transport_env_matches_channel(self, release_dir: Path, shop) -> None:
        """transport='http' (real HTTP to uvicorn) gives the same observations as the private channel."""
        actions = [
            '{"name": "list_products", "arguments": {"class": "home"}}',
            '{"name": "place_order", "arguments": {"product_id": 3}}',
        ]
        with AWMEnv("tiny_shop_1", data_dir=release_dir, transport="http") as http_env:
            http_env.reset(options={"task_idx": 1})
            shop.reset(options={"task_idx": 1})
            for action in actions:
                assert http_env.step(action)[0] == shop.step(action)[0]


class TestBadActions:
    @pytest.mark.parametrize("action", [None, 3, {"name": "list_veterinarians", "arguments": {}}, ["x"], b"done"])
    def test_a_non_string_action_is_a_clear_type_error(self, env, action: object) -> None:
        """Only strings are actions; anything else is a TypeError that says so (the episode goes on)."""
        env.reset(seed=0)
        with pytest.raises(TypeError, match=f"an action must be a str .*got {type(action).__name__}"):
            env.step(action)
        assert env.step("[]")[4]["step"] == 1  # the refused action was not counted

    @pytest.mark.parametrize(
        "action",
        [
            "[" * 495 + '{"name": "list_veterinarians", "arguments": {}}' + "]" * 495,  # the 1,037 characters
            "[" * 20_000 + '{"name": "list_veterinarians", "arguments": {}}' + "]" * 20_000,
            '{"name": "get_pet", "arguments": "' + "[" * 5_000 + "]" * 5_000 + '"}',
            '{"name": "get_pet", "arguments": {"pet_id": ' + "[" * 995 + "1" + "]" * 995 + "}}",
        ],
        ids=["495 lists", "20k lists", "deep string arguments", "995-deep arguments"],
    )
    def test_deeply_nested_json_gives_an_observation(self, env, action: str) -> None:
        """However deep its JSON, a string action gives an observation (a result or an error), never an exception."""
        env.reset(seed=0)
        observation, reward, terminated, truncated, info = env.step(action)
        assert isinstance(observation, str) and observation and not terminated and reward == 0.0
        if action.startswith("[" * 495 + "{") and len(action) == 1_037:
            assert "error" not in info and info["tool_call"]["name"] == "list_veterinarians"


class TestJudgeEndpoint:
    def test_the_judge_is_read_from_the_awm_judge_variables(
        self, release_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWM_JUDGE_BASE_URL/_MODEL/_API_KEY configure the sql-mode judge (LLMEndpoint.from_env); arguments win."""
        from awm_gym.llm import LLMEndpoint

        monkeypatch.setenv("AWM_JUDGE_BASE_URL", "http://judge.invalid/v1")
        monkeypatch.setenv("AWM_JUDGE_MODEL", "judge-from-env")
        monkeypatch.setenv("AWM_JUDGE_API_KEY", "secret")
        env = AWMEnv("tiny_shop_1", data_dir=release_dir, verifier_mode="sql")
        try:
            assert env.verifier.judge == LLMEndpoint(
                base_url="http://judge.invalid/v1", model="judge-from-env", api_key="secret"
            )
        finally:
            env.close()
        env = AWMEnv("tiny_shop_1", data_dir=release_dir, verifier_mode="sql", judge_model="judge-from-argument")
        try:
            assert env.verifier.judge is not None and env.verifier.judge.model == "judge-from-argument"
        finally:
            env.close()


class TestNoSilentTaskZero:
    def test_verify_before_reset_is_refused(self, release_dir: Path) -> None:
        """verify() with no task yet raises ResetNeeded instead of silently verifying task 0."""
        env = AWMEnv("tiny_shop_1", data_dir=release_dir)
        try:
            with pytest.raises(ResetNeeded, match=r"no task to verify yet: call reset\(\) first"):
                env.verify("done")
        finally:
            env.close()


class TestGymnasiumChecks:
    def test_check_env_passes(self, env) -> None:
        """Gymnasium's env checker passes on the unwrapped env (it also makes a second instance)."""
        check_env(env.unwrapped)

    def test_a_thousand_random_actions(self, shop) -> None:
        """Random strings from the action space never raise, and every observation is in the space."""
        shop.action_space.seed(0)
        shop.reset(seed=0)
        for _ in range(1000):
            obs, reward, terminated, truncated, info = shop.step(shop.action_space.sample())
            assert obs in shop.observation_space
            if terminated or truncated:
                shop.reset()


class TestSqlMode:
    def test_sql_mode_without_a_judge_is_a_clear_error(
        self, release_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """verifier_mode='sql' needs judge settings, and the error says which."""
        monkeypatch.delenv("AWM_JUDGE_BASE_URL", raising=False)
        with pytest.raises(ConfigurationError, match="judge_base_url"):
            AWMEnv("tiny_shop_1", data_dir=release_dir, verifier_mode="sql")

    def test_sql_mode_end_to_end_with_a_judge(self, release_dir: Path) -> None:
        """The sql verifier's facts and the trajectory go to the judge over real HTTP; its verdict is the reward."""
        with FakeOpenAIServer() as server:
            server.enqueue(json.dumps({"classification": "complete", "reasoning": "order placed"}), model="judge")
            env = AWMEnv(
                "tiny_shop_1",
                data_dir=release_dir,
                verifier_mode="sql",
                judge_base_url=server.base_url,
                judge_model="judge",
            )
            try:
                env.reset(options={"task_idx": 1})
                env.step('{"name": "place_order", "arguments": {"product_id": 3, "quantity": 2}}')
                _, reward, terminated, _, info = env.step("Ordered two lamps.")
            finally:
                env.close()
            prompt = server.requests[0]["messages"][1]["content"]
        assert terminated and reward == 1.0 and info["verifier"]["label"] == "complete"
        assert info["verifier"]["result"] == {"my_orders": [[1, 1], [3, 2]]}
        assert "place_order" in prompt and "Ordered two lamps." in prompt and '"my_orders"' in prompt
