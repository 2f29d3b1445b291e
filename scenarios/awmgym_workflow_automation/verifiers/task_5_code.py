# reasoning: The expired Gmail connection maya.chen@brightloop.io is connection 4. Steps using it belong to workflow 4 (paused), workflow 7 (draft) and workflow 10 'Support ticket escalation' (active). The other Gmail connection billing@brightloop.io (id 9, active) is used by 'Weekly pipeline report', which is the careless answer. The answer must name Support ticket escalation, must not present Weekly pipeline report, and may only mention the paused/draft workflows together with their status. Read-only.
# strategy: query_based
# key_check: answer names 'Support ticket escalation'
# key_check: answer does not mention 'Weekly pipeline report' (uses the other, active Gmail connection)
# key_check: 'Invoice reminder emails' / 'Churn alert to CSM' only mentioned alongside paused/draft
# key_check: connections, workflows and workflow_steps unchanged
import sqlite3


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        expected = conn.execute(
            "SELECT DISTINCT w.name FROM workflow_steps s "
            "JOIN workflows w ON w.id = s.workflow_id "
            "JOIN connections c ON c.id = s.connection_id "
            "WHERE c.user_id = 1 AND c.app_name = 'Gmail' AND c.status = 'expired' "
            "AND w.user_id = 1 AND w.status = 'active'"
        ).fetchall()
        snapshot_before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("connections", "workflows", "workflow_steps")}
    finally:
        conn.close()
    expected_names = sorted(r[0].lower() for r in expected)
    if expected_names != ["support ticket escalation"]:
        return {"result": "others", "reason": "unexpected initial data", "expected": expected_names}

    if "support ticket escalation" not in answer:
        return {"result": "others", "reason": "answer does not name Support ticket escalation"}
    if "weekly pipeline report" in answer:
        return {"result": "others", "reason": "answer includes a workflow that uses the other (active) Gmail connection"}
    for inactive in ("invoice reminder emails", "churn alert to csm"):
        if inactive in answer and not any(word in answer for word in ("paused", "draft", "not active", "inactive")):
            return {"result": "others", "reason": f"answer lists '{inactive}' as if it were active"}

    conn = sqlite3.connect(final_db_path)
    try:
        snapshot_after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("connections", "workflows", "workflow_steps")}
    finally:
        conn.close()
    if snapshot_before != snapshot_after:
        return {"result": "others", "reason": "database changed during a read-only task"}
    return {"result": "complete"}
