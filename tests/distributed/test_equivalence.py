"""RayVectorEnv against AWMVectorEnv: the same seeds and actions give the same outputs, errors included."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import ray.cloudpickle
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode

from awm_gym.catalog import TaskSet
from awm_gym.distributed import RayVectorEnv, RemoteSubEnv, plan_actors
from awm_gym.envs import AWMSuiteEnv
from awm_gym.errors import SubEnvWorkerError
from awm_gym.vector import AWMVectorEnv, RolloutDriver
from awm_gym.vector.suite import suite_vector_env
from awm_gym.wrappers import RewardShaping

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray")]

CLINIC, BUDGET = "awmgym_pet_clinic", "awmgym_home_budget"
READ_CLINIC = json.dumps({"name": "list_veterinarians", "arguments": {}})
UNKNOWN = json.dumps({"name": "verify", "arguments": {}})
MALFORMED = '{"name": "list_veterinarians", "arguments": '
ANSWER = "I am done."
LIST_TOOLS = json.dumps({"name": "list_tools", "arguments": {}})

# Four sub-environments (clinic, budget, clinic, budget), max_steps=3: episodes end by answer and by truncation
# at different steps, so autoreset hits each sub-environment at its own time; at most two end on one step.
SCRIPT = [
    [READ_CLINIC, ANSWER, LIST_TOOLS, ANSWER],
    [ANSWER, UNKNOWN, MALFORMED, ANSWER],
    [READ_CLINIC, LIST_TOOLS, ANSWER, ANSWER],
    [ANSWER, UNKNOWN, MALFORMED, READ_CLINIC],
    [ANSWER, LIST_TOOLS, UNKNOWN, ANSWER],
    [ANSWER, MALFORMED, READ_CLINIC, LIST_TOOLS],
    [UNKNOWN, ANSWER, ANSWER, MALFORMED],
]


class TaggedObservation(gym.ObservationWrapper):
    """A test wrapper (pickled by value into the actors): prefixes every observation."""

    def observation(self, observation: str) -> str:
        return f"[tagged] {observation}"


class Boom(gym.Wrapper):
    """Raises inside the sub-environment on the action "boom"."""

    def step(self, action: str) -> Any:
        if action == "boom":
            raise RuntimeError("boom!")
        return super().step(action)


# This module's classes are not importable in Ray workers: ship them by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

WRAPPERS = [functools.partial(RewardShaping, step=-0.01, format_error=-0.1), TaggedObservation, Boom]


def _without_timings(value: Any) -> Any:
    """Drop wall-clock fields (``*_s``, ``elapsed``), the only outputs allowed to differ between runs."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not (k.endswith("_s") or k == "elapsed")}
    if isinstance(value, tuple | list):
        return type(value)(_without_timings(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array([_without_timings(v) for v in value] + [None], dtype=object)[:-1]
    return value


def _play(envs: AWMVectorEnv) -> list[Any]:
    """Every output of a seeded run of SCRIPT (DISABLED mode resets the ended sub-environments itself)."""
    outputs: list[Any] = [envs.reset(seed=11)]
    for actions in SCRIPT:
        outputs.append(envs.step(actions))
        ended = outputs[-1][2] | outputs[-1][3]
        if envs.autoreset_mode is AutoresetMode.DISABLED and ended.any():
            outputs.append(envs.reset(options={"reset_mask": ended}))
    outputs.append(envs.get_attr("max_steps"))
    outputs.append(envs.call("noop_tasks"))
    return [_without_timings(output) for output in outputs]


def _build(cls: type[AWMVectorEnv], mode: AutoresetMode, **kwargs: Any) -> AWMVectorEnv:
    extra = {"envs_per_actor": 2, "num_cpus_per_actor": 0.25} if cls is RayVectorEnv else {}
    return cls([CLINIC, BUDGET], num_envs=4, max_steps=3, autoreset_mode=mode, **extra, **kwargs)


def _errors(envs: AWMVectorEnv) -> str:
    """Stepping before reset, a wrong action count and a sub-environment's exception; the exception's text."""
    with pytest.raises(ResetNeeded, match=re.escape("call reset() before step()")):
        envs.step([READ_CLINIC] * 4)
    envs.reset(seed=0, options={"task_idx": 4})
    with pytest.raises(ValueError, match=re.escape("expected one action per sub-environment (4), got 3")):
        envs.step([READ_CLINIC] * 3)
    with pytest.raises(SubEnvWorkerError) as caught:
        envs.step([READ_CLINIC, READ_CLINIC, "boom", READ_CLINIC])
    error = caught.value
    assert (error.index, error.scenario, error.task_idx, error.operation) == (2, CLINIC, 4, "step")
    assert isinstance(error.__cause__, RuntimeError) and str(error.__cause__) == "boom!"
    with pytest.raises(ResetNeeded):
        envs.step([READ_CLINIC] * 4)
    return str(error)


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda mode: mode.value)
def test_same_outputs_and_errors_as_awm_vector_env(mode: AutoresetMode) -> None:
    """Observations, rewards, terminations, truncations, infos and errors match AWMVectorEnv's in every autoreset
    mode, with wrappers applied inside the actors."""
    local = _build(AWMVectorEnv, mode, wrappers=WRAPPERS)
    try:
        expected_error = _errors(local)
        expected = _play(local)
    finally:
        local.close()
    remote = _build(RayVectorEnv, mode, wrappers=WRAPPERS)
    try:
        assert repr(remote) == "RayVectorEnv(awmgym_pet_clinic x2, awmgym_home_budget x2, num_envs=4)"
        assert remote.single_observation_space == local.single_observation_space
        assert remote.observation_space == local.observation_space and remote.metadata == local.metadata
        actual_error = _errors(remote)
        actual = _play(remote)
    finally:
        remote.close()
    assert (
        actual_error
        == expected_error
        == ("sub-environment 2 (scenario 'awmgym_pet_clinic', task 4) raised during step: RuntimeError: boom!")
    )
    assert len(actual) == len(expected)
    for step, (a, b) in enumerate(zip(actual, expected, strict=True)):
        assert data_equivalence(a, b), f"output {step} differs:\nray:   {a}\nlocal: {b}"
    assert any(output[1].min() < 0 for output in expected[1:-2] if len(output) == 5)  # shaping reached the rewards
    assert expected[0][0][0].startswith("[tagged] ")


def test_scenarios_share_actors_by_scenario(assert_gone: Any) -> None:
    """Same-scenario sub-environments are grouped into the same actors; the stand-ins mirror the remote envs;
    close() ends every actor, server and zygote."""
    envs = _build(RayVectorEnv, AutoresetMode.NEXT_STEP)
    try:
        assert [sorted(actor["indices"]) for actor in envs.placement()] == [[0, 2], [1, 3]]
        assert envs.num_actors == 2
        assert all(isinstance(env, RemoteSubEnv) for env in envs.envs)
        assert envs.scenarios == (CLINIC, BUDGET, CLINIC, BUDGET)
        envs.reset(seed=0, options={"task_idx": 2})
        assert [env.current_task_idx for env in envs.envs] == [2, 2, 2, 2]
        envs.set_attr("max_steps", [5, 6, 7, 8])
        assert envs.get_attr("max_steps") == (5, 6, 7, 8)
        assert envs.np_random_seed == (0, 1, 2, 3)
        pids = envs.process_ids()
        assert len(pids) >= 2 + 4  # two actors, four servers (and the zygotes)
    finally:
        envs.close()
    envs.close()  # idempotent
    assert_gone(pids)
    assert plan_actors([CLINIC, BUDGET, CLINIC, BUDGET, CLINIC], 2) == [[0, 2], [4, 1], [3]]


def test_a_failed_creation_names_the_sub_environment(assert_no_live_actors: Any) -> None:
    """A sub-environment that cannot be built fails the constructor with its index; no actor is left running."""
    with pytest.raises(SubEnvWorkerError, match=re.escape("sub-environment 1 could not be created")):
        RayVectorEnv([CLINIC, {"scenario": CLINIC, "max_steps": 0}], num_cpus_per_actor=0.25, envs_per_actor=1)
    assert_no_live_actors()


def test_suite_env_matches_its_local_vector_env() -> None:
    """AWMSuiteEnv sub-environments (a scenario per reset) give the same draws and outputs through Ray; the
    stand-ins and the lease follow each sub-environment's current scenario."""
    tasks = TaskSet.from_scenarios([CLINIC, BUDGET])
    script = [[LIST_TOOLS, ANSWER], [ANSWER, UNKNOWN], [UNKNOWN, LIST_TOOLS], [ANSWER, ANSWER]]
    outputs = []
    local = suite_vector_env(2, tasks=tasks, max_steps=3)
    remote = RayVectorEnv(
        env_fns=[functools.partial(AWMSuiteEnv, tasks, max_steps=3)] * 2, envs_per_actor=2, num_cpus_per_actor=0.25
    )
    try:
        for envs in (local, remote):
            run = [envs.reset(seed=5)] + [envs.step(actions) for actions in script]
            outputs.append([_without_timings(output) for output in run])
        for step, (a, b) in enumerate(zip(outputs[1], outputs[0], strict=True)):
            assert data_equivalence(a, b), f"output {step} differs:\nray:   {a}\nlocal: {b}"
        with remote.lend() as lease:
            _, info = lease.submit(0, "reset", options={"scenario": BUDGET, "task_idx": 1}).result()
            assert (lease.scenario(0), lease.task_idx(0)) == (BUDGET, 1) == (info["scenario"], info["task_idx"])
            assert lease.serves(1) == {CLINIC, BUDGET}
        pairs = [(BUDGET, 1), (CLINIC, 2), (BUDGET, 3)]
        episodes = RolloutDriver(remote, lambda inputs: [ANSWER] * len(inputs), tasks=pairs, progress=False)
        assert sorted((e.scenario, e.task_idx) for e in episodes) == sorted(pairs)
    finally:
        local.close()
        remote.close()
