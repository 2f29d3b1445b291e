"""Statistics of an evaluation: success rates per task, pass@k, and paired comparisons of two conditions.

The unit of analysis is the task. A condition's success rate is the mean over tasks of each task's rate
over its repeats (so every task weighs the same however many repeats it has). Two conditions are compared
on the tasks both ran (the same tasks and seeds): the paired difference is the mean over tasks of the
per-task difference of rates, its confidence interval comes from a bootstrap that resamples tasks (the
unit of pairing) with NumPy's RNG, and its p-value from the exact two-sided sign test over tasks
(:func:`scipy.stats.binomtest` on the tasks where one condition did better; with one repeat per task this
is the exact McNemar test on the discordant pairs).

Example:
    >>> outcomes = {("shop", 0): [True, True], ("shop", 1): [False, True], ("shop", 2): [False, False]}
    >>> task_rates(outcomes)
    {('shop', 0): 1.0, ('shop', 1): 0.5, ('shop', 2): 0.0}
    >>> round(pass_at_k(outcomes, 2), 3)
    0.667
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from math import comb
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CONFIDENCE",
    "Interval",
    "PairedComparison",
    "bootstrap_mean",
    "compare_paired",
    "pass_at_k",
    "pass_at_k_task",
    "sign_test",
    "success_interval",
    "task_rates",
]

DEFAULT_BOOTSTRAP = 10_000
"""Bootstrap resamples of the tasks."""

DEFAULT_CONFIDENCE = 0.95
"""Coverage of the confidence intervals."""

Outcomes = Mapping[Hashable, Sequence[bool]]
"""Verifier success per repeat, keyed by task (e.g. ``(scenario, task_idx)``)."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval.

    Attributes:
        estimate: The statistic on the data.
        low: Lower bound of the interval.
        high: Upper bound of the interval.
        confidence: Coverage of the interval, e.g. 0.95.
    """

    estimate: float
    low: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (bounds included)."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class PairedComparison:
    """Condition ``b`` against condition ``a`` on the tasks both ran.

    Attributes:
        a: Name of the reference condition.
        b: Name of the compared condition.
        tasks: Number of paired tasks.
        rate_a: Success rate of ``a`` on those tasks.
        rate_b: Success rate of ``b`` on those tasks.
        delta: ``rate_b - rate_a`` with its bootstrap interval (tasks resampled).
        wins: Tasks where ``b`` has the higher success rate.
        losses: Tasks where ``a`` has the higher success rate.
        ties: Tasks with equal rates.
        p_value: Exact two-sided sign test of wins against losses (1.0 when there are none).
    """

    a: str
    b: str
    tasks: int
    rate_a: float
    rate_b: float
    delta: Interval
    wins: int
    losses: int
    ties: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return {**asdict(self), "delta": self.delta.to_dict()}


def task_rates(outcomes: Outcomes) -> dict[Hashable, float]:
    """Each task's success rate over its repeats (tasks without outcomes are left out)."""
    return {task: float(np.mean(values)) for task, values in outcomes.items() if len(values)}


def pass_at_k_task(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one task with ``c`` successes in ``n`` samples: ``1 - C(n-c, k) / C(n, k)``.

    The estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on Code").

    Example:
        >>> pass_at_k_task(5, 1, 1), pass_at_k_task(5, 1, 5), pass_at_k_task(4, 2, 2)
        (0.2, 1.0, 0.8333333333333334)

    Raises:
        ValueError: ``k`` is not in ``[1, n]`` or ``c`` not in ``[0, n]``.
    """
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, n={n}] (samples per task), got {k}")
    if not 0 <= c <= n:
        raise ValueError(f"c must be in [0, n={n}], got {c}")
    if n - c < k:
        return 1.0
    return (comb(n, k) - comb(n - c, k)) / comb(n, k)


def pass_at_k(outcomes: Outcomes, k: int) -> float:
    """Mean over tasks of the unbiased pass@k (every task needs at least ``k`` repeats).

    Raises:
        ValueError: A task has fewer than ``k`` repeats, or there are no tasks.
    """
    values = [pass_at_k_task(len(runs), int(sum(runs)), k) for runs in outcomes.values()]
    if not values:
        raise ValueError("pass@k needs at least one task with outcomes")
    return float(np.mean(values))


def bootstrap_mean(
    values: Sequence[float],
    *,
    resamples: int = DEFAULT_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Interval:
    """The mean of per-task ``values`` with a percentile bootstrap interval that resamples the tasks.

    Example:
        >>> bootstrap_mean([0.0, 0.0, 0.0]).to_dict()
        {'estimate': 0.0, 'low': 0.0, 'high': 0.0, 'confidence': 0.95}

    Raises:
        ValueError: No values, or a confidence outside ``(0, 1)``.
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("a bootstrap needs at least one task")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(int(resamples), data.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return Interval(float(data.mean()), float(low), float(high), confidence)


def success_interval(
    outcomes: Outcomes, *, resamples: int = DEFAULT_BOOTSTRAP, confidence: float = DEFAULT_CONFIDENCE, seed: int = 0
) -> Interval:
    """A condition's success rate (mean of its task rates) with a bootstrap interval over tasks."""
    return bootstrap_mean(list(task_rates(outcomes).values()), resamples=resamples, confidence=confidence, seed=seed)


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test: the p-value of ``wins`` against ``losses`` under a fair coin (ties dropped).

    Example:
        >>> sign_test(5, 0)  # 2 * 0.5**5
        0.0625
        >>> sign_test(0, 0)
        1.0
    """
    if wins + losses == 0:
        return 1.0
    try:
        from scipy.stats import binomtest
    except ImportError as exc:
        from awm_gym.errors import ConfigurationError

        raise ConfigurationError(
            "the exact paired test needs scipy: pip install awm-gym[eval] (or pip install scipy)"
        ) from exc
    return float(binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)


def compare_paired(
    a: Outcomes,
    b: Outcomes,
    *,
    names: tuple[str, str] = ("a", "b"),
    resamples: int = DEFAULT_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> PairedComparison:
    """Compare condition ``b`` with condition ``a`` over the tasks both ran.

    Example:
        >>> always = {("shop", i): [True] for i in range(5)}
        >>> never = {("shop", i): [False] for i in range(5)}
        >>> result = compare_paired(never, always, names=("never", "always"))
        >>> result.delta.estimate, result.wins, result.losses, result.p_value
        (1.0, 5, 0, 0.0625)

    Raises:
        ValueError: The conditions share no task.
    """
    rates_a, rates_b = task_rates(a), task_rates(b)
    shared = [task for task in rates_a if task in rates_b]
    if not shared:
        raise ValueError(f"conditions {names[0]!r} and {names[1]!r} share no task with outcomes: nothing to pair")
    differences = [rates_b[task] - rates_a[task] for task in shared]
    wins = sum(d > 0 for d in differences)
    losses = sum(d < 0 for d in differences)
    return PairedComparison(
        a=names[0],
        b=names[1],
        tasks=len(shared),
        rate_a=float(np.mean([rates_a[task] for task in shared])),
        rate_b=float(np.mean([rates_b[task] for task in shared])),
        delta=bootstrap_mean(differences, resamples=resamples, confidence=confidence, seed=seed),
        wins=wins,
        losses=losses,
        ties=len(shared) - wins - losses,
        p_value=sign_test(wins, losses),
    )
