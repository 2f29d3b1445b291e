# reasoning: Write task. User 1's open hold on The Covenant of Water must end up cancelled (the portal soft-cancels; a deleted row is also accepted). Evelyn Park's waiting hold on the same title and every other hold must be unchanged, and no hold may be added.
# strategy: modification_based
# key_check: target = user 1's waiting/ready hold on "The Covenant of Water" in the initial DB
# key_check: the target is cancelled (status 'cancelled') or removed
# key_check: all other hold rows identical, including another patron's hold on the same title; no new holds
import sqlite3


def _holds(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM holds")}
    finally:
        conn.close()


def _target_ids(path):
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute(
            """SELECT h.id FROM holds h JOIN titles t ON t.id = h.title_id
               WHERE h.user_id = 1 AND t.title = 'The Covenant of Water' AND h.status IN ('waiting', 'ready')""")]
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    targets = _target_ids(initial_db_path)
    if len(targets) != 1:
        return {"result": "others", "reason": "could not identify user 1's open hold on The Covenant of Water"}
    target = targets[0]
    before = _holds(initial_db_path)
    after = _holds(final_db_path)
    if set(after) - set(before):
        return {"result": "others", "reason": "new holds were created"}
    if target in after:
        new = after[target]
        if new["status"] != "cancelled":
            return {"result": "others", "reason": f"hold {target} is still {new['status']}"}
        for key in ("title_id", "user_id", "pickup_branch_id", "placed_at"):
            if new[key] != before[target][key]:
                return {"result": "others", "reason": f"hold field {key} changed"}
    for hold_id, row in before.items():
        if hold_id == target:
            continue
        if after.get(hold_id) != row:
            return {"result": "others", "reason": f"hold {hold_id} (not the target) changed or was removed"}
    return {"result": "complete", "cancelled_hold_id": target}
