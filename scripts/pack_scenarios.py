"""Pack the bundled scenario sources (``scenarios/<name>/``) into AgentWorldModel-1K jsonl files.

Usage: ``python scripts/pack_scenarios.py [--out DIR]`` (default: ``awm_gym/catalog/bundled``).
The source format is described in ``scenarios/AUTHORING.md``. Output is deterministic, and a test checks
that the committed pack equals a fresh pack of the sources.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "scenarios"
DEFAULT_OUT = ROOT / "awm_gym" / "catalog" / "bundled"
_HEADER = re.compile(r"#\s*(reasoning|strategy|key_check|success_criteria|failure_criteria):\s*(.*)")
_CREATE_TABLE = re.compile(r'CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?["`\[]?(\w+)', re.IGNORECASE)
_INDEX_ON = re.compile(r'\bON\s+["`\[]?(\w+)', re.IGNORECASE)
_DEFAULT_FUNCTION = {"code": "verify_task_completion", "sql": "verify_task"}


def split_statements(text: str) -> list[str]:
    """SQL statements in order; comment lines between statements are dropped."""
    statements, buffer = [], ""
    for line in text.splitlines():
        if not buffer and (not line.strip() or line.strip().startswith("--")):
            continue
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at the end: {buffer[:120]!r}")
    return statements


def pack_schema(path: Path) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = []
    for statement in split_statements(path.read_text()):
        if match := _CREATE_TABLE.match(statement):
            tables.append({"name": match.group(1), "ddl": statement, "indexes": []})
        elif statement.upper().startswith("CREATE") and (match := _INDEX_ON.search(statement)):
            table = next(t for t in tables if t["name"] == match.group(1))
            table["indexes"].append(statement)
        else:
            raise ValueError(f"{path}: unexpected statement {statement[:80]!r}")
    return tables


def pack_sample(path: Path) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = []
    buffer = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not buffer and stripped.startswith("-- table:"):
            tables.append({"table_name": stripped.split(":", 1)[1].strip(), "reasoning": "", "insert_statements": []})
        elif not buffer and stripped.startswith("-- reasoning:"):
            tables[-1]["reasoning"] = stripped.split(":", 1)[1].strip()
        elif not buffer and (not stripped or stripped.startswith("--")):
            continue
        else:
            buffer += line + "\n"
            if sqlite3.complete_statement(buffer.replace("\\'", "''")):
                tables[-1]["insert_statements"].append(buffer.strip())
                buffer = ""
    if buffer.strip():
        raise ValueError(f"{path}: incomplete INSERT at the end: {buffer[:120]!r}")
    return tables


def pack_verifier(path: Path, mode: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"key_checks": []}
    code_lines = []
    for line in path.read_text().splitlines():
        match = _HEADER.match(line)
        if match and not code_lines:
            key, value = match.groups()
            if key == "key_check":
                meta["key_checks"].append(value)
            else:
                meta[key] = value
        else:
            code_lines.append(line)
    code = "\n".join(code_lines).strip() + "\n"
    names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
    function = _DEFAULT_FUNCTION[mode] if _DEFAULT_FUNCTION[mode] in names else names[-1]
    if mode == "code":
        raw = {
            "reasoning": meta.get("reasoning", ""),
            "verification_strategy": meta.get("strategy", "combined"),
            "key_checks": meta["key_checks"],
            "python_code": code,
            "function_name": function,
        }
    else:
        raw = {
            "reasoning": meta.get("reasoning", ""),
            "python_code": code,
            "function_name": function,
            "success_criteria": meta.get("success_criteria", ""),
            "failure_criteria": meta.get("failure_criteria", ""),
        }
    return {"code": code, "raw_response": json.dumps(raw, ensure_ascii=False)}


def pack_spec(app_path: Path, name: str) -> dict[str, Any]:
    """An ``api_spec`` in gen_spec's shape, read off the app's OpenAPI (the spec is guidance only)."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_PATH"] = f"sqlite:///{tmp}/spec.db"
        spec = importlib.util.spec_from_file_location(f"_pack_{name}", app_path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        openapi = module.app.openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for route_path, item in openapi["paths"].items():
        for method, op in item.items():
            params = {
                p["name"]: {
                    "type": p.get("schema", {}).get("type", "string"),
                    "param_type": p["in"],
                    "required": p.get("required", False),
                    "description": p.get("description", ""),
                }
                for p in op.get("parameters", [])
            }
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = openapi["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
            for field, schema in body.get("properties", {}).items():
                params[field] = {
                    "type": schema.get("type", "string"),
                    "param_type": "body",
                    "required": field in body.get("required", []),
                    "description": schema.get("description", ""),
                }
            endpoint = {
                "path": route_path,
                "method": method.upper(),
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "operation_id": op["operationId"],
                "tags": op.get("tags", []),
                "request_params": params,
            }
            groups.setdefault((op.get("tags") or ["default"])[0], []).append(endpoint)
    return {"api_groups": [{"group_name": group, "endpoints": endpoints} for group, endpoints in groups.items()]}


def pack(out: Path) -> None:
    files: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "gen_scenario",
            "gen_tasks",
            "gen_db",
            "gen_sample",
            "gen_spec",
            "gen_envs",
            "gen_verifier",
            "gen_verifier.pure_code",
            "reference_solutions",
        )
    }
    for folder in sorted(p for p in SOURCES.iterdir() if (p / "scenario.json").is_file()):
        meta = json.loads((folder / "scenario.json").read_text())
        name = meta["name"]
        assert name == folder.name, f"{folder}: scenario.json names {name!r}"
        db_path = f"./outputs/databases/{name}.db"
        files["gen_scenario"].append(
            {"name": name, "description": meta["description"], "categories": meta.get("categories", [])}
        )
        files["gen_tasks"].append({"scenario": name, "tasks": meta["tasks"]})
        files["gen_db"].append(
            {"scenario": name, "db_schema": {"tables": pack_schema(folder / "schema.sql")}, "db_path": db_path}
        )
        sample = pack_sample(folder / "data.sql")
        files["gen_sample"].append(
            {
                "scenario": name,
                "tables_count": len(sample),
                "inserts_count": sum(len(t["insert_statements"]) for t in sample),
                "sample_data": {"tables": sample},
            }
        )
        files["gen_spec"].append({"scenario": name, "api_spec": pack_spec(folder / "app.py", name)})
        files["gen_envs"].append({"scenario": name, "db_path": db_path, "full_code": (folder / "app.py").read_text()})
        for idx, task in enumerate(meta["tasks"]):
            for mode, file in (("sql", "gen_verifier"), ("code", "gen_verifier.pure_code")):
                verification = pack_verifier(folder / "verifiers" / f"task_{idx}_{mode}.py", mode)
                files[file].append({"scenario": name, "task_idx": idx, "task": task, "verification": verification})
        for solution in json.loads((folder / "solutions.json").read_text()):
            files["reference_solutions"].append(
                {
                    "scenario": name,
                    "task_idx": solution["task_idx"],
                    "calls": solution["calls"],
                    "final_answer": solution["final_answer"],
                    "noop_pass": bool(solution.get("noop_pass", False)),
                }
            )
    out.mkdir(parents=True, exist_ok=True)
    for name, records in files.items():
        lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        (out / f"{name}.jsonl").write_text(lines, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    pack(args.out)
    print(f"packed {len(list(SOURCES.glob('*/scenario.json')))} scenarios into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
