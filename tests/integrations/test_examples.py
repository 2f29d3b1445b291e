"""The examples under examples/ run as a user would run them (their offline modes), in this process."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(script: str, *args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setattr(sys, "argv", [script, *args])
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    except SystemExit as exc:  # argparse's --help
        assert exc.code in (0, None)
    return capsys.readouterr().out


def test_skyrl_example_writes_the_dataset_and_plays_an_episode(tmp_path: Path, monkeypatch, capsys) -> None:
    """The SkyRL example writes train/validation parquet files and finishes its scripted episode complete."""
    pytest.importorskip("skyrl_gym")
    out = run("skyrl_env.py", "--out", str(tmp_path / "data"), monkeypatch=monkeypatch, capsys=capsys)
    assert (tmp_path / "data" / "train.parquet").stat().st_size > 0
    assert (tmp_path / "data" / "validation.parquet").stat().st_size > 0
    assert "'complete': 1.0" in out


@pytest.mark.slow
def test_verifiers_example_offline(tmp_path: Path, monkeypatch, capsys) -> None:
    """The verifiers example's offline demo scores its scripted episode as complete."""
    pytest.importorskip("verifiers")
    import verifiers.v1.runtimes.subprocess as subprocess_runtime

    monkeypatch.setattr(subprocess_runtime, "CACHE_DIR", tmp_path)  # its run directories
    out = run("verifiers_eval.py", monkeypatch=monkeypatch, capsys=capsys)
    assert out.strip().endswith("awmgym_pet_clinic#1 1.0 complete")


def test_trl_example_parses_its_arguments(monkeypatch, capsys) -> None:
    """The TRL example imports and documents itself (training needs a model from the hub or a local path)."""
    pytest.importorskip("trl")
    assert "--max-env-steps" in run("trl_grpo.py", "--help", monkeypatch=monkeypatch, capsys=capsys)
