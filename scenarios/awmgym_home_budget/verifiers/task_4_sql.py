# reasoning: Show all Dining Out budgets (every household and month) before and after so the judge can see that only the November 2025 Okafor budget changed.
# success_criteria: Household 1's 2025-11 Dining Out budget now has a $450 limit and a 90% alert threshold; every other budget is unchanged.
# failure_criteria: The October budget or another household's budget was edited, a new budget was created instead of updating, or the limit/threshold values are wrong.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT b.id, b.household_id, c.name AS category, b.month, b.amount_limit, b.alert_threshold_pct, "
           "b.rollover, b.notes FROM budgets b JOIN categories c ON c.id = b.category_id "
           "WHERE c.name = 'Dining Out' ORDER BY b.id")
    return {
        "dining_out_budgets_before": _rows(initial_db_path, sql),
        "dining_out_budgets_after": _rows(final_db_path, sql),
        "budget_count_before": _rows(initial_db_path, "SELECT COUNT(*) AS n FROM budgets")[0]["n"],
        "budget_count_after": _rows(final_db_path, "SELECT COUNT(*) AS n FROM budgets")[0]["n"],
        "expected": {"household_id": 1, "month": "2025-11", "amount_limit": 450.0, "alert_threshold_pct": 90},
    }
