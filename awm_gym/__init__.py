"""awm-gym: Agent World Model scenarios as Gymnasium environments.

``import awm_gym`` registers ``AWM/<scenario>-v0`` with Gymnasium for every scenario it can find (the bundled
pack, ``AWM_DATA_DIR`` and the Hugging Face cache), reading names only:

    >>> import gymnasium as gym
    >>> import awm_gym
    >>> "AWM/awmgym_workflow_automation-v0" in gym.registry
    True

Heavy parts (the env, wrappers, vector env, LLM clients) load on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awm_gym._lazy import lazy_exports

# Errors
from awm_gym.errors import (
    AWMGymError,
    ConfigurationError,
    DataFormatError,
    DownloadError,
    LLMError,
    ScenarioNotFoundError,
    SubEnvClosedError,
    SubEnvError,
    SubEnvStartError,
    SubEnvWorkerError,
    VerifierError,
)

if TYPE_CHECKING:
    from awm_gym.envs import AWMEnv
    from awm_gym.vector import AWMVectorEnv

__version__ = "0.1.0"

__all__ = [
    "AWMEnv",
    "AWMGymError",
    "AWMVectorEnv",
    "ConfigurationError",
    "DataFormatError",
    "DownloadError",
    "LLMError",
    "ScenarioNotFoundError",
    "SubEnvClosedError",
    "SubEnvError",
    "SubEnvStartError",
    "SubEnvWorkerError",
    "VerifierError",
    "__version__",
    "download",
    "env_id",
    "list_scenarios",
    "register_scenarios",
]

ENTRY_POINT = "awm_gym.envs.awm_env:AWMEnv"
VECTOR_ENTRY_POINT = "awm_gym.vector.vector_env:AWMVectorEnv"


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


# The env and the vector env load on first use (they import Gymnasium's heavier parts and the host layer).
__getattr__, _ = lazy_exports(__name__, {"AWMEnv": "awm_gym.envs", "AWMVectorEnv": "awm_gym.vector"})


# Child processes (scenario servers, the verifier worker) import this package but need no registry.
if not os.environ.get("AWM_GYM_CHILD"):
    register_scenarios()
