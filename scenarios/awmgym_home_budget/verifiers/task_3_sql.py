# reasoning: Give the judge the October 2025 budget-versus-actual table for the household so the agent's choice of category and amount can be checked.
# success_criteria: The answer says Shopping was overspent the most in October 2025, by about $161.48 ($461.48 spent against a $300 limit), and nothing was modified.
# failure_criteria: Another category (e.g. Groceries, over by $58.40) is named, the amount is missing or wrong, only Maya's own spending was used, or data was changed.
import sqlite3


def _q(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    rows = _q(initial_db_path,
              "SELECT c.name, b.amount_limit, "
              "(SELECT ROUND(COALESCE(SUM(t.amount), 0), 2) FROM transactions t JOIN users u ON u.id = t.user_id "
              " WHERE u.household_id = 1 AND t.category_id = b.category_id AND t.txn_type = 'debit' "
              " AND t.txn_date BETWEEN '2025-10-01' AND '2025-10-31') "
              "FROM budgets b JOIN categories c ON c.id = b.category_id WHERE b.household_id = 1 AND b.month = '2025-10'")
    table = [{"category": n, "limit": l, "spent": s, "over_by": round(s - l, 2)} for n, l, s in rows]
    table.sort(key=lambda r: r["over_by"], reverse=True)
    unchanged = all(
        _q(initial_db_path, f"SELECT COUNT(*) FROM {t}")[0][0] == _q(final_db_path, f"SELECT COUNT(*) FROM {t}")[0][0]
        for t in ["households", "users", "accounts", "categories", "transactions", "budgets", "recurring_bills", "savings_goals"]
    )
    return {"october_2025_budget_status": table, "largest_overspend": table[0] if table else None,
            "row_counts_unchanged": unchanged}
