# reasoning: Write task. Exactly one new transaction must exist: account Everyday Checking (id 1), made by user 1, category Groceries (not Grocery Delivery), debit of 86.40 dated 2025-11-14 at Trader Joe's, whose metadata column holds valid JSON mentioning merchant category code 5411 and receipt number TJ-55102. All existing transactions and every other table must be unchanged.
# strategy: modification_based
# key_check: exactly one row added to transactions and no existing row modified or deleted
# key_check: new row has account_id = Everyday Checking, user_id = 1, category Groceries, txn_type debit, amount 86.40 (+-0.005), txn_date 2025-11-14, merchant containing "trader joe"
# key_check: metadata is valid JSON and contains "5411" and "TJ-55102"
# key_check: other tables unchanged
import json
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


def _json_values(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _json_values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_values(v)
    else:
        yield str(obj)


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    checking = _query(initial_db_path, "SELECT id FROM accounts WHERE household_id = 1 AND name = 'Everyday Checking'")
    groceries = _query(initial_db_path, "SELECT id FROM categories WHERE household_id = 1 AND name = 'Groceries'")
    if len(checking) != 1 or len(groceries) != 1:
        return {"result": "others", "reason": "reference rows not found"}
    checking_id, groceries_id = checking[0][0], groceries[0][0]
    before = _snapshot(initial_db_path, "transactions")
    after = _snapshot(final_db_path, "transactions")
    for tid, row in before.items():
        if after.get(tid) != row:
            return {"result": "others", "reason": f"existing transaction {tid} was modified or deleted"}
    new_ids = [tid for tid in after if tid not in before]
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected exactly one new transaction, found {len(new_ids)}"}
    new = after[new_ids[0]]
    if new["account_id"] != checking_id:
        return {"result": "others", "reason": "wrong account"}
    if new["user_id"] != 1:
        return {"result": "others", "reason": "wrong user"}
    if new["category_id"] != groceries_id:
        return {"result": "others", "reason": "wrong category"}
    if new["txn_type"] != "debit":
        return {"result": "others", "reason": "transaction is not a debit"}
    if new["amount"] is None or abs(float(new["amount"]) - 86.40) > 0.005:
        return {"result": "others", "reason": f"wrong amount {new['amount']}"}
    if not str(new["txn_date"] or "").startswith("2025-11-14"):
        return {"result": "others", "reason": f"wrong date {new['txn_date']}"}
    merchant = str(new["merchant"] or "").lower().replace("\u2019", "'")
    if "trader joe" not in merchant:
        return {"result": "others", "reason": f"wrong merchant {new['merchant']}"}
    try:
        meta = json.loads(new["metadata"] or "")
    except (ValueError, TypeError):
        return {"result": "others", "reason": "metadata is not valid JSON"}
    values = " ".join(_json_values(meta)).lower()
    if "5411" not in values or "tj-55102" not in values:
        return {"result": "others", "reason": "metadata lacks the merchant category code or receipt number"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "new_transaction_id": new_ids[0]}
