"""The TRL adapter: AWMSpec's dataset, environments and reward, driven by the real GRPOTrainer."""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")

sys.path.insert(0, str(Path(__file__).parent))

from tiny_model import tiny_model, tiny_tokenizer  # noqa: E402
from transformers.utils import get_json_schema  # noqa: E402

import awm_gym  # noqa: E402
from awm_gym.catalog import TaskSet  # noqa: E402
from awm_gym.envs.prompts import NATIVE_TOOLS_SYSTEM_PROMPT  # noqa: E402
from awm_gym.errors import ConfigurationError, MissingExtraError  # noqa: E402
from awm_gym.integrations.trl import AWMSpec, AWMToolEnvironment, awm_reward, tool_method  # noqa: E402
from awm_gym.wrappers import ExpertAdvice, RewardShaping  # noqa: E402

PETS = "awmgym_pet_clinic"
INVOICES = 1  # "How much do I currently owe in total across all of my outstanding invoices?"
ANSWER = "You currently owe $1,084.15 in total across your open invoices."
PROFILE_CALL = '<tool_call>\n{"name": "get_my_profile", "arguments": {}}\n</tool_call>'


def row_kwargs(row: dict) -> dict:
    """What GRPOTrainer passes to reset() in multi-environment mode: the row without `environment`."""
    return {key: value for key, value in row.items() if key != "environment"}


def assistant(content: str = "", tool_call: dict | None = None) -> dict:
    message = {"role": "assistant", "content": content}
    if tool_call is not None:
        message["tool_calls"] = [{"type": "function", "function": tool_call}]
    return message


@pytest.fixture(scope="module")
def spec():
    spec = AWMSpec([(PETS, 0), (PETS, INVOICES), ("awmgym_workflow_automation", 2)], max_steps=4)
    yield spec
    spec.close()


