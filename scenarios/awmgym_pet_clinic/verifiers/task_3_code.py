# reasoning: Write task. The target is user 1's scheduled follow-up for Luna (the cat, not the rabbit Lulu) with Dr. Aoife O'Connor. Another owner's cat also called Luna has a recheck with the same vet on the same day, and Lulu has her own upcoming visit; neither may be touched. Only the target's status (plus cancellation reason/updated_at) may change, and its slot may be released back to 'open'.
# strategy: modification_based
# key_check: the scheduled appointment of user 1's Luna with Dr. O'Connor now has status 'cancelled'
# key_check: no other column of that appointment changed except cancellation_reason and updated_at
# key_check: every other appointment (other owner's Luna, Lulu, Biscuit) is unchanged and no appointment was added
# key_check: slots are unchanged except the target's own slot, which may become 'open'; all other tables unchanged
import sqlite3

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


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    for table in OTHER_TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"table {table} should not change"}

    target = _rows(
        initial_db_path,
        """
        SELECT a.id, a.slot_id
        FROM appointments a
        JOIN pets p ON p.id = a.pet_id
        JOIN veterinarians v ON v.id = a.vet_id
        WHERE a.owner_id = 1 AND p.owner_id = 1 AND p.name = 'Luna'
          AND v.full_name LIKE '%Connor%' AND a.status = 'scheduled'
        """,
    )
    if len(target) != 1:
        return {"result": "others", "reason": f"expected one target appointment in the initial DB, found {len(target)}"}
    target_id, target_slot = target[0]

    initial_appts = _table(initial_db_path, "appointments")
    final_appts = _table(final_db_path, "appointments")
    if set(initial_appts) != set(final_appts):
        return {"result": "others", "reason": "appointments were added or deleted"}
    for appt_id, row in initial_appts.items():
        after = final_appts[appt_id]
        if appt_id == target_id:
            if after["status"] != "cancelled":
                return {"result": "others", "reason": f"target appointment status is {after['status']!r}"}
            for column, value in row.items():
                if column not in ("status", "cancellation_reason", "updated_at") and after[column] != value:
                    return {"result": "others", "reason": f"target appointment column {column} changed"}
        elif after != row:
            return {"result": "others", "reason": f"appointment {appt_id} should not change"}

    initial_slots = _table(initial_db_path, "appointment_slots")
    final_slots = _table(final_db_path, "appointment_slots")
    if set(initial_slots) != set(final_slots):
        return {"result": "others", "reason": "appointment slots were added or deleted"}
    for slot_id, row in initial_slots.items():
        after = final_slots[slot_id]
        if slot_id == target_slot:
            if after["status"] not in ("open", row["status"]):
                return {"result": "others", "reason": f"released slot has status {after['status']!r}"}
            if {k: v for k, v in after.items() if k != "status"} != {k: v for k, v in row.items() if k != "status"}:
                return {"result": "others", "reason": "released slot changed beyond its status"}
        elif after != row:
            return {"result": "others", "reason": f"slot {slot_id} should not change"}
    return {"result": "complete", "cancelled_appointment_id": target_id}
