"""Spaces stable-baselines3 understands, over an AWM env's text observations and actions.

SB3's algorithms need ``Box``/``Discrete`` spaces, so :class:`SB3Spaces` turns the text episode into

- **an action menu**: action ``k`` sends one string of a per-scenario menu built from the scenario itself
  (:func:`default_action_menu`: the tool calls of every task's reference solution, so each task's own
  calls sit among the other tasks' calls as distractors, then the final answers); with
  :meth:`~SB3Spaces.action_masks` (sb3-contrib's ``MaskablePPO`` protocol) a call already made this episode
  is masked, final answers never are;
- **features**: a signed hashing vectoriser over words and word pairs (:func:`hash_text`, NumPy only) of
  the task and of the latest observation, plus which menu entries were taken and the step fraction
  (``features="hashing"``, the default); or the raw UTF-8 bytes of the observation (``features="bytes"``).

SB3 brings its own vector envs (``DummyVecEnv``, ``SubprocVecEnv``): it cannot consume a Gymnasium vector env
such as :class:`~awm_gym.vector.AWMVectorEnv`, so give it factories of single wrapped envs.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from typing import Any, Literal, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from awm_gym.envs.actions import ToolCall, parse_action
from awm_gym.errors import ConfigurationError

__all__ = ["DEFAULT_FINAL_ANSWER", "SB3Spaces", "default_action_menu", "encode_text", "hash_text"]

DEFAULT_FINAL_ANSWER = "Done."
"""The generic final answer the default action menu ends with."""

_TOKEN = re.compile(r"[a-z0-9_]+")


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


def hash_text(text: str, dims: int = 256) -> np.ndarray:
    """Signed feature hashing of the lower-cased words and word pairs of ``text``: an L2-normalised ``float32`` vector.

    Each word and each pair of neighbouring words adds +1 or -1 (from its CRC-32, stable across processes)
    at index ``crc32 % dims``; counts are damped with ``sign * log1p(|count|)``. Texts sharing words get
    similar vectors; the same text always gets the same vector.

    Example:
        >>> vector = hash_text("Cancel Luna's appointment", 16)
        >>> vector.shape, vector.dtype, round(float(np.linalg.norm(vector)), 4)
        ((16,), dtype('float32'), 1.0)
        >>> bool(np.array_equal(vector, hash_text("cancel LUNA'S appointment!", 16)))
        True
    """
    words = _TOKEN.findall(text.lower())
    vector = np.zeros(dims, dtype=np.float64)
    for token in [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]:
        digest = zlib.crc32(token.encode("utf-8"))
        vector[digest % dims] += 1.0 if digest & 0x80000000 else -1.0
    vector = np.sign(vector) * np.log1p(np.abs(vector))
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).astype(np.float32)


def default_action_menu(env: gym.Env, final_answer: str = DEFAULT_FINAL_ANSWER) -> list[str]:
    """A scenario's action menu: every task's reference-solution calls, its final answers, then ``final_answer``.

    The calls of all the scenario's tasks are listed (deduplicated, in task order), so a task's own calls
    come with the other tasks' calls as distractors; then each task's reference final answer (tasks that
    ask a question are verified on the answer), then the generic ``final_answer``. Scenarios without
    reference solutions get their tools that need no arguments, called with ``{}``, and ``final_answer``.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> env = gym.make("AWM/awmgym_pet_clinic-v0")
        >>> menu = default_action_menu(env)
        >>> menu[0], menu[-1], len(menu)
        ('{"name": "list_my_pets", "arguments": {}}', 'Done.', 32)
        >>> env.close()

    Raises:
        ConfigurationError: ``env`` has no AWM env underneath.
    """
    from awm_gym.catalog import load_reference_solutions

    awm = env.unwrapped
    scenario = getattr(getattr(awm, "scenario", None), "name", None)
    if scenario is None or not hasattr(awm, "tool_schemas"):
        raise ConfigurationError(f"default_action_menu needs an AWM env underneath, got {type(awm).__name__}")
    solutions = [solution for (name, _), solution in sorted(load_reference_solutions().items()) if name == scenario]
    menu = [json.dumps(call) for solution in solutions for call in solution.calls]
    menu += [solution.final_answer for solution in solutions if solution.final_answer.strip()]
    if not solutions:
        for tool in awm.tool_schemas():
            function = tool["function"]
            if not (function.get("parameters") or {}).get("required"):
                menu.append(json.dumps({"name": function["name"], "arguments": {}}))
    menu.append(final_answer)
    return list(dict.fromkeys(menu))


class SB3Spaces(gym.Wrapper[np.ndarray, np.int64, str, str]):
    """Choose actions from a menu by ``Discrete`` index; observe hashed text features (or raw bytes).

    - Info: adds nothing; ``info`` is the AWM env's, as received.
    - Stack: outermost, on an AWM env or on wrappers that keep its text spaces; SB3's ``Monitor`` may go on top.
    - Vector version: none. SB3 vectorises with its own ``DummyVecEnv``/``SubprocVecEnv`` over these envs.

    With ``features="hashing"`` the observation is ``[hash_text(task), hash_text(latest observation), taken,
    step / max_steps]``, where ``taken[k]`` is 1 once menu entry ``k`` was sent this episode: a
    ``Box(-1, 1, (2 * hash_dims + len(actions) + 1,), float32)``. With ``features="bytes"`` it is the first
    ``observation_bytes`` UTF-8 bytes of the latest observation (``Box(0, 255, (observation_bytes,), uint8)``).

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> env = SB3Spaces(gym.make("AWM/awmgym_pet_clinic-v0", max_steps=4), hash_dims=32)
        >>> env.observation_space.shape, env.action_space
        ((97,), Discrete(32))
        >>> obs, info = env.reset(seed=0, options={"task_idx": 0})
        >>> obs, reward, terminated, truncated, info = env.step(0)  # list_my_pets
        >>> info["tool_call"]["name"], bool(env.action_masks()[0]), bool(env.action_masks()[-1])
        ('list_my_pets', False, True)
        >>> env.close()

    With sb3-contrib (``pip install awm-gym[sb3]``)::

        from sb3_contrib import MaskablePPO
        from stable_baselines3.common.vec_env import DummyVecEnv

        make = lambda: SB3Spaces(gym.make("AWM/awmgym_pet_clinic-v0", max_steps=6), tasks=[0, 1, 2, 3])
        MaskablePPO("MlpPolicy", DummyVecEnv([make] * 4), n_steps=128).learn(20_000)

    Args:
        env: The text env to wrap.
        actions: The action menu (strings: JSON tool calls or final answers); default
            :func:`default_action_menu`.
        features: ``"hashing"`` or ``"bytes"`` (see above).
        hash_dims: Size of each hashed text vector.
        observation_bytes: Length of the observation with ``features="bytes"``.
        tasks: Task indices to draw from (uniformly, with the wrapper's seeded RNG) at each reset that names
            none; ``None`` leaves the choice to the env.
        mask_repeats: :meth:`action_masks` masks tool calls already made this episode.

    Raises:
        ConfigurationError: ``env`` does not have text spaces, or a bad option.
    """

    def __init__(
        self,
        env: gym.Env[str, str],
        actions: Sequence[str] | None = None,
        *,
        features: Literal["hashing", "bytes"] = "hashing",
        hash_dims: int = 256,
        observation_bytes: int = 1024,
        tasks: Sequence[int] | None = None,
        mask_repeats: bool = True,
    ) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, spaces.Text) or not isinstance(env.action_space, spaces.Text):
            raise ConfigurationError(
                "SB3Spaces must wrap an env with text observations and actions (an AWM env, or text wrappers on "
                f"it); got observation space {env.observation_space} and action space {env.action_space}"
            )
        if features not in ("hashing", "bytes"):
            raise ConfigurationError(f"features must be 'hashing' or 'bytes', got {features!r}")
        if observation_bytes < 1 or hash_dims < 1:
            raise ConfigurationError(
                f"observation_bytes and hash_dims must be at least 1, got {observation_bytes} and {hash_dims}"
            )
        self.actions: tuple[str, ...] = tuple(default_action_menu(env) if actions is None else actions)
        if not self.actions or not all(isinstance(action, str) for action in self.actions):
            raise ConfigurationError(f"actions must be a non-empty sequence of strings, got {actions!r}")
        if tasks is not None and not list(tasks):
            raise ConfigurationError("tasks must be None or a non-empty sequence of task indices")
        self.features = features
        self.hash_dims = int(hash_dims)
        self.observation_bytes = int(observation_bytes)
        self.tasks = None if tasks is None else tuple(int(t) for t in tasks)
        self.mask_repeats = bool(mask_repeats)
        self._is_call = np.array([isinstance(parse_action(a), ToolCall) for a in self.actions])
        if features == "hashing":
            size = 2 * self.hash_dims + len(self.actions) + 1
            self.observation_space = spaces.Box(-1.0, 1.0, (size,), np.float32)
        else:
            self.observation_space = spaces.Box(0, 255, (self.observation_bytes,), np.uint8)
        self.action_space = spaces.Discrete(len(self.actions))
        self._task_rng = np.random.default_rng()
        self._task_vector = np.zeros(self.hash_dims, dtype=np.float32)
        self._taken = np.zeros(len(self.actions), dtype=np.float32)
        self._steps = 0

    def _encode(self, observation: str) -> np.ndarray:
        if self.features == "bytes":
            return encode_text(observation, self.observation_bytes)
        max_steps = getattr(self.env.unwrapped, "max_steps", 0) or 1
        progress = np.array([min(1.0, self._steps / max_steps)], dtype=np.float32)
        return np.concatenate([self._task_vector, hash_text(observation, self.hash_dims), self._taken, progress])

    def action_masks(self) -> np.ndarray:
        """Which menu entries may be chosen now (sb3-contrib's ``MaskablePPO`` reads this)."""
        if not self.mask_repeats:
            return np.ones(len(self.actions), dtype=bool)
        return ~(self._is_call & (self._taken > 0))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the env (on a task drawn from ``tasks`` when set) and encode its first observation."""
        if seed is not None:
            self._task_rng = np.random.default_rng(seed)
        options = dict(options or {})
        if self.tasks is not None and options.get("task_idx") is None:
            options["task_idx"] = self.tasks[int(self._task_rng.integers(len(self.tasks)))]
        observation, info = self.env.reset(seed=seed, options=options or None)
        self._task_vector = hash_text(str(info.get("task", "")), self.hash_dims)
        self._taken[:] = 0.0
        self._steps = 0
        return self._encode(observation), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Send menu entry ``action`` to the env and encode the observation."""
        index = int(np.asarray(action).item())
        if not 0 <= index < len(self.actions):
            raise ValueError(f"action must be in [0, {len(self.actions) - 1}] (the menu), got {action!r}")
        observation, reward, terminated, truncated, info = self.env.step(self.actions[index])
        self._taken[index] = 1.0
        self._steps += 1
        return self._encode(observation), reward, terminated, truncated, info
