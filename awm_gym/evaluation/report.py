"""An evaluation's results: the records, the statistics, and the JSON, markdown and plots made from them.

Success is the verifier's label and nothing else. Shaped return, steps, expert calls and tool errors are
reported as diagnostics, apart from the success numbers. A results object of a run with a simulated
condition says "SIMULATION" in the JSON, the markdown and every plot title.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from awm_gym.evaluation.records import EpisodeRecord
from awm_gym.evaluation.simulation import SIMULATION_LABEL
from awm_gym.evaluation.statistics import compare_paired, pass_at_k, success_interval

__all__ = ["RESULTS_FILE", "EvalResults"]

RESULTS_FILE = "results.json"
"""The results file :meth:`EvalResults.write` writes (with ``report.md``, ``success.png``, ``deltas.png``)."""

_DIAGNOSTICS = ("shaped_return", "steps", "tool_errors", "expert_calls")


@dataclass
class EvalResults:
    """Every episode record of an evaluation, with what it was run on and with.

    Attributes:
        records: One :class:`~awm_gym.evaluation.EpisodeRecord` per episode, by condition then task.
        conditions: Each condition's configuration, by name, in the evaluation's order.
        taskset: The task set's name, hash, size, metadata, ``data_dir``, and the no-op-pass tasks left out.
        settings: ``repeats``, ``max_steps``, ``seed``, ``exclude_noop``.
        awm_gym_version: The awm-gym version that ran it.
        simulation: A condition was simulated (the offline mode): the numbers describe no model.
        bootstrap: Bootstrap resamples for the intervals.
        confidence: Coverage of the intervals.
    """

    records: list[EpisodeRecord]
    conditions: dict[str, dict[str, Any]]
    taskset: dict[str, Any]
    settings: dict[str, Any]
    awm_gym_version: str
    simulation: bool = False
    bootstrap: int = 10_000
    confidence: float = 0.95
    _outcomes: dict[str, dict[tuple[str, int], dict[int, bool]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Index the outcomes by condition, task and repeat."""
        outcomes: dict[str, dict[tuple[str, int], dict[int, bool]]] = {name: {} for name in self.conditions}
        for record in self.records:
            outcomes.setdefault(record.condition, {}).setdefault((record.scenario, record.task_idx), {})[
                record.repeat
            ] = record.success
        self._outcomes = outcomes

    # -------------------------------------------------------------------------------------- statistics

    def outcomes(self, condition: str, scenario: str | None = None) -> dict[tuple[str, int], list[bool]]:
        """A condition's successes per task, one per repeat (in repeat order); optionally one scenario's."""
        return {
            task: [runs[r] for r in sorted(runs)]
            for task, runs in self._outcomes.get(condition, {}).items()
            if scenario is None or task[0] == scenario
        }

    def _paired(self, a: str, b: str, scenario: str | None = None) -> tuple[dict, dict]:
        """The outcomes of ``a`` and ``b`` restricted to the (task, repeat) pairs both have."""
        left, right = {}, {}
        for task, runs in self._outcomes.get(a, {}).items():
            other = self._outcomes.get(b, {}).get(task, {})
            shared = sorted(set(runs) & set(other))
            if shared and (scenario is None or task[0] == scenario):
                left[task], right[task] = [runs[r] for r in shared], [other[r] for r in shared]
        return left, right

    def scenarios(self) -> list[str]:
        """The scenarios with records, in order of first appearance."""
        return list(dict.fromkeys(record.scenario for record in self.records))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per condition: episodes, tasks, success with its interval, pass@k, per task and scenario, diagnostics."""
        summary = {}
        ks = sorted({1, int(self.settings.get("repeats", 1))})
        for name in self.conditions:
            outcomes = self.outcomes(name)
            records = [r for r in self.records if r.condition == name]
            entry: dict[str, Any] = {"episodes": len(records), "tasks": len(outcomes)}
            if outcomes:
                entry["success"] = success_interval(
                    outcomes, resamples=self.bootstrap, confidence=self.confidence
                ).to_dict()
                entry["pass_at_k"] = {
                    str(k): pass_at_k({t: runs for t, runs in outcomes.items() if len(runs) >= k}, k)
                    for k in ks
                    if any(len(runs) >= k for runs in outcomes.values())
                }
                entry["per_task"] = {f"{s}:{i}": float(np.mean(runs)) for (s, i), runs in outcomes.items()}
                entry["per_scenario"] = {
                    scenario: {
                        "tasks": len(per),
                        "success": float(np.mean([np.mean(runs) for runs in per.values()])),
                    }
                    for scenario in self.scenarios()
                    if (per := self.outcomes(name, scenario))
                }
                entry["diagnostics"] = {
                    f"mean_{key}": float(np.mean([getattr(r, key) for r in records])) for key in _DIAGNOSTICS
                }
                entry["diagnostics"]["truncated_rate"] = float(np.mean([r.truncated for r in records]))
                entry["diagnostics"]["mean_wall_s"] = float(np.mean([r.wall_s for r in records]))
            summary[name] = entry
        return summary

    def comparisons(self) -> list[dict[str, Any]]:
        """Each condition after the first against the first: the paired comparison, overall and per scenario."""
        names = list(self.conditions)
        found = []
        for other in names[1:]:
            a, b = self._paired(names[0], other)
            if not a:
                continue
            overall = compare_paired(
                a, b, names=(names[0], other), resamples=self.bootstrap, confidence=self.confidence
            )
            per_scenario = {}
            for scenario in self.scenarios():
                sa, sb = self._paired(names[0], other, scenario)
                if sa:
                    per_scenario[scenario] = compare_paired(
                        sa, sb, names=(names[0], other), resamples=self.bootstrap, confidence=self.confidence
                    ).to_dict()
            found.append({**overall.to_dict(), "per_scenario": per_scenario})
        return found

    # ------------------------------------------------------------------------------------------- outputs

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: settings, task set, conditions, summary, comparisons and every record."""
        return {
            "label": SIMULATION_LABEL if self.simulation else "evaluation",
            "simulation": self.simulation,
            "awm_gym_version": self.awm_gym_version,
            "taskset": self.taskset,
            "settings": {**self.settings, "bootstrap": self.bootstrap, "confidence": self.confidence},
            "conditions": self.conditions,
            "summary": self.summary(),
            "comparisons": self.comparisons(),
            "episodes": [record.to_dict() for record in self.records],
        }

    def markdown(self) -> str:
        """The summary and the paired comparisons as markdown tables."""
        data = self.to_dict()
        percent = round(100 * self.confidence)
        lines = []
        if self.simulation:
            lines += [f"> **{SIMULATION_LABEL}**", ""]
        taskset = data["taskset"]
        lines += [
            f"Task set {taskset['name'] or '(unnamed)'} `{taskset['hash'][:12]}`: {taskset['evaluated']} tasks "
            f"evaluated, {len(taskset['excluded_noop'])} no-op-pass tasks excluded; {self.settings['repeats']} "
            f"repeat(s), max {self.settings['max_steps']} steps, awm-gym {self.awm_gym_version}. Success is the "
            f"verifier's label; intervals are {percent}% bootstrap over tasks.",
            "",
            "| condition | tasks | episodes | success | pass@k | shaped return | steps | tool errors | expert calls |",
            "|---|---:|---:|---|---|---:|---:|---:|---:|",
        ]
        for name, entry in data["summary"].items():
            if "success" not in entry:
                lines.append(f"| {name} | 0 | 0 | - | - | - | - | - | - |")
                continue
            s, d = entry["success"], entry["diagnostics"]
            passes = ", ".join(f"@{k} {v:.3f}" for k, v in entry["pass_at_k"].items())
            lines.append(
                f"| {name} | {entry['tasks']} | {entry['episodes']} | {s['estimate']:.3f} [{s['low']:.3f}, "
                f"{s['high']:.3f}] | {passes} | {d['mean_shaped_return']:.2f} | {d['mean_steps']:.1f} | "
                f"{d['mean_tool_errors']:.2f} | {d['mean_expert_calls']:.2f} |"
            )
        if data["comparisons"]:
            lines += [
                "",
                "Paired comparisons (same tasks and seeds; p: exact two-sided sign test over tasks):",
                "",
                "| comparison | scope | tasks | delta | wins / losses / ties | p |",
                "|---|---|---:|---|---|---:|",
            ]
            for comparison in data["comparisons"]:
                scopes = [("all", comparison), *comparison["per_scenario"].items()]
                for scope, c in scopes:
                    delta = c["delta"]
                    lines.append(
                        f"| {comparison['b']} - {comparison['a']} | {scope} | {c['tasks']} | {delta['estimate']:+.3f} "
                        f"[{delta['low']:+.3f}, {delta['high']:+.3f}] | {c['wins']} / {c['losses']} / {c['ties']} | "
                        f"{c['p_value']:.4g} |"
                    )
        return "\n".join(lines) + "\n"

    def plot(self, success_path: str | os.PathLike[str], deltas_path: str | os.PathLike[str] | None = None) -> None:
        """Plot success per condition with intervals, and (with two or more) paired deltas per scenario.

        Raises:
            ConfigurationError: matplotlib is not installed.
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            from awm_gym.errors import ConfigurationError

            raise ConfigurationError("plots need matplotlib: pip install awm-gym[eval]") from exc
        tag = " - SIMULATION" if self.simulation else ""
        summary = self.summary()
        names = [n for n in summary if "success" in summary[n]]
        fig, ax = plt.subplots(figsize=(max(4.0, 1.4 * len(names) + 2), 3.6))
        estimates = [summary[n]["success"]["estimate"] for n in names]
        errors = [
            [e - summary[n]["success"]["low"] for n, e in zip(names, estimates, strict=True)],
            [summary[n]["success"]["high"] - e for n, e in zip(names, estimates, strict=True)],
        ]
        ax.bar(names, estimates, yerr=errors, capsize=6, color="#4c72b0")
        ax.set_ylim(0, 1)
        ax.set_ylabel("verifier success rate")
        ax.set_title(f"success per condition, {round(100 * self.confidence)}% CI over tasks{tag}", fontsize=10)
        fig.tight_layout()
        fig.savefig(success_path, dpi=120)
        plt.close(fig)
        comparisons = self.comparisons()
        if deltas_path is None or not comparisons:
            return
        rows = 1 + max(len(c["per_scenario"]) for c in comparisons)
        fig, axes = plt.subplots(1, len(comparisons), figsize=(6 * len(comparisons), 1.4 + 0.4 * rows), squeeze=False)
        for ax, comparison in zip(axes[0], comparisons, strict=True):
            scopes = [("all", comparison), *comparison["per_scenario"].items()]
            labels = [f"{scope.removeprefix('awmgym_')} ({c['tasks']} tasks)" for scope, c in scopes]
            values = [c["delta"]["estimate"] for _, c in scopes]
            low = [v - c["delta"]["low"] for v, (_, c) in zip(values, scopes, strict=True)]
            high = [c["delta"]["high"] - v for v, (_, c) in zip(values, scopes, strict=True)]
            ax.errorbar(values, range(len(values)), xerr=[low, high], fmt="o", capsize=4, color="#dd8452")
            ax.axvline(0.0, color="#555555", linewidth=1)
            ax.set_yticks(range(len(values)), labels)
            ax.invert_yaxis()
            ax.set_xlim(-1.05, 1.05)
            ax.set_xlabel(f"paired success delta ({comparison['b']} - {comparison['a']})")
            ax.set_title(f"p = {comparison['p_value']:.3g} (sign test){tag}", fontsize=10)
        fig.tight_layout()
        fig.savefig(deltas_path, dpi=120)
        plt.close(fig)

    def write(self, out_dir: str | os.PathLike[str], *, plots: bool = True) -> dict[str, Path]:
        """Write ``results.json``, ``report.md`` and (``plots``) ``success.png``, ``deltas.png``; return the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / RESULTS_FILE, "markdown": out / "report.md"}
        paths["json"].write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        paths["markdown"].write_text(self.markdown())
        if plots:
            paths["success_plot"], paths["deltas_plot"] = out / "success.png", out / "deltas.png"
            self.plot(paths["success_plot"], paths["deltas_plot"])
            if not paths["deltas_plot"].exists():
                del paths["deltas_plot"]
        return paths
