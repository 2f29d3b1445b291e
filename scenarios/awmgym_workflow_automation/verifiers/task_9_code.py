# reasoning: Workflow 10 'Support ticket escalation' has two runs stuck in 'running' (started about 26 hours and 3 hours ago, runs 48 and 49). Both must end up 'cancelled'. The just-started run of 'Stripe payments to Slack #revenue' (run 5) and Sofia's running invoice run (run 65) must stay running, and every other run must be unchanged; no runs added or deleted.
# strategy: modification_based
# key_check: every run of workflow 10 that was running initially is now cancelled
# key_check: runs 5 and 65 still running
# key_check: all other workflow_runs rows identical; same set of run ids
import sqlite3


def _fetch(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    targets = [r[0] for r in _fetch(
        initial_db_path,
        "SELECT r.id FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
        "WHERE w.user_id = 1 AND w.name = 'Support ticket escalation' AND r.status = 'running'",
    )]
    if sorted(targets) != [48, 49]:
        return {"result": "others", "reason": "unexpected initial data", "targets": targets}

    before = {r[0]: r for r in _fetch(initial_db_path, "SELECT * FROM workflow_runs")}
    after = {r[0]: r for r in _fetch(final_db_path, "SELECT * FROM workflow_runs")}
    if set(before) != set(after):
        return {"result": "others", "reason": "runs were added or deleted"}

    status = {r[0]: r[1] for r in _fetch(final_db_path, "SELECT id, status FROM workflow_runs")}
    for run_id in targets:
        if status.get(run_id) != "cancelled":
            return {"result": "others", "reason": f"run {run_id} is not cancelled", "status": status.get(run_id)}
    for run_id in (5, 65):
        if status.get(run_id) != "running":
            return {"result": "others", "reason": f"run {run_id} should still be running"}
    for run_id, row in before.items():
        if run_id not in targets and after[run_id] != row:
            return {"result": "others", "reason": f"run {run_id} was modified"}
    return {"result": "complete"}
