"""The Unicode text space."""

from __future__ import annotations

import pytest

from awm_gym.envs import UnicodeText, fit_text


def test_contains_any_unicode_within_bounds() -> None:
    """JSON, tags and non-ASCII text are members; too long strings and non-strings are not."""
    space = UnicodeText(50)
    assert '<tool_call>{"name": "x"}</tool_call>' in space
    assert "Grüße, 世界 😀" in space and "" in space
    assert "x" * 51 not in space and 5 not in space and b"bytes" not in space


def test_samples_are_members_and_seeded() -> None:
    """Samples belong to the space and repeat under the same seed."""
    space = UnicodeText(1000, seed=3)
    samples = [space.sample() for _ in range(200)]
    assert all(s in space and len(s) <= space.sample_max_length for s in samples)
    space.seed(3)
    assert [space.sample() for _ in range(200)] == samples


def test_equality_and_repr() -> None:
    """Spaces with the same bounds are equal."""
    assert UnicodeText(10) == UnicodeText(10) != UnicodeText(11)
    assert repr(UnicodeText(10)) == "UnicodeText(0, 10)"


class TestSharedMemory:
    """AsyncVectorEnv's shared-memory codec for UnicodeText: any string, read live, copied as a tuple."""

    def test_any_unicode_round_trips_and_the_view_is_live(self) -> None:
        """Non-ASCII, NUL characters and emoji come back as written; a later write shows through the view."""
        import copy

        from gymnasium.vector.utils import shared_memory

        space = UnicodeText(12)
        memory = shared_memory.create_shared_memory(space, n=2)
        view = shared_memory.read_from_shared_memory(space, memory, n=2)  # read once, as AsyncVectorEnv does
        shared_memory.write_to_shared_memory(space, 0, "naïve\x00中文😀", memory)
        shared_memory.write_to_shared_memory(space, 1, "x" * 20, memory)  # longer than the space: cut to it
        assert copy.deepcopy(view) == ("naïve\x00中文😀", "x" * 12) and isinstance(copy.deepcopy(view), tuple)
        shared_memory.write_to_shared_memory(space, 0, "ok", memory)
        assert view[0] == "ok" and view[:1] == ("ok",) and len(view) == 2


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("short", None, "short"),
        ("y" * 40, 30, "y" * 3 + "\n[... cut to 30 characters]"),
        ("y" * 40, 5, "yyyyy"),  # too small for the note: a plain cut
    ],
)
def test_fit_text(text: str, limit: int | None, expected: str) -> None:
    """fit_text cuts to the limit, with a note when there is room for one; the result never exceeds it."""
    assert fit_text(text, limit) == expected
    assert limit is None or len(fit_text(text, limit)) <= limit
