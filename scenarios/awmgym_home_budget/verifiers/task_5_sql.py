# reasoning: List every $52.17 Shell charge and every Shell charge on 2025-10-18 across all households, before and after, plus transaction counts, so the judge can see which row was deleted.
# success_criteria: Exactly one of the two identical 2025-10-18 $52.17 Shell charges on the Sapphire Preferred Visa (ids 57/58) was deleted; all other transactions remain.
# failure_criteria: Both duplicates deleted, the 2025-10-25 charge or Daniel's/another household's Shell charge deleted, rows edited instead of deleted, or nothing removed.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = ("SELECT id, account_id, user_id, amount, txn_date, merchant, metadata FROM transactions "
           "WHERE merchant = 'Shell' AND (ABS(amount - 52.17) < 0.005 OR txn_date = '2025-10-18') ORDER BY id")
    before = _rows(initial_db_path, sql)
    after = _rows(final_db_path, sql)
    after_ids = {r["id"] for r in after}
    return {
        "shell_rows_before": before,
        "shell_rows_after": after,
        "deleted_shell_ids": [r["id"] for r in before if r["id"] not in after_ids],
        "transactions_count_before": _rows(initial_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
        "transactions_count_after": _rows(final_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
        "duplicate_pair_ids": [57, 58],
    }
