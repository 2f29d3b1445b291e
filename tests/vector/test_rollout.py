"""Tests of the non-lockstep rollout driver on real sub-environments."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest
from helpers import assert_gone, server_pids

from awm_gym.catalog import load_reference_solutions
from awm_gym.errors import ConfigurationError
from awm_gym.llm import OpenAIPolicy
from awm_gym.testing.openai_server import FakeOpenAIServer, ToolCallReply
from awm_gym.vector import AWMVectorEnv, Episode, RolloutDriver, SubEnvWorkerError, VectorState, rollouts

CLINIC = "awmgym_pet_clinic"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})
ANSWER = "Done."


def turns(history: list[dict[str, Any]]) -> int:
    """Actions taken so far in a "messages" input."""
    return sum(message["role"] == "assistant" for message in history)


def reads_then_answer(reads: int) -> Any:
    """A scripted policy on "messages" inputs: ``reads`` read calls, then the final answer."""

    def policy(histories: list[list[dict[str, Any]]]) -> list[str]:
        return [READ if turns(history) < reads else ANSWER for history in histories]

    return policy


@pytest.fixture(scope="module")
def clinic() -> Iterator[AWMVectorEnv]:
    """Three pet clinic sub-environments for the tests that leave them open."""
    envs = AWMVectorEnv(CLINIC, num_envs=3, max_steps=6)
    envs.reset(seed=0)
    pids = server_pids(envs)
    yield envs
    envs.close()
    assert_gone(pids)


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt during the test, even in a background job (which inherits SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def doomed() -> Iterator[AWMVectorEnv]:
    """Two fresh sub-environments for a test whose run is expected to close them."""
    envs = AWMVectorEnv(CLINIC, num_envs=2, max_steps=6)
    envs.reset(seed=0)
    yield envs
    envs.close()


class TestEpisodes:
    def test_runs_each_task_once_and_records_the_trajectory(self, clinic: AWMVectorEnv) -> None:
        """tasks= runs each task once; an Episode holds the trajectory, verdict and timing."""
        driver = RolloutDriver(clinic, reads_then_answer(2), tasks=range(10), inputs="messages", progress=False)
        episodes = list(driver)
        assert sorted(episode.task_idx for episode in episodes) == list(range(10))
        episode = episodes[0]
        assert isinstance(episode, Episode) and episode.scenario == CLINIC
        assert episode.num_steps == 3 and episode.terminated and not episode.truncated
        assert [step.action for step in episode.trajectory] == [READ, READ, ANSWER]
        assert episode.trajectory[0].observation.startswith("You are an agent")
        assert episode.label == "others" and episode.reward == 0.0 and not episode.complete
        assert episode.final_info["final_answer"] == ANSWER
        assert episode.final_observation.startswith("Episode finished: final answer received.")
        assert episode.wall_s >= episode.env_s > 0 and episode.policy_s >= 0 and episode.queue_s >= 0
        stats = driver.stats
        assert (stats.episodes, stats.steps) == (10, 30)
        assert stats.batched_inputs == 30 and 1 <= stats.mean_batch_size <= 3 and stats.max_batch_size <= 3
        assert stats.steps_per_s > 0 and stats.episodes_per_s > 0

    def test_observation_inputs_and_messages(self, clinic: AWMVectorEnv) -> None:
        """inputs="observation" gives the latest observation; Episode.messages rebuilds the chat."""
        seen: list[str] = []

        def policy(observations: list[str]) -> list[str]:
            seen.extend(observations)
            return [READ if obs.startswith("You are an agent") else ANSWER for obs in observations]

        episodes = list(rollouts(clinic, policy, num_episodes=4, progress=False))
        assert len(episodes) == 4 and {episode.num_steps for episode in episodes} == {2}
        assert sum(obs.startswith("You are an agent") for obs in seen) == 4
        messages = episodes[0].messages(system_prompt="sys")
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
        assert messages[2]["content"] == READ and '"full_name"' in messages[3]["content"]

    def test_seed_reproduces_the_first_tasks(self, clinic: AWMVectorEnv) -> None:
        """seed=s seeds sub-environment i with s + i at its first reset."""
        runs = [
            sorted(
                (e.env_index, e.task_idx)
                for e in rollouts(
                    clinic, reads_then_answer(0), num_episodes=3, seed=7, inputs="messages", progress=False
                )
            )
            for _ in range(2)
        ]
        assert runs[0] == runs[1]
        clinic.reset(seed=7)
        assert runs[0] == list(enumerate(clinic.reset(seed=7)[1]["task_idx"].tolist()))

    def test_reference_solutions_complete_every_task(self) -> None:
        """A scripted policy replaying the reference solutions completes every bundled task through the driver."""
        solutions = load_reference_solutions()
        by_task = {}
        scenarios = sorted({scenario for scenario, _ in solutions})
        with AWMVectorEnv([s for s in scenarios for _ in range(2)]) as envs:
            for (scenario, task), solution in solutions.items():
                by_task[envs.envs[scenarios.index(scenario) * 2].unwrapped.scenario.tasks[task]] = solution

            def replay(histories: list[list[dict[str, Any]]]) -> list[str]:
                actions = []
                for history in histories:
                    task = history[0]["content"].split("Task: ", 1)[1].split("\n\nTools (", 1)[0]
                    actions.append(by_task[task].actions()[turns(history)])
                return actions

            episodes = list(rollouts(envs, replay, tasks=sorted(solutions), inputs="messages", progress=False))
        assert sorted((e.scenario, e.task_idx) for e in episodes) == sorted(solutions)
        assert {e.label for e in episodes} == {"complete"} and {e.reward for e in episodes} == {1.0}


class TestBatching:
    def test_max_batch_caps_each_call(self, clinic: AWMVectorEnv) -> None:
        """No policy call gets more than max_batch inputs."""
        sizes: list[int] = []

        def policy(observations: list[str]) -> list[str]:
            sizes.append(len(observations))
            return [ANSWER] * len(observations)

        list(rollouts(clinic, policy, num_episodes=9, max_batch=2, progress=False))
        assert max(sizes) <= 2 and sum(sizes) == 9

    def test_full_batches_when_the_window_is_long(self, clinic: AWMVectorEnv) -> None:
        """With a long max_wait_ms the driver waits for every pending episode and batches them together."""
        driver = RolloutDriver(
            clinic, reads_then_answer(3), num_episodes=3, max_wait_ms=10_000, inputs="messages", progress=False
        )
        list(driver)
        assert driver.stats.policy_calls == 4 and driver.stats.mean_batch_size == 3

    def test_episodes_do_not_wait_for_each_other(self, clinic: AWMVectorEnv) -> None:
        """A slow policy answer for one episode does not hold the others back: they finish and are yielded first."""

        async def policy(histories: list[list[dict[str, Any]]]) -> list[str]:
            slow = any("Task: " + clinic.envs[0].unwrapped.scenario.tasks[0] in h[0]["content"] for h in histories)
            await asyncio.sleep(0.4 if slow else 0.0)
            return [READ if turns(h) < 2 else ANSWER for h in histories]

        driver = RolloutDriver(
            clinic,
            policy,
            tasks=[0, 1, 2, 3, 4],
            max_batch=1,
            max_concurrent_batches=3,
            inputs="messages",
            progress=False,
        )
        order = [episode.task_idx for episode in driver]
        assert order[-1] == 0 and sorted(order) == [0, 1, 2, 3, 4]

    def test_concurrent_batches_overlap_policy_latency(self, clinic: AWMVectorEnv) -> None:
        """With max_concurrent_batches=3, up to three policy calls are in flight at once, never more."""
        lock, in_flight, most = threading.Lock(), [0], [0]
        overlapped = threading.Event()

        def policy(observations: list[str]) -> list[str]:
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                if in_flight[0] >= 2:
                    overlapped.set()
            overlapped.wait(timeout=5)  # a serial driver never starts a second call: this call waits, then goes on
            with lock:
                in_flight[0] -= 1
            return [READ if obs.startswith("You") else ANSWER for obs in observations]

        driver = RolloutDriver(clinic, policy, num_episodes=6, max_batch=1, max_concurrent_batches=3, progress=False)
        episodes = list(driver)
        assert len(episodes) == 6 and driver.stats.policy_calls == 12
        assert 2 <= most[0] <= 3

    def test_objects_with_a_batch_method(self, clinic: AWMVectorEnv) -> None:
        """An OpenAIPolicy is called through its batch method, over real HTTP."""

        def responder(request: dict[str, Any]) -> Any:
            taken = sum(message["role"] == "assistant" for message in request["messages"])
            return ToolCallReply("list_veterinarians", {}) if taken == 0 else "All done."

        with FakeOpenAIServer(responder=responder) as server:
            policy = OpenAIPolicy(base_url=server.base_url, model="agent", use_native_tools=False)
            episodes = list(
                rollouts(clinic, policy, num_episodes=3, inputs="messages", system_prompt="Be brief.", progress=False)
            )
            requests = server.requests
        assert [step.action for step in episodes[0].trajectory] == [READ, "All done."]
        assert len(requests) == 6 and requests[0]["messages"][0] == {"role": "system", "content": "Be brief."}


class TestLifecycle:
    def test_the_vector_env_is_borrowed_then_needs_a_reset(self, clinic: AWMVectorEnv) -> None:
        """During a run the vector env refuses lockstep calls; afterwards it is idle and asks for reset()."""
        for _episode in rollouts(clinic, lambda obs: [ANSWER] * len(obs), num_episodes=2, progress=False):
            assert clinic.state is VectorState.ROLLOUT
            with pytest.raises(gym.error.AlreadyPendingCallError, match=re.escape("pending call to `rollout`")):
                clinic.step([ANSWER] * 3)
        assert clinic.state is VectorState.DEFAULT
        with pytest.raises(gym.error.ResetNeeded):
            clinic.step([ANSWER] * 3)
        clinic.reset(seed=0)

    def test_breaking_out_leaves_the_envs_open(self, clinic: AWMVectorEnv) -> None:
        """Stopping the iteration early (break) waits for in-flight calls and leaves the envs usable."""
        pids = server_pids(clinic)
        for _ in rollouts(clinic, reads_then_answer(1), inputs="messages", progress=False):  # endless
            break
        assert clinic.state is VectorState.DEFAULT and not clinic.closed
        assert server_pids(clinic) == pids
        clinic.reset(seed=0)

    def test_an_exception_in_the_policy_closes_everything(self, doomed: AWMVectorEnv) -> None:
        """A policy exception propagates (with a note) and no sub-environment process remains."""
        pids = server_pids(doomed)
        calls = []

        def policy(observations: list[str]) -> list[str]:
            calls.append(1)
            if len(calls) == 3:
                raise ZeroDivisionError("model exploded")
            return [READ] * len(observations)

        with pytest.raises(ZeroDivisionError, match="model exploded") as caught:
            list(rollouts(doomed, policy, num_episodes=10, max_batch=1, progress=False))
        assert any("raised by the policy on a batch of 1 inputs" in note for note in caught.value.__notes__)
        assert doomed.closed
        assert_gone(pids)

    def test_an_async_policy_exception_closes_everything(self, doomed: AWMVectorEnv) -> None:
        """The same holds for async policies."""
        pids = server_pids(doomed)

        async def policy(observations: list[str]) -> list[str]:
            raise RuntimeError("async failure")

        with pytest.raises(RuntimeError, match="async failure"):
            list(rollouts(doomed, policy, num_episodes=2, progress=False))
        assert_gone(pids)

    def test_ctrl_c_stops_promptly_and_closes_everything(self, doomed: AWMVectorEnv, sigint_raises: None) -> None:
        """SIGINT while a slow policy runs raises KeyboardInterrupt before the policy answers; no server remains."""
        pids = server_pids(doomed)
        asked, release, answered = threading.Event(), threading.Event(), threading.Event()

        def policy(observations: list[str]) -> list[str]:
            if not asked.is_set():
                asked.set()
                os.kill(os.getpid(), signal.SIGINT)
            release.wait(timeout=30)  # a slow model: the driver must not wait for it
            answered.set()
            return [READ] * len(observations)

        try:
            with pytest.raises(KeyboardInterrupt):
                list(rollouts(doomed, policy, num_episodes=4, progress=False))
            assert not answered.is_set()  # the driver stopped while the policy call was still in flight
        finally:
            release.set()
        assert doomed.closed
        assert_gone(pids)

    def test_a_wrong_number_of_actions(self, doomed: AWMVectorEnv) -> None:
        """A policy must return one action per input."""
        pids = server_pids(doomed)
        with pytest.raises(ValueError, match=re.escape("the policy returned 0 actions for 2 inputs")):
            list(rollouts(doomed, lambda observations: [], num_episodes=2, progress=False))
        assert_gone(pids)

    def test_a_sub_environment_error(self) -> None:
        """An exception inside a sub-environment is a SubEnvWorkerError naming it; everything is closed."""

        class Boom(gym.Wrapper):
            def step(self, action: str) -> Any:
                raise OSError("disk on fire")

        with AWMVectorEnv(CLINIC, num_envs=2, wrappers=[Boom]) as envs:
            envs.reset(seed=0)
            pids = server_pids(envs)
            with pytest.raises(
                SubEnvWorkerError,
                match=r"sub-environment \d \(scenario 'awmgym_pet_clinic', task \d\) raised during step",
            ):
                list(rollouts(envs, lambda observations: [READ] * len(observations), num_episodes=2, progress=False))
            assert envs.closed
        assert_gone(pids)

    def test_progress_bar(self, clinic: AWMVectorEnv, capsys: pytest.CaptureFixture[str]) -> None:
        """progress=True shows a tqdm bar of finished episodes."""
        list(rollouts(clinic, lambda observations: [ANSWER] * len(observations), num_episodes=3))
        assert "rollouts" in capsys.readouterr().err


class TestArguments:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"tasks": [0], "num_episodes": 1}, "pass tasks (each run once) or num_episodes, not both"),
            ({"tasks": [("awmgym_home_budget", 0)]}, "no sub-environment serves scenario 'awmgym_home_budget'"),
            ({"tasks": ["x"]}, "a task must be a task index or a (scenario, task_idx) pair, got 'x'"),
            ({"max_batch": 0}, "max_batch must be at least 1, got 0"),
            ({"max_concurrent_batches": 0}, "max_concurrent_batches must be at least 1, got 0"),
            ({"inputs": "tokens"}, "inputs must be 'observation' or 'messages', got 'tokens'"),
        ],
    )
    def test_bad_options(self, clinic: AWMVectorEnv, options: dict[str, Any], message: str) -> None:
        """Bad options are refused before anything runs."""
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            RolloutDriver(clinic, lambda observations: observations, **options)

    def test_bare_task_indices_need_one_scenario(self) -> None:
        """With several scenarios, tasks must name theirs."""
        with AWMVectorEnv([CLINIC, "awmgym_home_budget"]) as envs:
            with pytest.raises(ConfigurationError, match=re.escape("a bare task index (0) is ambiguous")):
                RolloutDriver(envs, lambda observations: observations, tasks=[0])

    def test_envs_must_lend_their_sub_environments(self) -> None:
        """Only a vector env with a lend() seam can be driven."""
        with pytest.raises(ConfigurationError, match=re.escape("envs must be a vector env with a lend() method")):
            RolloutDriver([], lambda observations: observations)

    def test_a_driver_runs_once(self, clinic: AWMVectorEnv) -> None:
        """Iterating a driver twice is refused."""
        driver = RolloutDriver(
            clinic, lambda observations: [ANSWER] * len(observations), num_episodes=1, progress=False
        )
        list(driver)
        with pytest.raises(RuntimeError, match=re.escape("this RolloutDriver already ran; create a new one")):
            list(driver)
