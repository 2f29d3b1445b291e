# reasoning: Read-only task; collect Biscuit's appointments for user 1 (including the cancelled same-day one) and whether anything changed, so a judge can compare them with the agent's answer.
# success_criteria: The agent reports the start time of Biscuit's earliest appointment with status 'scheduled' and names its veterinarian; the database is unchanged.
# failure_criteria: The agent reports the cancelled same-day appointment, a past appointment or the later surgical consult, names the wrong veterinarian, or modifies any data.
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    changed = [t for t in TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    rows = init.execute(
        """
        SELECT a.id, a.scheduled_at, a.status, a.visit_type, a.reason, v.full_name
        FROM appointments a
        JOIN pets p ON p.id = a.pet_id
        JOIN veterinarians v ON v.id = a.vet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Biscuit'
        ORDER BY a.scheduled_at
        """
    ).fetchall()
    init.close()
    final.close()
    appointments = [
        {"id": r[0], "scheduled_at": r[1], "status": r[2], "visit_type": r[3], "reason": r[4], "veterinarian": r[5]}
        for r in rows
    ]
    upcoming = [a for a in appointments if a["status"] == "scheduled"]
    return {
        "biscuit_appointments": appointments,
        "expected_next_appointment": upcoming[0] if upcoming else None,
        "tables_changed": changed,
        "database_unchanged": not changed,
    }
