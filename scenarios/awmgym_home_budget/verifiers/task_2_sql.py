# reasoning: Report the transactions added by the agent with their account, category and metadata, and the row counts, so a judge can confirm the manual Trader Joe's purchase was logged correctly.
# success_criteria: One new debit of $86.40 dated 2025-11-14 at Trader Joe's on Everyday Checking, made by user 1, in Groceries, whose metadata JSON holds mcc 5411 and receipt TJ-55102; nothing else changed.
# failure_criteria: No new row, duplicates, wrong account/category (e.g. Grocery Delivery), wrong amount or date, metadata missing the code or receipt number, or other rows edited.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    max_id = _rows(initial_db_path, "SELECT MAX(id) AS m FROM transactions")[0]["m"]
    added = _rows(final_db_path,
                  "SELECT t.id, t.account_id, a.name AS account_name, t.user_id, t.category_id, c.name AS category_name, "
                  "t.amount, t.txn_type, t.merchant, t.memo, t.txn_date, t.status, t.metadata FROM transactions t "
                  "LEFT JOIN accounts a ON a.id = t.account_id LEFT JOIN categories c ON c.id = t.category_id "
                  "WHERE t.id > ?", (max_id,))
    return {
        "transactions_count_before": _rows(initial_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
        "transactions_count_after": _rows(final_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
        "added_transactions": added,
        "expected": {"account": "Everyday Checking", "category": "Groceries", "amount": 86.40,
                     "txn_date": "2025-11-14", "metadata_contains": ["5411", "TJ-55102"]},
    }
