"""The statistics of an evaluation, on constructed outcomes whose answers are known by hand."""

from __future__ import annotations

import itertools
import re
from math import comb

import numpy as np
import pytest

from awm_gym.evaluation import (
    bootstrap_mean,
    compare_paired,
    pass_at_k,
    pass_at_k_task,
    sign_test,
    success_interval,
    task_rates,
)


def tasks(values: list[list[bool]], scenario: str = "shop") -> dict[tuple[str, int], list[bool]]:
    return {(scenario, i): runs for i, runs in enumerate(values)}


class TestPairedComparison:
    def test_identical_conditions_give_zero_with_an_interval_covering_it(self) -> None:
        """Two conditions with the same outcomes differ by exactly 0, the CI covers 0 and p is 1."""
        rng = np.random.default_rng(1)
        same = tasks([list(rng.random(3) < 0.5) for _ in range(30)])
        result = compare_paired(same, same, names=("a", "b"))
        assert result.delta.estimate == 0.0 and result.delta.covers(0.0)
        assert (result.wins, result.losses, result.ties, result.p_value) == (0, 0, 30, 1.0)

    def test_always_against_never_gives_the_exact_sign_test(self) -> None:
        """Always-succeeds vs always-fails on n tasks: delta 1, CI [1, 1], p = 2 * 0.5**n (two-sided)."""
        for n in (1, 5, 8):
            never, always = tasks([[False]] * n), tasks([[True]] * n)
            result = compare_paired(never, always, names=("never", "always"))
            assert (result.delta.estimate, result.delta.low, result.delta.high) == (1.0, 1.0, 1.0)
            assert result.wins == n and result.losses == 0
            assert result.p_value == pytest.approx(min(1.0, 2 * 0.5**n), abs=1e-12)
            assert compare_paired(always, never).p_value == result.p_value  # symmetric
            assert compare_paired(always, never).delta.estimate == -1.0

    def test_mixed_outcomes_match_a_hand_computation(self) -> None:
        """3 wins, 1 loss, 2 ties: p = 2 * P(X <= 1 | n=4) = 2 * 5/16; delta is the mean of per-task differences."""
        a = tasks([[False], [False], [False], [True], [True], [False]])
        b = tasks([[True], [True], [True], [False], [True], [False]])
        result = compare_paired(a, b)
        assert (result.wins, result.losses, result.ties) == (3, 1, 2)
        assert result.p_value == pytest.approx(2 * 5 / 16)
        assert result.delta.estimate == pytest.approx(2 / 6)
        assert result.rate_a == pytest.approx(2 / 6) and result.rate_b == pytest.approx(4 / 6)
        assert result.delta.low <= result.delta.estimate <= result.delta.high

    def test_repeats_are_averaged_per_task_before_pairing(self) -> None:
        """With repeats the sign test counts tasks, not episodes: 2 of 3 vs 1 of 3 on one task is one win."""
        result = compare_paired(tasks([[True, False, False]]), tasks([[True, True, False]]))
        assert (result.tasks, result.wins, result.p_value) == (1, 1, 1.0)
        assert result.delta.estimate == pytest.approx(1 / 3)

    def test_only_shared_tasks_are_paired(self) -> None:
        """Tasks one condition lacks are left out of the comparison."""
        a = {("shop", 0): [True], ("shop", 1): [False]}
        b = {("shop", 1): [True], ("shop", 2): [True]}
        result = compare_paired(a, b)
        assert result.tasks == 1 and result.delta.estimate == 1.0
        with pytest.raises(ValueError, match=re.escape("share no task with outcomes")):
            compare_paired({("x", 0): [True]}, {("y", 0): [True]})

    def test_the_bootstrap_resamples_tasks(self) -> None:
        """The interval of 20 tasks half solved is close to the normal approximation 0.5 +- 1.96 * sqrt(.25 / 20)."""
        interval = bootstrap_mean([0.0] * 10 + [1.0] * 10, seed=3)
        half_width = 1.96 * (0.25 / 20) ** 0.5
        assert interval.estimate == 0.5
        assert interval.low == pytest.approx(0.5 - half_width, abs=0.05)
        assert interval.high == pytest.approx(0.5 + half_width, abs=0.05)
        assert bootstrap_mean([0.0] * 10 + [1.0] * 10, seed=3) == interval  # seeded: reproducible
        with pytest.raises(ValueError, match="at least one task"):
            bootstrap_mean([])

    def test_sign_test_values(self) -> None:
        """Known exact values of the two-sided sign test."""
        assert sign_test(0, 0) == 1.0
        assert sign_test(6, 0) == pytest.approx(2 / 64)
        assert sign_test(5, 5) == 1.0
        assert sign_test(9, 1) == pytest.approx(2 * 11 / 1024)


class TestRates:
    def test_task_rates_and_success_interval(self) -> None:
        """A condition's success is the mean of its task rates, each task weighing the same."""
        outcomes = tasks([[True, True, True, True], [False], [True, False]])
        assert task_rates(outcomes) == {("shop", 0): 1.0, ("shop", 1): 0.0, ("shop", 2): 0.5}
        assert success_interval(outcomes).estimate == pytest.approx(0.5)

    def test_pass_at_k_is_the_unbiased_estimator(self) -> None:
        """pass@k equals the fraction of k-subsets of the n samples holding a success (brute force)."""
        for n in range(1, 7):
            for c in range(n + 1):
                samples = [True] * c + [False] * (n - c)
                for k in range(1, n + 1):
                    subsets = list(itertools.combinations(samples, k))
                    expected = sum(any(s) for s in subsets) / comb(n, k)
                    assert pass_at_k_task(n, c, k) == pytest.approx(expected)

    def test_pass_at_k_averages_tasks(self) -> None:
        """pass@1 is the success rate; pass@k averages the per-task estimator."""
        outcomes = tasks([[True, False, False], [False, False, False], [True, True, False]])
        assert pass_at_k(outcomes, 1) == pytest.approx((1 / 3 + 0 + 2 / 3) / 3)
        assert pass_at_k(outcomes, 2) == pytest.approx((2 / 3 + 0 + 1.0) / 3)
        assert pass_at_k(outcomes, 3) == pytest.approx(2 / 3)
        with pytest.raises(ValueError, match=re.escape("k must be in [1, n=3]")):
            pass_at_k(outcomes, 4)
