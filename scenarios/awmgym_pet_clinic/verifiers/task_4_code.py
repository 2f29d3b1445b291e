# reasoning: Write task. Biscuit (user 1's dog) has an expired Carprofen prescription with no refills and a current active one; another owner's dog also named Biscuit has an active Carprofen prescription. Only the active one of user 1's Biscuit may get a refill request, with delivery as the method. Refill counts and every other prescription must stay as they were.
# strategy: modification_based
# key_check: user 1's active Carprofen prescription for Biscuit has refill_status 'requested', refill_pickup_method 'delivery' and a refill_requested_at timestamp
# key_check: refills_remaining, status and the other clinical columns of that prescription are unchanged
# key_check: the expired Carprofen, the other owner's Carprofen and all other prescriptions are unchanged; other tables unchanged
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "invoices"]
REFILL_COLUMNS = ("refill_status", "refill_pickup_method", "refill_requested_at", "refill_notes")


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
        SELECT rx.id
        FROM prescriptions rx
        JOIN pets p ON p.id = rx.pet_id
        WHERE p.owner_id = 1 AND p.name = 'Biscuit' AND rx.medication_name = 'Carprofen' AND rx.status = 'active'
        """,
    )
    if len(target) != 1:
        return {"result": "others", "reason": f"expected one active Carprofen prescription for Biscuit, found {len(target)}"}
    target_id = target[0][0]

    initial_rx = _table(initial_db_path, "prescriptions")
    final_rx = _table(final_db_path, "prescriptions")
    if set(initial_rx) != set(final_rx):
        return {"result": "others", "reason": "prescriptions were added or deleted"}
    for rx_id, row in initial_rx.items():
        after = final_rx[rx_id]
        if rx_id != target_id:
            if after != row:
                return {"result": "others", "reason": f"prescription {rx_id} should not change"}
            continue
        if after["refill_status"] != "requested":
            return {"result": "others", "reason": f"refill_status is {after['refill_status']!r}"}
        if (after["refill_pickup_method"] or "").lower() != "delivery":
            return {"result": "others", "reason": f"refill_pickup_method is {after['refill_pickup_method']!r}"}
        if not after["refill_requested_at"]:
            return {"result": "others", "reason": "refill_requested_at not set"}
        for column, value in row.items():
            if column not in REFILL_COLUMNS and after[column] != value:
                return {"result": "others", "reason": f"prescription column {column} changed"}
    return {"result": "complete", "prescription_id": target_id}
