"""The verifiers (v1) adapter: loaded by verifiers' own loader, an episode run through its API and harness."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest

vf = pytest.importorskip("verifiers.v1")

import awm_gym_verifiers  # noqa: E402
from awm_gym.catalog import TaskSet  # noqa: E402
from awm_gym.errors import MissingExtraError  # noqa: E402
from awm_gym.integrations.verifiers import AWMGymEnv, AWMTasksetConfig, load_environment  # noqa: E402
from awm_gym.testing import FakeOpenAIServer  # noqa: E402

PETS = "awmgym_pet_clinic"
INVOICE_CALL = '<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>'
ANSWER = "You currently owe $1,084.15 in total."


@pytest.fixture
def private_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """verifiers' subprocess runtime works under ~/.cache/verifiers; keep the test's runs in tmp_path."""
    import verifiers.v1.runtimes.subprocess as subprocess_runtime

    monkeypatch.setattr(subprocess_runtime, "CACHE_DIR", tmp_path)
    monkeypatch.setenv("AWM_TEST_API_KEY", "EMPTY")
    return tmp_path


def run_episode(env, task, server: FakeOpenAIServer):
    ctx = vf.ModelContext(
        model="fake-model", client=vf.EvalClientConfig(base_url=server.base_url, api_key_var="AWM_TEST_API_KEY")
    )

    async def main():
        async with env.serving():
            return await env.run_episode(task, ctx)

    return asyncio.run(main())


def test_loaded_by_verifiers_own_loader() -> None:
    """The task set id resolves through vf.resolve_env_config and vf.load_environment, as vf-eval does."""
    config = vf.resolve_env_config({"taskset": {"id": "awm_gym_verifiers", "tasks": [[PETS, 1], [PETS, 4]]}})
    assert isinstance(config.taskset, AWMTasksetConfig)
    env = vf.load_environment(config)
    assert isinstance(env, AWMGymEnv)
    assert [task.data.name for task in env.taskset] == [f"{PETS}#1", f"{PETS}#4"]
    assert vf.default_harness_id("awm_gym_verifiers") == "awm_gym_verifiers"
    assert awm_gym_verifiers.__all__ == ["AWMChatHarness", "AWMGymEnv", "AWMTaskset"]


def test_load_environment_from_a_saved_task_set(tmp_path: Path) -> None:
    """load_environment accepts a TaskSet file; its name becomes each task's split."""
    path = tmp_path / "train.json"
    TaskSet([(PETS, 2), ("awmgym_home_budget", 0)], name="train").save(path)
    tasks = list(load_environment(str(path)).taskset)
    assert [(t.data.scenario, t.data.task_idx, t.data.split) for t in tasks] == [
        (PETS, 2, "train"),
        ("awmgym_home_budget", 0, "train"),
    ]
    assert tasks[0].data.task == tasks[0].data.description and tasks[0].data.prompt is None  # the env opens


@pytest.mark.slow
def test_episode_through_the_harness(private_runtime_dir: Path) -> None:
    """verifiers' chat program talks to the model; the AWM env answers as the user; the verifier scores."""
    env = load_environment([(PETS, 1)], max_steps=5)
    [task] = list(env.taskset)
    with FakeOpenAIServer() as server:
        server.enqueue(f"Let me check.\n{INVOICE_CALL}", ANSWER)
        episode = run_episode(env, task, server)
        requests = server.requests
    [trace] = episode.traces
    assert trace.rewards["awm_reward"].score == 1.0
    assert trace.info["awm"] == {
        "scenario": PETS,
        "task_idx": 1,
        "steps": 2,
        "label": "complete",
        "final_answer": ANSWER,
    }
    assert len(requests) == 2
    first_turn = requests[0]["messages"][-1]["content"]
    assert task.data.task in first_turn and "list_my_invoices(" in first_turn  # the text catalog of tools
    assert "INV-22160" in requests[1]["messages"][-1]["content"]  # the tool's result came back as the user turn
    assert not any(Path(private_runtime_dir).glob("runtimes/subprocess/*/.awm-chat-*"))  # run dirs are removed


@pytest.mark.slow
def test_wrong_answer_scores_zero(private_runtime_dir: Path) -> None:
    """An answer the verifier rejects gives awm_reward 0 and its label."""
    env = load_environment([(PETS, 1)], max_steps=5)
    [task] = list(env.taskset)
    with FakeOpenAIServer() as server:
        server.enqueue("You owe nothing.")
        [trace] = run_episode(env, task, server).traces
    assert trace.rewards["awm_reward"].score == 0.0 and trace.info["awm"]["label"] == "others"


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without verifiers, importing the adapter says `pip install awm-gym[verifiers]`."""
    monkeypatch.setitem(sys.modules, "verifiers.v1", None)
    monkeypatch.delitem(sys.modules, "awm_gym.integrations.verifiers")
    with pytest.raises(MissingExtraError, match=r"pip install awm-gym\[verifiers\]"):
        importlib.import_module("awm_gym.integrations.verifiers")
