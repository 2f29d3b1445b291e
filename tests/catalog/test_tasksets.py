"""Task sets: building, hashing, saving and loading the (scenario, task_idx) pairs an experiment uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from awm_gym.catalog import TaskRef, TaskSet, load_scenario, scenario_tasks
from awm_gym.errors import ConfigurationError, DataFormatError, ScenarioNotFoundError

PETS, BUDGET = "awmgym_pet_clinic", "awmgym_home_budget"


class TestConstruction:
    def test_pairs_are_normalised_deduplicated_and_ordered(self) -> None:
        """Names are normalised, a repeated pair is kept once at its first position, tuples become TaskRefs."""
        tasks = TaskSet([("AWMGym Pet-Clinic", 2), TaskRef(BUDGET, 0), (PETS, 2), {"scenario": PETS, "task_idx": 1}])
        assert list(tasks) == [TaskRef(PETS, 2), TaskRef(BUDGET, 0), TaskRef(PETS, 1)]
        assert tasks.scenarios() == [PETS, BUDGET]
        assert (PETS, 1) in tasks and TaskRef(BUDGET, 0) in tasks and (PETS, 0) not in tasks and "x" not in tasks
        assert tasks.index((PETS, 1)) == 2 and tasks[1:].scenarios() == [BUDGET, PETS]

    @pytest.mark.parametrize("bad", [(PETS, -1), (PETS, "1"), (PETS, True), ("", 0), (PETS,), 7])
    def test_malformed_pairs_are_refused_with_their_position(self, bad: object) -> None:
        """Anything but a (non-empty name, int >= 0) pair is a ConfigurationError naming the entry."""
        with pytest.raises(ConfigurationError, match=re.escape("task 1 must be a TaskRef or a (scenario name")):
            TaskSet([(PETS, 0), bad])  # type: ignore[list-item]

    def test_metadata_must_be_json(self) -> None:
        """A set is saved as JSON, so metadata that JSON cannot hold is refused at construction."""
        with pytest.raises(ConfigurationError, match="JSON-able"):
            TaskSet([(PETS, 0)], metadata={"when": object()})

    def test_from_scenarios_takes_every_task(self, release_dir: Path) -> None:
        """Each named scenario contributes all its tasks, in task order; None means every scenario of data_dir."""
        tasks = TaskSet.from_scenarios([PETS], name="pets")
        assert list(tasks) == [TaskRef(PETS, i) for i in range(len(load_scenario(PETS).tasks))]
        assert tasks.name == "pets" and tasks.data_dir is None
        everything = TaskSet.from_scenarios(data_dir=release_dir)
        assert everything.scenarios() == ["tiny_notes_2", "tiny_shop_1"]  # only data_dir's, not the bundled pack
        assert everything.data_dir == str(release_dir)
        assert len(everything) == len(scenario_tasks("tiny_shop_1", release_dir)) + len(
            scenario_tasks("tiny_notes_2", release_dir)
        )

    def test_real_data_replaces_the_bundled_pack_by_default(
        self, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With AWM_DATA_DIR (or the hub cache) holding scenarios, "every scenario" means those, not the demo pack."""
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # no downloaded copy, whatever this machine has
        monkeypatch.delenv("AWM_DATA_DIR", raising=False)
        assert TaskSet.from_scenarios().scenarios() == sorted(
            ["awmgym_home_budget", "awmgym_library_loans", PETS, "awmgym_workflow_automation"]
        )
        monkeypatch.setenv("AWM_DATA_DIR", str(release_dir))
        assert TaskSet.from_scenarios().scenarios() == ["tiny_notes_2", "tiny_shop_1"]
        assert TaskSet.from_scenarios([PETS]).scenarios() == [PETS]  # named scenarios still load from anywhere

    def test_an_unknown_scenario_is_not_found(self) -> None:
        """from_scenarios names a missing scenario and suggests close names."""
        with pytest.raises(ScenarioNotFoundError, match="Did you mean 'awmgym_pet_clinic'"):
            TaskSet.from_scenarios(["awmgym_pet_clinik"])

    def test_scenario_tasks_read_only_the_task_list(self, release_dir: Path) -> None:
        """The cheap task reader agrees with a full load, including tasks stored as a JSON string."""
        for name in ("tiny_shop_1", "tiny_notes_2"):
            assert scenario_tasks(name, release_dir) == load_scenario(name, release_dir).tasks


