# reasoning: Write task. Exactly user 1's active loan of Ender's Game must be renewed: due_date moved 14 days past its initial value and renewal_count increased by one. User 1's earlier, returned Ender's Game loan and another patron's active loan of the same title must stay untouched, as must every other loan, copy and hold.
# strategy: modification_based
# key_check: target loan = user 1, status active, copy of the title "Ender's Game"
# key_check: target due_date == initial due_date + 14 days and renewal_count == initial + 1, still active and not returned
# key_check: every other loan row (returned loan of the same title, other patron's loan) is identical
# key_check: copies and holds unchanged, no loans added or removed
import sqlite3
from datetime import date, timedelta


def _load(path, sql, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    target = _load(initial_db_path, """
        SELECT l.id FROM loans l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id
        WHERE l.user_id = 1 AND l.status = 'active' AND l.returned_date IS NULL AND t.title = 'Ender''s Game'
    """)
    if len(target) != 1:
        return {"result": "others", "reason": "could not identify a single active Ender's Game loan"}
    target_id = target[0]["id"]

    before = {r["id"]: r for r in _load(initial_db_path, "SELECT * FROM loans")}
    after = {r["id"]: r for r in _load(final_db_path, "SELECT * FROM loans")}
    if set(before) != set(after):
        return {"result": "others", "reason": "loans were added or removed"}

    old, new = before[target_id], after[target_id]
    old_due = date.fromisoformat(str(old["due_date"])[:10])
    new_due = date.fromisoformat(str(new["due_date"])[:10])
    if new_due != old_due + timedelta(days=14):
        return {"result": "others", "reason": f"due date {new_due} is not {old_due + timedelta(days=14)}"}
    if new["renewal_count"] != old["renewal_count"] + 1:
        return {"result": "others", "reason": "renewal_count not incremented by one"}
    if new["status"] != "active" or new["returned_date"] is not None:
        return {"result": "others", "reason": "loan is no longer active"}
    for key in ("copy_id", "user_id", "checkout_date", "max_renewals"):
        if new[key] != old[key]:
            return {"result": "others", "reason": f"loan field {key} changed"}

    for loan_id, row in before.items():
        if loan_id != target_id and after[loan_id] != row:
            return {"result": "others", "reason": f"unrelated loan {loan_id} changed"}
    for table in ("copies", "holds", "fines"):
        if _load(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _load(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"table {table} changed"}
    return {"result": "complete", "loan_id": target_id, "new_due_date": new_due.isoformat()}
