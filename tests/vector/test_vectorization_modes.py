"""gym.make_vec's vectorisation modes agree: the same seeds and actions give the same results in each."""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence

import awm_gym  # noqa: F401 - registers the AWM/ ids

CLINIC_ID = "AWM/awmgym_pet_clinic-v0"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})
ANSWER = "Done, with a note: naïve café ☕ 中文 😀."  # non-ASCII text must survive every mode
STEPS = [[READ, READ], [ANSWER, READ], [READ, ANSWER], [READ, READ]]

MODES: dict[str, dict[str, Any]] = {
    "vector_entry_point": {"vectorization_mode": "vector_entry_point"},
    "sync": {"vectorization_mode": "sync"},
    "async with shared memory": {"vectorization_mode": "async", "vector_kwargs": {"shared_memory": True}},
    "async without shared memory": {"vectorization_mode": "async", "vector_kwargs": {"shared_memory": False}},
}


def _run(mode: dict[str, Any]) -> list[Any]:
    envs = gym.make_vec(CLINIC_ID, num_envs=2, max_steps=3, **mode)
    try:
        results: list[Any] = [envs.reset(seed=0, options={"task_idx": 2})]
        results += [envs.step(actions) for actions in STEPS]
    finally:
        envs.close()
    return results


@pytest.fixture(scope="module")
def reference() -> list[Any]:
    return _run(MODES["vector_entry_point"])


@pytest.mark.parametrize("mode", [name for name in MODES if name != "vector_entry_point"])
def test_every_mode_returns_what_the_vector_entry_point_returns(mode: str, reference: list[Any]) -> None:
    """Observations (non-ASCII included), rewards, terminations, truncations and infos are identical."""
    results = _run(MODES[mode])
    for number, (got, expected) in enumerate(zip(results, reference, strict=True)):
        assert data_equivalence(got, expected), f"{mode}: call {number} differs\n{got}\n!=\n{expected}"
    observations = [observation for result in results for observation in result[0]]
    assert any("Episode finished" in observation for observation in observations)
    assert all(isinstance(observation, str) and observation.strip("0") for observation in observations)
