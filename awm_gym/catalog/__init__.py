"""The data layer: AgentWorldModel-1K scenarios from a directory, the hub cache or the bundled pack."""

from __future__ import annotations

# Finding and loading scenarios
from awm_gym.catalog.harness import HARNESS_REPO_ID, HARNESS_URL, HarnessSource, endpoint_tasks
from awm_gym.catalog.hub import DATASET_REPO_ID, cached_snapshot, download, hub_cache_dir
from awm_gym.catalog.names import normalize_name

# What a scenario is
from awm_gym.catalog.scenario import (
    VERIFIER_MODES,
    SampleTable,
    Scenario,
    TableSchema,
    VerifierMode,
    VerifierRecord,
    parse_scenario,
    parse_tasks,
)

# Reference solutions (test and example data, never read by the environment)
from awm_gym.catalog.solutions import SOLUTIONS_FILE, ReferenceSolution, load_reference_solutions
from awm_gym.catalog.sources import (
    AWM_FILES,
    BUNDLED_DIR,
    ScenarioSource,
    default_sources,
    find_source,
    list_scenarios,
    load_scenario,
)

# Task sets: the (scenario, task) pairs an experiment uses
from awm_gym.catalog.tasksets import TaskRef, TaskSet, scenario_tasks

__all__ = [
    "AWM_FILES",
    "BUNDLED_DIR",
    "DATASET_REPO_ID",
    "HARNESS_REPO_ID",
    "HARNESS_URL",
    "SOLUTIONS_FILE",
    "VERIFIER_MODES",
    "HarnessSource",
    "ReferenceSolution",
    "SampleTable",
    "Scenario",
    "ScenarioSource",
    "TableSchema",
    "TaskRef",
    "TaskSet",
    "VerifierMode",
    "VerifierRecord",
    "cached_snapshot",
    "default_sources",
    "download",
    "endpoint_tasks",
    "find_source",
    "hub_cache_dir",
    "list_scenarios",
    "load_reference_solutions",
    "load_scenario",
    "normalize_name",
    "parse_scenario",
    "parse_tasks",
    "scenario_tasks",
]
