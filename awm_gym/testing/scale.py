"""AWM at scale without the real data: N renamed copies of the bundled scenarios, in the release format.

:func:`write_scaled_release` writes the eight AgentWorldModel-1K jsonl files (and the reference solutions)
for ``count`` scenarios, cycling over the bundled pack: copy ``k`` of ``awmgym_pet_clinic`` is named
``awmgym_pet_clinic_c0002``. Each copy is its own scenario to awm-gym (its own name, zygote, template and
caches), with the same app, data, tasks, verifiers and solutions as its original, so a sweep over copies
exercises the real per-scenario costs and its reference solutions still solve every task.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from awm_gym.catalog import AWM_FILES, BUNDLED_DIR, SOLUTIONS_FILE, normalize_name

__all__ = ["scaled_name", "write_scaled_release"]


def scaled_name(original: str, copy: int) -> str:
    """The name of copy ``copy`` of scenario ``original``."""
    return f"{normalize_name(original)}_c{copy:04d}"


def write_scaled_release(
    directory: str | os.PathLike[str], count: int, *, source: str | os.PathLike[str] = BUNDLED_DIR
) -> list[str]:
    """Write ``count`` renamed scenarios (cycling over ``source``'s) as release files in ``directory``.

    Example:
        >>> import tempfile
        >>> from awm_gym.catalog import list_scenarios
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     names = write_scaled_release(directory, 6)
        ...     names[:2], len(set(names) & set(list_scenarios(directory)))
        (['awmgym_home_budget_c0000', 'awmgym_library_loans_c0001'], 6)

    Returns:
        The scenario names written, in order.
    """
    source, directory = Path(source), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {kind: source / name for kind, name in AWM_FILES.items() if (source / name).is_file()}
    files["solutions"] = source / SOLUTIONS_FILE
    records: dict[str, dict[str, list[dict]]] = {}  # kind -> original scenario -> its records
    for kind, path in files.items():
        if not path.is_file():
            continue
        key = "name" if kind == "scenario" else "scenario"
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                records.setdefault(kind, {}).setdefault(normalize_name(record[key]), []).append(record)
    originals = list(records["scenario"])
    plan = [(originals[i % len(originals)], scaled_name(originals[i % len(originals)], i)) for i in range(count)]
    for kind, by_scenario in records.items():
        key = "name" if kind == "scenario" else "scenario"
        name = SOLUTIONS_FILE if kind == "solutions" else AWM_FILES[kind]
        with open(directory / name, "w") as handle:
            for original, renamed in plan:
                for record in by_scenario.get(original, []):
                    handle.write(json.dumps({**record, key: renamed}) + "\n")
    return [renamed for _, renamed in plan]