def _nullable(schema: dict) -> tuple[str | None, bool]:
    """A property's (type, nullable) in either spelling: AWM's anyOf-with-null or transformers' nullable flag."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    nullable = schema.get("nullable", False) or len(options) < len(schema.get("anyOf", []))
    kind = options[0].get("type") if len(options) == 1 else schema.get("type")
    return kind, nullable


class TestToolSchemas:
    @pytest.mark.parametrize("scenario", sorted(awm_gym.list_scenarios()))
    def test_methods_rebuild_every_bundled_tool(self, scenario: str) -> None:
        """transformers' get_json_schema (what TRL renders) gives back each tool's name, types, required and descriptions."""
        spec = AWMSpec(scenario, max_steps=2)
        env = spec.environment_factory[scenario]()
        try:
            assert len(env.tools) >= 20
            for tool in env.tools:
                expected = tool["function"]
                method = getattr(env, expected["name"])
                rendered = get_json_schema(method)["function"]
                assert rendered["name"] == expected["name"]
                assert rendered["description"].split("\n")[0] == expected["description"].split("\n")[0]
                wanted = expected["parameters"].get("properties", {})
                got = rendered["parameters"].get("properties", {})
                assert list(got) == sorted(wanted, key=lambda p: p not in expected["parameters"].get("required", []))
                assert set(rendered["parameters"].get("required", [])) == set(
                    expected["parameters"].get("required", [])
                )
                for name, schema in wanted.items():
                    assert _nullable(got[name]) == _nullable(schema), (expected["name"], name)
                    if "items" in schema or any("items" in s for s in schema.get("anyOf", [])):
                        assert "items" in got[name] or any("items" in s for s in got[name].get("anyOf", []))
        finally:
            spec.close()

    def test_keyword_parameters_reach_the_schema_and_the_call(self, spec: AWMSpec) -> None:
        """Parameters named like Python keywords (pet_clinic's `class`) are in the schema and arrive at the env."""
        env = spec.environment_factory[PETS]()
        rendered = get_json_schema(env.list_my_pets)["function"]["parameters"]["properties"]
        assert "class" in rendered
        env.reset(**row_kwargs(spec.train_dataset[0]))
        assert "Biscuit" not in env.list_my_pets(**{"class": "reptile"})
        assert env.info["tool_call"] == {"name": "list_my_pets", "arguments": {"class": "reptile"}}

    def test_constraints_go_into_descriptions(self) -> None:
        """A minimum, maximum or pattern a type hint cannot carry is written into the parameter's description."""
        method = tool_method(
            {
                "name": "page",
                "description": "Page through.",
                "parameters": {"properties": {"size": {"type": "integer", "minimum": 1, "maximum": 50}}},
            }
        )
        assert get_json_schema(method)["function"]["parameters"]["properties"]["size"] == {
            "type": "integer",
            "description": "size (minimum 1; maximum 50)",
        }

    @pytest.mark.parametrize("name", ["reset", "get_reward", "_private", "not-an-identifier"])
    def test_reserved_or_bad_names_are_refused(self, name: str) -> None:
        """A tool TRL could not call by name (or would take for its own method) is a configuration error."""
        with pytest.raises(ConfigurationError, match="public Python identifier"):
            tool_method({"name": name, "parameters": {}})


class TestDataset:
    def test_rows(self, spec: AWMSpec) -> None:
        """One row per task: native-tools system prompt, empty user turn, the scenario as TRL's environment key."""
        dataset = spec.train_dataset
        assert dataset.column_names == ["prompt", "environment", "scenario", "task_idx", "task", "split"]
        assert [(r["scenario"], r["task_idx"]) for r in dataset] == [
            (PETS, 0),
            (PETS, INVOICES),
            ("awmgym_workflow_automation", 2),
        ]
        row = dataset[1]
        assert row["prompt"] == [
            {"role": "system", "content": NATIVE_TOOLS_SYSTEM_PROMPT},
            {"role": "user", "content": ""},
        ]
        assert row["environment"] == PETS and "owe" in row["task"]
        assert set(spec.environment_factory) == {PETS, "awmgym_workflow_automation"}

    def test_task_set_name_becomes_split(self) -> None:
        """A task set's name fills the split column."""
        spec = AWMSpec(TaskSet([(PETS, 3)], name="train"))
        assert spec.train_dataset[0]["split"] == "train"

    @pytest.mark.parametrize("tasks", [[(PETS, 99)], [42]])
    def test_bad_tasks(self, tasks: list) -> None:
        """Out-of-range indices and unknown entries are configuration errors."""
        with pytest.raises(ConfigurationError, match="task"):
            AWMSpec(tasks)

    def test_missing_datasets_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the optional package, the error names `pip install awm-gym[trl]`."""
        monkeypatch.setitem(sys.modules, "datasets", None)
        with pytest.raises(MissingExtraError, match=r"pip install awm-gym\[trl\]"):
            _ = AWMSpec([(PETS, 0)]).train_dataset


class TestDrivenAsTRLDoes:
    def test_episode(self, spec: AWMSpec) -> None:
        """reset(**row) gives the task text only; tools run on the server; the last message is the verified answer."""
        env = spec.environment_factory[PETS]()
        row = spec.train_dataset[1]
        assert env.reset(**row_kwargs(row)) == row["task"]
        result = env.list_my_invoices()
        assert "INV-22160" in result
        bad = env.list_my_appointments(pet_id="not a number")
        assert "validation" in bad.lower() or "error" in bad.lower()
        completion = [
            assistant(tool_call={"name": "list_my_invoices", "arguments": {}}),
            {"role": "tool", "name": "list_my_invoices", "content": result},
            assistant(ANSWER),
        ]
        assert awm_reward(completions=[completion], environments=[env]) == [1.0]
        assert env.info["verifier"]["label"] == "complete" and env.info["final_answer"] == ANSWER
        assert env.num_tool_calls == 2

    def test_wrong_answer_scores_zero_and_rewards_are_idempotent(self, spec: AWMSpec) -> None:
        """A wrong final answer is what the verifier sees; asking for the reward again does not re-run the episode."""
        env = spec.environment_factory[PETS]()
        env.reset(**row_kwargs(spec.train_dataset[1]))
        assert awm_reward(completions=[[assistant("You owe nothing.")]], environments=[env]) == [0.0]
        assert env.info["verifier"]["label"] == "others"
        assert awm_reward(completions=[[assistant(ANSWER)]], environments=[env]) == [0.0]

    @pytest.mark.parametrize(
        "last",
        [
            '<tool_call>{"name": "cancel_appointment", "arguments": {"appointment_id": 1}}',
            '{"name": "get_my_profile", "arguments": {}}',
        ],
    )
    def test_unrun_tool_call_is_no_answer(self, spec: AWMSpec, last: str) -> None:
        """A last message holding a tool call TRL did not run is not run by the reward either: the answer is empty."""
        env = spec.environment_factory[PETS]()
        env.reset(**row_kwargs(spec.train_dataset[1]))
        assert awm_reward(completions=[[assistant(last)]], environments=[env]) == [0.0]
        assert env.info["final_answer"] == "" and env.num_tool_calls == 0 and env.info["step"] == 1

    def test_step_limit(self, spec: AWMSpec) -> None:
        """At max_steps the env verifies with an empty answer; later tool calls say the episode is over."""
        env = spec.environment_factory[PETS]()
        env.reset(**row_kwargs(spec.train_dataset[1]))
        for _ in range(4):
            env.get_my_profile()
        assert env.done and env.info["verifier"]["label"] == "others"
        assert "episode is over" in env.get_my_profile()
        assert awm_reward(completions=[[assistant(ANSWER)]], environments=[env]) == [0.0]

    def test_noop_task_and_row_for_another_scenario(self, spec: AWMSpec) -> None:
        """A row must go to its scenario's environment (TRL's dict mode does this by the environment column)."""
        env = spec.environment_factory[PETS]()
        with pytest.raises(ConfigurationError, match="environment"):
            env.reset(**row_kwargs(spec.train_dataset[2]))
        other = spec.environment_factory["awmgym_workflow_automation"]()
        other.reset(**row_kwargs(spec.train_dataset[2]))
        assert awm_reward(completions=[[assistant("Done.")]], environments=[other]) == [1.0]  # a no-op pass

    def test_not_awm_environments_get_none(self) -> None:
        """Rollouts of other environments are left to other reward functions."""
        assert awm_reward(completions=[[]], environments=[object()]) == [None]

    def test_close_stops_servers(self) -> None:
        """spec.close() ends the scenario server of every environment it built."""
        from helpers import assert_gone

        spec = AWMSpec([(PETS, 0)])
        env = spec.environment_factory[PETS]()
        env.reset(**row_kwargs(spec.train_dataset[0]))
        pid = env.env.unwrapped.host.server_pid
        spec.close()
        assert_gone([pid])


class TestWrappersCompose:
    def test_expert_is_one_more_tool_and_shaping_reaches_the_reward(self) -> None:
        """ExpertAdvice adds ask_expert as a method; RewardShaping's terms are in the returned reward."""

        def expert(question, context):
            return f"Call list_my_invoices (asked: {question})"

        spec = AWMSpec(
            [(PETS, INVOICES)],
            wrappers=[lambda env: RewardShaping(env, step=-0.1), lambda env: ExpertAdvice(env, expert)],
        )
        try:
            env = spec.environment_factory[PETS]()
            assert isinstance(env, AWMToolEnvironment)
            assert "ask_expert" in type(env).__dict__
            params = inspect.signature(env.ask_expert).parameters
            assert list(params) == ["question"]
            env.reset(**row_kwargs(spec.train_dataset[0]))
            assert env.ask_expert(question="Where do I start?") == "Call list_my_invoices (asked: Where do I start?)"
            env.list_my_invoices()
            (reward,) = awm_reward(completions=[[assistant(ANSWER)]], environments=[env])
            assert reward == pytest.approx(1.0 - 0.1 * 3)
            assert env.info["verifier_reward"] == 1.0
        finally:
            spec.close()


