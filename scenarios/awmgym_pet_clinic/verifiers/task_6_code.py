# reasoning: Read-only task. The due window is measured from today, exactly as the portal's reminders view does: vaccinations of user 1's active pets whose next_due_date is on or before today + 30 days (overdue included). A deceased pet's lapsed vaccines and other owners' pets do not count, and a vaccine due a little after the window (31-60 days out) must not be reported as due.
# strategy: query_based
# key_check: every pet with a vaccine in the window is named in the answer, together with each such vaccine
# key_check: vaccines of user 1's active pets that fall just outside the window (31-60 days) are not mentioned unless the same vaccine is also due
# key_check: no table changed between the initial and final database
import re
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]
GENERIC_WORDS = {"canine", "feline", "the"}


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _keyword(vaccine_name):
    words = [w for w in re.findall(r"[a-z0-9]+", vaccine_name.lower()) if w not in GENERIC_WORDS]
    return re.sub(r"\d+$", "", words[0]) if words else vaccine_name.lower()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    for table in TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"read-only task but table {table} changed"}

    base = """
        SELECT p.name, v.vaccine_name, v.next_due_date
        FROM vaccinations v JOIN pets p ON p.id = v.pet_id
        WHERE p.owner_id = 1 AND p.status = 'active' AND v.next_due_date IS NOT NULL
    """
    due = _rows(initial_db_path, base + " AND v.next_due_date <= date('now', '+30 days')")
    near_miss = _rows(initial_db_path, base + " AND v.next_due_date > date('now', '+30 days') AND v.next_due_date <= date('now', '+60 days')")
    if not due:
        return {"result": "others", "reason": "nothing due in the initial database"}

    due_keywords = {_keyword(name) for _, name, _ in due}
    for pet_name, vaccine_name, _ in due:
        if not re.search(r"\b%s\b" % re.escape(pet_name.lower()), answer):
            return {"result": "others", "reason": f"answer does not name {pet_name}"}
        if _keyword(vaccine_name) not in answer:
            return {"result": "others", "reason": f"answer does not mention {vaccine_name} for {pet_name}"}
    for pet_name, vaccine_name, _ in near_miss:
        keyword = _keyword(vaccine_name)
        if keyword not in due_keywords and keyword in answer:
            return {"result": "others", "reason": f"answer lists {vaccine_name} ({pet_name}), which is not due within 30 days"}
    return {"result": "complete", "due": [f"{p}: {v}" for p, v, _ in due]}
