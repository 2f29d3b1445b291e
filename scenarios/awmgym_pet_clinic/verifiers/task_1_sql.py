# reasoning: Read-only task; list user 1's invoices with their balances and compute the outstanding total so a judge can compare it with the agent's answer.
# success_criteria: The agent reports the sum of balances on user 1's unpaid and partially paid invoices (expected_outstanding_total) and changes nothing.
# failure_criteria: The agent includes the voided duplicate invoice, counts full totals instead of remaining balances, misses an invoice, or modifies any data.
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    changed = [t for t in TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    rows = init.execute(
        "SELECT id, invoice_number, description, total_amount, amount_paid, status FROM invoices WHERE owner_id = 1 ORDER BY id"
    ).fetchall()
    init.close()
    final.close()
    invoices = [
        {"id": r[0], "invoice_number": r[1], "description": r[2], "total_amount": r[3], "amount_paid": r[4],
         "balance": round(r[3] - r[4], 2), "status": r[5]}
        for r in rows
    ]
    outstanding = [i for i in invoices if i["status"] in ("unpaid", "partially_paid")]
    return {
        "user_invoices": invoices,
        "outstanding_invoices": [i["invoice_number"] for i in outstanding],
        "expected_outstanding_total": round(sum(i["balance"] for i in outstanding), 2),
        "tables_changed": changed,
        "database_unchanged": not changed,
    }
