# reasoning: Show the pipeline-report workflows and their schedules before and after.
# success_criteria: Workflow 9 is named 'Monthly pipeline report' and schedule 6 has cron '0 8 1 * *'; workflow 2, workflow 11 and their schedules are unchanged.
# failure_criteria: The original 'Weekly pipeline report' renamed or rescheduled, a new schedule created instead of updating schedule 6, or a wrong cron expression.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    query = (
        "SELECT w.id, w.user_id, w.name, w.status, s.id, s.cron_expression, s.is_enabled "
        "FROM workflows w LEFT JOIN schedules s ON s.workflow_id = w.id "
        "WHERE w.id IN (2, 9, 11) ORDER BY w.id, s.id"
    )
    result = {}
    for label, path in (("initial", initial_db_path), ("final", final_db_path)):
        conn = sqlite3.connect(path)
        result[label] = [
            {"workflow_id": r[0], "user_id": r[1], "name": r[2], "status": r[3], "schedule_id": r[4], "cron": r[5], "enabled": r[6]}
            for r in conn.execute(query)
        ]
        result[f"{label}_schedule_count"] = conn.execute("SELECT COUNT(*) FROM schedules").fetchone()[0]
        conn.close()
    return result
