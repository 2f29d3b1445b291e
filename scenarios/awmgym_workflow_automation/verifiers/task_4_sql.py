# reasoning: List the steps of workflow 3 before and after plus any newly created steps elsewhere, so the judge can check the new Slack step.
# success_criteria: Workflow 3 gains one final step (position 4) with app_name Slack, connection_id 1, async = 1 and #sales-leads in its config; nothing else changes.
# failure_criteria: No new step, a step in another workflow, a non-async step, the wrong connection (e.g. id 12 of another user), or existing steps modified.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    result = {}
    ids = {}
    for label, path in (("initial", initial_db_path), ("final", final_db_path)):
        conn = sqlite3.connect(path)
        result[f"{label}_workflow_3_steps"] = [
            {"id": r[0], "position": r[1], "app_name": r[2], "action": r[3], "connection_id": r[4], "config": r[5], "async": r[6]}
            for r in conn.execute(
                "SELECT id, position, app_name, action, connection_id, config, async FROM workflow_steps WHERE workflow_id = 3 ORDER BY position"
            )
        ]
        ids[label] = {r[0] for r in conn.execute("SELECT id FROM workflow_steps")}
        conn.close()
    conn = sqlite3.connect(final_db_path)
    new_ids = sorted(ids["final"] - ids["initial"])
    result["new_steps"] = [
        {"id": r[0], "workflow_id": r[1], "position": r[2], "app_name": r[3], "connection_id": r[4], "config": r[5], "async": r[6]}
        for r in conn.execute(
            f"SELECT id, workflow_id, position, app_name, connection_id, config, async FROM workflow_steps WHERE id IN ({','.join('?' * len(new_ids))})",
            new_ids,
        )
    ] if new_ids else []
    conn.close()
    result["deleted_step_ids"] = sorted(ids["initial"] - ids["final"])
    return result
