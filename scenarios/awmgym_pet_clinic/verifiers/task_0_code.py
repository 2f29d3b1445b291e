# reasoning: Read-only task. Biscuit (user 1's dog, not the other owner's Beagle of the same name) has a cancelled visit early on the same day as his real next exam, plus a later surgical consult. The answer must give the start time of the earliest still-scheduled appointment and the vet's name (the cancelled visit is at a different time with a different vet), and the database must be untouched.
# strategy: query_based
# key_check: the final answer names the veterinarian of Biscuit's earliest scheduled appointment (by last name)
# key_check: the final answer gives that appointment's start time (24-hour or 12-hour clock)
# key_check: no table changed between the initial and final database
import re
import sqlite3
from datetime import datetime

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _parse_dt(value):
    return datetime.strptime(str(value).replace("T", " ")[:16], "%Y-%m-%d %H:%M")


def _mentions_time(answer, dt):
    hour12 = dt.hour % 12 or 12
    candidates = {"%d:%02d" % (dt.hour, dt.minute), "%02d:%02d" % (dt.hour, dt.minute), "%d:%02d" % (hour12, dt.minute)}
    return any(re.search(r"(?<!\d)%s(?!\d)" % re.escape(c), answer) for c in candidates)


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    for table in TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"read-only task but table {table} changed"}

    expected = _rows(
        initial_db_path,
        """
        SELECT a.id, a.scheduled_at, v.full_name
        FROM appointments a
        JOIN pets p ON p.id = a.pet_id
        JOIN veterinarians v ON v.id = a.vet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Biscuit' AND a.status = 'scheduled'
        ORDER BY a.scheduled_at
        LIMIT 1
        """,
    )
    if not expected:
        return {"result": "others", "reason": "no scheduled appointment for Biscuit in the initial database"}
    appointment_id, scheduled_at, vet_name = expected[0]
    dt = _parse_dt(scheduled_at)
    vet_last = vet_name.replace("Dr.", "").strip().split()[-1].lower()

    if not re.search(r"\b%s\b" % re.escape(vet_last), answer):
        return {"result": "others", "reason": f"answer does not name the veterinarian ({vet_name})"}
    if not _mentions_time(answer, dt):
        return {"result": "others", "reason": f"answer does not give the start time {dt.strftime('%H:%M')}"}
    return {"result": "complete", "appointment_id": appointment_id}
