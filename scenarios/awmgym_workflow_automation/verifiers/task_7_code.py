# reasoning: The most recent failed run of workflow 3 'HubSpot lead enrichment' is the one two days ago; its step results show step 2 (Clearbit 'Enrich company') failing with '429 Too Many Requests: Clearbit rate limit exceeded'. Older failures (4 and 6 days ago) broke on the HubSpot 'Update contact' step with a missing 'lead_score' property and are the distractor. Read-only.
# strategy: query_based
# key_check: answer mentions Clearbit or 'Enrich company'
# key_check: answer mentions 429 or rate limit
# key_check: answer does not blame the lead_score property error instead
# key_check: workflow_runs and step_results unchanged
import sqlite3


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        latest = conn.execute(
            "SELECT r.id FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
            "WHERE w.user_id = 1 AND w.name = 'HubSpot lead enrichment' AND r.status = 'failed' "
            "ORDER BY r.started_at DESC LIMIT 1"
        ).fetchone()
        failing = conn.execute(
            "SELECT s.app_name, sr.error_message FROM step_results sr JOIN workflow_steps s ON s.id = sr.step_id "
            "WHERE sr.run_id = ? AND sr.status = 'failed'",
            (latest[0] if latest else -1,),
        ).fetchone()
        before = [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("workflow_runs", "step_results")]
    finally:
        conn.close()
    if not failing or failing[0] != "Clearbit":
        return {"result": "others", "reason": "unexpected initial data"}

    if "clearbit" not in answer and "enrich company" not in answer:
        return {"result": "others", "reason": "answer does not identify the Clearbit enrichment step"}
    if "429" not in answer and "rate limit" not in answer:
        return {"result": "others", "reason": "answer does not give the rate-limit error"}
    if "lead_score" in answer and "429" not in answer:
        return {"result": "others", "reason": "answer describes an older failure"}

    conn = sqlite3.connect(final_db_path)
    try:
        after = [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("workflow_runs", "step_results")]
    finally:
        conn.close()
    if before != after:
        return {"result": "others", "reason": "runs or step results changed during a read-only task"}
    return {"result": "complete"}
