"""The Unicode text space."""

from __future__ import annotations

from awm_gym.envs import UnicodeText


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
