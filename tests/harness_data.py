"""Small ``arcee-train/awm_1k_fixed_harness``-layout data written by the tests, from the bundled scenarios.

One row per scenario with the fields ``scenario``, ``db``, ``sample``, ``env``, ``spec`` and ``val_report``.
``write_harness_parquet(path, nested=False)`` stores every field as a JSON string (and ``env`` as the bare
code string); ``nested=True`` stores ``db``, ``sample``, ``spec`` and ``val_report`` as nested structs and
``env`` as a record. In both, the validation report fails every third endpoint (``FAILED``), and the
scenario names need normalising (``"Harness Pets!"`` is ``harness_pets``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from awm_gym.catalog import BUNDLED_DIR

ROWS = {"Harness Pets!": "awmgym_pet_clinic", "harness_budget": "awmgym_home_budget"}
NAMES = {"harness_pets": "awmgym_pet_clinic", "harness_budget": "awmgym_home_budget"}


def _bundled(file: str, scenario: str) -> dict[str, Any]:
    for line in (BUNDLED_DIR / file).read_text().splitlines():
        record = json.loads(line)
        if record.get("scenario", record.get("name")) == scenario:
            return record
    raise KeyError(scenario)


def operations(original: str) -> list[dict[str, Any]]:
    """The bundled scenario's spec endpoints, in spec order."""
    spec = _bundled("gen_spec.jsonl", original)["api_spec"]
    return [endpoint for group in spec["api_groups"] for endpoint in group["endpoints"]]


def passed(original: str) -> list[dict[str, Any]]:
    """The endpoints the written validation report passes (the expected endpoint tasks, in order)."""
    return [endpoint for i, endpoint in enumerate(operations(original)) if i % 3 != 2]


def rows(*, nested: bool) -> list[dict[str, Any]]:
    """The harness rows, fields as JSON strings (``nested=False``) or as nested values."""
    out = []
    for name, original in ROWS.items():
        report = {
            "scenario": name,
            "summary": {"total": len(operations(original))},
            "endpoints": [
                {"operation_id": e["operation_id"], "status": "passed" if i % 3 != 2 else "failed", "status_code": 200}
                for i, e in enumerate(operations(original))
            ],
        }
        db = _bundled("gen_db.jsonl", original)
        sample = _bundled("gen_sample.jsonl", original)
        spec = _bundled("gen_spec.jsonl", original)
        code = _bundled("gen_envs.jsonl", original)["full_code"]
        fields: dict[str, Any] = {"db": db, "sample": sample, "spec": spec, "val_report": report}
        if nested:
            row = {"scenario": name, **fields, "env": {"scenario": name, "full_code": code}}
        else:
            row = {"scenario": name, **{k: json.dumps(v) for k, v in fields.items()}, "env": code}
        out.append(row)
    return out


def write_harness_parquet(path: Path, *, nested: bool = False) -> Path:
    """Write the rows as one parquet file (with ``datasets``) and return its path."""
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    data = rows(nested=nested)
    if nested:  # structs must share one schema per column: keep the nested columns JSON-shaped but uniform
        for row in data:
            row["db"] = {"scenario": row["db"]["scenario"], "db_schema": row["db"]["db_schema"]}
            row["sample"] = {
                "scenario": row["sample"]["scenario"],
                "sample_data": json.dumps(row["sample"]["sample_data"]),
            }
            row["spec"] = {"scenario": row["spec"]["scenario"], "api_spec": json.dumps(row["spec"]["api_spec"])}
    datasets.Dataset.from_list(data).to_parquet(str(path))
    return path


def keep_datasets_cache_in(directory: Path) -> None:
    """Point ``datasets``' cache (where ``load_dataset`` converts parquet to Arrow) into ``directory``."""
    import os

    import datasets

    os.environ["HF_DATASETS_CACHE"] = str(directory)
    datasets.config.HF_DATASETS_CACHE = directory
