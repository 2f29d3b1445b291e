# reasoning: Write task. Two identical Shell debits of 52.17 on 2025-10-18 on the Sapphire Preferred Visa (same auth code) are a duplicate import; exactly one of them must be deleted. Maya's 52.17 Shell charge on 2025-10-25, Daniel's Shell charge on 2025-10-18, another household's 52.17 Shell charge and every other row must remain untouched.
# strategy: modification_based
# key_check: exactly one of the two duplicate rows is gone and the other is unchanged
# key_check: no other transaction deleted, modified or added
# key_check: other tables unchanged
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
    dup_ids = [r[0] for r in _query(
        initial_db_path,
        "SELECT t.id FROM transactions t JOIN accounts a ON a.id = t.account_id "
        "WHERE a.household_id = 1 AND a.name = 'Sapphire Preferred Visa' AND t.user_id = 1 "
        "AND t.merchant = 'Shell' AND ABS(t.amount - 52.17) < 0.005 AND t.txn_date = '2025-10-18'")]
    if len(dup_ids) != 2:
        return {"result": "others", "reason": "duplicate pair not found in initial database"}
    before = _snapshot(initial_db_path, "transactions")
    after = _snapshot(final_db_path, "transactions")
    if any(tid not in before for tid in after):
        return {"result": "others", "reason": "a transaction was added"}
    removed = [tid for tid in before if tid not in after]
    if len(removed) != 1 or removed[0] not in dup_ids:
        return {"result": "others", "reason": f"expected one of {dup_ids} removed, got {removed}"}
    for tid, row in after.items():
        if row != before[tid]:
            return {"result": "others", "reason": f"transaction {tid} was modified"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "deleted": removed[0]}
