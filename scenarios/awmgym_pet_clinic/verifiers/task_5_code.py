# reasoning: Write task. Luna's dental cleaning has two invoices with the same description: the real partially paid one and a voided duplicate; Lulu (the rabbit) also has a partially paid dental invoice. Only the non-void Luna invoice may be paid, in full, by credit card; every other invoice and table must be unchanged.
# strategy: modification_based
# key_check: the non-void dental cleaning invoice for user 1's Luna is now status 'paid' with amount_paid equal to total_amount
# key_check: its payment_method is credit_card and only amount_paid/status/payment_method/paid_at changed
# key_check: the voided duplicate, Lulu's dental invoice and every other invoice are unchanged; other tables unchanged
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions"]
PAYMENT_COLUMNS = ("amount_paid", "status", "payment_method", "paid_at")


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _table(db_path, table):
    columns = [r[1] for r in _rows(db_path, f"PRAGMA table_info({table})")]
    return {r[0]: dict(zip(columns, r)) for r in _rows(db_path, f"SELECT * FROM {table}")}


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    for table in OTHER_TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"table {table} should not change"}

    target = _rows(
        initial_db_path,
        """
        SELECT i.id
        FROM invoices i
        JOIN pets p ON p.id = i.pet_id
        WHERE i.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Luna'
          AND lower(i.description) LIKE '%dental cleaning%' AND i.status IN ('unpaid', 'partially_paid')
        """,
    )
    if len(target) != 1:
        return {"result": "others", "reason": f"expected one open dental cleaning invoice for Luna, found {len(target)}"}
    target_id = target[0][0]

    initial_inv = _table(initial_db_path, "invoices")
    final_inv = _table(final_db_path, "invoices")
    if set(initial_inv) != set(final_inv):
        return {"result": "others", "reason": "invoices were added or deleted"}
    for inv_id, row in initial_inv.items():
        after = final_inv[inv_id]
        if inv_id != target_id:
            if after != row:
                return {"result": "others", "reason": f"invoice {inv_id} should not change"}
            continue
        if after["status"] != "paid":
            return {"result": "others", "reason": f"target invoice status is {after['status']!r}"}
        if abs(float(after["amount_paid"]) - float(after["total_amount"])) > 0.01:
            return {"result": "others", "reason": f"amount_paid {after['amount_paid']} does not cover total {after['total_amount']}"}
        if (after["payment_method"] or "").strip().lower().replace(" ", "_") != "credit_card":
            return {"result": "others", "reason": f"payment_method is {after['payment_method']!r}"}
        for column, value in row.items():
            if column not in PAYMENT_COLUMNS and after[column] != value:
                return {"result": "others", "reason": f"invoice column {column} changed"}
    return {"result": "complete", "invoice_id": target_id}
