"""tasks_dataset: a task set as a datasets.Dataset whose prompts are what the env's chat wrapper shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import gymnasium as gym
import pytest

import awm_gym
from awm_gym.catalog import TaskSet, load_scenario
from awm_gym.errors import ConfigurationError
from awm_gym.suite import NATIVE_SYSTEM_PROMPT, scenario_tools
from awm_gym.wrappers import ChatMessages

PETS, BUDGET = "awmgym_pet_clinic", "awmgym_home_budget"
TASKS = TaskSet([(PETS, 3), (BUDGET, 0), (PETS, 0)], name="test")


@pytest.fixture(scope="module")
def catalog() -> datasets.Dataset:
    return awm_gym.tasks_dataset(TASKS)


class TestColumns:
    def test_one_row_per_task_in_order(self, catalog: datasets.Dataset) -> None:
        """Rows follow the set; scenario, task_idx, task, split, prompt and tools are present and typed."""
        assert isinstance(catalog, datasets.Dataset) and len(catalog) == 3
        assert {"scenario", "task_idx", "task", "split", "prompt", "tools"} <= set(catalog.column_names)
        assert list(zip(catalog["scenario"], catalog["task_idx"], strict=True)) == [(PETS, 3), (BUDGET, 0), (PETS, 0)]
        assert catalog["task"][1] == load_scenario(BUDGET).tasks[0] and set(catalog["split"]) == {"test"}
        assert catalog.features["task_idx"].dtype == "int64"

    def test_prompt_is_what_chat_messages_shows_at_reset(self, catalog: datasets.Dataset) -> None:
        """A trainer's prompt equals the env's first two chat messages, and tools equal info["tools"]."""
        env = ChatMessages(gym.make(f"AWM/{PETS}-v0", max_steps=3))
        try:
            messages, info = env.reset(options={"task_idx": 3})
        finally:
            env.close()
        assert catalog[0]["prompt"] == messages[:2] and [m["role"] for m in messages[:2]] == ["system", "user"]
        assert json.loads(catalog[0]["tools"]) == info["tools"]

    def test_native_tools_mode_leaves_the_tools_to_the_api(self) -> None:
        """native_tools: the system prompt does not list tools; the tools column carries them."""
        native = awm_gym.tasks_dataset(TaskSet([(PETS, 3)]), prompt_mode="native_tools")
        system, user = native[0]["prompt"]
        assert system == {"role": "system", "content": NATIVE_SYSTEM_PROMPT} and "<tools>" not in system["content"]
        assert user["content"] == load_scenario(PETS).tasks[3] and native[0]["split"] == ""
        assert json.loads(native[0]["tools"])[0]["type"] == "function"


class TestErrors:
    def test_unknown_prompt_mode(self) -> None:
        """Only the two documented modes exist."""
        with pytest.raises(
            ConfigurationError, match=re.escape("prompt_mode must be one of ('catalog', 'native_tools')")
        ):
            awm_gym.tasks_dataset(TASKS, prompt_mode="xml")  # type: ignore[arg-type]

    def test_a_task_beyond_the_scenario(self) -> None:
        """A hand-written pair past the scenario's task list is named in the error."""
        with pytest.raises(ConfigurationError, match=re.escape("('awmgym_pet_clinic', 12) is out of range")):
            awm_gym.tasks_dataset(TaskSet([(PETS, 12)]))


def test_tools_are_cached_by_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first build writes the catalogue to the cache; later builds read it instead of starting the app."""
    monkeypatch.setenv("AWM_GYM_CACHE_DIR", str(tmp_path))
    tools = scenario_tools(PETS)
    [cached] = (tmp_path / "tools").iterdir()
    assert cached.name == f"{PETS}-{load_scenario(PETS).fingerprint}.json" and json.loads(cached.read_text()) == tools
    cached.write_text(json.dumps(tools[:1]))
    assert scenario_tools(PETS) == tools[:1]
