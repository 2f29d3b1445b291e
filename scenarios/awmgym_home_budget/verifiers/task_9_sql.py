# reasoning: Show every Instacart transaction (all households) with its category before and after, so the judge can check that only Maya's October 2025 orders filed under Groceries were moved.
# success_criteria: Transactions 49 and 70 (Maya, October 2025, Instacart) are now in Grocery Delivery; Daniel's transaction 61, Maya's November order 84, order 63 and household 2's order 100 are unchanged.
# failure_criteria: A target still sits in Groceries, Daniel's or the November order was moved, other fields were edited, or categories were renamed/created instead of recategorizing.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT t.id, t.user_id, t.account_id, t.txn_date, t.amount, t.category_id, c.name AS category_name "
           "FROM transactions t LEFT JOIN categories c ON c.id = t.category_id "
           "WHERE t.merchant LIKE '%Instacart%' ORDER BY t.id")
    cat_sql = "SELECT id, household_id, name, is_archived FROM categories WHERE household_id = 1 ORDER BY id"
    return {
        "instacart_before": _rows(initial_db_path, sql),
        "instacart_after": _rows(final_db_path, sql),
        "categories_unchanged": _rows(initial_db_path, cat_sql) == _rows(final_db_path, cat_sql),
        "expected_recategorized_ids": [49, 70],
    }
