"""Every standard way to limit an episode ends it with the verifier's reward and info["verifier"]."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import TimeLimit

from awm_gym.envs import AWMEnv

CLINIC = "awmgym_pet_clinic"
CLINIC_ID = "AWM/awmgym_pet_clinic-v0"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})


@pytest.fixture
def limited_spec_id() -> Iterator[str]:
    """A copy of the clinic's spec registered with max_episode_steps=2 (a spec's own step limit)."""
    spec = copy.deepcopy(gym.spec(CLINIC_ID))
    spec.id, spec.max_episode_steps = "AWMTest/clinic_limited-v0", 2
    gym.registry[spec.id] = spec
    yield spec.id
    del gym.registry[spec.id]


def _ends_verified_after_two_reads(env: gym.Env) -> None:
    _, info = env.reset(seed=0, options={"task_idx": 0})
    assert info["max_steps"] == 2
    _, reward, terminated, truncated, info = env.step(READ)
    assert not (terminated or truncated) and "verifier" not in info
    _, reward, terminated, truncated, info = env.step(READ)
    assert (terminated, truncated) == (False, True)
    assert info["verifier"]["label"] == "others" and reward == 0.0
    # a second episode on the same env keeps the limit
    env.reset(seed=1, options={"task_idx": 1})
    env.step(READ)
    *_, truncated, info = env.step(READ)
    assert truncated and "verifier" in info


MAKERS: dict[str, Callable[[], gym.Env]] = {
    "make(max_steps=2)": lambda: gym.make(CLINIC_ID, max_steps=2),
    "make(max_episode_steps=2)": lambda: gym.make(CLINIC_ID, max_episode_steps=2),
    "TimeLimit(AWMEnv, 2)": lambda: TimeLimit(AWMEnv(CLINIC), 2),
    "TimeLimit below the env's own lower limit": lambda: gym.make(CLINIC_ID, max_steps=2, max_episode_steps=5),
    "two TimeLimits: the lower wins": lambda: TimeLimit(gym.make(CLINIC_ID, max_episode_steps=5), 2),
}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_single_env_ends_with_the_verifier(make: Callable[[], gym.Env]) -> None:
    """The env's own limit, gym.make's max_episode_steps (a TimeLimit) or a TimeLimit by hand: the verifier runs."""
    env = make()
    try:
        _ends_verified_after_two_reads(env)
    finally:
        env.close()


def test_a_spec_step_limit_ends_with_the_verifier(limited_spec_id: str) -> None:
    """A spec registered with max_episode_steps: gym.make adds its TimeLimit, the env verifies at that step."""
    env = gym.make(limited_spec_id)
    try:
        assert env.spec is not None and env.spec.max_episode_steps == 2
        _ends_verified_after_two_reads(env)
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["vector_entry_point", "sync"])
@pytest.mark.parametrize("how", ["make_vec(max_episode_steps=2)", "spec"])
def test_make_vec_ends_with_the_verifier(mode: str, how: str, limited_spec_id: str) -> None:
    """make_vec with max_episode_steps (or a spec's) ends every sub-environment's episode with the verifier."""
    if how == "spec":
        envs = gym.make_vec(limited_spec_id, num_envs=2, vectorization_mode=mode)
    else:
        envs = gym.make_vec(CLINIC_ID, num_envs=2, vectorization_mode=mode, max_episode_steps=2)
    try:
        envs.reset(seed=0, options={"task_idx": 0})
        envs.step([READ, READ])
        _, rewards, terminations, truncations, infos = envs.step([READ, READ])
        assert truncations.tolist() == [True, True] and not terminations.any()
        assert infos["verifier"]["_label"].tolist() == [True, True]
        assert infos["verifier"]["label"].tolist() == ["others", "others"]
        np.testing.assert_array_equal(rewards, [0.0, 0.0])
    finally:
        envs.close()


def test_a_time_limit_gives_the_verdict_of_the_envs_own_limit() -> None:
    """A reference solution's calls cut by gym.make's TimeLimit get the verdict and reward the env's max_steps gives."""
    from awm_gym.catalog import load_reference_solutions

    solutions = load_reference_solutions()
    task = min(task for scenario, task in solutions if scenario == CLINIC)
    calls = solutions[(CLINIC, task)].actions()[:-1]  # the tool calls; the limit ends the episode after the last

    def last_step(**limit: int) -> tuple[Any, ...]:
        env = gym.make(CLINIC_ID, **limit)
        try:
            env.reset(seed=0, options={"task_idx": task})
            results = [env.step(action) for action in calls]
        finally:
            env.close()
        _, reward, terminated, truncated, info = results[-1]
        return reward, terminated, truncated, info["verifier"]

    expected = last_step(max_steps=len(calls))
    assert expected[2] is True
    assert last_step(max_episode_steps=len(calls)) == expected
