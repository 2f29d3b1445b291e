"""awm-gym check: the bundled pack passes; typical breakages are named and fail the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from awm_data import write_broken_release

from awm_gym.audit import audit_scenario, format_table
from awm_gym.catalog import load_reference_solutions, load_scenario
from awm_gym.cli import main
from awm_gym.envs import AWMEnv
from awm_gym.host import build_template
from awm_gym.verifier import find_reward_hacks, isolation_level
from awm_gym.verifier.hacks import adversarial_answers


def test_bundled_pack_passes_with_its_noop_pass_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check exits 0 on >= 4 scenarios and 40 tasks, every solution complete, the deliberate no-op flagged."""
    report_path = tmp_path / "report.json"
    assert main(["check", "--no-progress", "--json", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert len(report) >= 4 and sum(len(s["tasks"]) for s in report) >= 40
    assert all(s["ok"] and s["server_started"] and s["failed"] == 0 for s in report)
    assert all(
        t["solution"] == "complete" and t["verifier_code"] and t["verifier_sql"] for s in report for t in s["tasks"]
    )
    flagged = {(s["name"], t["task_idx"]) for s in report for t in s["tasks"] if t["noop_pass"]}
    assert flagged == {key for key, solution in load_reference_solutions().items() if solution.noop_pass}
    hacks = {(s["name"], t["task_idx"]): t["reward_hacks"] for s in report for t in s["tasks"] if t["reward_hacks"]}
    assert all("empty" in hacks[key] for key in flagged)  # a no-op pass accepts the empty answer too
    # The three verifiers that took any answer containing the right number now refuse a list of numbers.
    fixed = {("awmgym_pet_clinic", 1), ("awmgym_library_loans", 8), ("awmgym_workflow_automation", 3)}
    assert not fixed & hacks.keys()
    out = capsys.readouterr().out
    assert "flagged as a no-op pass" in out
    assert f"verifier isolation: {isolation_level().value}" in out


def test_adversarial_answers_are_flagged_and_excluded(release_dir: Path) -> None:
    """A verifier that accepts any answer containing its number is flagged (spam), listed, and never drawn."""
    report = audit_scenario("tiny_shop_1", data_dir=release_dir)
    assert [(t.task_idx, t.reward_hacks) for t in report.tasks if t.reward_hacks] == [(0, ["spam"])]
    assert "task 0: flagged as a reward hack (complete for the spam answer" in format_table([report])
    scenario = load_scenario("tiny_shop_1", release_dir)
    template, _ = build_template(scenario)
    assert find_reward_hacks(scenario, template) == frozenset({0})
    # The answers themselves: empty, the task echoed, and thousands of numbers plus the database's strings.
    spam = adversarial_answers(scenario.tasks[0], ["Kettle"])
    assert spam["empty"] == "" and spam["echo"] == scenario.tasks[0]
    assert len(spam["spam"].split(", ")) > 5000 and "Kettle" in spam["spam"]
    with AWMEnv(scenario, exclude_noop_tasks=True) as env:
        assert 0 not in {env.reset(seed=seed)[1]["task_idx"] for seed in range(30)}


def test_broken_data_is_named_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server that fails to import, a raising verifier, a missing verifier and a failing insert are each reported."""
    broken = write_broken_release(tmp_path / "broken")
    assert main(["check", "--no-progress", "--data-dir", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "broken_import_1: server: does not start" in out and "fastapi_that_does_not_exist" in out
    assert "broken_verify_2 task 0: code-mode verifier fails: KeyError: 'notes_v2'" in out
    assert "broken_verify_2 task 1: no code-mode verifier code" in out
    assert "broken_verify_2 task 1: no sql-mode verifier code" in out
    assert "broken_insert_3: database: insert failed" in out
    assert "3 failing" in out


def test_a_failing_reference_solution_is_a_problem(release_dir: Path) -> None:
    """A solution that does not complete its task is reported with the label it ended with."""
    from awm_gym.catalog import ReferenceSolution

    wrong = {("tiny_notes_2", 1): ReferenceSolution("tiny_notes_2", 1, (), "You have 7 notes.")}
    report = audit_scenario("tiny_notes_2", data_dir=release_dir, solutions=wrong)
    assert report.tasks[1].solution == "others"
    assert "reference solution ends 'others'" in report.tasks[1].problems
