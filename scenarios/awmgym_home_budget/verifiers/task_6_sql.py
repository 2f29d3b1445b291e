# reasoning: Return every savings goal whose name mentions "Emergency" with its remaining amount, so the judge can check the figure and date the agent gave and that it picked the user's own goal.
# success_criteria: The answer says about $7,649.25 is still needed for Maya's Emergency Fund and the target date is 2026-06-30; no data changed.
# failure_criteria: The answer uses Daniel's Emergency Car Repair Fund or another household's Emergency Fund, reports the saved amount instead of the remaining one, omits the date, or the agent changed the goal.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT id, household_id, user_id, name, target_amount, current_amount, "
           "ROUND(target_amount - current_amount, 2) AS remaining, target_date, status "
           "FROM savings_goals WHERE name LIKE '%Emergency%' ORDER BY id")
    return {
        "emergency_goals_initial": _rows(initial_db_path, sql),
        "emergency_goals_final": _rows(final_db_path, sql),
        "expected": {"goal_id": 1, "remaining": 7649.25, "target_date": "2026-06-30"},
    }
