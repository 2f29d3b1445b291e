# reasoning: Read-only task; list every prescription of user 1's pets with status and refills remaining, and identify the active one with the fewest refills, plus whether anything changed.
# success_criteria: The agent names the medication and pet of user 1's active prescription with the fewest refills_remaining and gives that number; the database is unchanged.
# failure_criteria: The agent picks an expired or discontinued prescription, a prescription of another owner's pet, the wrong pet (e.g. Lulu instead of Luna), a wrong refill count, or modifies data.
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    changed = [t for t in TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    rows = init.execute(
        """
        SELECT rx.id, p.name, rx.medication_name, rx.strength, rx.status, rx.refills_remaining
        FROM prescriptions rx JOIN pets p ON p.id = rx.pet_id
        WHERE p.owner_id = 1
        ORDER BY rx.refills_remaining, rx.id
        """
    ).fetchall()
    init.close()
    final.close()
    keys = ["id", "pet", "medication", "strength", "status", "refills_remaining"]
    prescriptions = [dict(zip(keys, r)) for r in rows]
    active = [p for p in prescriptions if p["status"] == "active"]
    return {
        "user_prescriptions": prescriptions,
        "expected_answer": active[0] if active else None,
        "tables_changed": changed,
        "database_unchanged": not changed,
    }
