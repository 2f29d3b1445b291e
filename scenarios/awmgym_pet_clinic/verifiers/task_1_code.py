# reasoning: Read-only task. The amount owed is the sum of (total_amount - amount_paid) over user 1's invoices that are unpaid or partially paid. A voided duplicate invoice, fully paid invoices and other owners' unpaid invoices must not be counted. The database must be untouched.
# strategy: query_based
# key_check: the final answer contains the outstanding total computed from the initial database (tolerant of $ and thousands separators)
# key_check: the answer is specific: at most 30 distinct numbers, and none of the careless totals (voided duplicate counted, amounts already paid ignored, other owners' invoices counted)
# key_check: no table changed between the initial and final database
import re
import sqlite3

MAX_NUMBERS = 30  # a list of candidate amounts is not an answer

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
    careless = {
        round(sum(total for _, total, _ in open_invoices), 2),
        round(_rows(initial_db_path, "SELECT COALESCE(SUM(total_amount - amount_paid), 0) FROM invoices WHERE owner_id = 1 AND status != 'paid'")[0][0], 2),
        round(_rows(initial_db_path, "SELECT COALESCE(SUM(total_amount - amount_paid), 0) FROM invoices WHERE status IN ('unpaid', 'partially_paid')")[0][0], 2),
    } - {expected}

    numbers = _numbers(answer)
    if len(set(numbers)) > MAX_NUMBERS:
        return {"result": "others", "reason": f"answer lists {len(set(numbers))} numbers; a specific total was asked for"}
    if not any(abs(value - expected) < 0.01 for value in numbers):
        return {"result": "others", "reason": f"answer does not state the outstanding total {expected:.2f}"}
    if any(abs(value - wrong) < 0.01 for value in numbers for wrong in careless):
        return {"result": "others", "reason": "answer also states a careless total"}
    return {"result": "complete", "expected_total": expected}
