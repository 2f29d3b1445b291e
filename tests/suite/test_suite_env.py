"""AWM/suite-v0: a (scenario, task) per reset, on real servers, the real verifier and the real wrappers."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from harness_data import keep_datasets_cache_in, passed, write_harness_parquet
from helpers import wait_gone
from wrapping import advise, ask

import awm_gym
from awm_gym.catalog import TaskRef, TaskSet, load_reference_solutions, load_scenario
from awm_gym.envs import AWMEnv, AWMSuiteEnv, task_weights
from awm_gym.errors import ConfigurationError, ScenarioNotFoundError
from awm_gym.host.process import collect_exited
from awm_gym.vector import AWMVectorEnv, RolloutDriver
from awm_gym.vector.suite import suite_vector_env
from awm_gym.wrappers import ChatMessages, ExpertAdvice, RecordEpisodes, RewardShaping, read_episodes

PETS, BUDGET, LOANS = "awmgym_pet_clinic", "awmgym_home_budget", "awmgym_library_loans"
SOLUTIONS = load_reference_solutions()
TASKS = TaskSet.from_scenarios([PETS, BUDGET], name="train")
SHAPING = {"preset": "expert_in_the_loop", "step": -0.01, "format_error": -0.1}


@pytest.fixture(scope="module")
def suite() -> Iterator[AWMSuiteEnv]:
    """One suite env over two scenarios, shared by the tests that only reset and step it."""
    env = gym.make(awm_gym.SUITE_ID, tasks=TASKS, max_steps=12)
    yield env.unwrapped
    env.close()


def solve(env: gym.Env, scenario: str, task_idx: int) -> list[tuple[Any, ...]]:
    """Reset ``env`` to the pair and replay the reference solution; the reset and every step."""
    steps: list[tuple[Any, ...]] = [env.reset(options={"scenario": scenario, "task_idx": task_idx})]
    for action in SOLUTIONS[scenario, task_idx].actions():
        steps.append(env.step(action))
    return steps


class TestGymnasiumContract:
    def test_check_env_passes(self) -> None:
        """Gymnasium's checker accepts the suite env (spaces, seeding determinism, reset/step types)."""
        env = gym.make(awm_gym.SUITE_ID, tasks=TASKS, max_steps=5)
        check_env(env.unwrapped)
        env.close()

    def test_same_observations_infos_and_reward_as_the_scenario_env(self, suite: AWMSuiteEnv) -> None:
        """A solved episode gives what AWMEnv gives for that scenario and task: obs, info keys, verifier reward."""
        own = AWMEnv(BUDGET, max_steps=12)
        try:
            expected, got = solve(own, BUDGET, 1), solve(suite, BUDGET, 1)
        finally:
            own.close()
        assert got[0][0] == expected[0][0] and got[0][1].keys() == expected[0][1].keys()
        assert got[0][1]["tools"] == expected[0][1]["tools"] and got[0][1]["scenario"] == BUDGET
        assert [step[1:4] for step in got[1:]] == [step[1:4] for step in expected[1:]]
        assert [step[4].keys() for step in got[1:]] == [step[4].keys() for step in expected[1:]]
        assert got[-1][1] == 1.0 and got[-1][4]["verifier"]["label"] == "complete"

    def test_tools_follow_the_scenario(self, suite: AWMSuiteEnv) -> None:
        """After a switch the reset observation and info["tools"] are the new scenario's catalogue."""
        _, pets = suite.reset(options={"scenario": PETS, "task_idx": 0})
        observation, budget = suite.reset(options={"scenario": BUDGET, "task_idx": 0})
        names = {tool["function"]["name"] for tool in budget["tools"]}
        assert names != {tool["function"]["name"] for tool in pets["tools"]}
        assert "list_household_members" in names and "list_household_members" in observation


