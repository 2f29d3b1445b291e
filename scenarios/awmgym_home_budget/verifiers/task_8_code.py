# reasoning: Read task. Among Maya's debit transactions on the Sapphire Preferred Visa dated 2025-09-01..2025-09-30, the largest is Delta Air Lines for 642.80. Distractors: a 1,089.00 United Airlines charge on 2025-10-01, Daniel's 899.99 Best Buy purchase on his own card, the 2,450.00 mortgage from checking and a 1,620.00 card payment credit. The answer must name the merchant and the amount; nothing may change.
# strategy: combined
# key_check: answer names the merchant of the largest September 2025 Sapphire debit (Delta)
# key_check: answer mentions its amount (642.80)
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


def _merchant_key(merchant):
    words = re.findall(r"[a-z0-9]+", merchant.lower())
    return words[0] if words else merchant.lower()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    rows = _query(initial_db_path,
                  "SELECT t.merchant, t.amount FROM transactions t JOIN accounts a ON a.id = t.account_id "
                  "WHERE a.household_id = 1 AND a.name = 'Sapphire Preferred Visa' AND t.user_id = 1 "
                  "AND t.txn_type = 'debit' AND t.txn_date >= '2025-09-01' AND t.txn_date <= '2025-09-30' "
                  "ORDER BY t.amount DESC LIMIT 1")
    if not rows:
        return {"result": "others", "reason": "no reference transaction"}
    merchant, amount = rows[0]
    changed = _tables_unchanged(initial_db_path, final_db_path, TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified by a read-only task"}
    answer = (final_answer or "").lower()
    if _merchant_key(merchant) not in answer:
        return {"result": "others", "reason": f"answer does not name {merchant}"}
    if not _mentions_amount(answer, float(amount)):
        return {"result": "others", "reason": f"answer does not mention {amount:.2f}"}
    return {"result": "complete", "merchant": merchant, "amount": amount}
