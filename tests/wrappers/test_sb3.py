"""Tests of the stable-baselines3 wrapper on a bundled scenario."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest
from helpers import wait_gone

import awm_gym  # noqa: F401  (registers the scenarios)
from awm_gym.catalog import load_reference_solutions
from awm_gym.errors import ConfigurationError
from awm_gym.wrappers.sb3 import DEFAULT_FINAL_ANSWER, SB3Spaces, default_action_menu, encode_text

pytest.importorskip("stable_baselines3")

from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

CLINIC = "awmgym_pet_clinic"
CLINIC_ID = "AWM/awmgym_pet_clinic-v0"


def make(**options: object) -> SB3Spaces:
    return SB3Spaces(gym.make(CLINIC_ID, max_steps=4), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def env() -> Iterator[SB3Spaces]:
    """One wrapped pet clinic env shared by the module."""
    env = make(observation_bytes=256)
    yield env
    pid = env.unwrapped.host.server_pid
    env.close()
    assert wait_gone([pid]) == []


class TestSpaces:
    def test_spaces(self, env: SB3Spaces) -> None:
        """Observations are a uint8 Box of observation_bytes; actions index the menu."""
        assert env.observation_space == gym.spaces.Box(0, 255, (256,), np.uint8)
        assert env.action_space == gym.spaces.Discrete(len(env.actions))
        assert env.actions[-1] == DEFAULT_FINAL_ANSWER

    def test_observation_is_the_utf8_prefix(self, env: SB3Spaces) -> None:
        """The encoding is the text's first UTF-8 bytes, zero-padded."""
        obs, info = env.reset(seed=0)
        assert obs in env.observation_space
        assert bytes(obs) == env.unwrapped.describe_task().encode()[:256]
        assert info["scenario"] == "awmgym_pet_clinic"
        assert encode_text("ab", 4).tolist() == [97, 98, 0, 0]
        assert encode_text("abcdef", 3).tolist() == [97, 98, 99]

    def test_action_sends_the_menu_entry(self, env: SB3Spaces) -> None:
        """Action k sends actions[k]; the final answer ends the episode with the verifier's reward."""
        env.reset(seed=0)
        read = env.actions.index(json.dumps({"name": "list_veterinarians", "arguments": {}}))
        obs, reward, terminated, truncated, info = env.step(np.int64(read))
        assert info["tool_call"]["name"] == "list_veterinarians" and not terminated
        assert bytes(obs[:1]) == b"["
        _, reward, terminated, _, info = env.step(len(env.actions) - 1)
        assert terminated and info["final_answer"] == DEFAULT_FINAL_ANSWER and reward == 0.0
        with pytest.raises(ValueError, match=re.escape(f"action must be in [0, {len(env.actions) - 1}] (the menu)")):
            env.step(len(env.actions))

    def test_default_menu(self, env: SB3Spaces) -> None:
        """The default menu holds the scenario's reference calls, its no-argument tools and the final answer."""
        menu = default_action_menu(env)
        solutions = load_reference_solutions()
        reference = {
            json.dumps(call) for (name, _), solution in solutions.items() if name == CLINIC for call in solution.calls
        }
        assert reference <= set(menu) and len(menu) == len(set(menu))
        assert json.dumps({"name": "list_veterinarians", "arguments": {}}) in menu
        assert menu[-1] == DEFAULT_FINAL_ANSWER

    def test_custom_menu(self) -> None:
        """A custom menu sets the Discrete size."""
        env = make(actions=["Nothing to do."])
        try:
            assert env.action_space == gym.spaces.Discrete(1)
            env.reset(seed=0)
            assert env.step(0)[2]
        finally:
            env.close()

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"actions": []}, "actions must be a non-empty sequence of strings"),
            ({"observation_bytes": 0}, "observation_bytes must be at least 1, got 0"),
        ],
    )
    def test_bad_options(self, options: dict[str, object], message: str) -> None:
        """Bad options are refused."""
        inner = gym.make(CLINIC_ID)
        try:
            with pytest.raises(ConfigurationError, match=re.escape(message)):
                SB3Spaces(inner, **options)  # type: ignore[arg-type]
        finally:
            inner.close()

    def test_refuses_a_non_text_env(self) -> None:
        """Stacking it on anything but text spaces is refused, naming the spaces found."""
        with pytest.raises(ConfigurationError, match=re.escape("SB3Spaces must wrap an env with text observations")):
            SB3Spaces(gym.make("CartPole-v1"))  # type: ignore[arg-type]


class TestStableBaselines3:
    def test_check_env_passes(self, env: SB3Spaces) -> None:
        """SB3's env checker accepts the wrapped env, with no warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env)

    def test_ppo_learns_on_a_dummy_vec_env(self) -> None:
        """PPO's MlpPolicy trains for a couple of updates on SB3's own DummyVecEnv of wrapped envs."""
        venv = DummyVecEnv([lambda: make(observation_bytes=128)] * 2)
        pids = []
        try:
            model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=2, seed=0, device="cpu")
            model.learn(64)
            assert model.num_timesteps == 64
            pids = [env.unwrapped.host.server_pid for env in venv.envs]
        finally:
            venv.close()
        assert wait_gone(pids) == []