class TestHash:
    def test_hash_is_pinned(self) -> None:
        """The digest is sha256 over the sorted pairs as compact JSON: the same on every machine and version."""
        tasks = TaskSet([(PETS, 0), (BUDGET, 3)], name="a", metadata={"seed": 1})
        assert tasks.hash() == "3f200da31e147e19b74342d4da39b802bf9019f32c323bfdbf57a7a90411e551"

    def test_hash_ignores_order_name_and_metadata_but_not_tasks(self) -> None:
        """Only which pairs are in the set changes the hash."""
        one = TaskSet([(PETS, 0), (BUDGET, 3)], name="train", metadata={"seed": 0})
        assert one.hash() == TaskSet([(BUDGET, 3), (PETS, 0)], name="other").hash()
        assert one.hash() != TaskSet([(PETS, 0), (BUDGET, 4)]).hash()
        assert one != TaskSet([(BUDGET, 3), (PETS, 0)])  # equality is ordered, like the sequence


class TestFiles:
    @pytest.mark.parametrize("suffix", [".json", ".jsonl"])
    def test_round_trip(self, tmp_path: Path, suffix: str) -> None:
        """save then load gives the same pairs in the same order (and, in .json, name, metadata, data_dir)."""
        tasks = TaskSet(
            [(PETS, 4), (BUDGET, 0), (PETS, 1)],
            name="test",
            metadata={"seed": 3, "excluded": {"noop": []}},
            data_dir="/d",
        )
        path = tmp_path / f"tasks{suffix}"
        tasks.save(path)
        loaded = TaskSet.load(path)
        assert loaded == tasks and loaded.hash() == tasks.hash()
        if suffix == ".json":
            assert (loaded.name, loaded.metadata, loaded.data_dir) == ("test", tasks.metadata, "/d")
            assert json.loads(path.read_text())["tasks"] == [[PETS, 4], [BUDGET, 0], [PETS, 1]]
        else:
            assert path.read_text().splitlines()[0] == json.dumps({"scenario": PETS, "task_idx": 4})

    def test_an_edited_file_fails_its_hash(self, tmp_path: Path) -> None:
        """A .json whose tasks no longer match its recorded hash is refused: a pinned set cannot drift silently."""
        path = tmp_path / "train.json"
        TaskSet([(PETS, 0), (PETS, 1)], name="train").save(path)
        document = json.loads(path.read_text())
        document["tasks"].append([PETS, 2])
        path.write_text(json.dumps(document))
        with pytest.raises(DataFormatError, match="was edited after it was saved"):
            TaskSet.load(path)
        del document["hash"]
        path.write_text(json.dumps(document))
        assert len(TaskSet.load(path)) == 3

    @pytest.mark.parametrize(
        ("name", "text", "error", "message"),
        [
            ("a.json", "[1, 2]", DataFormatError, "expected an object with a 'tasks' list"),
            ("a.json", "{not json", DataFormatError, "is not a task set file"),
            ("a.jsonl", '{"scenario": "x", "task_idx": -2}\n', DataFormatError, "task 0 must be"),
            ("a.txt", "", ConfigurationError, "must end in .json or .jsonl"),
        ],
    )
    def test_bad_files_are_typed_errors(
        self, tmp_path: Path, name: str, text: str, error: type[Exception], message: str
    ) -> None:
        """Malformed files and unknown suffixes raise awm-gym errors that say what was expected."""
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(error, match=re.escape(message)):
            TaskSet.load(path)

    def test_saving_to_an_unknown_suffix_is_refused(self, tmp_path: Path) -> None:
        """The format follows the suffix, so any other suffix is an error, not a guess."""
        with pytest.raises(ConfigurationError, match="must end in .json or .jsonl"):
            TaskSet([(PETS, 0)]).save(tmp_path / "tasks.yaml")
