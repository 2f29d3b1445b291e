# reasoning: List user 1's Gmail connections with every step that uses them and the owning workflow's status.
# success_criteria: The agent answers that only 'Support ticket escalation' (active) still uses the expired maya.chen@brightloop.io connection, and changes nothing.
# failure_criteria: Naming 'Weekly pipeline report' (active billing@ connection), presenting the paused 'Invoice reminder emails' or draft 'Churn alert to CSM' as active, or modifying data.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    usage = conn.execute(
        "SELECT c.id, c.account_label, c.status, s.id, w.id, w.name, w.status "
        "FROM connections c LEFT JOIN workflow_steps s ON s.connection_id = c.id "
        "LEFT JOIN workflows w ON w.id = s.workflow_id "
        "WHERE c.user_id = 1 AND c.app_name = 'Gmail' ORDER BY c.id, s.id"
    ).fetchall()
    counts_before = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("connections", "workflows", "workflow_steps")]
    conn.close()
    conn = sqlite3.connect(final_db_path)
    counts_after = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("connections", "workflows", "workflow_steps")]
    statuses_after = conn.execute("SELECT id, status FROM connections WHERE user_id = 1 AND app_name = 'Gmail'").fetchall()
    conn.close()
    return {
        "gmail_usage": [
            {"connection_id": r[0], "account": r[1], "connection_status": r[2], "step_id": r[3], "workflow_id": r[4], "workflow": r[5], "workflow_status": r[6]}
            for r in usage
        ],
        "row_counts_before": counts_before,
        "row_counts_after": counts_after,
        "gmail_connection_status_after": statuses_after,
    }
