# reasoning: Read-only task. The amount owed is the sum of (total_amount - amount_paid) over user 1's invoices that are unpaid or partially paid. A voided duplicate invoice, fully paid invoices and other owners' unpaid invoices must not be counted. The database must be untouched.
# strategy: query_based
# key_check: the final answer contains the outstanding total computed from the initial database (tolerant of $ and thousands separators)
# key_check: no table changed between the initial and final database
import re
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _numbers(text):
    values = []
    for token in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            pass
    return values


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    answer = final_answer or ""
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    for table in TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"read-only task but table {table} changed"}

    open_invoices = _rows(
        initial_db_path,
        "SELECT id, total_amount, amount_paid FROM invoices WHERE owner_id = 1 AND status IN ('unpaid', 'partially_paid')",
    )
    if not open_invoices:
        return {"result": "others", "reason": "no open invoices for user 1 in the initial database"}
    expected = round(sum(total - paid for _, total, paid in open_invoices), 2)

    if not any(abs(value - expected) < 0.01 for value in _numbers(answer)):
        return {"result": "others", "reason": f"answer does not state the outstanding total {expected:.2f}"}
    return {"result": "complete", "expected_total": expected}
