# reasoning: Write task. Every fine of user 1 that was unpaid initially must now be paid with payment_method 'credit_card' and a paid_at timestamp, with the amount unchanged. User 1's already-paid and waived fines and all other patrons' fines (some unpaid) must be identical.
# strategy: modification_based
# key_check: the set of user 1's unpaid fines is taken from the initial DB
# key_check: each of them is status 'paid', payment_method 'credit_card', paid_at set, amount/reason unchanged
# key_check: all other fine rows are identical and no fines were added or removed
import sqlite3


def _fines(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM fines")}
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    before = _fines(initial_db_path)
    after = _fines(final_db_path)
    if set(before) != set(after):
        return {"result": "others", "reason": "fines were added or removed"}
    targets = [i for i, f in before.items() if f["user_id"] == 1 and f["status"] == "unpaid"]
    if not targets:
        return {"result": "others", "reason": "no unpaid fines for user 1 in the initial DB"}
    for fine_id in targets:
        old, new = before[fine_id], after[fine_id]
        if new["status"] != "paid":
            return {"result": "others", "reason": f"fine {fine_id} is {new['status']}, not paid"}
        if new["payment_method"] != "credit_card":
            return {"result": "others", "reason": f"fine {fine_id} paid with {new['payment_method']}"}
        if not new["paid_at"]:
            return {"result": "others", "reason": f"fine {fine_id} has no paid_at"}
        for key in ("user_id", "loan_id", "amount", "reason", "description", "assessed_at"):
            if new[key] != old[key]:
                return {"result": "others", "reason": f"fine {fine_id} field {key} changed"}
    for fine_id, old in before.items():
        if fine_id not in targets and after[fine_id] != old:
            return {"result": "others", "reason": f"fine {fine_id} (not an unpaid fine of user 1) changed"}
    return {"result": "complete", "paid_fine_ids": sorted(targets)}
