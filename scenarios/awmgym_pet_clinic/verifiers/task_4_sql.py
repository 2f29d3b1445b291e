# reasoning: Write task; show before/after refill state of every Carprofen prescription (both of user 1's and the other owner's Biscuit) and whether anything else changed.
# success_criteria: User 1's active Carprofen prescription for Biscuit moves to refill_status 'requested' with refill_pickup_method 'delivery'; refills_remaining is unchanged and no other prescription changes.
# failure_criteria: The request is placed on the expired Carprofen or another owner's prescription, pickup is chosen instead of delivery, no request is recorded, or unrelated rows change.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "invoices"]
QUERY = """
SELECT rx.id, p.owner_id, p.name, rx.medication_name, rx.strength, rx.status, rx.refills_remaining, rx.expires_on,
       rx.refill_status, rx.refill_pickup_method, rx.refill_requested_at, rx.refill_notes
FROM prescriptions rx JOIN pets p ON p.id = rx.pet_id
WHERE rx.medication_name = 'Carprofen'
ORDER BY rx.id
"""


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    keys = ["id", "owner_id", "pet", "medication", "strength", "status", "refills_remaining", "expires_on",
            "refill_status", "refill_pickup_method", "refill_requested_at", "refill_notes"]
    before = [dict(zip(keys, r)) for r in init.execute(QUERY).fetchall()]
    after = [dict(zip(keys, r)) for r in final.execute(QUERY).fetchall()]
    final_rx = set(final.execute("SELECT * FROM prescriptions").fetchall())
    changed_rx = [r[0] for r in init.execute("SELECT * FROM prescriptions ORDER BY id").fetchall() if r not in final_rx]
    changed = [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    init.close()
    final.close()
    return {
        "carprofen_prescriptions_before": before,
        "carprofen_prescriptions_after": after,
        "prescription_ids_changed": changed_rx,
        "other_tables_changed": changed,
    }
