# reasoning: List the runs of the Airtable to Notion sync with status and metadata, newest first.
# success_criteria: The agent answers 37 records (latest succeeded run, 18 hours ago) and changes nothing.
# failure_criteria: Answering 12 (latest run, which failed), 41 or 44 (older successful runs), or modifying data.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    rows = conn.execute(
        "SELECT r.id, r.status, r.started_at, r.metadata FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
        "WHERE w.user_id = 1 AND w.name = 'Sync Airtable content calendar to Notion' ORDER BY r.started_at DESC"
    ).fetchall()
    before = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    conn = sqlite3.connect(final_db_path)
    after = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    return {
        "runs_newest_first": [{"run_id": r[0], "status": r[1], "started_at": r[2], "metadata": r[3]} for r in rows],
        "run_count_before": before,
        "run_count_after": after,
    }