@pytest.mark.slow
def test_grpo_trainer_two_steps_with_verifier_rewards(tmp_path: Path) -> None:
    """The real GRPOTrainer, a tiny local model: tool calls run on the server and the verifier's rewards reach it.

    The untrained model is steered with generation-time sequence biases: first turn, a tool-call token
    (get_my_profile); after the tool's result, one answer token. Task 1 (the invoices total) passes with that
    answer, task 0 (an appointment question) does not: one step must log a mean reward of 1.0, the other 0.0.
    """
    import torch
    from trl import GRPOConfig, GRPOTrainer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    torch.manual_seed(0)
    spec = AWMSpec([(PETS, 0), (PETS, INVOICES)], max_steps=5)
    tokenizer = tiny_tokenizer([PETS], whole_tokens=[ANSWER, PROFILE_CALL])
    call_id, answer_id = tokenizer.convert_tokens_to_ids([PROFILE_CALL, ANSWER])
    eos = tokenizer.eos_token_id
    after_tool = tokenizer.encode("</tool_response><|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,  # one task (two generations) per step
        num_generations=2,
        max_completion_length=1024,  # tool results count toward it: TRL drops one that would not fit
        max_steps=2,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        max_tool_calling_iterations=2,
        seed=0,
        generation_kwargs={
            "sequence_bias": [
                [[call_id], 30.0],
                [[call_id, eos], 100.0],
                [[*after_tool, answer_id], 200.0],
                [[answer_id, eos], 300.0],
            ]
        },
    )
    trainer = GRPOTrainer(
        model=tiny_model(tokenizer),
        processing_class=tokenizer,
        args=args,
        train_dataset=spec.train_dataset,
        environment_factory=spec.environment_factory,
        reward_funcs=spec.reward_funcs,
    )
    try:
        trainer.train()
        logs = [entry for entry in trainer.state.log_history if "rewards/awm_reward/mean" in entry]
        assert trainer.state.global_step == 2 and len(logs) == 2
        assert sorted(entry["rewards/awm_reward/mean"] for entry in logs) == [0.0, 1.0]
        assert all(entry["tools/call_frequency"] == 1.0 and entry["tools/failure_frequency"] == 0.0 for entry in logs)
        environments = list(spec._instances)
        assert len(environments) == 2  # TRL pools one instance per rollout of a batch and reuses them
        for env in environments:
            assert env.done and env.num_tool_calls == 1
            assert env.info["final_answer"] == ANSWER
            complete = env.info["verifier"]["label"] == "complete"
            assert complete == (env.task_idx == INVOICES) and env.reward == float(complete)
    finally:
        spec.close()
