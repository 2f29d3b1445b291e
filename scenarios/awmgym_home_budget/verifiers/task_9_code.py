# reasoning: Write task. Maya's (user 1) Instacart transactions dated in October 2025 that sit in the household's Groceries category (ids 49 and 70) must move to Grocery Delivery with no other column changed. Daniel's October Instacart order in Groceries, Maya's 2025-11-02 Instacart order, the October order already in Grocery Delivery and the other household's Instacart order must stay as they are.
# strategy: modification_based
# key_check: every user-1 Instacart debit dated 2025-10 in Groceries now has category Grocery Delivery, other columns unchanged
# key_check: every other transaction unchanged; none added or deleted
# key_check: other tables unchanged (no category renamed or created)
import sqlite3

OTHER_TABLES = ["households", "users", "accounts", "categories", "budgets", "recurring_bills", "savings_goals"]


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
    cats = dict(_query(initial_db_path,
                       "SELECT name, id FROM categories WHERE household_id = 1 AND name IN ('Groceries', 'Grocery Delivery')"))
    if len(cats) != 2:
        return {"result": "others", "reason": "reference categories not found"}
    before = _snapshot(initial_db_path, "transactions")
    after = _snapshot(final_db_path, "transactions")
    targets = [tid for tid, t in before.items()
               if t["user_id"] == 1 and "instacart" in str(t["merchant"]).lower()
               and t["category_id"] == cats["Groceries"] and str(t["txn_date"]).startswith("2025-10")]
    if not targets:
        return {"result": "others", "reason": "no target transactions in initial database"}
    if set(before) != set(after):
        return {"result": "others", "reason": "transactions were added or deleted"}
    for tid, row in before.items():
        new = after[tid]
        if tid in targets:
            if new["category_id"] != cats["Grocery Delivery"]:
                return {"result": "others", "reason": f"transaction {tid} is not in Grocery Delivery"}
            for col, val in row.items():
                if col != "category_id" and new[col] != val:
                    return {"result": "others", "reason": f"transaction {tid} column {col} changed unexpectedly"}
        elif new != row:
            return {"result": "others", "reason": f"transaction {tid} should not have changed"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "recategorized": targets}
