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
from awm_gym.wrappers.sb3 import DEFAULT_FINAL_ANSWER, SB3Spaces, default_action_menu, encode_text, hash_text

pytest.importorskip("stable_baselines3")

from sb3_contrib import MaskablePPO  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

CLINIC = "awmgym_pet_clinic"
CLINIC_ID = "AWM/awmgym_pet_clinic-v0"


def make(**options: object) -> SB3Spaces:
    return SB3Spaces(gym.make(CLINIC_ID, max_steps=4), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def env() -> Iterator[SB3Spaces]:
    """One wrapped pet clinic env shared by the module."""
    env = make(features="bytes", observation_bytes=256)
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
        read = env.actions.index(json.dumps({"name": "list_my_pets", "arguments": {}}))
        obs, reward, terminated, truncated, info = env.step(np.int64(read))
        assert info["tool_call"]["name"] == "list_my_pets" and not terminated
        assert bytes(obs[:1]) == b"["
        _, reward, terminated, _, info = env.step(len(env.actions) - 1)
        assert terminated and info["final_answer"] == DEFAULT_FINAL_ANSWER and reward == 0.0
        with pytest.raises(ValueError, match=re.escape(f"action must be in [0, {len(env.actions) - 1}] (the menu)")):
            env.step(len(env.actions))

    def test_default_menu(self, env: SB3Spaces) -> None:
        """The menu holds every task's reference calls (the distractors of the others), the answers, then Done."""
        menu = default_action_menu(env)
        solutions = [s for (name, _), s in load_reference_solutions().items() if name == CLINIC]
        reference = {json.dumps(call) for solution in solutions for call in solution.calls}
        assert reference <= set(menu) and len(menu) == len(set(menu))
        assert {solution.final_answer for solution in solutions} <= set(menu)
        assert menu[-1] == DEFAULT_FINAL_ANSWER

    def test_hashed_features(self) -> None:
        """Hashing features: task and observation vectors, the taken entries and the step fraction."""
        env = make(hash_dims=16, tasks=[3])
        try:
            assert env.observation_space == gym.spaces.Box(-1.0, 1.0, (2 * 16 + len(env.actions) + 1,), np.float32)
            obs, info = env.reset(seed=0)
            assert info["task_idx"] == 3 and obs in env.observation_space
            assert np.array_equal(obs[:16], hash_text(info["task"], 16)) and obs[-1] == 0.0
            assert env.action_masks().all()
            obs, *_ = env.step(0)
            assert obs[32] == 1.0 and obs[-1] == pytest.approx(1 / 4) and not env.action_masks()[0]
            assert env.action_masks()[-1]  # final answers are never masked
            env.reset(seed=0)
            assert env.action_masks().all()  # a new episode forgets the taken calls
        finally:
            env.close()
        assert hash_text("", 8).tolist() == [0.0] * 8
        a, b, c = hash_text("cancel my appointment"), hash_text("cancel the appointment"), hash_text("pay invoice")
        assert float(a @ b) > float(a @ c)  # shared words make vectors closer

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
            ({"observation_bytes": 0}, "observation_bytes and hash_dims must be at least 1, got 0 and 256"),
            ({"features": "pixels"}, "features must be 'hashing' or 'bytes', got 'pixels'"),
            ({"tasks": []}, "tasks must be None or a non-empty sequence of task indices"),
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
            hashed = make(hash_dims=32)
            try:
                check_env(hashed)
            finally:
                hashed.close()

    def test_ppo_trains_on_a_dummy_vec_env(self) -> None:
        """PPO's MlpPolicy trains for a couple of updates on SB3's own DummyVecEnv of wrapped envs."""
        venv = DummyVecEnv([lambda: make(hash_dims=32)] * 2)
        pids = []
        try:
            model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=2, seed=0, device="cpu")
            model.set_logger(Logger(folder=None, output_formats=[]))
            model.learn(64)
            assert model.num_timesteps == 64
            pids = [env.unwrapped.host.server_pid for env in venv.envs]
        finally:
            venv.close()
        assert wait_gone(pids) == []

    def test_maskable_ppo_training_loop(self) -> None:
        """MaskablePPO runs a few hundred steps with the masks; it never picks a masked (repeated) call."""
        venv = DummyVecEnv([lambda: SB3Spaces(gym.make(CLINIC_ID, max_steps=4), hash_dims=32, tasks=[0, 3])] * 2)
        chosen: list[tuple[np.ndarray, int]] = []
        real_step = SB3Spaces.step

        def spy(self: SB3Spaces, action: object) -> object:
            chosen.append((self.action_masks().copy(), int(np.asarray(action).item())))
            return real_step(self, action)

        try:
            SB3Spaces.step = spy  # type: ignore[method-assign]
            model = MaskablePPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu")
            model.set_logger(Logger(folder=None, output_formats=[]))
            model.learn(256)
        finally:
            SB3Spaces.step = real_step  # type: ignore[method-assign]
            venv.close()
        assert model.num_timesteps == 256 and len(chosen) >= 256
        assert all(masks[action] for masks, action in chosen)
