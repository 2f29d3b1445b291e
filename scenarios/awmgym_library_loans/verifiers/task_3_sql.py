# reasoning: Placing a hold on the large print Lessons in Chemistry for pickup at the home branch. Report both editions, user 1's home branch, the holds on either edition before and after, and any new hold rows.
# success_criteria: One new waiting hold for user 1 on the Large Print edition (ISBN 9781638082200) with pickup_branch_id equal to user 1's home branch (Eastside Branch, id 2); existing holds unchanged.
# failure_criteria: No new hold, a hold on the hardcover edition, a pickup branch other than the home branch, duplicate holds, or changes to other patrons' holds.
import sqlite3


def _q(path, sql, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    editions = _q(initial_db_path, "SELECT id, edition, format, isbn_13 FROM titles WHERE title = 'Lessons in Chemistry'")
    home = _q(initial_db_path, "SELECT u.home_branch_id, b.name FROM users u JOIN branches b ON b.id = u.home_branch_id WHERE u.id = 1")[0]
    holds_sql = """
        SELECT h.id, h.user_id, h.title_id, t.edition, h.pickup_branch_id, h.status, h.placed_at
        FROM holds h JOIN titles t ON t.id = h.title_id WHERE t.title = 'Lessons in Chemistry' ORDER BY h.id
    """
    before_ids = {r["id"] for r in _q(initial_db_path, "SELECT id FROM holds")}
    new_holds = [r for r in _q(final_db_path, "SELECT * FROM holds ORDER BY id") if r["id"] not in before_ids]
    return {
        "editions": editions,
        "user1_home_branch": home,
        "lessons_holds_before": _q(initial_db_path, holds_sql),
        "lessons_holds_after": _q(final_db_path, holds_sql),
        "new_hold_rows": new_holds,
        "hold_count_before": len(before_ids),
        "hold_count_after": len(_q(final_db_path, "SELECT id FROM holds")),
    }
