"""Spaces stable-baselines3 understands, over an AWM env's text observations and actions.

SB3's algorithms need ``Box``/``Discrete``-style spaces, so :class:`SB3Spaces` encodes each text
observation as a fixed-size array of its UTF-8 bytes and maps a ``Discrete`` action to one string of an
action menu. SB3 also brings its own vector envs (``DummyVecEnv``, ``SubprocVecEnv``): it cannot consume a
Gymnasium vector env such as :class:`~awm_gym.vector.AWMVectorEnv`, so give it factories of single wrapped
envs instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from awm_gym.errors import ConfigurationError

__all__ = ["DEFAULT_FINAL_ANSWER", "SB3Spaces", "default_action_menu", "encode_text"]

DEFAULT_FINAL_ANSWER = "Done."
"""The final answer the default action menu ends with."""


def encode_text(text: str, length: int) -> np.ndarray:
    """The first ``length`` UTF-8 bytes of ``text``, zero-padded, as a ``uint8`` array.

    Example:
        >>> encode_text("hé", 4)
        array([104, 195, 169,   0], dtype=uint8)
    """
    data = text.encode("utf-8")[:length]
    array = np.zeros(length, dtype=np.uint8)
    array[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return array


def default_action_menu(env: gym.Env, final_answer: str = DEFAULT_FINAL_ANSWER) -> list[str]:
    """Candidate actions for an AWM env: its scenario's reference-solution calls, no-argument tools, an answer.

    The reference-solution calls (deduplicated, in order) come from the bundled solutions when the scenario
    has them; every tool without required arguments is added as a call with ``{}``; ``final_answer`` ends
    the menu (it ends the episode).

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> env = gym.make("AWM/awmgym_pet_clinic-v0")
        >>> menu = default_action_menu(env)
        >>> menu[0], menu[-1]
        ('{"name": "list_my_pets", "arguments": {}}', 'Done.')
        >>> env.close()
    """
    from awm_gym.catalog import load_reference_solutions

    awm = env.unwrapped
    scenario = getattr(getattr(awm, "scenario", None), "name", None)
    if scenario is None or not hasattr(awm, "tool_schemas"):
        raise ConfigurationError(f"default_action_menu needs an AWM env underneath, got {type(awm).__name__}")
    menu: list[str] = []
    for (name, _), solution in sorted(load_reference_solutions().items()):
        if name == scenario:
            menu += [json.dumps(call) for call in solution.calls]
    for tool in awm.tool_schemas():
        function = tool["function"]
        if not (function.get("parameters") or {}).get("required"):
            menu.append(json.dumps({"name": function["name"], "arguments": {}}))
    menu.append(final_answer)
    return list(dict.fromkeys(menu))


class SB3Spaces(gym.Wrapper[np.ndarray, np.int64, str, str]):
    """Encode text observations as ``Box(0, 255, (observation_bytes,), uint8)``; choose actions by ``Discrete``.

    - Info: adds nothing; ``info`` is the AWM env's, as received.
    - Stack: outermost, on an AWM env or on wrappers that keep its text spaces; SB3's ``Monitor`` may go on top.
    - Vector version: none. SB3 vectorises with its own ``DummyVecEnv``/``SubprocVecEnv`` over these envs.

    The observation is the first ``observation_bytes`` UTF-8 bytes of the text, zero-padded. Action ``k``
    sends ``actions[k]`` to the env (by default :func:`default_action_menu`).

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> env = SB3Spaces(gym.make("AWM/awmgym_pet_clinic-v0", max_steps=4), observation_bytes=64)
        >>> env.observation_space, env.action_space
        (Box(0, 255, (64,), uint8), Discrete(29))
        >>> obs, info = env.reset(seed=0)
        >>> bytes(obs[:14])
        b'You are an age'
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.n - 1)  # the final answer
        >>> terminated, info["final_answer"]
        (True, 'Done.')
        >>> env.close()

    With SB3 (``pip install awm-gym[sb3]``)::

        from stable_baselines3 import PPO
        from stable_baselines3.common.vec_env import DummyVecEnv

        venv = DummyVecEnv([lambda: SB3Spaces(gym.make("AWM/awmgym_pet_clinic-v0", max_steps=8))] * 4)
        PPO("MlpPolicy", venv, n_steps=64).learn(10_000)

    Args:
        env: The text env to wrap.
        actions: The action menu (strings: JSON tool calls or final answers); default
            :func:`default_action_menu`.
        observation_bytes: Length of the encoded observation.

    Raises:
        ConfigurationError: ``env`` does not have text spaces, or the menu is empty.
    """

    def __init__(
        self, env: gym.Env[str, str], actions: Sequence[str] | None = None, *, observation_bytes: int = 1024
    ) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, spaces.Text) or not isinstance(env.action_space, spaces.Text):
            raise ConfigurationError(
                "SB3Spaces must wrap an env with text observations and actions (an AWM env, or text wrappers on "
                f"it); got observation space {env.observation_space} and action space {env.action_space}"
            )
        if observation_bytes < 1:
            raise ConfigurationError(f"observation_bytes must be at least 1, got {observation_bytes}")
        self.actions: tuple[str, ...] = tuple(default_action_menu(env) if actions is None else actions)
        if not self.actions or not all(isinstance(action, str) for action in self.actions):
            raise ConfigurationError(f"actions must be a non-empty sequence of strings, got {actions!r}")
        self.observation_bytes = int(observation_bytes)
        self.observation_space = spaces.Box(0, 255, (self.observation_bytes,), np.uint8)
        self.action_space = spaces.Discrete(len(self.actions))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env and encode its first observation."""
        observation, info = self.env.reset(seed=seed, options=options)
        return encode_text(observation, self.observation_bytes), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Send menu entry ``action`` to the env and encode the observation."""
        index = int(np.asarray(action).item())
        if not 0 <= index < len(self.actions):
            raise ValueError(f"action must be in [0, {len(self.actions) - 1}] (the menu), got {action!r}")
        observation, reward, terminated, truncated, info = self.env.step(self.actions[index])
        return encode_text(observation, self.observation_bytes), reward, terminated, truncated, info
