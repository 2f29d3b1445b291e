# reasoning: Read-only question about user 1's unpaid fine total. Report all of user 1's fines grouped by status, the expected unpaid total, other patrons' unpaid totals, and whether the fines table changed.
# success_criteria: The agent reports an unpaid total equal to expected_unpaid_total (9.25) and no fine was paid or altered.
# failure_criteria: The reported total includes the paid (3.25) or waived (18.00) fines or other patrons' fines, or the agent paid fines instead of just reporting.
import sqlite3


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    conn = sqlite3.connect(initial_db_path)
    conn.row_factory = sqlite3.Row
    try:
        fines = [dict(r) for r in conn.execute(
            "SELECT id, amount, reason, description, status FROM fines WHERE user_id = 1 ORDER BY id")]
        others = [dict(r) for r in conn.execute(
            "SELECT user_id, SUM(amount) AS unpaid FROM fines WHERE user_id != 1 AND status = 'unpaid' GROUP BY user_id")]
        before = [tuple(r) for r in conn.execute("SELECT * FROM fines ORDER BY id")]
    finally:
        conn.close()
    conn = sqlite3.connect(final_db_path)
    try:
        after = [tuple(r) for r in conn.execute("SELECT * FROM fines ORDER BY id")]
    finally:
        conn.close()
    return {
        "user1_fines": fines,
        "expected_unpaid_total": round(sum(f["amount"] for f in fines if f["status"] == "unpaid"), 2),
        "user1_paid_total": round(sum(f["amount"] for f in fines if f["status"] == "paid"), 2),
        "user1_waived_total": round(sum(f["amount"] for f in fines if f["status"] == "waived"), 2),
        "other_patrons_unpaid": others,
        "fines_table_unchanged": before == after,
    }
