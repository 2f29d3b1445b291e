# reasoning: Workflow 6 'Sync Airtable content calendar to Notion' has runs whose metadata JSON holds records_processed. The latest run (3 hours ago) failed after 12 records; the latest SUCCESSFUL run (18 hours ago) processed 37; older successful runs processed 41 and 44. The answer must give 37 and not the older figures. Read-only.
# strategy: query_based
# key_check: expected value read from metadata of the latest succeeded run in the initial db (37)
# key_check: answer contains 37
# key_check: answer does not give 41 or 44 (older successful runs)
# key_check: workflow_runs unchanged
import json
import re
import sqlite3


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        rows = conn.execute(
            "SELECT r.metadata FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
            "WHERE w.user_id = 1 AND w.name = 'Sync Airtable content calendar to Notion' AND r.status = 'succeeded' "
            "ORDER BY r.started_at DESC"
        ).fetchall()
        before = conn.execute("SELECT * FROM workflow_runs ORDER BY id").fetchall()
    finally:
        conn.close()
    if not rows:
        return {"result": "others", "reason": "no succeeded runs in initial db"}
    processed = [json.loads(r[0]).get("records_processed") for r in rows]
    expected, older = processed[0], set(processed[1:])

    numbers = set()
    for token in re.findall(r"\d[\d,]*(?:\.\d+)?", answer):
        value = float(token.replace(",", ""))
        if value.is_integer():
            numbers.add(int(value))
    if expected not in numbers:
        return {"result": "others", "reason": "answer does not give the expected record count", "expected": expected}
    if numbers & older:
        return {"result": "others", "reason": "answer gives a count from an older run"}

    conn = sqlite3.connect(final_db_path)
    try:
        after = conn.execute("SELECT * FROM workflow_runs ORDER BY id").fetchall()
    finally:
        conn.close()
    if before != after:
        return {"result": "others", "reason": "workflow_runs changed during a read-only task"}
    return {"result": "complete"}
