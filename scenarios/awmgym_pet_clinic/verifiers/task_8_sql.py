# reasoning: Write task; give the date of Mango's scheduled visit, Dr. Kim's slots before and after, and any new appointments, so a judge can check that Lulu was booked into the 3:00 PM slot on that date.
# success_criteria: One new scheduled dental appointment for user 1's Lulu with Dr. Laura Kim in her 15:00 slot on the same date as Mango's scheduled nail and beak trim; that slot becomes 'booked'; nothing else changes.
# failure_criteria: Booked for Luna instead of Lulu, on another day, at another time, with another vet, as a non-dental visit, more than one booking, or existing appointments changed.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "vaccinations", "prescriptions", "invoices"]
KIM_SLOTS = """
SELECT s.id, s.starts_at, s.status FROM appointment_slots s JOIN veterinarians v ON v.id = s.vet_id
WHERE v.full_name LIKE '%Laura Kim%' ORDER BY s.starts_at
"""


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    mango = init.execute(
        """
        SELECT a.id, a.scheduled_at, a.reason, v.full_name FROM appointments a
        JOIN pets p ON p.id = a.pet_id JOIN veterinarians v ON v.id = a.vet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Mango' AND a.status = 'scheduled'
        """
    ).fetchall()
    initial_ids = {r[0] for r in init.execute("SELECT id FROM appointments").fetchall()}
    new_rows = [
        r for r in final.execute(
            """
            SELECT a.id, a.owner_id, p.name, v.full_name, a.slot_id, a.scheduled_at, a.visit_type, a.reason, a.status
            FROM appointments a JOIN pets p ON p.id = a.pet_id JOIN veterinarians v ON v.id = a.vet_id
            ORDER BY a.id
            """
        ).fetchall()
        if r[0] not in initial_ids
    ]
    final_appts = set(final.execute("SELECT * FROM appointments").fetchall())
    changed_existing = [r[0] for r in init.execute("SELECT * FROM appointments ORDER BY id").fetchall() if r not in final_appts]
    keys = ["id", "owner_id", "pet", "veterinarian", "slot_id", "scheduled_at", "visit_type", "reason", "status"]
    result = {
        "mango_scheduled_visits": [{"id": r[0], "scheduled_at": r[1], "reason": r[2], "veterinarian": r[3]} for r in mango],
        "dr_kim_slots_before": [{"id": r[0], "starts_at": r[1], "status": r[2]} for r in init.execute(KIM_SLOTS).fetchall()],
        "dr_kim_slots_after": [{"id": r[0], "starts_at": r[1], "status": r[2]} for r in final.execute(KIM_SLOTS).fetchall()],
        "new_appointments": [dict(zip(keys, r)) for r in new_rows],
        "existing_appointments_changed": changed_existing,
        "other_tables_changed": [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()],
    }
    init.close()
    final.close()
    return result
