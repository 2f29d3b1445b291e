# reasoning: Read task. Maya (user 1) asks for her own October 2025 spending in the Groceries category. The expected total is recomputed from the initial database: debit transactions made by user 1 in the household's "Groceries" category (not "Grocery Delivery") dated 2025-10-01..2025-10-31. Daniel's Costco/Instacart groceries and Maya's 2025-09-30 and 2025-11-01 purchases must not be counted. The database must be unchanged.
# strategy: combined
# key_check: final answer mentions the user-1 Groceries total for October 2025 (594.71), tolerant to $ and thousands separators
# key_check: answer must not be the household total (858.40) alone
# key_check: no table changed between initial and final database
import re
import sqlite3

TABLES = ["households", "users", "accounts", "categories", "transactions", "budgets", "recurring_bills", "savings_goals"]


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


def _amounts_in(text):
    values = []
    for token in re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text or ""):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            pass
    return values


def _mentions_amount(text, expected, tol=0.01):
    return any(abs(v - expected) <= tol for v in _amounts_in(text))


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    rows = _query(
        initial_db_path,
        "SELECT ROUND(COALESCE(SUM(t.amount), 0), 2) FROM transactions t "
        "JOIN categories c ON c.id = t.category_id "
        "WHERE t.user_id = 1 AND c.household_id = 1 AND c.name = 'Groceries' AND t.txn_type = 'debit' "
        "AND t.txn_date >= '2025-10-01' AND t.txn_date <= '2025-10-31'",
    )
    expected = float(rows[0][0])
    household = float(_query(
        initial_db_path,
        "SELECT ROUND(COALESCE(SUM(t.amount), 0), 2) FROM transactions t "
        "JOIN categories c ON c.id = t.category_id JOIN users u ON u.id = t.user_id "
        "WHERE u.household_id = 1 AND c.household_id = 1 AND c.name = 'Groceries' AND t.txn_type = 'debit' "
        "AND t.txn_date >= '2025-10-01' AND t.txn_date <= '2025-10-31'",
    )[0][0])
    if expected <= 0:
        return {"result": "others", "reason": "could not compute expected total"}
    changed = _tables_unchanged(initial_db_path, final_db_path, TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified by a read-only task"}
    answer = final_answer or ""
    if not _mentions_amount(answer, expected):
        return {"result": "others", "reason": f"answer does not mention {expected:.2f}", "expected": expected, "household_total": household}
    return {"result": "complete", "expected": expected}
