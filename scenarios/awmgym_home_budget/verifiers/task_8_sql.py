# reasoning: List the top September 2025 debits on the Sapphire Preferred Visa and the nearby distractors so the judge can verify the merchant and amount in the agent's answer.
# success_criteria: The answer says the biggest September 2025 purchase on the Sapphire Preferred Visa was $642.80 at Delta Air Lines; no data changed.
# failure_criteria: The answer names United Airlines ($1,089.00 on 2025-10-01), Daniel's Best Buy ($899.99), the mortgage, the $1,620 card payment, or gives no amount.
import sqlite3


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    top = _rows(initial_db_path,
                "SELECT id, merchant, amount, txn_date, txn_type FROM transactions WHERE account_id = 2 AND user_id = 1 "
                "AND txn_type = 'debit' AND txn_date BETWEEN '2025-09-01' AND '2025-09-30' ORDER BY amount DESC LIMIT 3")
    distractors = _rows(initial_db_path,
                        "SELECT id, account_id, user_id, merchant, amount, txn_date, txn_type FROM transactions "
                        "WHERE id IN (8, 13, 22, 32)")
    return {
        "top_sapphire_debits_sep_2025": top,
        "distractor_rows": distractors,
        "transactions_count_before": _rows(initial_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
        "transactions_count_after": _rows(final_db_path, "SELECT COUNT(*) AS n FROM transactions")[0]["n"],
    }
