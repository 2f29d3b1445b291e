# reasoning: Report the status of both 'Invoice reminder emails' workflows and their schedules before and after.
# success_criteria: Workflow 4 (user 1) is paused and its schedule 2 has is_enabled = 0; Sofia's workflow 17 and schedule 10 are unchanged.
# failure_criteria: Schedule 2 still enabled, workflow 4 not paused, or the other user's workflow/schedule modified.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    query = (
        "SELECT w.id, w.user_id, w.status, s.id, s.cron_expression, s.is_enabled, s.next_run_at "
        "FROM workflows w LEFT JOIN schedules s ON s.workflow_id = w.id "
        "WHERE w.name = 'Invoice reminder emails' ORDER BY w.id"
    )
    result = {}
    for label, path in (("initial", initial_db_path), ("final", final_db_path)):
        conn = sqlite3.connect(path)
        result[label] = [
            {"workflow_id": r[0], "user_id": r[1], "workflow_status": r[2], "schedule_id": r[3], "cron": r[4], "schedule_enabled": r[5], "next_run_at": r[6]}
            for r in conn.execute(query)
        ]
        conn.close()
    return result
