# reasoning: Write task; show before/after of user 1's dental invoices (Luna's real and voided duplicate, Lulu's) and which invoices changed.
# success_criteria: Luna's non-void dental cleaning invoice ends with status 'paid', amount_paid equal to total_amount and payment_method 'credit_card'; no other invoice changes.
# failure_criteria: Payment applied to the voided duplicate or to Lulu's invoice, only part of the balance paid, a different payment method used, or unrelated rows changed.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions"]
QUERY = """
SELECT i.id, i.invoice_number, p.name, i.description, i.total_amount, i.amount_paid, i.status, i.payment_method, i.paid_at
FROM invoices i JOIN pets p ON p.id = i.pet_id
WHERE i.owner_id = 1 AND lower(i.description) LIKE '%dental%'
ORDER BY i.id
"""


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    keys = ["id", "invoice_number", "pet", "description", "total_amount", "amount_paid", "status", "payment_method", "paid_at"]
    before = [dict(zip(keys, r)) for r in init.execute(QUERY).fetchall()]
    after = [dict(zip(keys, r)) for r in final.execute(QUERY).fetchall()]
    final_inv = set(final.execute("SELECT * FROM invoices").fetchall())
    changed_inv = [r[0] for r in init.execute("SELECT * FROM invoices ORDER BY id").fetchall() if r not in final_inv]
    changed = [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    init.close()
    final.close()
    return {
        "dental_invoices_before": before,
        "dental_invoices_after": after,
        "invoice_ids_changed": changed_inv,
        "other_tables_changed": changed,
    }
