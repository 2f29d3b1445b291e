# reasoning: Read-only task. The expected total is the sum of user 1's fines with status 'unpaid'. Paid and waived fines of user 1 and other patrons' unpaid fines must not be included. The fines table must not change (no payment made).
# strategy: combined
# key_check: expected total computed from the initial DB (user_id = 1 AND status = 'unpaid')
# key_check: the answer contains that amount, tolerant of $ signs, commas and trailing zeros
# key_check: the answer does not state totals that wrongly include paid, waived or other patrons' fines
# key_check: fines, loans and users tables unchanged
import re
import sqlite3


def _amounts(text):
    values = []
    for raw in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        try:
            values.append(float(raw.replace(",", "")))
        except ValueError:
            pass
    return values


def _same_table(initial_db_path, final_db_path, table):
    a = sqlite3.connect(initial_db_path)
    b = sqlite3.connect(final_db_path)
    try:
        q = f"SELECT * FROM {table} ORDER BY id"
        return a.execute(q).fetchall() == b.execute(q).fetchall()
    finally:
        a.close()
        b.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").strip()
    if not answer:
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        expected = conn.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM fines WHERE user_id = 1 AND status = 'unpaid'"
        ).fetchone()[0]
        with_paid = conn.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM fines WHERE user_id = 1 AND status IN ('unpaid', 'paid')"
        ).fetchone()[0]
        with_waived = conn.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM fines WHERE user_id = 1 AND status IN ('unpaid', 'waived')"
        ).fetchone()[0]
        all_user1 = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM fines WHERE user_id = 1").fetchone()[0]
        all_unpaid = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM fines WHERE status = 'unpaid'").fetchone()[0]
    finally:
        conn.close()

    amounts = _amounts(answer)
    if not any(abs(a - expected) < 0.005 for a in amounts):
        return {"result": "others", "reason": f"answer does not state {expected:.2f}", "amounts": amounts}
    wrong = {round(v, 2) for v in (with_paid, with_waived, all_user1, all_unpaid)} - {round(expected, 2)}
    stated_wrong = [a for a in amounts if any(abs(a - w) < 0.005 for w in wrong)]
    if stated_wrong:
        return {"result": "others", "reason": f"answer also states an incorrect total {stated_wrong}"}
    for table in ("fines", "loans", "users"):
        if not _same_table(initial_db_path, final_db_path, table):
            return {"result": "others", "reason": f"table {table} changed during a read-only task"}
    return {"result": "complete", "expected_total": round(expected, 2)}
