# reasoning: Write task. The household-1 budget for Dining Out in month 2025-11 must have amount_limit 450 and alert_threshold_pct 90, with category, month, rollover and notes untouched. The October Dining Out budget, other households' Dining Out budgets and every other row must be unchanged.
# strategy: modification_based
# key_check: Nov 2025 Dining Out budget of household 1 has amount_limit 450 (+-0.01) and alert_threshold_pct 90
# key_check: no budget added or deleted; all other budgets unchanged (including October Dining Out and household 2/3 Dining Out)
# key_check: other tables unchanged
import sqlite3

OTHER_TABLES = ["households", "users", "accounts", "categories", "transactions", "recurring_bills", "savings_goals"]


def _query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _snapshot(db_path, table):
    conn = sqlite3.connect(db_path)
    try:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY id")
        cols = [d[0] for d in cur.description]
        return {row[0]: dict(zip(cols, row)) for row in cur.fetchall()}
    finally:
        conn.close()


def _tables_unchanged(initial_db_path, final_db_path, tables):
    for table in tables:
        if _snapshot(initial_db_path, table) != _snapshot(final_db_path, table):
            return table
    return None


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    target = _query(initial_db_path,
                    "SELECT b.id FROM budgets b JOIN categories c ON c.id = b.category_id "
                    "WHERE b.household_id = 1 AND c.name = 'Dining Out' AND b.month = '2025-11'")
    if len(target) != 1:
        return {"result": "others", "reason": "target budget not found"}
    target_id = target[0][0]
    before = _snapshot(initial_db_path, "budgets")
    after = _snapshot(final_db_path, "budgets")
    if set(before) != set(after):
        return {"result": "others", "reason": "budgets were added or deleted"}
    new = after[target_id]
    if new["amount_limit"] is None or abs(float(new["amount_limit"]) - 450.0) > 0.01:
        return {"result": "others", "reason": f"limit is {new['amount_limit']}, expected 450"}
    if new["alert_threshold_pct"] != 90:
        return {"result": "others", "reason": f"alert threshold is {new['alert_threshold_pct']}, expected 90"}
    for col in ("household_id", "category_id", "month", "rollover", "notes", "created_at"):
        if new[col] != before[target_id][col]:
            return {"result": "others", "reason": f"column {col} of the target budget changed"}
    for bid, row in before.items():
        if bid != target_id and after[bid] != row:
            return {"result": "others", "reason": f"budget {bid} should not have changed"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "budget_id": target_id}
