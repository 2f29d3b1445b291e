"""The awm_1k_fixed_harness release as a scenario source: parquet rows, defensive fields, endpoint tasks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from harness_data import NAMES, keep_datasets_cache_in, operations, passed, write_harness_parquet

from awm_gym.catalog import (
    HARNESS_URL,
    HarnessSource,
    TaskSet,
    default_sources,
    endpoint_tasks,
    list_scenarios,
    load_scenario,
)
from awm_gym.catalog.harness import is_harness_location
from awm_gym.errors import ConfigurationError, DataFormatError


@pytest.fixture(scope="module", autouse=True)
def _datasets_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    keep_datasets_cache_in(tmp_path_factory.mktemp("hf_datasets"))


@pytest.fixture(scope="module", params=[False, True], ids=["json_strings", "nested_structs"])
def harness_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding data/train-00000.parquet in the harness layout, as the hub stores it."""
    root = tmp_path_factory.mktemp("harness")
    write_harness_parquet(root / "data" / "train-00000.parquet", nested=request.param)
    return root


class TestHarnessSource:
    def test_rows_become_scenarios_with_endpoint_tasks(self, harness_dir: Path) -> None:
        """Each row is a scenario (name normalised); its tasks are the passing endpoints' descriptions, in order."""
        [source] = [s for s in default_sources(harness_dir) if s.origin == "data_dir"]
        assert isinstance(source, HarnessSource) and source.names() == ("harness_pets", "harness_budget")
        for name, original in NAMES.items():
            scenario = load_scenario(name, harness_dir)
            expected = passed(original)
            assert scenario.tasks == tuple(e["description"] for e in expected)
            assert [t["operation_id"] for t in scenario.extra["endpoint_tasks"]] == [
                e["operation_id"] for e in expected
            ]
            assert len(scenario.tasks) < len(operations(original))  # the failed third were left out
            assert scenario.tables and scenario.sample_tables and "FastAPI" in scenario.full_code
            assert scenario.verifier("code", 0) is None  # the release has no verifier code
            assert scenario.source.startswith("harness data_dir:")

    def test_a_single_parquet_file_is_a_source_too(self, harness_dir: Path) -> None:
        """data_dir may name the parquet file itself; the harness scenarios join the listing."""
        [file] = (harness_dir / "data").glob("*.parquet")
        assert is_harness_location(file) and is_harness_location(HARNESS_URL)
        assert {"harness_pets", "harness_budget"} <= set(list_scenarios(file))
        assert len(TaskSet.from_scenarios(data_dir=file)) == sum(len(passed(o)) for o in NAMES.values())

    def test_a_row_without_server_code_is_a_data_error(self, tmp_path: Path) -> None:
        """A row lacking ``env`` fails when loaded, naming the scenario; other rows still load."""
        import datasets
        from harness_data import rows

        data = rows(nested=False)
        data[0]["env"] = None
        path = tmp_path / "broken.parquet"
        datasets.Dataset.from_list(data).to_parquet(str(path))
        with pytest.raises(
            DataFormatError, match=re.escape("scenario 'harness_pets': its row's 'env' field holds no server code")
        ):
            load_scenario("harness_pets", path)
        assert load_scenario("harness_budget", path).tasks

    def test_a_directory_without_data_is_refused(self, tmp_path: Path) -> None:
        """Neither jsonl files nor parquet: the error says which layouts data_dir accepts."""
        (tmp_path / "notes.txt").write_text("nothing here")
        with pytest.raises(ConfigurationError, match="hf://datasets/<repo id>"):
            default_sources(tmp_path / "missing")
        assert not is_harness_location(tmp_path)


class TestEndpointTasks:
    SPEC = {
        "api_groups": [
            {
                "group_name": "g",
                "endpoints": [
                    {"path": "/a", "method": "GET", "operation_id": "list_a", "description": "List my As."},
                    {"path": "/b", "method": "POST", "operation_id": "make_b", "summary": "Create a B"},
                    {"path": "/c", "method": "DELETE", "operation_id": "drop_c", "description": ""},
                ],
            }
        ]
    }

    @pytest.mark.parametrize(
        ("report", "expected"),
        [
            (
                {"results": [{"operation_id": "list_a", "passed": True}, {"operation_id": "make_b", "passed": False}]},
                ["list_a"],
            ),
            (
                json.dumps([{"operationId": "make_b", "status": "PASS"}, {"operationId": "list_a", "status": 500}]),
                ["make_b"],
            ),
            ({"endpoints": {"x": {"operation_id": "list_a"}, "y": {"operation_id": "list_a", "ok": False}}}, []),
            (
                {"results": [{"operation_id": "drop_c", "passed": True, "description": "Delete C number 3."}]},
                ["drop_c"],
            ),
            (None, ["list_a", "make_b"]),
            ("not json at all", ["list_a", "make_b"]),
        ],
        ids=["passed_flag", "json_string_status", "any_failure_wins", "report_description", "no_report", "garbage"],
    )
    def test_report_shapes(self, report: object, expected: list[str]) -> None:
        """Results are found at any depth, as structs or JSON; without results every described endpoint is a task."""
        assert [t["operation_id"] for t in endpoint_tasks(report, self.SPEC)] == expected

    def test_description_falls_back_to_the_summary(self) -> None:
        """An endpoint without a description is asked for by its summary; one with neither is skipped."""
        tasks = endpoint_tasks(None, json.dumps(self.SPEC))
        assert tasks == [
            {"operation_id": "list_a", "description": "List my As."},
            {"operation_id": "make_b", "description": "Create a B"},
        ]


def test_an_unreachable_hub_id_is_a_download_error(tmp_path: Path) -> None:
    """hf://datasets/<id> goes through datasets; offline and uncached, the error says how to use local files."""
    code = (
        "from awm_gym.catalog import HARNESS_URL, list_scenarios\n"
        "from awm_gym.errors import DownloadError\n"
        "try:\n    list_scenarios(HARNESS_URL)\nexcept DownloadError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "HF_DATASETS_CACHE": str(tmp_path / "d")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "could not load arcee-train/awm_1k_fixed_harness with datasets" in done.stdout, done.stderr[-2000:]
    assert "pass that directory as data_dir" in done.stdout
