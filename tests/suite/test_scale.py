"""AWM at scale without the real data: generated copies through the catalog, the suite env and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awm_gym.audit import audit
from awm_gym.catalog import TaskSet, list_scenarios, load_reference_solutions, load_scenario
from awm_gym.cli import main
from awm_gym.envs import AWMSuiteEnv
from awm_gym.errors import ConfigurationError
from awm_gym.testing import scaled_name, write_scaled_release

COPIES = 9


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    directory = tmp_path_factory.mktemp("scaled")
    return directory, write_scaled_release(directory, COPIES)


def test_copies_are_distinct_scenarios_with_their_originals_content(scaled: tuple[Path, list[str]]) -> None:
    """N copies cycle over the bundled pack, each its own scenario with the same tasks and solutions."""
    directory, names = scaled
    assert len(set(names)) == COPIES and names[4] == scaled_name("awmgym_home_budget", 4)
    assert set(names) <= set(list_scenarios(directory))
    assert len(TaskSet.from_scenarios(data_dir=directory)) == 10 * COPIES
    copy, original = load_scenario(names[6], directory), load_scenario("awmgym_pet_clinic")
    assert (copy.tasks, copy.full_code) == (original.tasks, original.full_code) and copy.name != original.name
    assert (
        load_reference_solutions(directory)[names[6], 3].calls
        == load_reference_solutions()["awmgym_pet_clinic", 3].calls
    )


def test_the_suite_solves_a_copy(scaled: tuple[Path, list[str]]) -> None:
    """A copy's reference solution completes through the suite env, loading from the generated directory."""
    directory, names = scaled
    solution = load_reference_solutions(directory)[names[5], 1]
    env = AWMSuiteEnv(TaskSet.from_scenarios(names[4:6], data_dir=directory), max_steps=12)
    try:
        env.reset(options={"scenario": names[5], "task_idx": 1})
        for action in solution.actions():
            _, reward, terminated, _, info = env.step(action)
    finally:
        env.close()
    assert terminated and reward == 1.0 and info["verifier"]["label"] == "complete"


def test_list_prints_every_copy(scaled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    """``awm-gym list --data-dir`` lists the generated source with its count and every name."""
    directory, names = scaled
    assert main(["list", "--data-dir", str(directory)]) == 0
    out = capsys.readouterr().out
    assert f"# data_dir: {directory} ({COPIES} scenarios)" in out and all(f"\n{name}\n" in out for name in names)


@pytest.mark.slow
def test_check_audits_in_parallel_with_a_progress_bar(
    scaled: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check --jobs 2`` audits copies concurrently, reports them in the order asked, and shows progress."""
    directory, names = scaled
    chosen = [names[3], names[1], names[2]]
    report = tmp_path / "report.json"
    code = main(["check", *chosen, "--data-dir", str(directory), "--jobs", "2", "--json", str(report)])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert [entry["name"] for entry in json.loads(report.read_text())] == chosen
    assert all(entry["ok"] for entry in json.loads(report.read_text()))
    assert "awm-gym check" in captured.err and "3/3" in captured.err
    assert "3 scenarios, 30 tasks, 0 failing" in captured.out


def test_audit_refuses_a_negative_job_count() -> None:
    """jobs below 1 (other than the default) is a configuration error, not a hang."""
    with pytest.raises(ConfigurationError, match="jobs must be at least 1"):
        audit(["awmgym_pet_clinic"], jobs=-2, progress=False)
