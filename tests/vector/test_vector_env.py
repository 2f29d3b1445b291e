"""Tests of AWMVectorEnv on the bundled scenarios, with their real server processes."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import AlreadyPendingCallError, ClosedEnvironmentError, NoAsyncCallError, ResetNeeded
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode
from helpers import assert_gone, server_pids

import awm_gym
import awm_gym.vector
import awm_gym.vector.episode
import awm_gym.vector.lease
import awm_gym.vector.rollout
import awm_gym.vector.vector_env
from awm_gym.catalog import load_reference_solutions
from awm_gym.envs import AWMEnv, UnicodeText
from awm_gym.errors import ConfigurationError
from awm_gym.vector import AWMVectorEnv, SubEnvWorkerError, VectorState

CLINIC = "awmgym_pet_clinic"
CLINIC_ID = "AWM/awmgym_pet_clinic-v0"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})
ANSWER = "I am done."
LIST_TOOLS = json.dumps({"name": "list_tools", "arguments": {}})  # answered by the env, no server call


@pytest.fixture(scope="module")
def clinic() -> Iterator[AWMVectorEnv]:
    """Three pet clinic sub-environments (NEXT_STEP autoreset), shared by the tests that leave them open."""
    envs = AWMVectorEnv(CLINIC, num_envs=3, max_steps=4)
    envs.reset(seed=0)
    pids = server_pids(envs)
    yield envs
    envs.close()
    assert_gone(pids)


class TestExports:
    def test_all_is_sorted_complete_and_importable(self) -> None:
        """awm_gym.vector exports a sorted __all__ holding every module's exports, all importable."""

        def isort_style(name: str) -> tuple[int, str]:  # CONSTANTS, Classes, functions (ruff's RUF022)
            return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

        names = awm_gym.vector.__all__
        assert names == sorted(names, key=isort_style)
        modules = (awm_gym.vector.vector_env, awm_gym.vector.rollout, awm_gym.vector.episode, awm_gym.vector.lease)
        for module in modules:
            assert set(module.__all__) <= set(names), module.__name__
            assert module.__all__ == sorted(module.__all__, key=isort_style)
        for name in names:
            assert getattr(awm_gym.vector, name) is not None
        assert awm_gym.AWMVectorEnv is AWMVectorEnv


