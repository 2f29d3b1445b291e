"""A text space for observations and actions that may hold any Unicode string, and fitting text into one.

Gymnasium's ``AsyncVectorEnv`` passes observations through shared memory by default, with one codec per space
type; its codec for :class:`~gymnasium.spaces.Text` stores indices into the space's charset, so any other
character would come back as the charset's first one. This module registers a codec for
:class:`UnicodeText` that stores code points, so ``gym.make_vec(..., vectorization_mode="async")`` returns
exactly the strings the sub-environments produced, with or without shared memory.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from types import ModuleType
from typing import Any, overload

import numpy as np
from gymnasium.spaces import Text
from gymnasium.vector.utils import shared_memory

__all__ = ["UnicodeText", "fit_text"]

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


def fit_text(text: str, max_length: int | None) -> str:
    """``text`` cut (with a note saying so) to ``max_length`` characters, e.g. an observation space's bound.

    Example:
        >>> fit_text("x" * 50, 40)
        'xxxxxxxxxxxxx\\n[... cut to 40 characters]'
        >>> fit_text("short", None)
        'short'
    """
    if max_length is None or len(text) <= max_length:
        return text
    note = f"\n[... cut to {max_length} characters]"
    if max_length <= len(note):
        return text[:max_length]
    return text[: max_length - len(note)] + note


# ------------------------------------------------------------------------------- AsyncVectorEnv's shared memory
# One int32 slot per character: the code point + 1, and 0 after the end of the string. AsyncVectorEnv reads its
# buffer once, at construction, expecting a live view (as NumPy arrays are); Gymnasium's own codec for Text returns
# a tuple instead, frozen at that moment. _SharedTexts is a live view whose copy is a plain tuple, and
# AsyncVectorEnv returns a copy (``copy=True``, its default).


class _SharedTexts(Sequence[str]):
    """The strings in an AsyncVectorEnv's shared memory, decoded on access; ``copy.deepcopy`` gives a tuple."""

    def __init__(self, memory: Any, n: int, max_length: int) -> None:
        self._rows = np.frombuffer(memory.get_obj(), dtype=np.int32).reshape((n, max_length))

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        row = self._rows[index]
        end = int(np.argmin(row)) if not row.all() else len(row)
        return (row[:end] - 1).astype(np.uint32).tobytes().decode("utf-32-le")

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return f"_SharedTexts({tuple(self)!r})"


@shared_memory.create_shared_memory.register(UnicodeText)
def _create_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType | None = None) -> Any:
    import multiprocessing

    return (ctx or multiprocessing).Array(np.dtype(np.int32).char, n * space.max_length)


@shared_memory.write_to_shared_memory.register(UnicodeText)
def _write_to_shared_memory(space: UnicodeText, index: int, value: str, memory: Any) -> None:
    size = space.max_length
    codes = np.frombuffer(value.encode("utf-32-le"), dtype=np.uint32).astype(np.int32)[:size] + 1
    slots = np.frombuffer(memory.get_obj(), dtype=np.int32)[index * size : (index + 1) * size]
    slots[: len(codes)] = codes
    slots[len(codes) :] = 0


@shared_memory.read_from_shared_memory.register(UnicodeText)
def _read_from_shared_memory(space: UnicodeText, memory: Any, n: int = 1) -> _SharedTexts:
    return _SharedTexts(memory, n, space.max_length)
