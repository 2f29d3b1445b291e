# reasoning: Read-only task. Among user 1's prescriptions with status 'active', one has strictly the fewest refills remaining. Expired or discontinued prescriptions with zero refills (e.g. Biscuit's old Carprofen, Lulu's Meloxicam) and another owner's Luna's prescription must not be picked. The answer must name the medication, the pet and the number of refills left, and the database must be untouched.
# strategy: query_based
# key_check: the answer names the medication of user 1's active prescription with the fewest refills_remaining
# key_check: the answer names the pet it is for and states the refill count (digit or word)
# key_check: no table changed between the initial and final database
import re
import sqlite3

TABLES = ["users", "veterinarians", "pets", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]
NUMBER_WORDS = {0: "zero|no|none", 1: "one|a single", 2: "two", 3: "three", 4: "four", 5: "five"}


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    for table in TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"read-only task but table {table} changed"}

    active = _rows(
        initial_db_path,
        """
        SELECT rx.medication_name, p.name, rx.refills_remaining
        FROM prescriptions rx JOIN pets p ON p.id = rx.pet_id
        WHERE p.owner_id = 1 AND rx.status = 'active'
        ORDER BY rx.refills_remaining
        """,
    )
    if not active:
        return {"result": "others", "reason": "user 1 has no active prescriptions"}
    fewest = active[0][2]
    winners = [r for r in active if r[2] == fewest]
    if len(winners) != 1:
        return {"result": "others", "reason": "no unique minimum in the initial database"}
    medication, pet_name, refills = winners[0]

    if medication.lower().split()[0] not in answer:
        return {"result": "others", "reason": f"answer does not name {medication}"}
    if not re.search(r"\b%s\b" % re.escape(pet_name.lower()), answer):
        return {"result": "others", "reason": f"answer does not name {pet_name}"}
    count_pattern = r"\b(?:%d|%s)\b" % (refills, NUMBER_WORDS.get(refills, str(refills)))
    if not re.search(count_pattern, answer):
        return {"result": "others", "reason": f"answer does not state {refills} refill(s) left"}
    return {"result": "complete", "medication": medication, "pet": pet_name, "refills_remaining": refills}
