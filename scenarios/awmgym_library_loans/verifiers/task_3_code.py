# reasoning: Write task. Exactly one new hold must exist for user 1 on the Large Print edition of Lessons in Chemistry (not the hardcover), with pickup at user 1's home branch and status waiting. Existing holds, including another patron's waiting hold on the large print edition, must be unchanged.
# strategy: modification_based
# key_check: large print title and home branch are read from the initial DB
# key_check: exactly one hold row was added; it belongs to user 1, targets the large print title, picks up at the home branch and is waiting
# key_check: all pre-existing hold rows are identical (other patron's hold on the same edition untouched)
# key_check: loans and copies unchanged
import sqlite3


def _rows_by_id(path, table):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute(f"SELECT * FROM {table}").fetchall()}
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    conn = sqlite3.connect(initial_db_path)
    try:
        home = conn.execute("SELECT home_branch_id FROM users WHERE id = 1").fetchone()[0]
        lp = conn.execute(
            "SELECT id FROM titles WHERE title = 'Lessons in Chemistry' AND (format = 'large_print' OR lower(edition) = 'large print')"
        ).fetchall()
    finally:
        conn.close()
    if len(lp) != 1:
        return {"result": "others", "reason": "large print edition not uniquely identified"}
    lp_id = lp[0][0]

    before = _rows_by_id(initial_db_path, "holds")
    after = _rows_by_id(final_db_path, "holds")
    for hold_id, row in before.items():
        if after.get(hold_id) != row:
            return {"result": "others", "reason": f"existing hold {hold_id} changed or was removed"}
    new_ids = sorted(set(after) - set(before))
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected exactly one new hold, found {len(new_ids)}"}
    new = after[new_ids[0]]
    if new["user_id"] != 1:
        return {"result": "others", "reason": "new hold does not belong to user 1"}
    if new["title_id"] != lp_id:
        return {"result": "others", "reason": f"hold placed on title {new['title_id']} instead of the large print edition {lp_id}"}
    if new["pickup_branch_id"] != home:
        return {"result": "others", "reason": f"pickup branch {new['pickup_branch_id']} is not the home branch {home}"}
    if new["status"] != "waiting":
        return {"result": "others", "reason": f"new hold status is {new['status']}"}
    for table in ("loans", "copies"):
        if _rows_by_id(initial_db_path, table) != _rows_by_id(final_db_path, table):
            return {"result": "others", "reason": f"table {table} changed"}
    return {"result": "complete", "hold_id": new_ids[0]}
