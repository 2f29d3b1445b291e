"""A text space for observations and actions that may hold any Unicode string."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Text

__all__ = ["UnicodeText"]

# What ``sample`` draws from: printable ASCII (JSON and tags included) plus some non-ASCII letters.
_SAMPLE_CHARSET = string.printable + "äöüßéèçñøåЖжλπ中文字😀"


class UnicodeText(Text):
    """Any Unicode string of ``min_length`` to ``max_length`` characters.

    Gymnasium's :class:`~gymnasium.spaces.Text` only contains strings over its charset (alphanumerics by
    default), so JSON tool calls and tool results would fall outside it. This space accepts every ``str``
    within the length bounds; ``sample`` draws short strings (at most ``sample_max_length`` characters)
    from a broad printable charset.

    Example:
        >>> space = UnicodeText(100)
        >>> '{"name": "list_products", "arguments": {"limit": 5}}' in space
        True
        >>> "x" * 101 in space
        False
    """

    def __init__(
        self,
        max_length: int,
        *,
        min_length: int = 0,
        sample_max_length: int = 64,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)
        self.sample_max_length = sample_max_length

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a string within the length bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string; without a mask its length is uniform in ``[min_length, sample_max_length]``."""
        if mask is None and probability is None:
            upper = max(self.min_length, min(self.max_length, self.sample_max_length))
            mask = (int(self.np_random.integers(self.min_length, upper + 1)), None)
        return super().sample(mask=mask, probability=probability)

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeText) and (self.min_length, self.max_length) == (
            other.min_length,
            other.max_length,
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))
