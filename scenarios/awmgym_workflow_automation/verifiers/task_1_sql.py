# reasoning: Show the Slack steps of user 1 before and after, so the judge can confirm that only step 2 of workflow 1 became async with retry_limit 5.
# success_criteria: workflow_steps id 2 (Slack, workflow 'Stripe payments to Slack #revenue') has async = 1 and retry_limit = 5; no other step changed.
# failure_criteria: Step 2 unchanged or only partly changed, a different Slack step (e.g. #marketing-standup or #support-escalations) modified, or steps added/removed.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    query = (
        "SELECT s.id, w.name, s.position, s.action, s.config, s.async, s.retry_limit, s.timeout_seconds "
        "FROM workflow_steps s JOIN workflows w ON w.id = s.workflow_id WHERE s.app_name = 'Slack' ORDER BY s.id"
    )
    result = {}
    for label, path in (("initial", initial_db_path), ("final", final_db_path)):
        conn = sqlite3.connect(path)
        result[f"{label}_slack_steps"] = [
            {"id": r[0], "workflow": r[1], "position": r[2], "action": r[3], "config": r[4], "async": r[5], "retry_limit": r[6], "timeout_seconds": r[7]}
            for r in conn.execute(query)
        ]
        result[f"{label}_step_count"] = conn.execute("SELECT COUNT(*) FROM workflow_steps").fetchone()[0]
        conn.close()
    conn_i = sqlite3.connect(initial_db_path)
    conn_f = sqlite3.connect(final_db_path)
    initial_rows = {r[0]: r for r in conn_i.execute("SELECT * FROM workflow_steps")}
    final_rows = {r[0]: r for r in conn_f.execute("SELECT * FROM workflow_steps")}
    conn_i.close()
    conn_f.close()
    result["changed_step_ids"] = sorted(i for i in initial_rows if final_rows.get(i) != initial_rows[i])
    return result
