# reasoning: Paying all of user 1's unpaid fines by credit card. Report every fine before and after with status, payment method and paid_at, and list which rows changed.
# success_criteria: All fines that were unpaid for user 1 (ids 1, 2, 3; total 9.25) are now paid with payment_method credit_card; nothing else changed.
# failure_criteria: Some of user 1's unpaid fines remain unpaid, a different payment method was used, or the paid/waived fines of user 1 or other patrons' fines were altered.
import sqlite3


def _snapshot(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute(
            "SELECT id, user_id, amount, reason, status, paid_at, payment_method FROM fines ORDER BY id")}
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    before = _snapshot(initial_db_path)
    after = _snapshot(final_db_path)
    changed = [{"fine_id": i, "before": before.get(i), "after": after.get(i)}
               for i in sorted(set(before) | set(after)) if before.get(i) != after.get(i)]
    return {
        "user1_unpaid_before": [f for f in before.values() if f["user_id"] == 1 and f["status"] == "unpaid"],
        "user1_fines_after": [f for f in after.values() if f["user_id"] == 1],
        "other_patrons_fines_after": [f for f in after.values() if f["user_id"] != 1],
        "changed_rows": changed,
    }
