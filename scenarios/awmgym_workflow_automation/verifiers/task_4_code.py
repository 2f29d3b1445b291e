# reasoning: Exactly one new step must be added to workflow 3 'HubSpot lead enrichment' (user 1): app Slack, using user 1's Brightloop Slack connection (id 1, not Daniel's 'Brightloop Ops' Slack connection 12), async = 1, placed after the three existing steps, and targeting #sales-leads. The existing steps of every workflow must be unchanged.
# strategy: modification_based
# key_check: one new workflow_steps row, in workflow 3
# key_check: new step app_name Slack, connection_id 1, async = 1
# key_check: new step is the last step (position greater than the existing 3)
# key_check: new step config or action mentions sales-leads
# key_check: all pre-existing workflow_steps rows unchanged
import sqlite3


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    cols = "id, workflow_id, position, app_name, action, connection_id, config, async, retry_limit, timeout_seconds"
    initial_conn = sqlite3.connect(initial_db_path)
    final_conn = sqlite3.connect(final_db_path)
    try:
        initial_rows = {r[0]: r for r in initial_conn.execute(f"SELECT {cols} FROM workflow_steps")}
        final_rows = {r[0]: r for r in final_conn.execute(f"SELECT {cols} FROM workflow_steps")}
    finally:
        initial_conn.close()
        final_conn.close()

    for step_id, row in initial_rows.items():
        if final_rows.get(step_id) != row:
            return {"result": "others", "reason": f"existing step {step_id} was modified or deleted"}

    new_rows = [row for step_id, row in final_rows.items() if step_id not in initial_rows]
    if len(new_rows) != 1:
        return {"result": "others", "reason": f"expected exactly 1 new step, found {len(new_rows)}"}
    step = new_rows[0]
    _, workflow_id, position, app_name, action, connection_id, config, is_async, _, _ = step
    if workflow_id != 3:
        return {"result": "others", "reason": "new step added to the wrong workflow", "workflow_id": workflow_id}
    if (app_name or "").strip().lower() != "slack":
        return {"result": "others", "reason": "new step is not a Slack step"}
    if connection_id != 1:
        return {"result": "others", "reason": "new step does not use the Brightloop Slack connection", "connection_id": connection_id}
    if is_async not in (1, True):
        return {"result": "others", "reason": "new step is not async"}
    existing_positions = [r[2] for r in initial_rows.values() if r[1] == 3]
    if position is None or position <= max(existing_positions):
        return {"result": "others", "reason": "new step is not the final step", "position": position}
    if "sales-leads" not in ((config or "") + " " + (action or "")).lower():
        return {"result": "others", "reason": "new step does not target #sales-leads"}
    return {"result": "complete"}
