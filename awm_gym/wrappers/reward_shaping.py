"""Reward shaping on top of the verifier's terminal reward, with every term itemised in ``info``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any, SupportsFloat

import gymnasium as gym

from awm_gym.errors import ConfigurationError
from awm_gym.wrappers._stack import check_info_keys_free, has_layer

__all__ = ["FORMAT_ERRORS", "SHAPING_PRESETS", "RewardShaping", "ShapingTerms"]

FORMAT_ERRORS = frozenset({"malformed_call", "unknown_tool", "invalid_arguments"})
"""The ``info["error"]["type"]`` values that count as format errors."""


@dataclass(frozen=True)
class ShapingTerms:
    """The reward each shaping term adds when it applies (negative for a penalty; 0 turns a term off).

    Attributes:
        step: Every step (an ``ask_expert`` action included).
        format_error: A step whose ``info["error"]["type"]`` is in :data:`FORMAT_ERRORS` (malformed call,
            unknown tool, bad arguments).
        solo: The last step of an episode the verifier labels ``complete`` with no ``ask_expert`` action.
        recovery: The last step of an episode the verifier labels ``complete`` in which an ``ask_expert``
            action came right after a step that ended in an error (once per episode).
        blind: An ``ask_expert`` action before any other action of the episode (once per episode).
    """

    step: float = 0.0
    format_error: float = 0.0
    solo: float = 0.0
    recovery: float = 0.0
    blind: float = 0.0


SHAPING_PRESETS: Mapping[str, ShapingTerms] = MappingProxyType(
    {
        # The public expert-in-the-loop work on AWM (OpenEnv PRs 428 and 833).
        "expert_in_the_loop": ShapingTerms(solo=1.0, recovery=0.3, blind=-0.2),
    }
)
"""Named sets of terms for ``RewardShaping(env, preset=...)``."""

_TERMS = tuple(f.name for f in fields(ShapingTerms))


class RewardShaping(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds shaping terms to the verifier's reward; every term is 0 until configured.

    The verifier's terminal reward stays the ground truth: the reward of each step is
    ``info["verifier_reward"] + sum(info["shaping"].values())``, where ``info["verifier_reward"]`` is the
    unshaped reward that came from below and ``info["shaping"]`` holds every term of
    :class:`ShapingTerms` (0.0 when it does not apply). An ``ask_expert`` action is a step whose info has
    ``expert_call`` (see :class:`~awm_gym.wrappers.ExpertAdvice`); without ExpertAdvice there are none, so
    ``solo`` pays every completed episode.

    Info: every step adds ``verifier_reward`` (float) and ``shaping`` (``{term: float}``).

    Stack: anywhere above the env, with or without :class:`~awm_gym.wrappers.ExpertAdvice` and on either
    side of it: when ExpertAdvice sits above, its steps arrive through :meth:`virtual_step`, so both orders
    give the same rewards. Once per stack. Raises :class:`~awm_gym.errors.ConfigurationError` otherwise.

    Vector: no vector version; wrap each sub-environment.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> from awm_gym.wrappers import RewardShaping
        >>> env = RewardShaping(gym.make("AWM/awmgym_pet_clinic-v0"), preset="expert_in_the_loop", step=-0.01)
        >>> env.terms
        ShapingTerms(step=-0.01, format_error=0.0, solo=1.0, recovery=0.3, blind=-0.2)
        >>> obs, info = env.reset(seed=0, options={"task_idx": 0})
        >>> obs, reward, terminated, truncated, info = env.step('{"name": "no_such_tool", "arguments": {}}')
        >>> reward, info["verifier_reward"], info["shaping"]["step"]
        (-0.01, 0.0, -0.01)
        >>> env.close()

    Args:
        env: The environment stack to wrap.
        preset: A name in :data:`SHAPING_PRESETS` (``"expert_in_the_loop"``: solo +1.0, recovery +0.3,
            blind -0.2) to start from.
        step: Reward of every step.
        format_error: Reward of a format error.
        solo: Reward of a completion without the expert.
        recovery: Reward of a completion after asking the expert right after an error.
        blind: Reward of asking the expert before any other action.
    """

    def __init__(
        self,
        env: gym.Env,
        preset: str | None = None,
        *,
        step: float | None = None,
        format_error: float | None = None,
        solo: float | None = None,
        recovery: float | None = None,
        blind: float | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, preset=preset, step=step, format_error=format_error, solo=solo, recovery=recovery, blind=blind
        )
        gym.Wrapper.__init__(self, env)
        if has_layer(env, RewardShaping):
            raise ConfigurationError(
                "RewardShaping is already in this stack; shaping twice would shape the shaped reward"
            )
        terms = ShapingTerms()
        if preset is not None:
            if preset not in SHAPING_PRESETS:
                close = difflib.get_close_matches(str(preset), SHAPING_PRESETS, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigurationError(
                    f"unknown shaping preset {preset!r}; the presets are {sorted(SHAPING_PRESETS)}.{hint}"
                )
            terms = SHAPING_PRESETS[preset]
        overrides = {"step": step, "format_error": format_error, "solo": solo, "recovery": recovery, "blind": blind}
        for name, value in overrides.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ConfigurationError(f"shaping term {name} must be a number, got {value!r}")
        self.terms = replace(terms, **{name: float(value) for name, value in overrides.items() if value is not None})
        self._acted = False  # any action other than ask_expert so far
        self._asked = False  # any ask_expert action so far
        self._blind_paid = False
        self._recovered = False  # asked right after an error
        self._last_error = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env and the episode's shaping state."""
        observation, info = self.env.reset(seed=seed, options=options)
        self._acted = self._asked = self._blind_paid = self._recovered = self._last_error = False
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step the env and shape the reward."""
        return self.virtual_step(action, *self.env.step(action))

    def virtual_step(
        self,
        action: Any,
        observation: Any,
        reward: SupportsFloat,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Shape one step's result (also called by ExpertAdvice above this wrapper for the steps it answers)."""
        check_info_keys_free(info, ("verifier_reward", "shaping"), "RewardShaping")
        terms = dict.fromkeys(_TERMS, 0.0)
        terms["step"] = self.terms.step
        error = info.get("error")
        if isinstance(error, Mapping) and error.get("type") in FORMAT_ERRORS:
            terms["format_error"] = self.terms.format_error
        if "expert_call" in info:
            if not self._acted and not self._blind_paid:
                terms["blind"] = self.terms.blind
                self._blind_paid = True
            if self._last_error:
                self._recovered = True
            self._asked = True
        else:
            self._acted = True
        self._last_error = error is not None
        if terminated or truncated:
            complete = (info.get("verifier") or {}).get("label") == "complete"
            if complete and not self._asked:
                terms["solo"] = self.terms.solo
            if complete and self._recovered:
                terms["recovery"] = self.terms.recovery
        verifier_reward = float(reward)
        info["verifier_reward"] = verifier_reward
        info["shaping"] = terms
        return observation, verifier_reward + sum(terms.values()), terminated, truncated, info
