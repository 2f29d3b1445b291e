# reasoning: Renewal of user 1's active Ender's Game loan. Report every Ender's Game loan before and after (user 1's active and returned loans, the other patron's loan) plus a diff of all loan rows, so the judge can see whether exactly the right loan was extended.
# success_criteria: The active Ender's Game loan of user 1 has renewal_count +1 and a due_date 14 days later than before; no other loan changed.
# failure_criteria: The loan is unchanged, a different loan (the returned one, another patron's, or another title) was renewed, or extra rows changed.
import sqlite3


def _fetch(path, sql):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = """
        SELECT l.id AS loan_id, l.user_id, t.title, b.name AS branch, l.status, l.due_date, l.returned_date, l.renewal_count
        FROM loans l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id JOIN branches b ON b.id = c.branch_id
        WHERE t.title = 'Ender''s Game' ORDER BY l.id
    """
    before_all = {r["id"]: r for r in _fetch(initial_db_path, "SELECT * FROM loans")}
    after_all = {r["id"]: r for r in _fetch(final_db_path, "SELECT * FROM loans")}
    changed = [
        {"loan_id": i, "before": before_all.get(i), "after": after_all.get(i)}
        for i in sorted(set(before_all) | set(after_all))
        if before_all.get(i) != after_all.get(i)
    ]
    return {
        "enders_game_loans_before": _fetch(initial_db_path, sql),
        "enders_game_loans_after": _fetch(final_db_path, sql),
        "changed_loan_rows": changed,
        "loan_count_before": len(before_all),
        "loan_count_after": len(after_all),
    }
