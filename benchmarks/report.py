"""docs/benchmarks.md, generated from the committed benchmark results (``benchmarks/results/*.json``).

Each benchmark script stores its tables, rendered from its own measurements, under the ``"markdown"`` key
of its JSON file and calls :func:`write_docs` at its end, so the page always shows the committed numbers.
Regenerate the page by hand (e.g. after editing a section's text below) with::

    python benchmarks/report.py [--results benchmarks/results] [--out docs/benchmarks.md]

A run whose results go elsewhere (``--out`` of a bench script, as the smoke tests do) writes the page beside
those results instead of over docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DOCS_PAGE", "RESULTS", "SECTIONS", "Section", "page", "write_docs"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
"""Where the committed results live."""
DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
"""The generated page."""


@dataclass(frozen=True)
class Section:
    """One benchmark's part of the page: its results file, title, command and what it measures."""

    stem: str
    title: str
    command: str
    about: str


SECTIONS = (
    Section(
        "bench_env",
        "The environment's hot path",
        "python benchmarks/bench_env.py",
        "awm-gym against a baseline that does what the reference implementation (OpenEnv's AWM env) does, minus "
        "its MCP layer and its fixed 0.5 s readiness sleeps (so a *faster* baseline than the reference): a fresh "
        "`python app.py` per reset on a TCP port (readiness polled every 10 ms, port races retried), tool calls "
        "as plain HTTP, and a fresh interpreter per verification. Per-call figures are timed in alternating "
        "blocks, so background load hits both alike.",
    ),
    Section(
        "bench_vector",
        "Many envs at once",
        "python benchmarks/bench_vector.py",
        "A scripted policy drives N envs of `awmgym_pet_clinic` through `AWMVectorEnv`, Gymnasium's "
        "`SyncVectorEnv` over the very same env objects, and `AsyncVectorEnv(shared_memory=False)` (one Python "
        "process and one scenario zygote per env: its setup column). Two workloads: read-tool calls only, and "
        "8-step episodes (7 reads, a final answer that runs the verifier, an autoreset). The implementations "
        "take turns in rounds. The second table compares lockstep with the `RolloutDriver`'s dynamic batching "
        "for a policy with a fixed latency per call.",
    ),
    Section(
        "bench_expert",
        "Baseline vs expert",
        "python benchmarks/bench_expert.py",
        "The same policy with and without `ExpertAdvice`, through the full stack, on every task of the chosen "
        "scenarios except no-op passes; success is the verifier's label, never the shaped reward. With "
        "`--model/--base-url` (and `--expert-model/--expert-base-url`) it evaluates real OpenAI-compatible "
        "endpoints. Run offline it uses a **synthetic** student and expert: those numbers describe the "
        "simulation and the harness's cost, not any model.",
    ),
    Section(
        "bench_sb3",
        "Training with stable-baselines3",
        "python benchmarks/bench_sb3.py",
        "`MaskablePPO` (sb3-contrib) on `SB3Spaces`: an action menu built from the scenario (every task's "
        "reference calls, so other tasks' calls are distractors, the tasks' final answers and `Done.`), "
        "`action_masks()`, hashed text features. The learning curve (verifier success, 95% Wilson intervals) "
        "against the masked random policy, on the training tasks: a check that RL learns through the real env, "
        "not an evaluation of generalisation.",
    ),
    Section(
        "bench_suite",
        "The whole AWM distribution: scenario switching",
        "python benchmarks/bench_suite.py --scenarios 1000",
        "Generated copies of the bundled scenarios (each with distinct code, as every AgentWorldModel-1K app is "
        "distinct) in the release format; each task's reference solution is replayed through `AWM/suite-v0` and "
        "the sandboxed verifier by one worker thread per core. Each part runs in a fresh interpreter with an "
        "empty cache. Cold start is the first reset of a scenario this process has not seen.",
    ),
    Section(
        "bench_suite_scale",
        "The catalogue at 1,000 scenarios",
        "python benchmarks/bench_suite_scale.py",
        "1,000 generated scenarios through `import awm_gym`, `awm-gym list`, task sets, splits and `awm-gym check`.",
    ),
    Section(
        "bench_distributed",
        "Across processes and machines (Ray)",
        "python benchmarks/bench_distributed.py",
        "The Ray vector env against `AWMVectorEnv` on this machine.",
    ),
    Section(
        "bench_serve",
        "Serving episodes over HTTP",
        "python benchmarks/bench_serve.py",
        "The episode server's per-episode cost and many concurrent sessions.",
    ),
)
"""The page's sections, in order; a section whose results file is missing or has no tables is left out.

Any other ``bench_*.json`` with tables gets a section of its own after these, titled by its script.
"""


def _machine(results: dict[str, Any]) -> str:
    machine = results.get("machine") or {}
    steal = (machine.get("during_run") or {}).get("steal_percent")
    cpus = machine.get("cpus")
    parts = [f"{cpus} CPUs" if cpus else "", f"CPU time stolen by the hypervisor {steal}%" if steal is not None else ""]
    return "; ".join(part for part in parts if part)


def page(results_dir: Path = RESULTS) -> str:
    """The page's markdown, from the results in ``results_dir``."""
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/report.py from benchmarks/results/*.json: edit the script, not this page. -->",
        "",
        "Each script in `benchmarks/` prints its tables and writes JSON and a PNG to `benchmarks/results/`; "
        "`--quick` gives a smoke run (the test suite runs each that way). The figures below come from the "
        "committed JSON files, measured on this project's machine: a shared 2-core VM (the scripts record the "
        "CPU time the hypervisor stole during the run, since on this VM it moves every figure).",
    ]
    known = {section.stem for section in SECTIONS}
    others = [
        Section(path.stem, f"`{path.stem}`", f"python benchmarks/{path.stem}.py", "")
        for path in sorted(results_dir.glob("bench_*.json"))
        if path.stem not in known
    ]
    for section in (*SECTIONS, *others):
        path = results_dir / f"{section.stem}.json"
        if not path.is_file():
            continue
        results = json.loads(path.read_text())
        tables = results.get("markdown") if isinstance(results, dict) else None
        if not tables:
            continue
        machine = _machine(results)
        lines += ["", f"## {section.title}: `{section.command}`"] + (["", section.about] if section.about else [])
        if machine:
            lines += ["", f"Measured with {machine}."]
        lines += ["", tables.strip()]
        if (results_dir / f"{section.stem}.png").is_file():
            lines += ["", f"![{section.stem}](../benchmarks/results/{section.stem}.png)"]
    if not any(line.startswith("## ") for line in lines):
        lines += ["", "No benchmark results yet: run the scripts in `benchmarks/`."]
    return "\n".join(lines) + "\n"


def write_docs(results_dir: Path = RESULTS, out: Path | None = None) -> Path:
    """Write the page: docs/benchmarks.md for the committed results, else ``results_dir/benchmarks.md``.

    Returns:
        The path written.
    """
    results_dir = Path(results_dir)
    if out is None:
        out = DOCS_PAGE if results_dir.resolve() == RESULTS.resolve() else results_dir / "benchmarks.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(results_dir))
    return out


def main(argv: list[str] | None = None) -> int:
    """Regenerate the page from the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    print(f"wrote {write_docs(args.results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
