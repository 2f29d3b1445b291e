# reasoning: Write task. Biscuit's upcoming wellness exam (user 1's dog, not the cancelled same-day visit nor the surgical consult) must end up in Dr. Tran's open slot exactly 7 days later at the same time. Tran's slots 6 days later or at other times that day, and another vet's slot at the same time, are distractors. Moving the appointment (old slot released) is expected; cancelling it and booking the new slot as a fresh wellness appointment is also accepted.
# strategy: modification_based
# key_check: the target slot (same vet, starts exactly 7 days after the original appointment) is now 'booked' and holds Biscuit's wellness appointment
# key_check: the original slot is released ('open')
# key_check: no other appointment or slot changed, and no other table changed
import sqlite3
from datetime import datetime, timedelta

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

    target = _rows(
        initial_db_path,
        """
        SELECT a.id FROM appointments a JOIN pets p ON p.id = a.pet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Biscuit'
          AND a.visit_type = 'wellness' AND a.status = 'scheduled'
        """,
    )
    if len(target) != 1:
        return {"result": "others", "reason": f"expected one scheduled wellness exam for Biscuit, found {len(target)}"}
    initial_appts = _table(initial_db_path, "appointments")
    final_appts = _table(final_db_path, "appointments")
    initial_slots = _table(initial_db_path, "appointment_slots")
    final_slots = _table(final_db_path, "appointment_slots")
    original = initial_appts[target[0][0]]
    wanted_start = _parse_dt(original["scheduled_at"]) + timedelta(days=7)
    candidates = [
        s for s in initial_slots.values()
        if s["vet_id"] == original["vet_id"] and s["status"] == "open" and _parse_dt(s["starts_at"]) == wanted_start
    ]
    if len(candidates) != 1:
        return {"result": "others", "reason": "no unique open slot one week later in the initial database"}
    new_slot = candidates[0]

    # slots: new slot booked, old slot released, all others untouched
    if set(initial_slots) != set(final_slots):
        return {"result": "others", "reason": "slots were added or deleted"}
    for slot_id, row in initial_slots.items():
        after = final_slots[slot_id]
        if slot_id == new_slot["id"]:
            expected_status = "booked"
        elif slot_id == original["slot_id"]:
            expected_status = "open"
        else:
            expected_status = row["status"]
        if after["status"] != expected_status:
            return {"result": "others", "reason": f"slot {slot_id} has status {after['status']!r}, expected {expected_status!r}"}
        if {k: v for k, v in after.items() if k != "status"} != {k: v for k, v in row.items() if k != "status"}:
            return {"result": "others", "reason": f"slot {slot_id} changed beyond its status"}

    # find the appointment that now occupies the new slot
    holders = [a for a in final_appts.values() if a["slot_id"] == new_slot["id"] and a["status"] == "scheduled"]
    if len(holders) != 1:
        return {"result": "others", "reason": "the slot one week later does not hold exactly one scheduled appointment"}
    holder = holders[0]
    if holder["pet_id"] != original["pet_id"] or holder["owner_id"] != 1 or holder["vet_id"] != new_slot["vet_id"]:
        return {"result": "others", "reason": "the new slot is not held by Biscuit's appointment with the same vet"}
    if _parse_dt(holder["scheduled_at"]) != wanted_start:
        return {"result": "others", "reason": f"appointment time is {holder['scheduled_at']}, expected {wanted_start}"}

    new_ids = [i for i in final_appts if i not in initial_appts]
    if holder["id"] == original["id"]:
        # moved in place
        if new_ids:
            return {"result": "others", "reason": "unexpected new appointments"}
        allowed = {"slot_id", "scheduled_at", "duration_minutes", "reason", "updated_at"}
        for column, value in original.items():
            if column not in allowed and holder[column] != value:
                return {"result": "others", "reason": f"appointment column {column} changed"}
    else:
        # cancelled and rebooked
        if new_ids != [holder["id"]]:
            return {"result": "others", "reason": "expected exactly one new appointment when rebooking"}
        if final_appts[original["id"]]["status"] != "cancelled":
            return {"result": "others", "reason": "the original exam is still active next to the new one"}
        if holder["visit_type"] != "wellness":
            return {"result": "others", "reason": f"rebooked visit_type is {holder['visit_type']!r}"}
    for appt_id, row in initial_appts.items():
        if appt_id == original["id"]:
            continue
        if final_appts.get(appt_id) != row:
            return {"result": "others", "reason": f"appointment {appt_id} should not change"}
    return {"result": "complete", "appointment_id": holder["id"], "slot_id": new_slot["id"]}
