# reasoning: List failed runs of 'HubSpot lead enrichment' newest first with their failing step and error, so the judge can confirm the agent reported the latest one.
# success_criteria: The agent reports that the latest failed run broke at step 2, Clearbit 'Enrich company', with a 429 rate-limit error; no data changes.
# failure_criteria: Reporting the older HubSpot 'Update contact' lead_score error or the 502 from 12 days ago, or changing data.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    rows = conn.execute(
        "SELECT r.id, r.started_at, r.error_message, s.position, s.app_name, s.action, sr.error_message "
        "FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
        "LEFT JOIN step_results sr ON sr.run_id = r.id AND sr.status = 'failed' "
        "LEFT JOIN workflow_steps s ON s.id = sr.step_id "
        "WHERE w.user_id = 1 AND w.name = 'HubSpot lead enrichment' AND r.status = 'failed' "
        "ORDER BY r.started_at DESC"
    ).fetchall()
    before = conn.execute("SELECT COUNT(*) FROM step_results").fetchone()[0]
    conn.close()
    conn = sqlite3.connect(final_db_path)
    after = conn.execute("SELECT COUNT(*) FROM step_results").fetchone()[0]
    conn.close()
    return {
        "failed_runs_newest_first": [
            {"run_id": r[0], "started_at": r[1], "run_error": r[2], "failed_step_position": r[3], "app": r[4], "action": r[5], "step_error": r[6]}
            for r in rows
        ],
        "step_result_count_before": before,
        "step_result_count_after": after,
    }
