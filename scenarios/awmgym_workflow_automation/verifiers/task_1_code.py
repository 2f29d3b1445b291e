# reasoning: Workflow 1 'Stripe payments to Slack #revenue' has exactly one Slack step (step 2, Send channel message). After the task it must have async = 1 and retry_limit = 5 with its app, action, connection and config untouched. The Slack steps of other workflows (13 daily standup, 26 support escalation, other users' 29/31/37/43) and every other step must be unchanged, and no steps may be added or removed.
# strategy: modification_based
# key_check: workflow_steps id 2 has async = 1 and retry_limit = 5
# key_check: step 2 keeps workflow_id, app_name, action, connection_id, config, timeout_seconds
# key_check: every other workflow_steps row is identical to the initial database
import sqlite3


def verify_row_unchanged(initial_conn, final_conn, table, row_id):
    """Return True when the row with this id is byte-for-byte identical in both databases."""
    before = initial_conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
    after = final_conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return before is not None and before == after


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    initial_conn = sqlite3.connect(initial_db_path)
    final_conn = sqlite3.connect(final_db_path)
    try:
        cols = "id, workflow_id, position, app_name, action, connection_id, config, async, retry_limit, timeout_seconds"
        before = initial_conn.execute(f"SELECT {cols} FROM workflow_steps WHERE id = 2").fetchone()
        after = final_conn.execute(f"SELECT {cols} FROM workflow_steps WHERE id = 2").fetchone()
        if before is None or after is None:
            return {"result": "others", "reason": "step 2 missing"}
        if before[1] != 1 or before[3] != "Slack":
            return {"result": "others", "reason": "unexpected initial data for step 2"}
        if after[7] not in (1, True):
            return {"result": "others", "reason": "step 2 is not async", "async": after[7]}
        if after[8] != 5:
            return {"result": "others", "reason": "retry_limit is not 5", "retry_limit": after[8]}
        # identity fields of the step must be untouched
        for idx, label in ((1, "workflow_id"), (2, "position"), (3, "app_name"), (4, "action"), (5, "connection_id"), (6, "config"), (9, "timeout_seconds")):
            if before[idx] != after[idx]:
                return {"result": "others", "reason": f"step 2 {label} changed"}

        initial_ids = [r[0] for r in initial_conn.execute("SELECT id FROM workflow_steps ORDER BY id")]
        final_ids = [r[0] for r in final_conn.execute("SELECT id FROM workflow_steps ORDER BY id")]
        if initial_ids != final_ids:
            return {"result": "others", "reason": "steps were added or removed"}
        for step_id in initial_ids:
            if step_id == 2:
                continue
            if not verify_row_unchanged(initial_conn, final_conn, "workflow_steps", step_id):
                return {"result": "others", "reason": f"step {step_id} was modified"}
        return {"result": "complete"}
    finally:
        initial_conn.close()
        final_conn.close()
