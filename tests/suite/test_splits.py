"""task_split: pinned, reproducible train/test splits by task or by scenario, without no-op or flagged tasks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import awm_gym
from awm_gym.catalog import TaskRef, TaskSet, load_reference_solutions, load_scenario
from awm_gym.errors import ConfigurationError
from awm_gym.host import build_template
from awm_gym.verifier import find_noop_passes
from awm_gym.verifier.noop import cache_dir

WORKFLOW, PETS = "awmgym_workflow_automation", "awmgym_pet_clinic"
NOOP = sorted(ref for ref, solution in load_reference_solutions().items() if solution.noop_pass)


class TestReproducible:
    def test_same_seed_same_sets_and_same_file(self, tmp_path: Path) -> None:
        """Two splits with one seed are equal and save to byte-identical files; another seed differs."""
        train, test = awm_gym.task_split(seed=7, exclude_noop=False)
        again_train, again_test = awm_gym.task_split(seed=7, exclude_noop=False)
        assert (train, test) == (again_train, again_test)
        train.save(tmp_path / "a.json")
        again_train.save(tmp_path / "b.json")
        assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
        assert awm_gym.task_split(seed=8, exclude_noop=False)[1] != test
        assert TaskSet.load(tmp_path / "a.json") == train

    def test_split_is_pinned(self) -> None:
        """The assignment is a sha256 rule, not an RNG stream: this split is the same on every machine."""
        _, test = awm_gym.task_split(seed=0, scenarios=[PETS], exclude_noop=False)
        assert [ref.task_idx for ref in test] == [2, 5]


class TestSplitKinds:
    def test_by_task_partitions_the_pool(self) -> None:
        """Every pool task is in exactly one side; the test side holds round(fraction * tasks)."""
        train, test = awm_gym.task_split(seed=1, test_fraction=0.3, exclude_noop=False)
        pool = TaskSet.from_scenarios()
        assert set(train).isdisjoint(test) and set(train) | set(test) == set(pool)
        assert len(test) == round(0.3 * len(pool)) and (train.name, test.name) == ("train", "test")
        assert list(train) == sorted(train) and train.metadata == test.metadata
        assert train.metadata["by"] == "task" and train.metadata["pool_hash"] == pool.hash()

    def test_by_scenario_never_shares_a_scenario(self) -> None:
        """Held-out scenarios keep all their tasks on the test side and none on the train side."""
        for seed in range(4):
            train, test = awm_gym.task_split(seed=seed, test_fraction=0.5, by="scenario", exclude_noop=False)
            assert set(train.scenarios()).isdisjoint(test.scenarios()) and len(test.scenarios()) == 2
            for name in test.scenarios():
                assert [r for r in test if r.scenario == name] == [TaskRef(name, i) for i in range(10)]

    def test_fractions_at_the_edges(self) -> None:
        """0 holds out nothing, 1 holds out everything; a small fraction still holds out one scenario."""
        assert len(awm_gym.task_split(test_fraction=0.0, exclude_noop=False)[1]) == 0
        assert len(awm_gym.task_split(test_fraction=1.0, exclude_noop=False)[0]) == 0
        _, test = awm_gym.task_split(test_fraction=0.01, by="scenario", exclude_noop=False)
        assert len(test.scenarios()) == 1

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [({"by": "row"}, "by must be 'task' or 'scenario'"), ({"test_fraction": 1.5}, "test_fraction must be")],
    )
    def test_bad_arguments(self, kwargs: dict, message: str) -> None:
        """Out-of-range options are ConfigurationErrors naming the option."""
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            awm_gym.task_split(**kwargs)

    def test_data_dir_pool(self, release_dir: Path) -> None:
        """A data_dir split uses that directory's scenarios and records where they load from."""
        train, test = awm_gym.task_split(data_dir=release_dir, by="scenario", test_fraction=0.5, exclude_noop=False)
        assert sorted(train.scenarios() + test.scenarios()) == ["tiny_notes_2", "tiny_shop_1"]
        assert train.data_dir == test.data_dir == str(release_dir)


class TestExclusion:
    def test_noop_passes_are_computed_and_left_out(self) -> None:
        """By default the bundled no-op-pass task is computed with the real verifier and excluded, on record."""
        assert NOOP == [(WORKFLOW, 2)]
        train, test = awm_gym.task_split(seed=0, scenarios=[WORKFLOW, PETS])
        assert TaskRef(WORKFLOW, 2) not in train and TaskRef(WORKFLOW, 2) not in test
        assert train.metadata["excluded"] == {"noop": [[WORKFLOW, 2]]} and len(train) + len(test) == 19
        kept = awm_gym.task_split(seed=0, scenarios=[WORKFLOW, PETS], exclude_noop=False)
        assert sum(map(len, kept)) == 20 and kept[0].metadata["excluded"] == {}

    def test_noop_passes_are_read_from_the_audit_cache(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """What ``awm-gym check`` cached is what the split excludes (no recomputation when the cache is there)."""
        monkeypatch.setenv("AWM_GYM_CACHE_DIR", str(tmp_path))
        scenario = load_scenario("tiny_notes_2", _release(tmp_path))
        template, _ = build_template(scenario)
        from awm_gym.verifier.noop import _key  # the cache's file name for this scenario's data and verifiers

        (cache_dir() / "noop").mkdir(parents=True)
        (cache_dir() / "noop" / f"{_key(scenario)}.json").write_text(json.dumps([0, 1]))
        assert find_noop_passes(scenario, template) == frozenset({0, 1})
        train, test = awm_gym.task_split(scenarios=["tiny_notes_2"], data_dir=_release(tmp_path))
        assert {r.task_idx for r in [*train, *test]}.isdisjoint({0, 1})
        assert train.metadata["excluded"]["noop"] == [["tiny_notes_2", 0], ["tiny_notes_2", 1]]

    def test_flagged_tasks_are_left_out_on_request(self) -> None:
        """exclude_flagged runs the reward-hack audit; whatever it flags is on record and in neither side."""
        train, test = awm_gym.task_split(seed=0, scenarios=[WORKFLOW, PETS], exclude_flagged=True)
        excluded = train.metadata["excluded"]
        assert set(excluded) == {"noop", "flagged"}
        dropped = {TaskRef(s, i) for kind in excluded.values() for s, i in kind}
        assert dropped.isdisjoint(train) and dropped.isdisjoint(test) and TaskRef(WORKFLOW, 2) in dropped
        assert len(train) + len(test) == 20 - len(dropped)


def _release(tmp_path: Path) -> Path:
    """A private copy of the tests' two-scenario release (so its no-op cache entry is this test's alone)."""
    from awm_data import write_release

    directory = tmp_path / "release"
    if not directory.exists():
        write_release(directory)
        envs = directory / "gen_envs.jsonl"
        records = [json.loads(line) for line in envs.read_text().splitlines() if line.strip()]
        for record in records:  # new code, new fingerprint: no earlier test's cached result applies
            record["full_code"] += "\n# a variant of this test's own\n"
        envs.write_text("".join(json.dumps(record) + "\n" for record in records))
    return directory
