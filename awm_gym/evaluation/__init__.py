"""Honest evaluation: conditions on a pinned task set, verifier success, paired statistics, resumable runs.

- :class:`Condition`: a policy (an OpenAI-compatible endpoint or a Python callable), optionally with an
  expert and reward shaping.
- :func:`evaluate`: every condition on every task, ``repeats`` times, through the rollout driver; an
  interrupted run resumes from its ``episodes.jsonl``.
- :class:`EvalResults`: the records, per-task and per-scenario success, pass@k, paired comparisons (bootstrap
  interval over tasks, exact sign test), and the JSON, markdown and plots.
- :class:`Simulation`: the offline mode (a synthetic student and expert), labelled SIMULATION everywhere.

The command line is ``awm-gym eval`` (see ``docs/evaluation.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awm_gym._lazy import lazy_exports

if TYPE_CHECKING:
    from awm_gym.evaluation.conditions import Condition, describe_callable
    from awm_gym.evaluation.records import EpisodeKey, EpisodeLog, EpisodeRecord
    from awm_gym.evaluation.report import RESULTS_FILE, EvalResults
    from awm_gym.evaluation.runner import EPISODES_FILE, RUN_FILE, evaluate, resolve_tasks
    from awm_gym.evaluation.simulation import SIMULATION_LABEL, Simulation
    from awm_gym.evaluation.statistics import (
        Interval,
        PairedComparison,
        bootstrap_mean,
        compare_paired,
        pass_at_k,
        pass_at_k_task,
        sign_test,
        success_interval,
        task_rates,
    )

__all__ = [
    "EPISODES_FILE",
    "RESULTS_FILE",
    "RUN_FILE",
    "SIMULATION_LABEL",
    "Condition",
    "EpisodeKey",
    "EpisodeLog",
    "EpisodeRecord",
    "EvalResults",
    "Interval",
    "PairedComparison",
    "Simulation",
    "bootstrap_mean",
    "compare_paired",
    "describe_callable",
    "evaluate",
    "pass_at_k",
    "pass_at_k_task",
    "resolve_tasks",
    "sign_test",
    "success_interval",
    "task_rates",
]

# Everything loads on first use, so that ``awm-gym eval --help`` and ``import awm_gym`` stay cheap.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        # What to evaluate
        "Condition": "awm_gym.evaluation.conditions",
        "describe_callable": "awm_gym.evaluation.conditions",
        # Records and the resumable log
        "EpisodeKey": "awm_gym.evaluation.records",
        "EpisodeLog": "awm_gym.evaluation.records",
        "EpisodeRecord": "awm_gym.evaluation.records",
        # Results and reports
        "RESULTS_FILE": "awm_gym.evaluation.report",
        "EvalResults": "awm_gym.evaluation.report",
        # Running
        "EPISODES_FILE": "awm_gym.evaluation.runner",
        "RUN_FILE": "awm_gym.evaluation.runner",
        "evaluate": "awm_gym.evaluation.runner",
        "resolve_tasks": "awm_gym.evaluation.runner",
        # The offline mode
        "SIMULATION_LABEL": "awm_gym.evaluation.simulation",
        "Simulation": "awm_gym.evaluation.simulation",
        # Statistics
        "Interval": "awm_gym.evaluation.statistics",
        "PairedComparison": "awm_gym.evaluation.statistics",
        "bootstrap_mean": "awm_gym.evaluation.statistics",
        "compare_paired": "awm_gym.evaluation.statistics",
        "pass_at_k": "awm_gym.evaluation.statistics",
        "pass_at_k_task": "awm_gym.evaluation.statistics",
        "sign_test": "awm_gym.evaluation.statistics",
        "success_interval": "awm_gym.evaluation.statistics",
        "task_rates": "awm_gym.evaluation.statistics",
    },
)
