"""benchmarks/report.py: docs/benchmarks.md is generated from the committed results, and stays in sync."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402 - benchmarks/report.py


def test_the_committed_page_matches_the_committed_results() -> None:
    """docs/benchmarks.md is exactly what report.py makes of benchmarks/results/*.json (regenerate it if not)."""
    assert report.DOCS_PAGE.read_text() == report.page(report.RESULTS), "run: python benchmarks/report.py"


def test_a_run_elsewhere_writes_beside_its_results(tmp_path: Path) -> None:
    """Results outside benchmarks/results (a smoke run) give a page beside them; docs/ is left alone."""
    before = report.DOCS_PAGE.read_text()
    machine = {"cpus": 2, "during_run": {"steal_percent": 3.5}}
    (tmp_path / "bench_vector.json").write_text(json.dumps({"machine": machine, "markdown": "| a |\n|---|\n| 1 |"}))
    (tmp_path / "bench_env.json").write_text(json.dumps({"machine": machine}))  # no tables: left out
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    page = (tmp_path / "benchmarks.md").read_text()
    assert str(tmp_path / "benchmarks.md") in done.stdout
    assert "## Many envs at once: `python benchmarks/bench_vector.py`" in page and "| 1 |" in page
    assert "Measured with 2 CPUs; CPU time stolen by the hypervisor 3.5%." in page
    assert "hot path" not in page
    assert report.DOCS_PAGE.read_text() == before


def test_no_results_says_so(tmp_path: Path) -> None:
    """An empty results directory gives a page that says there is nothing yet."""
    assert "No benchmark results yet" in report.page(tmp_path)
