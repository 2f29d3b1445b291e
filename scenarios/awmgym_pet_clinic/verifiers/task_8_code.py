# reasoning: Write task. The day is taken from Mango's upcoming nail and beak trim (user 1's conure, not the other owner's cockatiel Mango, and not Mango's past trim). On that day Dr. Laura Kim has an open 3:00 PM slot; her 3:00 PM slots on other days, her 1:00 PM slot that day and the exotics vet's 3:00 PM slot are distractors. Exactly one new dental appointment for Lulu (the rabbit, not Luna the cat) must occupy that slot.
# strategy: modification_based
# key_check: exactly one new appointment: owner 1, pet Lulu, Dr. Laura Kim, status scheduled, visit_type dental
# key_check: it sits in Dr. Kim's 15:00 slot on the date of Mango's scheduled appointment, and that slot is now 'booked'
# key_check: no existing appointment changed, no other slot changed, and no other table changed
import sqlite3
from datetime import datetime

OTHER_TABLES = ["users", "veterinarians", "pets", "vaccinations", "prescriptions", "invoices"]


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _table(db_path, table):
    columns = [r[1] for r in _rows(db_path, f"PRAGMA table_info({table})")]
    return {r[0]: dict(zip(columns, r)) for r in _rows(db_path, f"SELECT * FROM {table}")}


def _parse_dt(value):
    return datetime.strptime(str(value).replace("T", " ")[:16], "%Y-%m-%d %H:%M")


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    for table in OTHER_TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"table {table} should not change"}

    mango = _rows(
        initial_db_path,
        """
        SELECT a.scheduled_at FROM appointments a JOIN pets p ON p.id = a.pet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Mango' AND a.status = 'scheduled'
        """,
    )
    lulu = _rows(initial_db_path, "SELECT id FROM pets WHERE owner_id = 1 AND name = 'Lulu'")
    kim = _rows(initial_db_path, "SELECT id FROM veterinarians WHERE full_name LIKE '%Laura Kim%'")
    if len(mango) != 1 or len(lulu) != 1 or len(kim) != 1:
        return {"result": "others", "reason": "initial database does not identify Mango's visit, Lulu or Dr. Kim uniquely"}
    day = _parse_dt(mango[0][0]).date()
    lulu_id, kim_id = lulu[0][0], kim[0][0]

    initial_slots = _table(initial_db_path, "appointment_slots")
    final_slots = _table(final_db_path, "appointment_slots")
    wanted = [
        s for s in initial_slots.values()
        if s["vet_id"] == kim_id and s["status"] == "open"
        and _parse_dt(s["starts_at"]).date() == day and _parse_dt(s["starts_at"]).strftime("%H:%M") == "15:00"
    ]
    if len(wanted) != 1:
        return {"result": "others", "reason": "no unique open 3:00 PM slot for Dr. Kim on Mango's day"}
    slot = wanted[0]

    if set(initial_slots) != set(final_slots):
        return {"result": "others", "reason": "slots were added or deleted"}
    for slot_id, row in initial_slots.items():
        after = final_slots[slot_id]
        expected = dict(row, status="booked") if slot_id == slot["id"] else row
        if after != expected:
            return {"result": "others", "reason": f"slot {slot_id} is not in the expected state"}

    initial_appts = _table(initial_db_path, "appointments")
    final_appts = _table(final_db_path, "appointments")
    for appt_id, row in initial_appts.items():
        if final_appts.get(appt_id) != row:
            return {"result": "others", "reason": f"existing appointment {appt_id} changed"}
    new = [a for i, a in final_appts.items() if i not in initial_appts]
    if len(new) != 1:
        return {"result": "others", "reason": f"expected exactly one new appointment, found {len(new)}"}
    appt = new[0]
    if appt["owner_id"] != 1 or appt["pet_id"] != lulu_id:
        return {"result": "others", "reason": "new appointment is not for user 1's Lulu"}
    if appt["vet_id"] != kim_id or appt["slot_id"] != slot["id"]:
        return {"result": "others", "reason": "new appointment is not in Dr. Kim's 3:00 PM slot on Mango's day"}
    if _parse_dt(appt["scheduled_at"]) != _parse_dt(slot["starts_at"]):
        return {"result": "others", "reason": "appointment time does not match the slot"}
    if appt["status"] != "scheduled":
        return {"result": "others", "reason": f"status is {appt['status']!r}"}
    if appt["visit_type"] != "dental":
        return {"result": "others", "reason": f"visit_type is {appt['visit_type']!r}, expected dental"}
    return {"result": "complete", "appointment_id": appt["id"], "slot_id": slot["id"]}