class TestDrawing:
    def test_seeded_draws_repeat_and_stay_in_the_set(self) -> None:
        """The same seed gives the same pair; draws cover the set's scenarios and never leave it."""
        env = AWMSuiteEnv(TASKS, max_steps=3)
        try:
            pairs = [(info["scenario"], info["task_idx"]) for info in (env.reset(seed=s)[1] for s in range(12))]
            again = [(info["scenario"], info["task_idx"]) for info in (env.reset(seed=s)[1] for s in range(12))]
        finally:
            env.close()
        assert pairs == again
        assert {TaskRef(*pair) for pair in pairs} <= set(TASKS) and {s for s, _ in pairs} == {PETS, BUDGET}

    def test_options_pick_the_pair(self, suite: AWMSuiteEnv) -> None:
        """scenario+task_idx pick exactly; scenario alone draws that scenario's tasks; task_idx alone keeps it."""
        info = suite.reset(options={"scenario": "AWMGym Pet Clinic", "task_idx": 4})[1]
        assert (info["scenario"], info["task_idx"]) == (PETS, 4)
        info = suite.reset(options={"task_idx": 7})[1]
        assert (info["scenario"], info["task_idx"]) == (PETS, 7)
        subset = AWMSuiteEnv([(PETS, 2), (PETS, 5), (BUDGET, 0)], max_steps=3)
        try:
            drawn = {subset.reset(seed=s, options={"scenario": PETS})[1]["task_idx"] for s in range(10)}
            outside = subset.reset(options={"scenario": LOANS, "task_idx": 9})[1]  # any loadable scenario
        finally:
            subset.close()
        assert drawn == {2, 5} and (outside["scenario"], outside["task_idx"]) == (LOANS, 9)

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            ({"scenario": "awmgym_pet_clinik"}, ScenarioNotFoundError, "Did you mean 'awmgym_pet_clinic'"),
            ({"scenario": PETS, "task_idx": 10}, ConfigurationError, "task_idx must be an int in [0, 9]"),
            ({"scenario": 3}, ConfigurationError, "options['scenario'] must be a scenario name"),
        ],
    )
    def test_bad_options_are_typed_errors(
        self, suite: AWMSuiteEnv, options: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        """An unknown scenario, an out-of-range task or a non-string scenario say what was expected."""
        with pytest.raises(error, match=re.escape(message)):
            suite.reset(options=options)

    def test_weights_steer_the_draw(self) -> None:
        """A mapping, a sequence or "scenario" sets the sampling probabilities; unlisted pairs weigh 0."""
        assert task_weights(TaskSet([(PETS, 0), (PETS, 1), (BUDGET, 0)]), "scenario").tolist() == [0.25, 0.25, 0.5]
        mapping = task_weights(TASKS, {BUDGET: 1.0, (PETS, 3): 2.0})
        assert mapping is not None and mapping[TASKS.index((PETS, 3))] == pytest.approx(2 / 12)
        assert mapping[TASKS.index((PETS, 4))] == 0.0
        only = np.zeros(len(TASKS))
        only[TASKS.index((BUDGET, 6))] = 1.0
        env = AWMSuiteEnv(TASKS, weights=list(only), max_steps=3)
        try:
            assert {(i["scenario"], i["task_idx"]) for i in (env.reset(seed=s)[1] for s in range(5))} == {(BUDGET, 6)}
        finally:
            env.close()

    @pytest.mark.parametrize(
        ("weights", "message"),
        [
            ([1.0, 2.0], "one number per task (20)"),
            ({PETS: -1.0}, "non-negative"),
            ({}, "not all zero"),
            ("x", "'scenario'"),
        ],
    )
    def test_bad_weights_are_refused(self, weights: Any, message: str) -> None:
        """Weights of the wrong length, negative or all zero are a ConfigurationError."""
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            task_weights(TASKS, weights)


class TestConstruction:
    @pytest.mark.parametrize("kwargs", [{"scenario": PETS}, {"task_idx": 1}, {"exclude_noop_tasks": True}])
    def test_per_scenario_arguments_are_refused(self, kwargs: dict[str, Any]) -> None:
        """The task set decides scenario and task; the error says how to pick or exclude pairs instead."""
        with pytest.raises(ConfigurationError, match="draws its scenario and task from the task set"):
            AWMSuiteEnv(TASKS, **kwargs)

    def test_an_empty_set_is_refused(self) -> None:
        """No pair, no episode."""
        with pytest.raises(ConfigurationError, match="the task set is empty"):
            AWMSuiteEnv(TaskSet())

    def test_a_saved_set_path_is_accepted(self, tmp_path: Path) -> None:
        """gym.make can take the path of a pinned set (what a config file holds)."""
        path = tmp_path / "train.json"
        TaskSet([(BUDGET, 2)], name="train").save(path)
        env = gym.make(awm_gym.SUITE_ID, tasks=str(path), max_steps=3)
        try:
            info = env.reset(seed=0)[1]
            assert (info["scenario"], info["task_idx"]) == (BUDGET, 2) and env.unwrapped.tasks.name == "train"
        finally:
            env.close()


class TestSwitching:
    def test_coming_back_reuses_the_scenario_zygote(self) -> None:
        """A scenario seen before in this process forks from its existing zygote (no new cold start)."""
        env = AWMSuiteEnv(TASKS, max_steps=3)
        try:
            env.reset(options={"scenario": PETS, "task_idx": 0})
            zygote, server = env.host.zygote_pid, env.host.server_pid
            env.reset(options={"scenario": BUDGET, "task_idx": 0})
            assert wait_gone([server]) == []  # keep_scenarios=1: the old server is stopped
            env.reset(options={"scenario": PETS, "task_idx": 1})
            assert env.host.zygote_pid == zygote and env.host.server_pid != server
        finally:
            env.close()

    def test_switching_leaks_no_process_or_descriptor(self) -> None:
        """A switch closes the old host without waiting for its server; each one still ends, no fd is left."""
        env = AWMSuiteEnv(TaskSet.from_scenarios([PETS, BUDGET, LOANS]), max_steps=3)
        try:
            for name in (PETS, BUDGET, LOANS):  # every zygote started, one host open
                env.reset(options={"scenario": name, "task_idx": 0})
            collect_exited(2.0)  # the previous switches' servers have exited: their pid fds are closed
            descriptors = len(os.listdir("/proc/self/fd"))
            servers = []
            for name in [PETS, BUDGET, LOANS] * 3:
                servers.append(env.host.server_pid)
                env.reset(options={"scenario": name, "task_idx": 0})
            assert len(set(servers)) == len(servers) and wait_gone(servers) == []
            assert collect_exited(2.0) == 0 and len(os.listdir("/proc/self/fd")) == descriptors
            _, reward, terminated, _, _ = env.step("done")
            assert terminated and env.scenario.name == LOANS
        finally:
            env.close()

    def test_kept_scenarios_keep_their_servers_until_close(self) -> None:
        """keep_scenarios=2 keeps the previous scenario's server running; close() stops every one of them."""
        env = AWMSuiteEnv(TASKS, max_steps=3, keep_scenarios=2)
        env.reset(options={"scenario": PETS, "task_idx": 0})
        pets = env.host.server_pid
        env.reset(options={"scenario": BUDGET, "task_idx": 0})
        budget = env.host.server_pid
        env.reset(options={"scenario": PETS, "task_idx": 2})
        assert env.host.server_pid == pets and env.live_scenarios == [BUDGET, PETS]
        env.close()
        assert wait_gone([pets, budget]) == []


class TestWrappersAndVector:
    def test_full_wrapper_stack(self, tmp_path: Path) -> None:
        """Shaping, the expert, chat messages and the recorder run on the suite: check_env, then a solved task."""
        path = tmp_path / "episodes.jsonl"
        env = RecordEpisodes(
            ChatMessages(ExpertAdvice(RewardShaping(AWMSuiteEnv(TASKS, max_steps=12), **SHAPING), advise)), path
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # check_env warns that it is given a wrapped env
            check_env(env)
        solution = SOLUTIONS[BUDGET, 1]
        observation, info = env.reset(seed=0, options={"scenario": BUDGET, "task_idx": 1})
        assert observation[1]["content"] == info["task"] and "ask_expert" in observation[0]["content"]
        env.step(ask("Where do I start?"))
        for action in solution.actions():
            _, reward, terminated, _, info = env.step(action)
        env.close()
        assert terminated and info["verifier"]["label"] == "complete" and reward > 0.5
        episodes = read_episodes(path)
        assert episodes[-1]["scenario"] == BUDGET and episodes[-1]["task_idx"] == 1

    def test_make_vec_builds_suite_sub_environments(self) -> None:
        """vector_entry_point gives an AWMVectorEnv of suite envs; seeds spread the draws; autoreset redraws."""
        envs = gym.make_vec(
            awm_gym.SUITE_ID, num_envs=3, tasks=TASKS, vectorization_mode="vector_entry_point", max_steps=2
        )
        try:
            assert isinstance(envs, AWMVectorEnv) and all(isinstance(e.unwrapped, AWMSuiteEnv) for e in envs.envs)
            _, infos = envs.reset(seed=5)
            first = list(zip(infos["scenario"].tolist(), infos["task_idx"].tolist(), strict=True))
            assert all(TaskRef(*pair) in TASKS for pair in first)
            again = envs.reset(seed=5)[1]
            assert list(zip(again["scenario"].tolist(), again["task_idx"].tolist(), strict=True)) == first
            _, rewards, terminations, _, infos = envs.step(["Done."] * 3)
            assert terminations.all() and set(infos["verifier"]["label"].tolist()) <= {"others", "complete"}
            _, _, _, _, infos = envs.step(["ignored"] * 3)  # NEXT_STEP autoreset: a fresh draw per sub-env
            assert all(TaskRef(s, int(i)) in TASKS for s, i in zip(infos["scenario"], infos["task_idx"], strict=True))
            servers = [e.unwrapped.host.server_pid for e in envs.envs]
        finally:
            envs.close()
        assert wait_gone(servers) == []

    def test_rollout_driver_draws_pairs_per_episode(self) -> None:
        """The non-lockstep driver runs suite sub-environments: each episode is a pair drawn from the set."""
        envs = suite_vector_env(2, tasks=TASKS, max_steps=3)
        try:
            episodes = list(
                RolloutDriver(envs, lambda inputs: ["Done."] * len(inputs), num_episodes=6, seed=3, progress=False)
            )
        finally:
            envs.close()
        assert len(episodes) == 6 and all(TaskRef(e.scenario, e.task_idx) in TASKS for e in episodes)
        assert len({(e.scenario, e.task_idx) for e in episodes}) > 1 and {e.label for e in episodes} <= {"others"}

    def test_rollout_driver_runs_a_task_set_once_each(self) -> None:
        """Pinned pairs go to suite sub-environments by scenario: each runs once, solved by its own solution."""
        pinned = TaskSet([(PETS, 0), (BUDGET, 1), (PETS, 3), (BUDGET, 0)])
        by_task_text = {
            load_scenario(ref.scenario).tasks[ref.task_idx]: SOLUTIONS[ref.scenario, ref.task_idx].actions()
            for ref in pinned
        }

        def replay(transcripts: list[list[dict[str, Any]]]) -> list[str]:
            actions = []
            for messages in transcripts:
                opening = next(m["content"] for m in messages if m["role"] == "user")
                task_text = next(text for text in by_task_text if text in opening)
                actions.append(by_task_text[task_text][sum(m["role"] == "assistant" for m in messages)])
            return actions

        envs = suite_vector_env(2, tasks=TASKS, max_steps=12)
        try:
            episodes = list(RolloutDriver(envs, replay, tasks=pinned, inputs="messages", progress=False))
        finally:
            envs.close()
        assert sorted((e.scenario, e.task_idx) for e in episodes) == sorted((r.scenario, r.task_idx) for r in pinned)
        assert [e.label for e in episodes] == ["complete"] * len(pinned)


class TestEndpointHit:
    @pytest.fixture(scope="class")
    def harness(self, tmp_path_factory: pytest.TempPathFactory) -> TaskSet:
        keep_datasets_cache_in(tmp_path_factory.mktemp("hf_datasets"))
        path = write_harness_parquet(tmp_path_factory.mktemp("harness") / "train.parquet")
        return TaskSet.from_scenarios(["harness_pets"], data_dir=path)

    def test_calling_the_target_operation_is_the_reward(self, harness: TaskSet) -> None:
        """1.0 iff the target operation was called (even among others), 0.0 otherwise; the verifier is not run."""
        target = passed("awmgym_pet_clinic")[1]["operation_id"]
        env = gym.make(awm_gym.SUITE_ID, tasks=harness, reward_mode="endpoint_hit", max_steps=5)
        try:
            _, info = env.reset(options={"scenario": "harness_pets", "task_idx": 1})
            assert info["endpoint_target"] == target and info["task"] == passed("awmgym_pet_clinic")[1]["description"]
            _, reward, *_ = env.step(json.dumps({"name": "list_my_pets", "arguments": {}}))
            assert reward == 0.0
            env.step(json.dumps({"name": target, "arguments": {}}))
            _, reward, terminated, _, info = env.step("Done.")
            assert (reward, terminated, info["endpoint_hit"]) == (1.0, True, {"target": target, "hit": True})
            assert info["verifier"]["label"] == "unverifiable"
            env.reset(options={"scenario": "harness_pets", "task_idx": 1})
            _, reward, _, _, info = env.step("I did nothing.")
            assert reward == 0.0 and info["endpoint_hit"]["hit"] is False
        finally:
            env.close()

    def test_verifier_mode_on_endpoint_tasks_is_unverifiable(self, harness: TaskSet) -> None:
        """Kept apart: the default reward mode never pays for an endpoint hit (the release has no verifiers)."""
        env = AWMSuiteEnv(harness, max_steps=3)
        try:
            env.reset(options={"task_idx": 0, "scenario": "harness_pets"})
            env.step(json.dumps({"name": passed("awmgym_pet_clinic")[0]["operation_id"], "arguments": {}}))
            _, reward, _, _, info = env.step("Done.")
            assert reward == 0.0 and "endpoint_hit" not in info and info["verifier"]["label"] == "unverifiable"
        finally:
            env.close()

    def test_endpoint_mode_needs_endpoint_tasks(self) -> None:
        """On AgentWorldModel-1K scenarios endpoint_hit mode says where endpoint tasks come from."""
        env = AWMSuiteEnv(TASKS, reward_mode="endpoint_hit", max_steps=3)
        try:
            with pytest.raises(ConfigurationError, match="needs endpoint tasks"):
                env.reset(options={"scenario": PETS, "task_idx": 0})
        finally:
            env.close()
