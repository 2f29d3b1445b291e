# reasoning: Read task. For each October 2025 budget of household 1, spending is the sum of debit transactions by all household members in that category during October; the category with the largest (spent - limit) is Shopping, over by 161.48 (461.48 spent vs 300.00). The answer must name that category and the overspend amount, and the database must be unchanged.
# strategy: combined
# key_check: answer names the category with the largest overspend (Shopping)
# key_check: answer mentions the overspend amount (161.48) with numeric tolerance
# key_check: no table changed
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


def _october_overspend(db_path):
    rows = _query(
        db_path,
        "SELECT c.name, b.amount_limit, "
        "(SELECT COALESCE(SUM(t.amount), 0) FROM transactions t JOIN users u ON u.id = t.user_id "
        " WHERE u.household_id = 1 AND t.category_id = b.category_id AND t.txn_type = 'debit' "
        " AND t.txn_date >= '2025-10-01' AND t.txn_date <= '2025-10-31') "
        "FROM budgets b JOIN categories c ON c.id = b.category_id "
        "WHERE b.household_id = 1 AND b.month = '2025-10'",
    )
    return sorted(((name, round(spent - limit, 2), round(spent, 2), limit) for name, limit, spent in rows),
                  key=lambda r: r[1], reverse=True)


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    ranking = _october_overspend(initial_db_path)
    if not ranking or ranking[0][1] <= 0:
        return {"result": "others", "reason": "no overspent category in reference data"}
    name, over, spent, limit = ranking[0]
    changed = _tables_unchanged(initial_db_path, final_db_path, TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified by a read-only task"}
    answer = (final_answer or "").lower()
    if name.lower() not in answer:
        return {"result": "others", "reason": f"answer does not name {name}", "expected_category": name}
    if not _mentions_amount(answer, over):
        return {"result": "others", "reason": f"answer does not mention the overspend {over:.2f}"}
    return {"result": "complete", "category": name, "over_by": over}
