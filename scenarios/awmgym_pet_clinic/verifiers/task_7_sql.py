# reasoning: Write task; show Biscuit's appointments and the veterinarian's slots around the original and target times before and after, so a judge can see whether the exam moved exactly one week with the same vet and time.
# success_criteria: Biscuit's wellness exam is scheduled in the same vet's slot starting exactly 7 days after the original time; the original slot is open again; the cancelled same-day visit and all other appointments are untouched.
# failure_criteria: The exam is moved to the wrong day, time or vet, the cancelled visit or the surgical consult is changed, the exam is cancelled without rebooking, or the slots are left inconsistent.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "vaccinations", "prescriptions", "invoices"]
APPTS = """
SELECT a.id, v.full_name, a.slot_id, a.scheduled_at, a.visit_type, a.reason, a.status
FROM appointments a JOIN pets p ON p.id = a.pet_id JOIN veterinarians v ON v.id = a.vet_id
WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Biscuit'
ORDER BY a.id
"""
SLOTS = """
SELECT s.id, v.full_name, s.starts_at, s.status
FROM appointment_slots s JOIN veterinarians v ON v.id = s.vet_id
WHERE s.vet_id IN (
    SELECT a.vet_id FROM appointments a JOIN pets p ON p.id = a.pet_id
    WHERE a.owner_id = 1 AND p.name = 'Biscuit' AND a.visit_type = 'wellness'
)
ORDER BY s.starts_at
"""


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    akeys = ["id", "veterinarian", "slot_id", "scheduled_at", "visit_type", "reason", "status"]
    skeys = ["id", "veterinarian", "starts_at", "status"]
    result = {
        "biscuit_appointments_before": [dict(zip(akeys, r)) for r in init.execute(APPTS).fetchall()],
        "biscuit_appointments_after": [dict(zip(akeys, r)) for r in final.execute(APPTS).fetchall()],
        "vet_slots_before": [dict(zip(skeys, r)) for r in init.execute(SLOTS).fetchall()],
        "vet_slots_after": [dict(zip(skeys, r)) for r in final.execute(SLOTS).fetchall()],
    }
    final_appts = set(final.execute("SELECT * FROM appointments").fetchall())
    result["appointment_ids_changed"] = [r[0] for r in init.execute("SELECT * FROM appointments ORDER BY id").fetchall() if r not in final_appts]
    result["appointment_count_before_after"] = [
        init.execute("SELECT COUNT(*) FROM appointments").fetchone()[0],
        final.execute("SELECT COUNT(*) FROM appointments").fetchone()[0],
    ]
    result["other_tables_changed"] = [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    init.close()
    final.close()
    return result
