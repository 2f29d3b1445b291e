"""Training on the whole AWM distribution: pinned train/test splits and the task sets as a ``datasets.Dataset``.

This layer sits above the verifier (no-op and reward-hack exclusion) and the env prompts; the suite env
itself is :class:`awm_gym.envs.AWMSuiteEnv` (``AWM/suite-v0``) and the task set type is
:class:`awm_gym.catalog.TaskSet`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awm_gym._lazy import lazy_exports

if TYPE_CHECKING:
    from awm_gym.suite.dataset import NATIVE_SYSTEM_PROMPT, PROMPT_MODES, scenario_tools, tasks_dataset
    from awm_gym.suite.splits import excluded_tasks, task_split

# Name -> module; loaded on first use (``datasets`` is imported only when a dataset is built).
_EXPORTS = {
    "NATIVE_SYSTEM_PROMPT": "awm_gym.suite.dataset",
    "PROMPT_MODES": "awm_gym.suite.dataset",
    "excluded_tasks": "awm_gym.suite.splits",
    "scenario_tools": "awm_gym.suite.dataset",
    "task_split": "awm_gym.suite.splits",
    "tasks_dataset": "awm_gym.suite.dataset",
}

__all__ = [
    "NATIVE_SYSTEM_PROMPT",
    "PROMPT_MODES",
    "excluded_tasks",
    "scenario_tools",
    "task_split",
    "tasks_dataset",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
