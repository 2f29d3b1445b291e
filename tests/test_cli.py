"""The awm-gym command, as the README uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from awm_gym.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_run_replays_a_bundled_episode_offline() -> None:
    """`awm-gym run` (the README's run command) prints the trajectory and a complete verdict."""
    out = subprocess.run(
        [sys.executable, "-m", "awm_gym.cli", "run"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=True,
    ).stdout
    assert "scenario awmgym_workflow_automation, task 0" in out
    assert '[1] action: {"name": "list_workflows"' in out
    assert "verifier (code mode): complete   reward: 1.0" in out


def test_run_with_an_llm_policy(capsys: pytest.CaptureFixture[str]) -> None:
    """`awm-gym run --model --base-url` drives the episode with chat messages from an OpenAI-compatible server."""
    from awm_gym.catalog import load_reference_solutions
    from awm_gym.testing import FakeOpenAIServer

    solution = load_reference_solutions()["awmgym_pet_clinic", 1]
    with FakeOpenAIServer() as server:
        server.enqueue(
            *(f"<tool_call>{action}</tool_call>" for action in solution.actions()[:-1]), solution.final_answer
        )
        code = main(
            ["run", "--scenario", "awmgym_pet_clinic", "--task", "1", "--model", "m", "--base-url", server.base_url]
        )
        requests = server.requests
    out = capsys.readouterr().out
    assert code == 0 and "verifier (code mode): complete   reward: 1.0" in out
    assert requests[0]["messages"][0]["role"] == "system" and "<tools>" in requests[0]["messages"][0]["content"]
    assert "tools" not in requests[0] and requests[-1]["messages"][-1]["content"].startswith("Tool response:")


def test_run_on_a_data_directory_without_solutions(release_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a reference solution the command explains that an LLM policy is needed."""
    assert main(["run", "--data-dir", str(release_dir), "--scenario", "tiny_notes_2"]) == 2
    assert "pass --model/--base-url" in capsys.readouterr().err


def test_list_shows_sources(release_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`awm-gym list` groups scenario names by source."""
    assert main(["list", "--data-dir", str(release_dir)]) == 0
    out = capsys.readouterr().out
    assert "# data_dir:" in out and "tiny_shop_1" in out and "# bundled:" in out


def test_errors_are_messages_not_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown scenario is reported in one line with exit status 2."""
    assert main(["run", "--scenario", "nope_1"]) == 2
    assert capsys.readouterr().err.startswith("error: Scenario 'nope_1' not found.")
