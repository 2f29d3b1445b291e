"""Scenario name normalisation shared by every AgentWorldModel-1K file."""

from __future__ import annotations

import re

__all__ = ["normalize_name"]

_NOT_KEY_CHAR = re.compile(r"[^a-z0-9_]")
_UNDERSCORES = re.compile(r"_+")


def normalize_name(raw: str) -> str:
    """Return the key AWM joins its files on.

    Lower-case, replace every character outside ``[a-z0-9_]`` with ``_``, collapse runs of ``_`` and strip
    them from both ends (the rule of AWM's pipeline and of OpenEnv's loader).

    Example:
        >>> normalize_name("My App - v2!")
        'my_app_v2'
        >>> normalize_name("E_Commerce_33")
        'e_commerce_33'
    """
    return _UNDERSCORES.sub("_", _NOT_KEY_CHAR.sub("_", raw.lower())).strip("_")
