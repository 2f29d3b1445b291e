# reasoning: Give run counts and average succeeded duration for every workflow named like 'Weekly pipeline report' so the judge can tell user 1's workflow from the copy and from the other user's workflow.
# success_criteria: The agent reports 6 successful runs with an average duration of 45 seconds (45000 ms) for workflow 2 and changes nothing.
# failure_criteria: Figures from workflow 9 (copy) or workflow 11 (other user), an average that includes the failed run (~39 s), or database changes.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    rows = conn.execute(
        "SELECT w.id, w.user_id, w.name, w.status, COUNT(r.id), "
        "SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END), "
        "AVG(CASE WHEN r.status = 'succeeded' THEN r.duration_ms END), AVG(r.duration_ms) "
        "FROM workflows w LEFT JOIN workflow_runs r ON r.workflow_id = w.id "
        "WHERE w.name LIKE 'Weekly pipeline report%' GROUP BY w.id ORDER BY w.id"
    ).fetchall()
    runs_before = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    conn = sqlite3.connect(final_db_path)
    runs_after = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    return {
        "workflows": [
            {"workflow_id": r[0], "user_id": r[1], "name": r[2], "status": r[3], "total_runs": r[4],
             "succeeded_runs": r[5], "avg_succeeded_duration_ms": r[6], "avg_all_duration_ms": r[7]}
            for r in rows
        ],
        "run_count_before": runs_before,
        "run_count_after": runs_after,
    }
