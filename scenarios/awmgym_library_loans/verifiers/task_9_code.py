# reasoning: Read-only task. The answer must name the branch(es) owning an 'available' copy of Tomorrow, and Tomorrow, and Tomorrow. Branches whose copies are checked out or in transit may only be mentioned together with a word saying they are not available. Nothing may change.
# strategy: combined
# key_check: branches with an available copy are read from the initial DB
# key_check: every such branch is named in the answer (short name, e.g. "Riverside")
# key_check: a branch whose copy is checked out or in transit is never presented as available
# key_check: copies, loans and holds unchanged
import re
import sqlite3

NEGATIONS = ("checked out", "checked-out", "in transit", "in-transit", "on loan", "not ", "unavailable",
             "no copies", "no copy", "none", "isn't", "aren't", "out on", "borrowed", "on its way", "being moved")


def _short(name):
    return name.lower().replace(" branch", "").replace(" library", "").strip()


def _clauses(text):
    return [c for c in re.split(r"[.;!?\n]", text.lower()) if c.strip()]


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").strip()
    if not answer:
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        rows = conn.execute(
            """SELECT b.name, c.status FROM copies c JOIN titles t ON t.id = c.title_id JOIN branches b ON b.id = c.branch_id
               WHERE t.title = 'Tomorrow, and Tomorrow, and Tomorrow'"""
        ).fetchall()
        snap_before = [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("copies", "loans", "holds")]
    finally:
        conn.close()
    available = {_short(n) for n, s in rows if s == "available"}
    unavailable = {_short(n) for n, s in rows if s != "available"} - available
    if not available:
        return {"result": "others", "reason": "no available copy in the initial DB"}

    lower = answer.lower()
    for branch in available:
        if branch not in lower:
            return {"result": "others", "reason": f"answer does not name {branch}"}
    for clause in _clauses(lower):
        for branch in unavailable:
            if branch in clause and not any(n in clause for n in NEGATIONS):
                return {"result": "others", "reason": f"answer presents {branch} as having a copy on the shelf"}

    conn = sqlite3.connect(final_db_path)
    try:
        snap_after = [conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ("copies", "loans", "holds")]
    finally:
        conn.close()
    if snap_before != snap_after:
        return {"result": "others", "reason": "database changed during a read-only task"}
    return {"result": "complete", "available_at": sorted(available)}
