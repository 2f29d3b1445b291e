"""Reading AgentWorldModel-1K data: sources, normalisation, record shapes, verifier selection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from awm_gym.catalog import (
    BUNDLED_DIR,
    ScenarioSource,
    default_sources,
    list_scenarios,
    load_reference_solutions,
    load_scenario,
    normalize_name,
    parse_scenario,
)
from awm_gym.errors import ConfigurationError, DataFormatError, ScenarioNotFoundError


class TestNormalizeName:
    @pytest.mark.parametrize(
        ("raw", "key"),
        [("E_Commerce_33", "e_commerce_33"), ("My App - v2!", "my_app_v2"), ("__x__", "x"), ("Café Böhm", "caf_b_hm")],
    )
    def test_matches_awm_rule(self, raw: str, key: str) -> None:
        """Names are lower-cased, non [a-z0-9_] become _, runs collapse, ends are stripped."""
        assert normalize_name(raw) == key


class TestSources:
    def test_bundled_pack_is_always_available(self) -> None:
        """Without any data directory the four bundled scenarios are listed."""
        names = list_scenarios()
        assert {"awmgym_workflow_automation", "awmgym_pet_clinic", "awmgym_home_budget", "awmgym_library_loans"} <= set(
            names
        )

    def test_bundled_names_cannot_collide_with_awm_names(self) -> None:
        """Every bundled name carries the awmgym_ prefix, which AgentWorldModel-1K's <domain>_<n> names never do."""
        assert all(name.startswith("awmgym_") for name in ScenarioSource(BUNDLED_DIR, "bundled").names())

    def test_data_dir_adds_its_scenarios_to_the_bundled_ones(self, release_dir: Path) -> None:
        """A release directory's scenarios and the bundled ones are both available, raw names normalised."""
        names = list_scenarios(release_dir)
        assert {"tiny_shop_1", "tiny_notes_2", "awmgym_pet_clinic"} <= set(names)

    def test_env_var_is_a_source(self, release_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """AWM_DATA_DIR makes a directory's scenarios loadable without data_dir."""
        monkeypatch.setenv("AWM_DATA_DIR", str(release_dir))
        assert load_scenario("Tiny Shop 1").name == "tiny_shop_1"

    def test_explicit_data_dir_comes_first(self, release_dir: Path, tmp_path: Path) -> None:
        """When two sources hold the same name, data_dir wins over AWM_DATA_DIR and the rest."""
        sources = default_sources(release_dir)
        assert sources[0].origin == "data_dir" and sources[-1].origin == "bundled"

    def test_missing_data_dir_is_a_clear_error(self, tmp_path: Path) -> None:
        """A data_dir that does not exist raises ConfigurationError naming it."""
        with pytest.raises(ConfigurationError, match=re.escape(str(tmp_path / "nope"))):
            default_sources(tmp_path / "nope")

    def test_unknown_scenario_says_where_scenarios_come_from(self) -> None:
        """The error suggests close names and explains AWM_DATA_DIR and the download command."""
        with pytest.raises(ScenarioNotFoundError) as caught:
            load_scenario("awmgym_pet_clnic")
        message = str(caught.value)
        assert "Did you mean 'awmgym_pet_clinic'" in message
        assert "AWM_DATA_DIR" in message and "awm-gym download" in message
        assert isinstance(caught.value, KeyError)

    def test_files_one_folder_down_are_found(self, release_dir: Path, tmp_path: Path) -> None:
        """A snapshot that keeps the jsonl files in a subfolder is still read."""
        nested = tmp_path / "snapshot" / "data"
        nested.mkdir(parents=True)
        for file in release_dir.iterdir():
            (nested / file.name).write_bytes(file.read_bytes())
        assert "tiny_shop_1" in ScenarioSource(tmp_path / "snapshot", "x").names()

    def test_bad_lines_are_skipped(self, release_dir: Path, tmp_path: Path) -> None:
        """A line that is not JSON is skipped (and logged) instead of failing the whole file."""
        for file in release_dir.iterdir():
            (tmp_path / file.name).write_bytes(file.read_bytes())
        with open(tmp_path / "gen_scenario.jsonl", "a") as handle:
            handle.write("{not json\n")
        assert set(ScenarioSource(tmp_path, "x").names()) == {"tiny_shop_1", "tiny_notes_2"}


class TestRecords:
    def test_quirky_shapes_parse(self, release_dir: Path) -> None:
        """Tasks given as a JSON string and sample data given as a bare list of SQL strings are accepted."""
        notes = load_scenario("tiny_notes_2", release_dir)
        assert notes.tasks == ("Add a note saying 'buy milk'.", "How many notes do I have?")
        assert notes.sample_tables[0].insert_statements[0].startswith("INSERT INTO notes")

    def test_bare_list_of_tables_parses(self, release_dir: Path) -> None:
        """sample_data as a list of table objects (OpenEnv's accepted shape) keeps table order."""
        shop = load_scenario("tiny_shop_1", release_dir)
        assert [t.table_name for t in shop.sample_tables] == ["users", "products", "orders"]

    def test_stale_duplicate_verifier_does_not_shadow_the_real_one(self, release_dir: Path) -> None:
        """Of two records for (scenario, task 0), the one with code is used although the null one comes first."""
        record = load_scenario("tiny_shop_1", release_dir).verifier("code", 0)
        assert record is not None and record.usable and "verify_price_format" in record.code

    def test_missing_and_null_verifiers_are_unusable_not_errors(self, release_dir: Path) -> None:
        """Null code and absent records load fine and report themselves unusable."""
        shop = load_scenario("tiny_shop_1", release_dir)
        assert not shop.verifier("code", 3).usable
        notes = load_scenario("tiny_notes_2", release_dir)
        assert notes.verifier("sql", 0) is None

    def test_function_lookup_skips_a_verify_helper(self, release_dir: Path) -> None:
        """A helper named verify_* defined first does not hide verify_task_completion."""
        assert load_scenario("tiny_shop_1", release_dir).verifier("code", 0).function_name == "verify_task_completion"

    def test_function_lookup_falls_back_to_first_verify_function(self) -> None:
        """Without the canonical name, the first top-level verify_* function is called (AWM's rule)."""
        scenario = _minimal(verifier="def verify_custom(a, b):\n    return {'result': 'complete'}\n")
        assert scenario.verifier("code", 0).function_name == "verify_custom"

    def test_missing_server_code_is_a_data_error(self) -> None:
        """A scenario without full_code cannot run and says which file lacks it."""
        with pytest.raises(DataFormatError, match="gen_envs"):
            parse_scenario("x", {"tasks": {"tasks": ["t"]}, "db": {"db_schema": {"tables": []}}})

    def test_db_schema_as_json_string(self) -> None:
        """db_schema stored as a JSON string is decoded."""
        scenario = parse_scenario(
            "x",
            {
                "tasks": {"tasks": ["t"]},
                "envs": {"full_code": "app = 1"},
                "db": {"db_schema": json.dumps({"tables": [{"name": "t", "ddl": "CREATE TABLE t (id INTEGER);"}]})},
            },
        )
        assert scenario.tables[0].name == "t"


def _minimal(verifier: str) -> object:
    return parse_scenario(
        "x",
        {
            "tasks": {"tasks": ["t"]},
            "envs": {"full_code": "app = 1"},
            "db": {"db_schema": {"tables": []}},
            "verifier_code": [{"task_idx": 0, "verification": {"code": verifier}}],
        },
    )


def test_bundled_reference_solutions_cover_every_task() -> None:
    """Each of the 40 bundled tasks has a reference solution; exactly the deliberate no-op pass is marked."""
    solutions = load_reference_solutions()
    assert len(solutions) == 40
    assert [key for key, s in solutions.items() if s.noop_pass] == [("awmgym_workflow_automation", 2)]
