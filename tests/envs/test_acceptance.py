"""The acceptance check: reference solutions score 1.0 through env.step; doing nothing scores 0.0.

Run on the release-format test data (quirks included) and on every bundled task. The same check runs on
any AgentWorldModel-1K directory with a ``reference_solutions.jsonl``: ``AWM_ACCEPTANCE_DIR=<dir> pytest -k acceptance``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from awm_data import SOLUTIONS

from awm_gym.catalog import ReferenceSolution, ScenarioSource, load_reference_solutions
from awm_gym.envs import AWMEnv


def _replay(env: AWMEnv, task_idx: int, actions: list[str]) -> tuple[float, str]:
    env.reset(options={"task_idx": task_idx})
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return float(reward), info["verifier"]["label"]
    raise AssertionError("the episode did not end")


def _check_solutions(solutions: dict[tuple[str, int], ReferenceSolution], data_dir: Path | None) -> None:
    failures = []
    for scenario in sorted({key[0] for key in solutions}):
        with AWMEnv(scenario, data_dir=data_dir, max_steps=60) as env:
            for (name, idx), solution in sorted(solutions.items()):
                if name != scenario:
                    continue
                solved = _replay(env, idx, solution.actions())
                idle = _replay(env, idx, [""])
                if solved != (1.0, "complete"):
                    failures.append(f"{name} task {idx}: solution gives {solved}")
                if idle[0] != (1.0 if solution.noop_pass else 0.0):
                    failures.append(
                        f"{name} task {idx}: an immediate answer gives {idle} (noop_pass={solution.noop_pass})"
                    )
    assert failures == []


def test_acceptance_on_release_format_data(release_dir: Path) -> None:
    """Every verifiable test-data task: solution -> 1.0, immediate empty answer -> 0.0."""
    solutions = {
        key: ReferenceSolution(key[0], key[1], tuple(calls), answer) for key, (calls, answer) in SOLUTIONS.items()
    }
    _check_solutions(solutions, release_dir)


def test_acceptance_on_the_bundled_pack() -> None:
    """All 40 bundled tasks solve to 1.0; only the deliberate no-op pass scores without doing anything."""
    _check_solutions(load_reference_solutions(), None)


@pytest.mark.skipif(not os.environ.get("AWM_ACCEPTANCE_DIR"), reason="set AWM_ACCEPTANCE_DIR to a data directory")
def test_acceptance_on_a_data_directory() -> None:
    """The same check on a directory of AgentWorldModel-1K files with reference_solutions.jsonl beside them."""
    root = Path(os.environ["AWM_ACCEPTANCE_DIR"])
    solutions = load_reference_solutions(root)
    assert solutions, f"no reference_solutions.jsonl in {root}"
    assert {name for name, _ in solutions} <= set(ScenarioSource(root, "acceptance").names())
    _check_solutions(solutions, root)


def test_solution_actions_are_json_tool_calls() -> None:
    """A solution replays as {"name", "arguments"} JSON actions followed by the final answer."""
    solution = load_reference_solutions()["awmgym_pet_clinic", 2]
    actions = solution.actions()
    assert [json.loads(a)["name"] for a in actions[:-1]] == [c["name"] for c in solution.calls]
    assert actions[-1] == solution.final_answer
