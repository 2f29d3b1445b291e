# reasoning: Write task. Maya's "Japan Trip 2025" goal (user 1, household 1) must be status 'achieved' with its amounts, name and date untouched (updated_at may change). Daniel's "Japan Trip Spending Money" and household 3's "Japan Trip 2025" must not change. Exactly one new goal "Kitchen Remodel" must exist for user 1 in household 1 with target 15000, target date 2026-12-31 and linked to the High-Yield Savings account.
# strategy: modification_based
# key_check: user 1's Japan Trip 2025 goal has status achieved; other columns except updated_at unchanged
# key_check: all other pre-existing goals unchanged
# key_check: exactly one new goal, named Kitchen Remodel, user 1, household 1, target 15000 (+-0.01), target_date 2026-12-31, linked to High-Yield Savings, not achieved
# key_check: other tables unchanged
import sqlite3

OTHER_TABLES = ["households", "users", "accounts", "categories", "transactions", "budgets", "recurring_bills"]


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
    trip = _query(initial_db_path,
                  "SELECT id FROM savings_goals WHERE household_id = 1 AND user_id = 1 AND name = 'Japan Trip 2025'")
    hysa = _query(initial_db_path,
                  "SELECT id FROM accounts WHERE household_id = 1 AND owner_user_id = 1 AND name = 'High-Yield Savings'")
    if len(trip) != 1 or len(hysa) != 1:
        return {"result": "others", "reason": "reference rows not found"}
    trip_id, hysa_id = trip[0][0], hysa[0][0]
    before = _snapshot(initial_db_path, "savings_goals")
    after = _snapshot(final_db_path, "savings_goals")
    if any(gid not in after for gid in before):
        return {"result": "others", "reason": "a savings goal was deleted"}
    if after[trip_id]["status"] != "achieved":
        return {"result": "others", "reason": "Japan Trip 2025 is not marked achieved"}
    for col, val in before[trip_id].items():
        if col not in ("status", "updated_at") and after[trip_id][col] != val:
            return {"result": "others", "reason": f"Japan Trip 2025 column {col} changed unexpectedly"}
    for gid, row in before.items():
        if gid != trip_id and after[gid] != row:
            return {"result": "others", "reason": f"goal {gid} should not have changed"}
    new_ids = [gid for gid in after if gid not in before]
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected one new goal, found {len(new_ids)}"}
    new = after[new_ids[0]]
    if " ".join(str(new["name"] or "").lower().split()) != "kitchen remodel":
        return {"result": "others", "reason": f"new goal is named {new['name']!r}"}
    if new["household_id"] != 1 or new["user_id"] != 1:
        return {"result": "others", "reason": "new goal has the wrong owner"}
    if new["target_amount"] is None or abs(float(new["target_amount"]) - 15000.0) > 0.01:
        return {"result": "others", "reason": f"wrong target amount {new['target_amount']}"}
    if not str(new["target_date"] or "").startswith("2026-12-31"):
        return {"result": "others", "reason": f"wrong target date {new['target_date']}"}
    if new["linked_account_id"] != hysa_id:
        return {"result": "others", "reason": "new goal is not linked to High-Yield Savings"}
    if new["status"] == "achieved":
        return {"result": "others", "reason": "new goal should not be achieved"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "new_goal_id": new_ids[0]}
