# reasoning: Show every savings goal before and after so the judge can check that only Maya's Japan Trip 2025 goal changed status and that a Kitchen Remodel goal was created with the requested values.
# success_criteria: Goal 2 (Maya's Japan Trip 2025) is achieved; one new goal "Kitchen Remodel" for user 1 with a $15,000 target, 2026-12-31 target date and linked_account_id 3 exists; other goals are unchanged.
# failure_criteria: Daniel's Japan Trip Spending Money or household 3's Japan Trip 2025 was changed, the trip goal was deleted, the new goal is missing, duplicated, or has the wrong amount, date or account.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT id, household_id, user_id, linked_account_id, name, target_amount, current_amount, "
           "target_date, status FROM savings_goals ORDER BY id")
    before = _rows(initial_db_path, sql)
    after = _rows(final_db_path, sql)
    before_ids = {r["id"] for r in before}
    return {
        "goals_before": before,
        "goals_after": after,
        "new_goals": [r for r in after if r["id"] not in before_ids],
        "expected": {"achieved_goal_id": 2, "new_goal": {"name": "Kitchen Remodel", "target_amount": 15000.0,
                                                          "target_date": "2026-12-31", "linked_account_id": 3}},
    }
