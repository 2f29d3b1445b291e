# reasoning: Cancelling user 1's hold on The Covenant of Water. Report all holds on that title before and after (user 1's and another patron's) and every hold row that changed anywhere.
# success_criteria: User 1's waiting hold on The Covenant of Water (hold 8) is now cancelled (or deleted); the other patron's hold 9 on the same title and all other holds are unchanged.
# failure_criteria: The hold is still waiting, the wrong hold was cancelled (for example Fourth Wing or the other patron's hold), or additional holds changed.
import sqlite3


def _all(path, sql):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = """SELECT h.id, h.user_id, t.title, h.status, h.cancelled_at FROM holds h JOIN titles t ON t.id = h.title_id
             WHERE t.title = 'The Covenant of Water' ORDER BY h.id"""
    before = {r["id"]: r for r in _all(initial_db_path, "SELECT * FROM holds")}
    after = {r["id"]: r for r in _all(final_db_path, "SELECT * FROM holds")}
    return {
        "covenant_holds_before": _all(initial_db_path, sql),
        "covenant_holds_after": _all(final_db_path, sql),
        "changed_hold_rows": [{"hold_id": i, "before": before.get(i), "after": after.get(i)}
                              for i in sorted(set(before) | set(after)) if before.get(i) != after.get(i)],
    }
