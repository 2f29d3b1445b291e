"""Auditing a scenario set: does each scenario build, serve, verify and solve? (``awm-gym check``).

For every scenario:

- **database**: statements run, repaired (``\\'`` quotes) and failed; any failure is a problem;
- **server**: it starts, lists tools, and every tool has a name, a description and a valid JSON schema;
- **per task**: a verifier exists in each mode and runs on the untouched database (the code one without
  raising, the sql one returning a dict); the reference solution, when one is available, replays through
  ``env.step`` to ``complete``; and an immediate empty answer on the untouched database is *not* complete,
  otherwise the task is flagged as a **no-op pass** (a flag, not a failure: such tasks can be excluded with
  ``AWMEnv(exclude_noop_tasks=True)``, which reads the same cached result);
- **per task, adversarial answers**: an empty answer, the task text echoed back and a spam answer (thousands of
  numbers plus every text and number in the initial database) on the untouched database; a task whose
  verifier calls any of them complete is flagged as a **reward hack** (a flag, excluded the same way; see
  :mod:`awm_gym.verifier.hacks`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from awm_gym.catalog import ReferenceSolution, Scenario, default_sources, load_reference_solutions, load_scenario
from awm_gym.errors import AWMGymError, ConfigurationError
from awm_gym.verifier.hacks import probe_reward_hacks

__all__ = ["ScenarioAudit", "TaskAudit", "audit", "audit_scenario", "format_table", "write_report"]


@dataclass
class TaskAudit:
    """What the audit found for one task."""

    task_idx: int
    verifier_code: bool = False
    verifier_sql: bool = False
    solution: str = "none"  # "complete", "none" (no reference solution), or the label it ended with
    noop_pass: bool = False
    reward_hacks: list[str] = field(default_factory=list)  # the adversarial answers its verifier accepted
    problems: list[str] = field(default_factory=list)


@dataclass
class ScenarioAudit:
    """What the audit found for one scenario."""

    name: str
    source: str = ""
    statements: int = 0
    repaired: int = 0
    failed: int = 0
    server_started: bool = False
    tools: int = 0
    tasks: list[TaskAudit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem in the scenario or any of its tasks (no-op passes are flags, not problems)."""
        return not self.problems and not any(task.problems for task in self.tasks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, with ``ok`` included."""
        return {**asdict(self), "ok": self.ok}


def _check_tools(env: Any, report: ScenarioAudit) -> None:
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    tools = env.host.tools
    report.server_started = True
    report.tools = len(tools)
    if not tools:
        report.problems.append("server: the app exposes no tools (no route with an operation_id)")
    for tool in tools:
        if not tool.description.strip():
            report.problems.append(f"server: tool {tool.name!r} has no description")
        try:
            validators.validator_for(tool.input_schema).check_schema(tool.input_schema)
        except SchemaError as exc:
            report.problems.append(f"server: tool {tool.name!r} has an invalid input schema: {exc.message}")


def _check_task(
    env: Any, idx: int, solution: ReferenceSolution | None, noop: frozenset[int], hacks: dict[int, list[str]]
) -> TaskAudit:
    scenario: Scenario = env.scenario
    task = TaskAudit(idx, noop_pass=idx in noop, reward_hacks=list(hacks.get(idx, ())))
    for mode in ("code", "sql"):
        record = scenario.verifier(mode, idx)
        present = record is not None and record.usable
        setattr(task, f"verifier_{mode}", present)
        if not present:
            task.problems.append(f"no {mode}-mode verifier code")
            continue
        # Run it on the untouched database to see that it runs at all.
        env.host.snapshot(env.host.workdir / "audit")
        outcome = env.verifier.run_code(record, env.host.workdir / "audit", "")
        if outcome.get("status") != "ok":
            task.problems.append(f"{mode}-mode verifier fails: {outcome.get('error', outcome.get('status'))}")
        elif not isinstance(outcome.get("value"), dict):
            task.problems.append(f"{mode}-mode verifier returns {type(outcome.get('value')).__name__}, not a dict")
    if solution is not None:
        env.reset(options={"task_idx": idx})
        info: dict[str, Any] = {}
        errors = []
        for number, action in enumerate(solution.actions(), 1):
            _obs, _reward, terminated, truncated, info = env.step(action)
            if "error" in info:
                errors.append(f"step {number}: {info['error']['message'][:200]}")
            if terminated or truncated:
                break
        task.solution = info.get("verifier", {}).get("label", "not finished")
        if task.solution != "complete":
            detail = f" (tool errors: {'; '.join(errors)})" if errors else ""
            task.problems.append(f"reference solution ends {task.solution!r}{detail}")
    return task


def audit_scenario(
    scenario: str | Scenario,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    solutions: dict[tuple[str, int], ReferenceSolution] | None = None,
) -> ScenarioAudit:
    """Audit one scenario (see the module docstring); never raises for a broken scenario."""
    from awm_gym.envs import AWMEnv

    name = scenario.name if isinstance(scenario, Scenario) else scenario
    report = ScenarioAudit(name)
    try:
        scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, data_dir)
    except AWMGymError as exc:
        report.problems.append(f"data: {exc}")
        return report
    report.source = scenario.source
    longest = max((len(s.calls) + 1 for s in (solutions or {}).values()), default=0)
    env = AWMEnv(scenario, max_steps=max(30, longest))
    try:
        build = env.host.build_report
        report.statements, report.repaired, report.failed = build.statements, build.repaired, build.failed
        for failure in build.failures:
            report.problems.append(f"database: {failure.phase} failed: {failure.error}: {failure.statement[:120]}")
        try:
            env.reset(options={"task_idx": 0})
        except AWMGymError as exc:
            report.problems.append(f"server: does not start: {str(exc)[:2000]}")
            return report
        _check_tools(env, report)
        noop = env.noop_tasks()
        hacks = probe_reward_hacks(scenario, env.host.initial_database)
        for idx in range(len(scenario.tasks)):
            solution = (solutions or {}).get((scenario.name, idx))
            report.tasks.append(_check_task(env, idx, solution, noop, hacks))
    finally:
        env.close()
    return report


def _solutions_for(data_dir: str | os.PathLike[str] | None) -> dict[tuple[str, int], ReferenceSolution]:
    solutions: dict[tuple[str, int], ReferenceSolution] = {}
    for source in reversed(default_sources(data_dir)):  # earlier sources win, as for scenarios
        solutions.update(load_reference_solutions(source.root))
    return solutions


def audit(
    scenarios: Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    jobs: int | None = None,
) -> list[ScenarioAudit]:
    """Audit scenarios: the given names, else every scenario of ``data_dir``, else the bundled pack.

    Reference solutions are read from ``reference_solutions.jsonl`` beside the scenario files. ``jobs``
    scenarios are audited at once (default: the CPU count), each on its own env, servers and verifier
    connection, on a thread pool (the work is in those processes); reports come back in input order, and
    the progress bar (on stderr) advances as each scenario finishes.
    """
    if scenarios is None:
        source = default_sources(data_dir)[0] if data_dir is not None else default_sources()[-1]
        scenarios = source.names()
    names = list(scenarios)
    solutions = _solutions_for(data_dir)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise ConfigurationError(f"jobs must be at least 1, got {jobs}")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(names), desc="awm-gym check", unit="scenario")

    def one(name: str) -> ScenarioAudit:
        try:
            return audit_scenario(name, data_dir=data_dir, solutions=solutions)
        finally:
            if bar is not None:
                bar.update(1)

    try:
        if jobs == 1 or len(names) <= 1:
            return [one(name) for name in names]
        with ThreadPoolExecutor(max_workers=min(jobs, len(names)), thread_name_prefix="awm-check") as pool:
            return list(pool.map(one, names))
    finally:
        if bar is not None:
            bar.close()


def format_table(audits: list[ScenarioAudit]) -> str:
    """A plain-text table (one row per scenario) followed by every problem and flag."""
    header = (
        f"{'scenario':<36} {'db ok/rep/fail':>15} {'tools':>5} {'tasks':>5} {'solved':>7} {'no-op':>5} "
        f"{'hacks':>5}  status"
    )
    lines = [header, "-" * len(header)]
    notes = []
    for a in audits:
        solved = sum(t.solution == "complete" for t in a.tasks)
        with_solution = sum(t.solution != "none" for t in a.tasks)
        noop = [t.task_idx for t in a.tasks if t.noop_pass]
        hacks = [t for t in a.tasks if t.reward_hacks]
        db = f"{a.statements - a.failed}/{a.repaired}/{a.failed}"
        lines.append(
            f"{a.name:<36} {db:>15} {a.tools:>5} {len(a.tasks):>5} {f'{solved}/{with_solution}':>7} {len(noop):>5} "
            f"{len(hacks):>5}  {'ok' if a.ok else 'FAIL'}"
        )
        notes += [f"{a.name}: {p}" for p in a.problems]
        notes += [f"{a.name} task {t.task_idx}: {p}" for t in a.tasks for p in t.problems]
        notes += [f"{a.name} task {i}: flagged as a no-op pass (complete on an untouched database)" for i in noop]
        notes += [
            f"{a.name} task {t.task_idx}: flagged as a reward hack (complete for the {', '.join(t.reward_hacks)} "
            "answer on an untouched database)"
            for t in hacks
        ]
    total_tasks = sum(len(a.tasks) for a in audits)
    lines.append("-" * len(header))
    lines.append(f"{len(audits)} scenarios, {total_tasks} tasks, {sum(not a.ok for a in audits)} failing")
    return "\n".join(lines + ([""] + notes if notes else []))


def write_report(audits: list[ScenarioAudit], path: str | os.PathLike[str]) -> None:
    """Write the audit as JSON."""
    Path(path).write_text(json.dumps([a.to_dict() for a in audits], indent=2))
