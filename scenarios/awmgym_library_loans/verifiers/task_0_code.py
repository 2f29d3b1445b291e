# reasoning: Read-only task. The answer must name the active loan of user 1 with the earliest due date, read from the initial database so the check does not depend on when the database was built. The returned-early Thursday Murder Club loan, the long-returned earlier Ender's Game loan and other patrons' loans due sooner are distractors. No table may change.
# strategy: combined
# key_check: the earliest-due active loan of user 1 is found in the initial DB (returned loans excluded)
# key_check: among user 1's active titles mentioned in the answer, the earliest-due one is mentioned first
# key_check: if the answer gives ISO dates, the correct due date is among them
# key_check: the returned loan and other patrons' loans with earlier due dates are not presented as the answer
# key_check: no rows changed in any table
import re
import sqlite3

TABLES = ["branches", "users", "titles", "copies", "loans", "holds", "fines", "reviews"]
NEGATIONS = ("returned", "already", "not ", "no longer", "isn't", "another patron", "someone else", "earlier loan")


def _snapshot(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in TABLES}
    finally:
        conn.close()


def _loans(db_path, where):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            f"""SELECT l.id, t.title, l.due_date
                FROM loans l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id
                WHERE {where} ORDER BY l.due_date ASC, l.id ASC"""
        ).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").strip()
    if not answer:
        return {"result": "others", "reason": "empty final answer"}

    active = _loans(initial_db_path, "l.user_id = 1 AND l.status = 'active' AND l.returned_date IS NULL")
    if not active:
        return {"result": "others", "reason": "no active loans found for user 1"}
    earliest_due = str(active[0][2])[:10]
    winners = {r[1].lower() for r in active if str(r[2])[:10] == earliest_due}
    active_titles = {r[1].lower() for r in active}
    distractors = _loans(initial_db_path, "(l.user_id = 1 AND l.status = 'returned') OR (l.user_id != 1 AND l.status = 'active')")
    distractor_titles = {r[1].lower() for r in distractors if str(r[2])[:10] <= earliest_due} - active_titles

    lower = answer.lower()
    positions = {t: lower.find(t) for t in active_titles if t in lower}
    if not positions:
        return {"result": "others", "reason": "answer names none of user 1's current loans"}
    first = min(positions, key=positions.get)
    if first not in winners:
        return {"result": "others", "reason": f"answer leads with '{first}', expected one of {sorted(winners)}"}

    iso_dates = set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", answer))
    if iso_dates and earliest_due not in iso_dates:
        return {"result": "others", "reason": f"answer gives dates {sorted(iso_dates)} but the due date is {earliest_due}"}

    for clause in re.split(r"[.;!?\n]", lower):
        for title in distractor_titles:
            if title in clause and not any(n in clause for n in NEGATIONS):
                return {"result": "others", "reason": f"answer presents '{title}' (returned, or another patron's loan)"}

    if _snapshot(initial_db_path) != _snapshot(final_db_path):
        return {"result": "others", "reason": "database changed during a read-only task"}
    return {"result": "complete", "expected": sorted(winners), "due_date": earliest_due}
