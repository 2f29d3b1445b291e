# reasoning: Show every recurring bill of the household before and after, highlighting those that were on the closed Quicksilver card, plus the status of the closed and Sapphire accounts.
# success_criteria: The active Spotify Family and Planet Fitness Black Card bills moved from the closed Quicksilver card to the Sapphire Preferred Visa; the inactive Adobe Creative Cloud bill and all other bills are unchanged; the closed card is still closed.
# failure_criteria: An active bill still points at the closed card, the inactive bill was moved or reactivated, a bill was moved to the wrong account, bills were deleted or recreated, or the closed card was reopened.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT b.id, b.name, b.user_id, b.account_id, a.name AS account_name, a.status AS account_status, "
           "b.amount, b.next_due_date, b.autopay, b.is_active FROM recurring_bills b "
           "JOIN accounts a ON a.id = b.account_id WHERE b.household_id = 1 ORDER BY b.id")
    acct_sql = "SELECT id, name, status, closed_on FROM accounts WHERE id IN (2, 6)"
    return {
        "bills_before": _rows(initial_db_path, sql),
        "bills_after": _rows(final_db_path, sql),
        "accounts_before": _rows(initial_db_path, acct_sql),
        "accounts_after": _rows(final_db_path, acct_sql),
        "expected_moved_bill_ids": [2, 3],
        "expected_untouched_inactive_bill_id": 4,
    }
