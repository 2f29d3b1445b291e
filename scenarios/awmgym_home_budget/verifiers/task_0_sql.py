# reasoning: Collect the October 2025 Groceries spending of user 1, the whole-household figure and the look-alike rows (Grocery Delivery, dates just outside October) so a judge can compare them with the agent's answer.
# success_criteria: The final answer states that the user spent about $594.71 on Groceries in October 2025 and the database is unchanged.
# failure_criteria: The answer gives the household total ($858.40), includes Grocery Delivery or out-of-range purchases, gives no amount, or the agent modified data.
import sqlite3


def _q(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    base = ("FROM transactions t JOIN categories c ON c.id = t.category_id JOIN users u ON u.id = t.user_id "
            "WHERE u.household_id = 1 AND c.household_id = 1 AND t.txn_type = 'debit' ")
    mine = _q(initial_db_path, "SELECT ROUND(SUM(t.amount), 2), COUNT(*) " + base +
              "AND t.user_id = 1 AND c.name = 'Groceries' AND t.txn_date BETWEEN '2025-10-01' AND '2025-10-31'")[0]
    household = _q(initial_db_path, "SELECT ROUND(SUM(t.amount), 2) " + base +
                   "AND c.name = 'Groceries' AND t.txn_date BETWEEN '2025-10-01' AND '2025-10-31'")[0][0]
    delivery = _q(initial_db_path, "SELECT ROUND(SUM(t.amount), 2) " + base +
                  "AND t.user_id = 1 AND c.name = 'Grocery Delivery' AND t.txn_date BETWEEN '2025-10-01' AND '2025-10-31'")[0][0]
    edges = _q(initial_db_path, "SELECT t.id, t.txn_date, t.merchant, t.amount " + base +
               "AND t.user_id = 1 AND c.name = 'Groceries' AND t.txn_date IN ('2025-09-30', '2025-11-01')")
    counts = {}
    for table in ["households", "users", "accounts", "categories", "transactions", "budgets", "recurring_bills", "savings_goals"]:
        counts[table] = {"initial": _q(initial_db_path, f"SELECT COUNT(*) FROM {table}")[0][0],
                         "final": _q(final_db_path, f"SELECT COUNT(*) FROM {table}")[0][0]}
    return {
        "expected_user1_groceries_oct_2025": mine[0],
        "user1_groceries_txn_count": mine[1],
        "household_groceries_oct_2025": household,
        "user1_grocery_delivery_oct_2025": delivery,
        "out_of_range_grocery_rows": [list(r) for r in edges],
        "row_counts": counts,
    }
