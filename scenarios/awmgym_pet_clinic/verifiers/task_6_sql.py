# reasoning: Read-only task; list all vaccinations of user 1's pets with their next due date and whether each falls in the overdue/next-30-days window today, plus whether anything changed.
# success_criteria: The agent names every pet/vaccine pair with in_window = true (overdue or due within 30 days) for user 1's active pets, and nothing else as due; the database is unchanged.
# failure_criteria: The agent misses an overdue or soon-due vaccine, reports the vaccine due just after 30 days, includes other owners' pets, or modifies data.
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    changed = [t for t in TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    rows = init.execute(
        """
        SELECT p.name, p.status, v.vaccine_name, v.next_due_date,
               CAST(julianday(v.next_due_date) - julianday(date('now')) AS INTEGER),
               v.next_due_date <= date('now', '+30 days')
        FROM vaccinations v JOIN pets p ON p.id = v.pet_id
        WHERE p.owner_id = 1
        ORDER BY v.next_due_date
        """
    ).fetchall()
    today = init.execute("SELECT date('now')").fetchone()[0]
    init.close()
    final.close()
    records = [
        {"pet": r[0], "pet_status": r[1], "vaccine": r[2], "next_due_date": r[3], "days_until_due": r[4],
         "in_window": bool(r[5]) and r[1] == "active"}
        for r in rows
    ]
    return {
        "today": today,
        "user_vaccinations": records,
        "expected_due": [f"{r['pet']}: {r['vaccine']}" for r in records if r["in_window"]],
        "tables_changed": changed,
        "database_unchanged": not changed,
    }
