"""Looking down a wrapper stack, and the virtual-step protocol that carries a step answered above a wrapper to it.

Steps answered by a wrapper itself (ExpertAdvice's ``ask_expert`` calls) never reach the ``step`` of the
wrappers below it. So that those wrappers (reward shaping, recording) still see them, the answering wrapper
hands each such step to every wrapper below it that has a ``virtual_step`` method
(:class:`VirtualStepHandler`) with :func:`pass_virtual_step`, innermost first, exactly as a real step
result travels up the stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, SupportsFloat, runtime_checkable

import gymnasium as gym

from awm_gym.errors import ConfigurationError

__all__ = ["Step", "VirtualStepHandler", "check_info_keys_free", "has_layer", "layers", "pass_virtual_step"]

Step = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]
"""A step result: ``(observation, reward, terminated, truncated, info)``."""


def layers(env: gym.Env) -> Iterator[gym.Wrapper]:
    """The wrappers of ``env``'s stack, outermost first (the env itself if it is a wrapper)."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        yield layer
        layer = layer.env


def has_layer(env: gym.Env, kind: type) -> bool:
    """Whether a wrapper of type ``kind`` is in ``env``'s stack."""
    return any(isinstance(layer, kind) for layer in layers(env))


@runtime_checkable
class VirtualStepHandler(Protocol):
    """A wrapper that must also see the steps a wrapper above it answers itself.

    ``virtual_step`` receives such a step's result and returns it, transformed as the wrapper's ``step``
    would transform a result coming from below.
    """

    def virtual_step(
        self,
        action: Any,
        observation: Any,
        reward: SupportsFloat,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> Step:
        """Transform the result of a step answered above this wrapper."""
        ...


def pass_virtual_step(env: gym.Env, action: Any, result: Step) -> Step:
    """Hand a step answered above ``env`` to every :class:`VirtualStepHandler` in ``env``'s stack, innermost first.

    Returns:
        The step result as it comes out of the outermost handler.
    """
    handlers = [layer for layer in layers(env) if callable(getattr(type(layer), "virtual_step", None))]
    for handler in reversed(handlers):
        result = handler.virtual_step(action, *result)
    return result


def check_info_keys_free(info: Mapping[str, Any], keys: Iterable[str], wrapper: str) -> None:
    """Refuse to overwrite info keys that a layer below already set (each wrapper owns its documented keys).

    Raises:
        ConfigurationError: A key of ``keys`` is already in ``info``.
    """
    taken = [key for key in keys if key in info]
    if taken:
        raise ConfigurationError(
            f"info key(s) {taken} are already set below {wrapper}, which adds them itself: wrap the env with "
            f"{wrapper} once, and keep other layers off its keys"
        )
