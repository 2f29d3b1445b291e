# reasoning: Report failed-run counts per workflow of user 1 over the last 7 and 14 days with the workflow status, so the judge can see that the paused workflow and the 14-day window are distractors, plus whether anything changed.
# success_criteria: The agent answers that 'HubSpot lead enrichment' (active) had the most failed runs in the last 7 days, with 3 failures, and does not modify the database.
# failure_criteria: The agent names 'Invoice reminder emails' (paused) or 'Support ticket escalation' (4 failures only over 14 days), gives a wrong count, or changes workflows/runs.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    rows = conn.execute(
        "SELECT w.id, w.name, w.status, "
        "SUM(CASE WHEN r.status = 'failed' AND r.started_at >= datetime('now', '-7 days') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN r.status = 'failed' AND r.started_at >= datetime('now', '-14 days') THEN 1 ELSE 0 END) "
        "FROM workflows w LEFT JOIN workflow_runs r ON r.workflow_id = w.id "
        "WHERE w.user_id = 1 GROUP BY w.id ORDER BY w.id"
    ).fetchall()
    before = {t: conn.execute(f"SELECT COUNT(*), TOTAL(LENGTH(status)) FROM {t}").fetchone() for t in ("workflows", "workflow_runs")}
    conn.close()
    conn = sqlite3.connect(final_db_path)
    after = {t: conn.execute(f"SELECT COUNT(*), TOTAL(LENGTH(status)) FROM {t}").fetchone() for t in ("workflows", "workflow_runs")}
    conn.close()
    return {
        "failed_runs_by_workflow": [
            {"workflow_id": r[0], "name": r[1], "status": r[2], "failed_last_7_days": r[3], "failed_last_14_days": r[4]}
            for r in rows
        ],
        "expected_answer": {"workflow": "HubSpot lead enrichment", "failed_runs": 3},
        "tables_unchanged": before == after,
    }
