# reasoning: Write task; show the before/after state of every scheduled appointment for a pet named Luna or Lulu (any owner) and of their slots, plus whether anything else changed.
# success_criteria: User 1's Luna appointment with Dr. O'Connor goes from 'scheduled' to 'cancelled' (its slot may be reopened); the other owner's Luna, Lulu's visit and every other row stay unchanged.
# failure_criteria: The wrong appointment is cancelled (Lulu's, another owner's Luna, a past visit), the target is still scheduled, an appointment is deleted, or unrelated rows change.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "vaccinations", "prescriptions", "invoices"]
QUERY = """
SELECT a.id, a.owner_id, p.name, v.full_name, a.scheduled_at, a.visit_type, a.reason, a.status, a.cancellation_reason, a.slot_id, s.status
FROM appointments a
JOIN pets p ON p.id = a.pet_id
JOIN veterinarians v ON v.id = a.vet_id
LEFT JOIN appointment_slots s ON s.id = a.slot_id
WHERE p.name IN ('Luna', 'Lulu')
ORDER BY a.id
"""


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    keys = ["id", "owner_id", "pet", "veterinarian", "scheduled_at", "visit_type", "reason", "status", "cancellation_reason", "slot_id", "slot_status"]
    before = [dict(zip(keys, r)) for r in init.execute(QUERY).fetchall()]
    after = [dict(zip(keys, r)) for r in final.execute(QUERY).fetchall()]
    changed = [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    appt_counts = (init.execute("SELECT COUNT(*) FROM appointments").fetchone()[0], final.execute("SELECT COUNT(*) FROM appointments").fetchone()[0])
    final_appts = set(final.execute("SELECT * FROM appointments").fetchall())
    changed_appts = [r[0] for r in init.execute("SELECT * FROM appointments ORDER BY id").fetchall() if r not in final_appts]
    init.close()
    final.close()
    return {
        "luna_lulu_appointments_before": before,
        "luna_lulu_appointments_after": after,
        "appointment_ids_changed": changed_appts,
        "appointment_count_before_after": appt_counts,
        "other_tables_changed": changed,
    }
