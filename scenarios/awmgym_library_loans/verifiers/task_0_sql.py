# reasoning: Read-only question about which active loan of user 1 is due first. Report user 1's active loans ordered by due date, the returned loans that look earlier, and whether any table changed, so the judge can compare with the agent's answer.
# success_criteria: The agent's answer names the active loan of user 1 with the smallest due_date (expected: Piranesi), optionally with that due date; the database is unchanged.
# failure_criteria: The answer names a returned loan (The Thursday Murder Club, returned early) or another patron's loan, gives the wrong date, or the agent modified loans (for example by renewing).
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    loans_sql = """
        SELECT l.id AS loan_id, t.title, t.edition, l.status, l.due_date, l.returned_date, l.renewal_count
        FROM loans l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id
        WHERE l.user_id = 1
        ORDER BY l.status, l.due_date
    """
    initial_loans = _rows(initial_db_path, loans_sql)
    final_loans = _rows(final_db_path, loans_sql)
    active = [l for l in initial_loans if l["status"] == "active"]
    changed = {}
    for table in ["loans", "holds", "fines", "reviews", "copies", "users"]:
        before = _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id")
        after = _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id")
        changed[table] = before != after
    return {
        "expected_title": active[0]["title"] if active else None,
        "expected_due_date": active[0]["due_date"] if active else None,
        "user1_active_loans_by_due_date": active,
        "user1_returned_loans": [l for l in initial_loans if l["status"] == "returned"],
        "loans_changed": final_loans != initial_loans,
        "tables_changed": changed,
    }
