# reasoning: Write task. Bills 2 (Spotify Family) and 3 (Planet Fitness Black Card) are active and still charged to Maya's closed Quicksilver card; both must now point at the Sapphire Preferred Visa. The cancelled Adobe Creative Cloud bill on the same closed card must stay where it is, no other bill may change, the closed account must stay closed, and no other table may change.
# strategy: modification_based
# key_check: every bill that was active on the closed Quicksilver account now has account_id = Sapphire Preferred Visa, with all other columns unchanged
# key_check: the inactive bill on the closed card and all other bills are byte-for-byte unchanged
# key_check: accounts and all other tables are unchanged (the closed card was not reopened)
import sqlite3

OTHER_TABLES = ["households", "users", "accounts", "categories", "transactions", "budgets", "savings_goals"]


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
    closed = _query(initial_db_path,
                    "SELECT id FROM accounts WHERE household_id = 1 AND owner_user_id = 1 "
                    "AND name = 'Quicksilver Rewards' AND status = 'closed'")
    sapphire = _query(initial_db_path,
                      "SELECT id FROM accounts WHERE household_id = 1 AND owner_user_id = 1 "
                      "AND name = 'Sapphire Preferred Visa' AND status = 'open'")
    if len(closed) != 1 or len(sapphire) != 1:
        return {"result": "others", "reason": "reference accounts not found"}
    closed_id, sapphire_id = closed[0][0], sapphire[0][0]
    before = _snapshot(initial_db_path, "recurring_bills")
    after = _snapshot(final_db_path, "recurring_bills")
    targets = [bid for bid, b in before.items()
               if b["household_id"] == 1 and b["account_id"] == closed_id and b["is_active"] == 1]
    if not targets:
        return {"result": "others", "reason": "no target bills in initial database"}
    if set(before) != set(after):
        return {"result": "others", "reason": "recurring bills were added or deleted"}
    for bid, row in before.items():
        new = after[bid]
        if bid in targets:
            if new["account_id"] != sapphire_id:
                return {"result": "others", "reason": f"bill {bid} is on account {new['account_id']}, expected {sapphire_id}"}
            for col, val in row.items():
                if col != "account_id" and new[col] != val:
                    return {"result": "others", "reason": f"bill {bid} column {col} changed unexpectedly"}
        elif new != row:
            return {"result": "others", "reason": f"bill {bid} should not have been modified"}
    changed = _tables_unchanged(initial_db_path, final_db_path, OTHER_TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified"}
    return {"result": "complete", "moved_bills": targets}