class TestConstruction:
    def test_make_vec_builds_it_with_max_episode_steps(self) -> None:
        """gym.make_vec's vector_entry_point path builds an AWMVectorEnv and passes max_episode_steps."""
        envs = gym.make_vec(CLINIC_ID, num_envs=2, vectorization_mode="vector_entry_point", max_episode_steps=3)
        try:
            assert isinstance(envs, AWMVectorEnv)
            assert repr(envs) == "AWMVectorEnv(AWM/awmgym_pet_clinic-v0, num_envs=2)"
            assert envs.get_attr("max_steps") == (3, 3)
            assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
            assert envs.single_observation_space == UnicodeText(100_000)
            assert isinstance(envs.observation_space, gym.spaces.Tuple)
            assert envs.observation_space.spaces == (envs.single_observation_space,) * 2
            assert envs.action_space.spaces == (envs.single_action_space,) * 2
        finally:
            envs.close()

    def test_make_vec_prefers_the_vector_entry_point(self) -> None:
        """Without a vectorization_mode, make_vec uses the registered vector entry point."""
        envs = gym.make_vec(CLINIC_ID, num_envs=1, autoreset_mode=AutoresetMode.SAME_STEP)
        try:
            assert isinstance(envs, AWMVectorEnv)
            assert envs.autoreset_mode is AutoresetMode.SAME_STEP
        finally:
            envs.close()

    def test_mixed_scenarios_and_tasks(self) -> None:
        """Entries may be names, (scenario, task_idx) pairs or kwargs dicts, repeated to fill num_envs."""
        entries = [CLINIC, ("awmgym_home_budget", 3), {"scenario": "awmgym_library_loans", "task_idx": 5}]
        envs = AWMVectorEnv(entries, num_envs=6, max_steps=2)
        try:
            assert envs.num_envs == 6
            assert envs.scenarios == (CLINIC, "awmgym_home_budget", "awmgym_library_loans") * 2
            _, infos = envs.reset(seed=1)
            assert infos["task_idx"][[1, 2, 4, 5]].tolist() == [3, 5, 3, 5]
            assert envs.get_attr("max_steps") == (2,) * 6
        finally:
            envs.close()

    def test_num_envs_must_be_a_multiple_of_the_entries(self) -> None:
        """A num_envs that cannot repeat the entries evenly is refused, naming the fix."""
        with pytest.raises(ConfigurationError, match=re.escape("got num_envs=3; pass num_envs=2 or omit it")):
            AWMVectorEnv([CLINIC, "awmgym_home_budget"], num_envs=3)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"scenario": None}, "pass a scenario name, a list of scenario entries, or env_fns"),
            ({"scenario": CLINIC, "num_envs": 0}, "num_envs must be a positive int, got 0"),
            ({"scenario": [42]}, "scenario entry 0 must be a scenario name"),
            ({"scenario": CLINIC, "env_fns": [lambda: None]}, "pass either env_fns or scenario"),
            ({"scenario": CLINIC, "max_workers": 0}, "max_workers must be at least 1, got 0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], message: str) -> None:
        """Inconsistent arguments raise ConfigurationError before any env starts."""
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            AWMVectorEnv(**kwargs)

    def test_env_fns_and_wrappers(self) -> None:
        """env_fns build the sub-environments and wrappers apply to each, in order."""
        envs = AWMVectorEnv(
            env_fns=[lambda: AWMEnv(CLINIC, max_steps=2)] * 2,
            wrappers=[lambda env: gym.wrappers.TransformReward(env, lambda r: 10 * r + 1)],
        )
        try:
            assert all(isinstance(env, gym.wrappers.TransformReward) for env in envs.envs)
            envs.reset(seed=0)
            _, rewards, terminations, _, _ = envs.step([READ, ANSWER])
            assert rewards.tolist() == [1.0, 1.0] and terminations.tolist() == [False, True]
        finally:
            envs.close()

    def test_awm_gym_wrappers_per_sub_environment(self) -> None:
        """awm_gym's own wrappers stack on each sub-environment; their spaces batch and their info keys come through."""
        from awm_gym.wrappers import ChatMessages, RewardShaping

        envs = AWMVectorEnv(CLINIC, num_envs=2, wrappers=[RewardShaping, ChatMessages], max_steps=4)
        try:
            assert all(isinstance(env, ChatMessages) for env in envs.envs)
            observations, _ = envs.reset(seed=0)
            assert observations in envs.observation_space and observations[0][-1]["role"] == "user"
            _, _, terminations, _, infos = envs.step([READ, ANSWER])
            assert terminations.tolist() == [False, True]
            assert infos["_verifier"].tolist() == [False, True] and infos["_verifier_reward"].all()
        finally:
            envs.close()

    def test_different_spaces_are_refused(self) -> None:
        """Sub-environments must share their spaces; the others are closed when they do not."""
        entries = [{"scenario": CLINIC}, {"scenario": CLINIC, "max_observation_length": 500}]
        with pytest.raises(ConfigurationError, match="every sub-environment must have the spaces of sub-environment 0"):
            AWMVectorEnv(entries)

    def test_a_failed_creation_names_the_sub_environment(self) -> None:
        """A sub-environment that cannot be built raises SubEnvWorkerError with its index."""
        with pytest.raises(SubEnvWorkerError, match="sub-environment 1 could not be created") as caught:
            AWMVectorEnv([CLINIC, "no_such_scenario"])
        assert caught.value.index == 1 and caught.value.operation == "create"
        assert caught.value.__cause__ is not None


class TestResetAndStep:
    def test_reset_returns_text_observations_and_batched_infos(self, clinic: AWMVectorEnv) -> None:
        """Observations are a tuple of strings in the batched space; infos are arrays with _key masks."""
        observations, infos = clinic.reset(seed=3)
        assert isinstance(observations, tuple) and len(observations) == 3
        assert observations in clinic.observation_space
        assert all(obs.startswith("You are an agent") for obs in observations)
        assert infos["scenario"].tolist() == [CLINIC] * 3 and infos["_scenario"].all()
        assert infos["task_idx"].dtype.kind == "i" and infos["_task_idx"].all()
        assert infos["max_steps"].tolist() == [4, 4, 4]

    def test_seeded_reset_reproduces_the_tasks(self, clinic: AWMVectorEnv) -> None:
        """Resetting with the same seed gives the same tasks and observations; seed i goes to env i."""
        first = clinic.reset(seed=123)
        second = clinic.reset(seed=123)
        assert data_equivalence(first, second)
        by_list = clinic.reset(seed=[123, 124, 125])
        assert data_equivalence(first, by_list)
        tasks = {tuple(clinic.reset(seed=seed)[1]["task_idx"]) for seed in range(5)}
        assert len(tasks) > 1, "different seeds should draw different tasks"

    def test_reset_options_reach_every_sub_environment(self, clinic: AWMVectorEnv) -> None:
        """options (except reset_mask) are passed to each sub-environment's reset."""
        _, infos = clinic.reset(options={"task_idx": 7})
        assert infos["task_idx"].tolist() == [7, 7, 7]

    def test_step_returns_batched_results(self, clinic: AWMVectorEnv) -> None:
        """A step gives a tuple of observations, float rewards, bool flags and batched infos."""
        clinic.reset(seed=0)
        observations, rewards, terminations, truncations, infos = clinic.step([READ, LIST_TOOLS, ANSWER])
        assert observations in clinic.observation_space
        assert '"full_name"' in observations[0]
        assert rewards.dtype == np.float64 and terminations.dtype == truncations.dtype == np.bool_
        assert terminations.tolist() == [False, False, True] and not truncations.any()
        assert infos["step"].tolist() == [1, 1, 1]
        assert infos["tool_call"]["name"].tolist() == ["list_veterinarians", "list_tools", None]
        assert infos["_tool_call"].tolist() == [True, True, False]
        assert infos["verifier"]["label"][2] == "others" and infos["_verifier"].tolist() == [False, False, True]

    @pytest.mark.parametrize(
        ("mask", "error", "message"),
        [
            ([True, False, True], TypeError, "`options['reset_mask']` must be a numpy array"),
            (np.array([True, False]), ValueError, "`options['reset_mask']` must have shape `(3,)`, got (2,)"),
            (np.array([1, 0, 1]), TypeError, "`options['reset_mask']` must have `dtype=np.bool_`"),
            (np.zeros(3, dtype=bool), ValueError, "must contain a boolean array with at least one True value"),
        ],
    )
    def test_reset_mask_is_checked(self, clinic: AWMVectorEnv, mask: Any, error: type, message: str) -> None:
        """A bad reset_mask is refused as SyncVectorEnv refuses it."""
        clinic.reset(seed=0)
        with pytest.raises(error, match=re.escape(message)):
            clinic.reset(options={"reset_mask": mask})
        assert clinic.state is VectorState.DEFAULT

    def test_wrong_number_of_actions(self, clinic: AWMVectorEnv) -> None:
        """step needs one action per sub-environment."""
        clinic.reset(seed=0)
        with pytest.raises(ValueError, match=re.escape("expected one action per sub-environment (3), got 2")):
            clinic.step([READ, READ])

    def test_async_calls_and_their_state(self) -> None:
        """step_async/step_wait follow the VectorState machine, with a timeout that keeps the call pending."""
        gate = threading.Event()

        class Gate(gym.Wrapper):  # holds every step until the test opens the gate
            def step(self, action: str) -> Any:
                gate.wait(30)
                return super().step(action)

        envs = AWMVectorEnv(CLINIC, num_envs=2, wrappers=[Gate])
        try:
            envs.reset(seed=0)
            with pytest.raises(NoAsyncCallError, match=re.escape("Calling `step_wait` without any prior call")):
                envs.step_wait()
            envs.step_async([READ] * 2)
            assert envs.state is VectorState.WAITING_STEP
            with pytest.raises(AlreadyPendingCallError, match=re.escape("waiting for a pending call to `step`")):
                envs.reset()
            with pytest.raises(
                TimeoutError, match=re.escape("2 sub-environment(s) still running. Call `step_wait` again")
            ):
                envs.step_wait(timeout=0.05)
            assert envs.state is VectorState.WAITING_STEP
            gate.set()
            observations, *_ = envs.step_wait(timeout=30)
            assert envs.state is VectorState.DEFAULT and all('"full_name"' in obs for obs in observations)
            envs.reset_async(seed=1)
            assert envs.state is VectorState.WAITING_RESET
            _, infos = envs.reset_wait()
            assert infos["_task_idx"].all() and envs.state is VectorState.DEFAULT
        finally:
            gate.set()
            envs.close()

    def test_call_get_attr_and_set_attr(self, clinic: AWMVectorEnv) -> None:
        """call/get_attr/set_attr reach every sub-environment, as in SyncVectorEnv."""
        schemas = clinic.call("tool_schemas")
        assert len(schemas) == 3 and schemas[0] == schemas[2] and schemas[0][0]["type"] == "function"
        assert clinic.get_attr("max_steps") == (4, 4, 4)
        clinic.set_attr("max_steps", [5, 6, 7])
        try:
            assert clinic.get_attr("max_steps") == (5, 6, 7)
        finally:
            clinic.set_attr("max_steps", 4)
        with pytest.raises(ValueError, match="Values must be a list or tuple with length equal"):
            clinic.set_attr("max_steps", [1])

    def test_render(self) -> None:
        """render() returns each sub-environment's transcript in ansi mode."""
        envs = AWMVectorEnv(CLINIC, num_envs=2, render_mode="ansi")
        try:
            assert envs.render_mode == "ansi"
            envs.reset(options={"task_idx": 1})
            envs.step([READ, ANSWER])
            frames = envs.render()
            assert len(frames) == 2 and all(frame.startswith("[awmgym_pet_clinic task 1]") for frame in frames)
            assert "list_veterinarians" in frames[0] and ANSWER in frames[1]
        finally:
            envs.close()

    def test_step_before_reset(self) -> None:
        """A new vector env asks for reset() first."""
        envs = AWMVectorEnv(CLINIC)
        try:
            with pytest.raises(ResetNeeded, match=re.escape("call reset() before step()")):
                envs.step([READ])
        finally:
            envs.close()

    def test_a_sub_environment_error_names_index_and_scenario(self) -> None:
        """An exception inside a sub-environment reaches the caller with its index, scenario and task."""

        class Boom(gym.Wrapper):
            def step(self, action: str) -> Any:
                if action == "boom":
                    raise RuntimeError("boom!")
                return super().step(action)

        envs = AWMVectorEnv(CLINIC, num_envs=2, wrappers=[Boom])
        try:
            _, infos = envs.reset(options={"task_idx": 4})
            expected = (
                "sub-environment 1 (scenario 'awmgym_pet_clinic', task 4) raised during step: RuntimeError: boom!"
            )
            with pytest.raises(SubEnvWorkerError, match=re.escape(expected)) as caught:
                envs.step([READ, "boom"])
            error = caught.value
            assert (error.index, error.scenario, error.task_idx, error.operation) == (1, CLINIC, 4, "step")
            assert isinstance(error.__cause__, RuntimeError)
            with pytest.raises(ResetNeeded):
                envs.step([READ, READ])
            envs.reset()
            envs.step([READ, READ])
        finally:
            envs.close()

    def test_ctrl_c_during_a_step_asks_for_a_reset(self) -> None:
        """A KeyboardInterrupt inside step() propagates; the others finish and the vector env asks for reset()."""

        class Interrupt(gym.Wrapper):
            def step(self, action: str) -> Any:
                if action == "interrupt":
                    raise KeyboardInterrupt
                return super().step(action)

        envs = AWMVectorEnv(CLINIC, num_envs=2, wrappers=[Interrupt])
        try:
            envs.reset(seed=0)
            with pytest.raises(KeyboardInterrupt):
                envs.step(["interrupt", READ])  # sub-environment 0 runs in this thread
            assert envs.state is VectorState.DEFAULT
            with pytest.raises(ResetNeeded):
                envs.step([READ, READ])
            envs.reset(seed=0)
            _, _, _, _, infos = envs.step([READ, READ])
            assert infos["step"].tolist() == [1, 1]
        finally:
            envs.close()


class TestAutoreset:
    def test_next_step(self) -> None:
        """NEXT_STEP: the step after an episode ends resets that sub-environment and ignores its action."""
        envs = AWMVectorEnv(CLINIC, num_envs=2, max_steps=4)
        try:
            envs.reset(seed=0)
            _, rewards, terminations, _, infos = envs.step([ANSWER, READ])
            assert terminations.tolist() == [True, False] and infos["_verifier"].tolist() == [True, False]
            observations, rewards, terminations, truncations, infos = envs.step([READ, READ])
            assert observations[0].startswith("You are an agent") and '"full_name"' in observations[1]
            assert rewards[0] == 0.0 and not terminations.any() and not truncations.any()
            assert infos["_task_idx"].tolist() == [True, False]  # reset info for env 0
            assert infos["_step"].tolist() == [False, True] and infos["step"][1] == 2
            _, _, _, _, infos = envs.step([READ, READ])
            assert infos["step"].tolist() == [1, 3]
        finally:
            envs.close()

    def test_same_step(self) -> None:
        """SAME_STEP: the ending step returns the reset observation; the last ones are final_obs/final_info."""
        envs = AWMVectorEnv(CLINIC, num_envs=2, max_steps=2, autoreset_mode="SameStep")
        try:
            envs.reset(seed=0)
            envs.step([READ, READ])
            observations, rewards, terminations, truncations, infos = envs.step([ANSWER, READ])
            assert terminations.tolist() == [True, False] and truncations.tolist() == [False, True]
            assert all(obs.startswith("You are an agent") for obs in observations)
            assert infos["_final_obs"].tolist() == [True, True]
            assert infos["final_obs"][0] == "Episode finished: final answer received. Verifier (code mode): others."
            assert infos["final_obs"][1].endswith(
                "Episode finished: the step limit was reached. Verifier (code mode): others."
            )
            final_info = infos["final_info"]
            assert final_info["verifier"]["label"].tolist() == ["others", "others"]
            assert final_info["final_answer"].tolist() == [ANSWER, ""]
            assert final_info["step"].tolist() == [2, 2]
            assert infos["_task_idx"].all() and "step" not in infos  # the reset infos, not the step infos
            assert rewards.tolist() == [0.0, 0.0]
            _, _, _, _, infos = envs.step([READ, READ])
            assert infos["step"].tolist() == [1, 1] and "final_obs" not in infos
        finally:
            envs.close()

    def test_disabled(self) -> None:
        """DISABLED: ended sub-environments must be reset with reset_mask before the next step."""
        envs = AWMVectorEnv(CLINIC, num_envs=2, max_steps=4, autoreset_mode=AutoresetMode.DISABLED)
        try:
            with pytest.raises(ResetNeeded, match=re.escape("a partial reset (options['reset_mask']) needs")):
                envs.reset(options={"reset_mask": np.array([True, False])})
            envs.reset(seed=0)
            stepped, _, terminations, truncations, _ = envs.step([ANSWER, READ])
            expected = "sub-environments [0] ended their episodes and autoreset_mode is DISABLED"
            with pytest.raises(ResetNeeded, match=re.escape(expected)):
                envs.step([READ, READ])
            reset_obs, infos = envs.reset(options={"reset_mask": terminations | truncations, "task_idx": 2})
            assert reset_obs[0].startswith("You are an agent") and reset_obs[1] == stepped[1]
            assert infos["_task_idx"].tolist() == [True, False] and infos["task_idx"][0] == 2
            _, _, _, _, infos = envs.step([READ, READ])
            assert infos["step"].tolist() == [1, 2]
        finally:
            envs.close()

    @pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
    def test_record_episode_statistics_on_top(self, mode: AutoresetMode) -> None:
        """Gymnasium's vector RecordEpisodeStatistics reads the episodes as they end."""
        envs = gym.wrappers.vector.RecordEpisodeStatistics(
            AWMVectorEnv(CLINIC, num_envs=2, max_steps=4, autoreset_mode=mode)
        )
        try:
            envs.reset(seed=0)
            envs.step([READ, READ])
            _, _, _, _, infos = envs.step([READ, ANSWER])
            assert infos["_episode"].tolist() == [False, True]
            assert infos["episode"]["l"][1] == 2 and infos["episode"]["r"][1] == 0.0
        finally:
            envs.close()


def test_reference_solutions_complete_every_task_as_in_the_single_env() -> None:
    """Replaying the reference solutions through the vector env completes every bundled task, as AWMEnv does."""
    solutions = load_reference_solutions()
    scenarios = sorted({scenario for scenario, _ in solutions})

    single: dict[tuple[str, int], tuple[str, float]] = {}
    for scenario in scenarios:
        env = AWMEnv(scenario)
        try:
            for (name, task), solution in sorted(solutions.items()):
                if name == scenario:
                    env.reset(options={"task_idx": task})
                    for action in solution.actions():
                        _, reward, _, _, info = env.step(action)
                    single[name, task] = (info["verifier"]["label"], float(reward))
        finally:
            env.close()

    entries = [scenario for scenario in scenarios for _ in range(2)]
    plans = {
        i: deque(sorted(task for name, task in solutions if name == entries[i])[i % 2 :: 2])
        for i in range(len(entries))
    }
    vector: dict[tuple[str, int], tuple[str, float]] = {}
    with AWMVectorEnv(entries, autoreset_mode="Disabled") as envs:
        envs.reset(seed=0)
        pids = server_pids(envs)
        current: list[int | None] = [None] * envs.num_envs
        scripts: list[deque[str]] = [deque() for _ in range(envs.num_envs)]

        def start(i: int) -> None:
            mask = np.arange(envs.num_envs) == i
            current[i] = plans[i].popleft() if plans[i] else None
            options = {"reset_mask": mask} | ({"task_idx": current[i]} if current[i] is not None else {})
            envs.reset(options=options)
            scripts[i] = deque(solutions[entries[i], current[i]].actions()) if current[i] is not None else deque()

        for i in range(envs.num_envs):
            start(i)
        while any(task is not None for task in current):
            actions = [scripts[i].popleft() if scripts[i] else LIST_TOOLS for i in range(envs.num_envs)]
            _, rewards, terminations, truncations, infos = envs.step(actions)
            for i in np.flatnonzero(terminations | truncations):
                if current[i] is not None:
                    vector[entries[i], current[i]] = (infos["verifier"]["label"][i], float(rewards[i]))
                start(i)
    assert_gone(pids)
    assert len(vector) == len(solutions) == 40
    assert vector == single
    assert {label for label, _ in vector.values()} == {"complete"}


class TestClose:
    def test_close_stops_every_server_and_is_idempotent(self) -> None:
        """close() ends every server process; a second close does nothing; later calls say it is closed."""
        envs = AWMVectorEnv(CLINIC, num_envs=2)
        envs.reset(seed=0)
        pids = server_pids(envs)
        envs.close()
        assert_gone(pids)
        envs.close()
        assert envs.closed and envs.state is VectorState.CLOSED
        with pytest.raises(ClosedEnvironmentError, match=re.escape("after a call to `close()`")):
            envs.reset()

    def test_close_waits_for_a_pending_step(self) -> None:
        """Closing while a step is pending lets it finish, then closes everything."""
        envs = AWMVectorEnv(CLINIC, num_envs=2)
        envs.reset(seed=0)
        pids = server_pids(envs)
        envs.step_async([READ, ANSWER])
        envs.close()
        assert_gone(pids)

    def test_context_manager_closes_on_exception(self) -> None:
        """Leaving a with block by an exception closes the sub-environments."""
        with pytest.raises(KeyError), AWMVectorEnv(CLINIC, num_envs=2) as envs:
            envs.reset(seed=0)
            pids = server_pids(envs)
            raise KeyError("stop")
        assert_gone(pids)


def test_infos_whose_types_differ_between_sub_environments_are_batched() -> None:
    """Arguments of different types in two sub-environments' infos become an object array, not an error."""
    with AWMVectorEnv("awmgym_pet_clinic", num_envs=2, max_steps=5) as envs:
        envs.reset(seed=0, options={"task_idx": 0})
        _, _, _, _, infos = envs.step(
            ['{"name": "get_pet", "arguments": {"pet_id": 1}}', '{"name": "get_pet", "arguments": {"pet_id": "one"}}']
        )
    assert infos["_tool_call"].tolist() == [True, True]
    assert [call["arguments"]["pet_id"] for call in infos["tool_call"]] == [1, "one"]
    assert infos["error"]["type"].tolist() == [None, "invalid_arguments"]


class TestLending:
    def test_a_lease_runs_one_sub_environment_at_a_time(self) -> None:
        """lend(): ROLLOUT state, the vector env's own calls refused, submit returns exactly what the method did."""
        with AWMVectorEnv(CLINIC, num_envs=2, max_steps=4) as envs:
            envs.reset(seed=0)
            with envs.lend() as lease:
                assert isinstance(lease, awm_gym.vector.SubEnvLease) and lease.num_envs == 2
                assert envs.state is VectorState.ROLLOUT
                with pytest.raises(AlreadyPendingCallError):
                    envs.step([READ, READ])
                observation, info = lease.submit(1, "reset", seed=3, options={"task_idx": 2}).result()
                assert info["task_idx"] == 2 and lease.task_idx(1) == 2 and lease.scenario(1) == CLINIC
                step = lease.submit(1, "step", READ).result()
                assert len(step) == 5 and step[4]["tool_call"]["name"] == "list_veterinarians"
                failed = lease.submit(1, "step", 12345).exception()  # the sub-environment's own error, as raised
                assert isinstance(failed, TypeError)
                error = lease.worker_error(1, "step", failed)
                assert (error.index, error.scenario, error.task_idx, error.operation) == (1, CLINIC, 2, "step")
                with pytest.raises(ConfigurationError, match="a lease runs 'reset' or 'step'"):
                    lease.submit(0, "close")
            assert envs.state is VectorState.DEFAULT
            with pytest.raises(ClosedEnvironmentError, match="this lease of the vector env has ended"):
                lease.submit(0, "reset")
            with pytest.raises(ResetNeeded):
                envs.step([READ, READ])
            envs.reset(seed=0)
            envs.step([READ, READ])

    def test_the_rollout_driver_needs_only_the_seam(self) -> None:
        """A vector env that offers nothing but lend() and close() (as the Ray vector env) is driven as well."""

        class OnlyLends:
            def __init__(self, envs: AWMVectorEnv) -> None:
                self._envs, self.num_envs = envs, envs.num_envs

            def lend(self) -> Any:
                return self._envs.lend()

            def close(self, **kwargs: Any) -> None:
                self._envs.close(**kwargs)

        with AWMVectorEnv(CLINIC, num_envs=2, max_steps=3) as envs:
            policy = awm_gym.vector.RolloutDriver(
                OnlyLends(envs), lambda observations: [ANSWER] * len(observations), tasks=[0, 1, 2], progress=False
            )
            episodes = list(policy)
        assert sorted(episode.task_idx for episode in episodes) == [0, 1, 2]
        assert {episode.scenario for episode in episodes} == {CLINIC}
