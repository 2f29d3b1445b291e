"""The SkyRL-gym adapter: AWMTextEnv made and stepped through the real skyrl_gym registry."""

from __future__ import annotations

import importlib
import sys

import pytest

skyrl_gym = pytest.importorskip("skyrl_gym")

from skyrl_gym.envs.base_text_env import BaseTextEnv  # noqa: E402

from awm_gym.catalog import TaskSet  # noqa: E402
from awm_gym.errors import ConfigurationError, MissingExtraError  # noqa: E402
from awm_gym.integrations import skyrl as awm_skyrl  # noqa: E402
from awm_gym.wrappers import RewardShaping  # noqa: E402

PETS = "awmgym_pet_clinic"
INVOICE_CALL = '<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>'
ANSWER = "You currently owe $1,084.15 in total."


@pytest.fixture(scope="module")
def dataset():
    return awm_skyrl.skyrl_dataset(TaskSet([(PETS, 1), (PETS, 0)], name="train"))


def extras_of(row: dict) -> dict:
    """What SkyRL passes as extras: the row without its prompt and env_class."""
    return {key: value for key, value in row.items() if key not in ("prompt", "env_class")}


def test_dataset_rows(dataset) -> None:
    """SkyRL's prompt-dataset format: prompt messages, env_class, and the task in extra_info."""
    row = dataset[0]
    assert row["env_class"] == "awm" and row["data_source"] == "awm"
    assert row["extra_info"] == {"scenario": PETS, "task_idx": 1, "task": row["extra_info"]["task"], "split": "train"}
    [message] = row["prompt"]
    assert message["role"] == "user"
    assert row["extra_info"]["task"] in message["content"] and "list_my_invoices(" in message["content"]


def test_make_and_episode(dataset) -> None:
    """skyrl_gym.make builds a real skyrl_gym Env; tool results come back as user turns; the answer is verified."""
    env = skyrl_gym.make("awm", env_config={"max_steps": 5}, extras=extras_of(dataset[0]))
    try:
        assert isinstance(env, skyrl_gym.Env) and isinstance(env, BaseTextEnv)
        assert env.spec.id == "awm"
        prompt, info = env.init(dataset[0]["prompt"])
        assert prompt == dataset[0]["prompt"] and info["task_idx"] == 1
        out = env.step(f"Let me look.\n{INVOICE_CALL}")
        assert out["done"] is False and out["reward"] == 0.0
        [observation] = out["observations"]
        assert observation["role"] == "user" and "INV-22160" in observation["content"]
        out = env.step('{"name": "no_such_tool", "arguments": {}}')
        assert out["metadata"]["error"]["type"] and out["observations"][0]["content"] == "Unknown tool: no_such_tool"
        out = env.step(ANSWER)
        assert out["done"] is True and out["observations"] == [] and out["reward"] == 1.0
        assert out["metadata"]["verifier"]["label"] == "complete" and out["metadata"]["final_answer"] == ANSWER
        assert env.get_metrics() == {"steps": 3, "episode_return": 1.0, "complete": 1.0}
    finally:
        env.close()


def test_task_under_extra_info_only_and_empty_prompt(dataset) -> None:
    """The task may be given in extra_info alone; an empty prompt is replaced by the env's observation."""
    env = skyrl_gym.make("awm", env_config={}, extras={"extra_info": dataset[1]["extra_info"]})
    try:
        prompt, info = env.init([])
        assert prompt == dataset[1]["prompt"] and info["task_idx"] == 0
        out = env.step("I do not know.")
        assert out["done"] and out["reward"] == 0.0 and out["metadata"]["verifier"]["label"] == "others"
    finally:
        env.close()


def test_step_limit_truncates() -> None:
    """At max_steps the episode ends and is verified with an empty answer."""
    env = skyrl_gym.make("awm", env_config={"max_steps": 2}, extras={"scenario": PETS, "task_idx": 1})
    try:
        env.init([])
        assert env.step(INVOICE_CALL)["done"] is False
        out = env.step(INVOICE_CALL)
        assert out["done"] is True and out["reward"] == 0.0 and out["metadata"]["verifier"]["label"] == "others"
    finally:
        env.close()


def test_closed_envs_are_reused() -> None:
    """close() hands the scenario server to the next env of the same options; a closed env refuses to step."""
    first = skyrl_gym.make("awm", env_config={"max_steps": 7}, extras={"scenario": PETS, "task_idx": 1})
    first.init([])
    pid = first.env.unwrapped.host.server_pid
    first.close()
    first.close()
    with pytest.raises(ConfigurationError, match="closed"):
        first.step(ANSWER)
    second = skyrl_gym.make("awm", env_config={"max_steps": 7}, extras={"scenario": PETS, "task_idx": 2})
    try:
        assert second.env.unwrapped.host.server_pid == pid
        prompt, info = second.init([])
        assert info["task_idx"] == 2
    finally:
        second.close()


def test_reward_shaping_through_make() -> None:
    """Wrappers passed to make apply; the done step's reward is the shaped return, the verifier's in metadata."""
    env = skyrl_gym.make(
        "awm",
        env_config={"max_steps": 5},
        extras={"scenario": PETS, "task_idx": 1},
        wrappers=[lambda env: RewardShaping(env, step=-0.25)],
    )
    try:
        env.init([])
        env.step(INVOICE_CALL)
        out = env.step(ANSWER)
        assert out["reward"] == pytest.approx(1.0 - 0.5)
        assert out["metadata"]["verifier_reward"] == 1.0
    finally:
        env.close()


@pytest.mark.parametrize(
    ("config", "extras", "match"),
    [
        ({"max_step": 3}, {"scenario": PETS, "task_idx": 0}, "env_config keys"),
        ({}, {"task_idx": 0}, "scenario"),
        ({}, {"scenario": PETS, "task_idx": "0"}, "task_idx"),
    ],
)
def test_bad_configuration(config: dict, extras: dict, match: str) -> None:
    """Unknown options and rows without a task are configuration errors naming what is expected."""
    with pytest.raises(ConfigurationError, match=match):
        skyrl_gym.make("awm", env_config=config, extras=extras)


def test_register_is_idempotent() -> None:
    """register() can run in every process; a second id maps to the same class."""
    assert awm_skyrl.register() == "awm"
    assert awm_skyrl.register("awm_suite_test") == "awm_suite_test"
    try:
        assert skyrl_gym.spec("awm_suite_test").entry_point == "awm_gym.integrations.skyrl:AWMTextEnv"
    finally:
        skyrl_gym.envs.registration.deregister("awm_suite_test")


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without skyrl-gym, importing the adapter says `pip install awm-gym[skyrl]`."""
    monkeypatch.setitem(sys.modules, "skyrl_gym", None)
    monkeypatch.delitem(sys.modules, "awm_gym.integrations.skyrl")
    with pytest.raises(MissingExtraError, match=r"pip install awm-gym\[skyrl\]"):
        importlib.import_module("awm_gym.integrations.skyrl")
