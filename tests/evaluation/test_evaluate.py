"""End-to-end evaluations on the bundled scenarios: real envs, real verifier, real HTTP for endpoint policies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import awm_gym
from awm_gym.catalog import TaskSet, load_reference_solutions, load_scenario
from awm_gym.cli import main
from awm_gym.errors import ConfigurationError, DataFormatError
from awm_gym.evaluation import (
    EPISODES_FILE,
    SIMULATION_LABEL,
    Condition,
    EpisodeLog,
    Simulation,
    evaluate,
)
from awm_gym.testing import FakeOpenAIServer

PETS = "awmgym_pet_clinic"
BUDGET = "awmgym_home_budget"
WORKFLOW = "awmgym_workflow_automation"


class ReplayReference:
    """Replays each task's reference solution: the verifier labels every such episode complete."""

    def __init__(self) -> None:
        self.by_task = {
            load_scenario(s).tasks[i]: solution.actions() for (s, i), solution in load_reference_solutions().items()
        }
        self.calls = 0

    def __call__(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        self.calls += len(conversations)
        actions = []
        for messages in conversations:
            turn = sum(message["role"] == "assistant" for message in messages)
            actions.append(self.by_task[messages[1]["content"]][turn])
        return actions


def give_up(conversations: list[list[dict[str, Any]]]) -> list[str]:
    """Answers at once without doing anything: the verifier labels the (non-no-op) task not done."""
    return ["I cannot do this."] * len(conversations)


class TestKnownAnswers:
    def test_replay_against_give_up(self, tmp_path: Path) -> None:
        """Reference replay vs giving up on n tasks: success 1 vs 0, delta 1, exact p = 2 * 0.5**n; all outputs."""
        tasks = TaskSet([(PETS, i) for i in range(4)] + [(BUDGET, i) for i in range(3)], name="test")
        conditions = [Condition("give-up", policy=give_up), Condition("replay", policy=ReplayReference())]
        results = evaluate(conditions, tasks, out_dir=tmp_path, num_envs=3, max_steps=8, progress=False)
        summary = results.summary()
        assert summary["replay"]["success"]["estimate"] == 1.0 and summary["give-up"]["success"]["estimate"] == 0.0
        assert summary["replay"]["per_scenario"] == {
            PETS: {"tasks": 4, "success": 1.0},
            BUDGET: {"tasks": 3, "success": 1.0},
        }
        [comparison] = results.comparisons()
        assert (comparison["a"], comparison["b"], comparison["tasks"]) == ("give-up", "replay", 7)
        assert comparison["delta"]["estimate"] == 1.0 and comparison["p_value"] == pytest.approx(2 * 0.5**7)
        assert comparison["per_scenario"][PETS]["p_value"] == pytest.approx(2 * 0.5**4)
        assert summary["give-up"]["diagnostics"]["mean_steps"] == 1.0
        assert summary["replay"]["per_task"][f"{PETS}:0"] == 1.0
        assert summary["give-up"]["per_task"][f"{BUDGET}:2"] == 0.0

        paths = results.write(tmp_path)
        data = json.loads(paths["json"].read_text())
        assert data["simulation"] is False and data["awm_gym_version"] == awm_gym.__version__
        assert data["taskset"]["hash"] == tasks.hash() and data["taskset"]["name"] == "test"
        assert data["conditions"]["replay"]["policy"]["kind"] == "python"
        assert len(data["episodes"]) == 14 and {e["label"] for e in data["episodes"]} == {"complete", "others"}
        assert (
            "| replay - give-up | all | 7 | +1.000 [+1.000, +1.000] | 7 / 0 / 0 | 0.01562 |"
            in paths["markdown"].read_text()
        )
        assert paths["success_plot"].stat().st_size > 0 and paths["deltas_plot"].stat().st_size > 0

    def test_noop_tasks_are_excluded_and_counted(self, tmp_path: Path) -> None:
        """A task whose verifier passes on an untouched database is left out and listed."""
        tasks = TaskSet([(WORKFLOW, 1), (WORKFLOW, 2), (WORKFLOW, 3)])
        results = evaluate(Condition("give-up", policy=give_up), tasks, max_steps=3, progress=False)
        assert results.taskset["excluded_noop"] == [[WORKFLOW, 2]] and results.taskset["evaluated"] == 2
        assert {(r.scenario, r.task_idx) for r in results.records} == {(WORKFLOW, 1), (WORKFLOW, 3)}
        kept = evaluate(Condition("give-up", policy=give_up), tasks, max_steps=3, exclude_noop=False, progress=False)
        noop = next(r for r in kept.records if r.task_idx == 2)
        assert noop.success  # the reason it is excluded: doing nothing passes

    def test_a_pinned_held_out_file(self, tmp_path: Path) -> None:
        """A task set file from task_split is evaluated exactly: its tasks only, its hash in the results."""
        train, test = awm_gym.task_split(seed=0, test_fraction=0.3, scenarios=[PETS, BUDGET])
        test.save(tmp_path / "test.json")
        results = evaluate(Condition("give-up", policy=give_up), tmp_path / "test.json", max_steps=3, progress=False)
        assert {(r.scenario, r.task_idx) for r in results.records} == {(t.scenario, t.task_idx) for t in test}
        assert not {(r.scenario, r.task_idx) for r in results.records} & {(t.scenario, t.task_idx) for t in train}
        assert results.taskset["hash"] == test.hash() and results.taskset["name"] == "test"

    def test_repeats_and_pass_at_k(self) -> None:
        """Each task runs once per repeat; pass@1 and pass@k are reported; repeats share their seed."""
        results = evaluate(
            Condition("replay", policy=ReplayReference()), [(PETS, 0), (PETS, 1)], repeats=3, progress=False
        )
        assert sorted((r.task_idx, r.repeat, r.seed) for r in results.records) == [
            (t, r, r) for t in (0, 1) for r in range(3)
        ]
        assert results.summary()["replay"]["pass_at_k"] == {"1": 1.0, "3": 1.0}


class TestResume:
    def test_an_interrupted_run_resumes_without_counting_twice(self, tmp_path: Path) -> None:
        """After an interruption, the same call runs only the missing episodes; each key is counted once."""
        replay = ReplayReference()
        episodes = {"count": 0}

        def interrupted(conversations: list[list[dict[str, Any]]]) -> list[str]:
            if replay.calls >= 6:  # a few episodes are done by now
                raise KeyboardInterrupt
            return replay(conversations)

        tasks = TaskSet([(PETS, i) for i in range(6)])
        with pytest.raises(KeyboardInterrupt):
            evaluate(Condition("replay", policy=interrupted), tasks, out_dir=tmp_path, num_envs=2, progress=False)
        done = EpisodeLog(tmp_path / EPISODES_FILE).read()
        assert 0 < len(done) < 6

        class Counting(ReplayReference):
            def __call__(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
                episodes["count"] += sum(len(m) == 2 for m in conversations)  # first turns = episodes started
                return super().__call__(conversations)

        # The same configuration (the callable's name is part of it) resumes.
        interrupted_again = Counting()
        interrupted_again.__qualname__ = interrupted.__qualname__  # type: ignore[attr-defined]
        interrupted_again.__module__ = interrupted.__module__
        results = evaluate(
            Condition("replay", policy=interrupted_again), tasks, out_dir=tmp_path, num_envs=2, progress=False
        )
        assert episodes["count"] == 6 - len(done)
        assert len(results.records) == 6 and all(r.success for r in results.records)
        lines = (tmp_path / EPISODES_FILE).read_text().splitlines()
        assert len(lines) == 6 and len({(json.loads(line)["task_idx"]) for line in lines}) == 6

    def test_a_torn_last_line_is_dropped_and_rerun(self, tmp_path: Path) -> None:
        """A record cut short by a crash does not count; its episode runs again."""
        tasks = [(PETS, 0), (PETS, 1)]
        evaluate(Condition("give-up", policy=give_up), tasks, out_dir=tmp_path, max_steps=3, progress=False)
        log = tmp_path / EPISODES_FILE
        first, second = log.read_text().splitlines()
        log.write_text(first + "\n" + second[: len(second) // 2])
        assert len(EpisodeLog(log).read()) == 1
        results = evaluate(Condition("give-up", policy=give_up), tasks, out_dir=tmp_path, max_steps=3, progress=False)
        assert len(results.records) == 2 and len(log.read_text().splitlines()) == 2
        log.write_text("not json\n" + log.read_text())
        with pytest.raises(DataFormatError, match=re.escape("not a JSON line")):
            EpisodeLog(log).read()

    def test_another_evaluation_in_the_same_directory_is_refused(self, tmp_path: Path) -> None:
        """Resuming with a different task set or condition setup fails, saying what differs."""
        evaluate(Condition("give-up", policy=give_up), [(PETS, 0)], out_dir=tmp_path, max_steps=3, progress=False)
        with pytest.raises(ConfigurationError, match=re.escape("holds episodes of a different evaluation (task set")):
            evaluate(Condition("give-up", policy=give_up), [(PETS, 1)], out_dir=tmp_path, max_steps=3, progress=False)
        with pytest.raises(ConfigurationError, match=re.escape("condition 'give-up' configured differently")):
            evaluate(
                Condition("give-up", policy=ReplayReference()),
                [(PETS, 0)],
                out_dir=tmp_path,
                max_steps=3,
                progress=False,
            )


class TestEndpoint:
    def test_simulation_through_a_loopback_openai_server(self, tmp_path: Path) -> None:
        """The offline mode plays through the OpenAI client and real HTTP; every output says SIMULATION."""
        with Simulation(noise=0.5) as simulation:
            conditions = simulation.conditions()
            assert all(c.config()["policy"]["kind"] == "openai" for c in conditions)
            results = evaluate(conditions, TaskSet.from_scenarios([PETS]), repeats=2, num_envs=4, progress=False)
        summary = results.summary()
        assert summary["expert"]["success"]["estimate"] == 1.0  # the synthetic expert always knows the next call
        assert summary["baseline"]["success"]["estimate"] < 1.0  # noise 0.5 makes the student give up sometimes
        assert summary["expert"]["diagnostics"]["mean_expert_calls"] > 0
        assert summary["baseline"]["diagnostics"]["mean_tool_errors"] > 0
        [comparison] = results.comparisons()
        assert comparison["losses"] == 0 and comparison["delta"]["estimate"] > 0
        paths = results.write(tmp_path, plots=False)
        assert json.loads(paths["json"].read_text())["label"] == SIMULATION_LABEL
        assert paths["markdown"].read_text().startswith(f"> **{SIMULATION_LABEL}**")

    def test_cli_eval_offline(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``awm-gym eval --simulate`` prints the table and writes the outputs; a rerun resumes with nothing to do."""
        argv = ["eval", "--simulate", "--scenarios", BUDGET, "--out", str(tmp_path), "--no-progress", "--no-plots"]
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert SIMULATION_LABEL in out and "| expert - baseline | all | 10 |" in out
        first = (tmp_path / EPISODES_FILE).read_text()
        assert main(argv) == 0
        assert (tmp_path / EPISODES_FILE).read_text() == first  # nothing ran twice
        assert main(["eval", "--scenarios", BUDGET, "--out", str(tmp_path / "x"), "--no-progress"]) == 2
        assert "give exactly one of --simulate, --model" in capsys.readouterr().err

    def test_cli_eval_against_an_endpoint(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``--model``/``--base-url`` and ``--conditions FILE`` evaluate OpenAI-compatible endpoints over HTTP."""
        with FakeOpenAIServer(responder=lambda request: f"I give up ({request['model']}).") as server:
            argv = ["eval", "--scenarios", PETS, "--max-steps", "3", "--no-progress", "--no-plots"]
            assert main([*argv, "--model", "org/m-1", "--base-url", server.base_url, "--out", str(tmp_path / "a")]) == 0
            assert "| org-m-1 | 10 | 10 | 0.000 [0.000, 0.000] |" in capsys.readouterr().out
            conditions = [{"name": n, "base_url": server.base_url, "model": n} for n in ("one", "two")]
            (tmp_path / "conditions.json").write_text(json.dumps(conditions))
            out = tmp_path / "b"
            assert main([*argv, "--conditions", str(tmp_path / "conditions.json"), "--out", str(out)]) == 0
            assert "| two - one | all | 10 | +0.000 [+0.000, +0.000] | 0 / 0 / 10 | 1 |" in capsys.readouterr().out
            requests = [r for r in server.requests if r["model"] == "two"]
        assert {r["seed"] for r in requests} == {0}  # the repeat's seed goes with every request
        assert {e["final_answer"] for e in json.loads((out / "results.json").read_text())["episodes"]} == {
            "I give up (one).",
            "I give up (two).",
        }
        (tmp_path / "bad.json").write_text('[{"name": "x", "url": "http://x"}]')
        assert main([*argv, "--conditions", str(tmp_path / "bad.json"), "--out", str(tmp_path / "c")]) == 2
        assert "condition 'x' has unknown keys ['url']" in capsys.readouterr().err


class TestConditions:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": "bad name"}, "a condition's name must be letters, digits and _.+-"),
            ({"name": "x"}, "give either policy= (a Python callable) or base_url= and model="),
            ({"name": "x", "model": "m"}, "an endpoint needs both base_url and model"),
            ({"name": "x", "policy": give_up, "expert_options": {"max_calls": 1}}, "expert_options given without"),
            ({"name": "x", "policy": give_up, "expert": print, "expert_options": {"budget": 1}}, "unknown expert"),
        ],
    )
    def test_bad_conditions_are_refused(self, kwargs: dict[str, Any], message: str) -> None:
        """A condition is checked when it is built."""
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            Condition(**kwargs)

    def test_config_never_holds_the_api_key(self) -> None:
        """The recorded configuration names the endpoint and model, never the key."""
        condition = Condition("c", base_url="http://localhost:1/v1", model="m", api_key="sk-secret")
        assert "sk-secret" not in json.dumps(condition.config()) and "sk-secret" not in repr(condition)
