"""awm-gym: Agent World Model scenarios as Gymnasium environments.

``import awm_gym`` registers ``AWM/<scenario>-v0`` with Gymnasium for every scenario it can find (the bundled
pack, ``AWM_DATA_DIR`` and the Hugging Face cache), reading names only:

    >>> import gymnasium as gym
    >>> import awm_gym
    >>> "AWM/awmgym_workflow_automation-v0" in gym.registry
    True

It also registers ``AWM/suite-v0`` (:class:`~awm_gym.envs.AWMSuiteEnv`), which draws a (scenario, task) pair
from a :class:`TaskSet` at every reset (see :func:`task_split`). Heavy parts (the env, wrappers, vector env,
LLM clients) load on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awm_gym._lazy import lazy_exports

# Errors
from awm_gym.errors import (
    ActorLostError,
    AWMGymError,
    ConfigurationError,
    DataFormatError,
    DownloadError,
    IsolationUnavailableError,
    LLMError,
    MissingExtraError,
    ScenarioNotFoundError,
    SessionLimitError,
    SubEnvClosedError,
    SubEnvError,
    SubEnvStartError,
    SubEnvWorkerError,
    VerifierError,
)

if TYPE_CHECKING:
    from awm_gym.catalog import TaskRef, TaskSet
    from awm_gym.envs import AWMEnv, AWMSuiteEnv
    from awm_gym.evaluation import evaluate
    from awm_gym.suite import task_split, tasks_dataset
    from awm_gym.vector import AWMVectorEnv

__version__ = "0.1.0"

__all__ = [
    "SUITE_ID",
    "AWMEnv",
    "AWMGymError",
    "AWMSuiteEnv",
    "AWMVectorEnv",
    "ActorLostError",
    "ConfigurationError",
    "DataFormatError",
    "DownloadError",
    "IsolationUnavailableError",
    "LLMError",
    "MissingExtraError",
    "ScenarioNotFoundError",
    "SessionLimitError",
    "SubEnvClosedError",
    "SubEnvError",
    "SubEnvStartError",
    "SubEnvWorkerError",
    "TaskRef",
    "TaskSet",
    "VerifierError",
    "__version__",
    "download",
    "env_id",
    "evaluate",
    "list_scenarios",
    "register_scenarios",
    "task_split",
    "tasks_dataset",
]

ENTRY_POINT = "awm_gym.envs.awm_env:AWMEnv"
VECTOR_ENTRY_POINT = "awm_gym.vector.vector_env:AWMVectorEnv"
SUITE_ID = "AWM/suite-v0"
"""The env that draws a (scenario, task) from a task set at every reset (:class:`~awm_gym.envs.AWMSuiteEnv`)."""


def env_id(scenario: str) -> str:
    """The Gymnasium id of a scenario, e.g. ``"AWM/awmgym_pet_clinic-v0"``."""
    from awm_gym.catalog import normalize_name

    return f"AWM/{normalize_name(scenario)}-v0"


def list_scenarios(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of every available scenario (bundled, ``AWM_DATA_DIR``, hub cache, and ``data_dir`` if given)."""
    from awm_gym.catalog import list_scenarios as _list

    return _list(data_dir)


def register_scenarios(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Register ``AWM/<name>-v0`` for every scenario found (already registered ids are left alone).

    With ``data_dir``, its scenarios are registered with ``data_dir`` as a default keyword argument, so
    ``gym.make(env_id(name))`` loads them from there. Returns the ids registered by this call.
    """
    from gymnasium.envs.registration import EnvSpec, registry

    registered = []
    for name in list_scenarios(data_dir):
        scenario_id = env_id(name)
        if scenario_id in registry:
            continue
        kwargs: dict[str, Any] = {"scenario": name}
        if data_dir is not None:
            kwargs["data_dir"] = str(data_dir)
        # Straight into the registry: gym.register() re-scans every registered id for version clashes,
        # which is quadratic over 1,000 scenarios, and these ids are unique and all at version 0.
        registry[scenario_id] = EnvSpec(
            id=scenario_id, entry_point=ENTRY_POINT, vector_entry_point=VECTOR_ENTRY_POINT, kwargs=kwargs
        )
        registered.append(scenario_id)
    return registered


def download(**kwargs: Any) -> Path:
    """Download AgentWorldModel-1K from the Hugging Face hub, register its scenarios, return its directory.

    Keyword arguments go to :func:`awm_gym.catalog.download` (``revision``, ``cache_dir``, ``local_dir``,
    ``token``, ``local_files_only``).
    """
    from awm_gym.catalog import download as _download

    path = _download(**kwargs)
    register_scenarios(path if kwargs.get("local_dir") or kwargs.get("cache_dir") else None)
    return path


# The envs, the vector env and the task sets load on first use (Gymnasium's heavier parts, the host layer).
__getattr__, _ = lazy_exports(
    __name__,
    {
        "AWMEnv": "awm_gym.envs",
        "AWMSuiteEnv": "awm_gym.envs",
        "AWMVectorEnv": "awm_gym.vector",
        "evaluate": "awm_gym.evaluation",
        "TaskRef": "awm_gym.catalog",
        "TaskSet": "awm_gym.catalog",
        "task_split": "awm_gym.suite",
        "tasks_dataset": "awm_gym.suite",
    },
)


def _register_suite() -> None:
    from gymnasium.envs.registration import EnvSpec, registry

    if SUITE_ID not in registry:
        registry[SUITE_ID] = EnvSpec(
            id=SUITE_ID,
            entry_point="awm_gym.envs.suite:AWMSuiteEnv",
            vector_entry_point="awm_gym.vector.suite:suite_vector_env",
        )


# Child processes (scenario servers, the verifier worker) import this package but need no registry.
if not os.environ.get("AWM_GYM_CHILD"):
    register_scenarios()
    _register_suite()
