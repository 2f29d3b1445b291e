"""Looking down a wrapper stack (shared by the wrappers' stack checks)."""

from __future__ import annotations

from collections.abc import Iterator

import gymnasium as gym

__all__ = ["has_layer", "layers"]


def layers(env: gym.Env) -> Iterator[gym.Wrapper]:
    """The wrappers of ``env``'s stack, outermost first (the env itself if it is a wrapper)."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        yield layer
        layer = layer.env


def has_layer(env: gym.Env, kind: type) -> bool:
    """Whether a wrapper of type ``kind`` is in ``env``'s stack."""
    return any(isinstance(layer, kind) for layer in layers(env))
