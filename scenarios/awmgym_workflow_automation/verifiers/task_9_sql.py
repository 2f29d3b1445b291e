# reasoning: Show every run that was queued or running initially, with its workflow and status before and after.
# success_criteria: Runs 48 and 49 of 'Support ticket escalation' are cancelled; run 5 (Stripe payments) and run 65 (another user) are still running.
# failure_criteria: A stuck escalation run still running, or other running runs cancelled.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    initial = conn.execute(
        "SELECT r.id, w.user_id, w.name, r.status, r.started_at FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
        "WHERE r.status IN ('queued', 'running') ORDER BY r.id"
    ).fetchall()
    before_count = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    conn = sqlite3.connect(final_db_path)
    final_status = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, status, finished_at FROM workflow_runs")}
    after_count = conn.execute("SELECT COUNT(*) FROM workflow_runs").fetchone()[0]
    conn.close()
    return {
        "initially_active_runs": [
            {"run_id": r[0], "user_id": r[1], "workflow": r[2], "initial_status": r[3], "started_at": r[4],
             "final_status": final_status.get(r[0], (None, None))[0], "final_finished_at": final_status.get(r[0], (None, None))[1]}
            for r in initial
        ],
        "run_count_before": before_count,
        "run_count_after": after_count,
    }
