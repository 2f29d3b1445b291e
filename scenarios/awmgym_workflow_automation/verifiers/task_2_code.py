# reasoning: The user wants 'Invoice reminder emails' (workflow 4, user 1) paused. Check the workflow ends up paused and that Sofia Alvarez's identically named workflow 17 and its schedule were not touched.
# strategy: modification_based
# key_check: workflows id 4 has status 'paused'
# key_check: workflows id 17 (other user, same name) still active
# key_check: schedules id 10 of workflow 17 unchanged
import sqlite3


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    initial_conn = sqlite3.connect(initial_db_path)
    final_conn = sqlite3.connect(final_db_path)
    try:
        wf = final_conn.execute("SELECT user_id, name, status FROM workflows WHERE id = 4").fetchone()
        if wf is None or wf[0] != 1 or wf[1] != "Invoice reminder emails":
            return {"result": "others", "reason": "workflow 4 missing or not the user's invoice workflow"}
        if wf[2] != "paused":
            return {"result": "others", "reason": "workflow 4 is not paused", "status": wf[2]}

        other_before = initial_conn.execute("SELECT * FROM workflows WHERE id = 17").fetchone()
        other_after = final_conn.execute("SELECT * FROM workflows WHERE id = 17").fetchone()
        if other_before != other_after:
            return {"result": "others", "reason": "another user's 'Invoice reminder emails' workflow was modified"}
        sched_before = initial_conn.execute("SELECT * FROM schedules WHERE id = 10").fetchone()
        sched_after = final_conn.execute("SELECT * FROM schedules WHERE id = 10").fetchone()
        if sched_before != sched_after:
            return {"result": "others", "reason": "another user's schedule was modified"}
        return {"result": "complete"}
    finally:
        initial_conn.close()
        final_conn.close()
