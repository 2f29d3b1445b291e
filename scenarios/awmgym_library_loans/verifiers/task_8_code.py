# reasoning: Read-only task. User 1's queue position is 1 + the number of other waiting holds on the same title (the standard hardcover Fourth Wing) placed earlier. A cancelled hold placed earlier and the separate queue on the Deluxe Limited Edition must not be counted. Holds must not change.
# strategy: combined
# key_check: expected position computed from the initial DB (waiting holds on the same title_id ordered by placed_at, id)
# key_check: explicit position claims in the answer (#N, position N, Nth, ordinal words) must equal the expected value
# key_check: without explicit claims, the bare number must appear and the careless positions must not
# key_check: the answer is specific: at most 30 distinct numbers and exactly one claimed position
# key_check: holds table unchanged
import re
import sqlite3

MAX_NUMBERS = 30  # a list of every position is not an answer

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}


def _position_claims(text):
    text = text.lower()
    claims = set()
    for m in re.finditer(r"#\s*(\d{1,2})\b", text):
        claims.add(int(m.group(1)))
    for m in re.finditer(r"(?:position|place|spot|number|no\.)\s*(?:is\s*|of\s*|:\s*|number\s*)?#?\s*(\d{1,2})\b", text):
        claims.add(int(m.group(1)))
    for m in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)\b", text):
        claims.add(int(m.group(1)))
    for word, value in ORDINALS.items():
        # "fourth wing" is the book title, not a position
        for m in re.finditer(r"\b" + word + r"\b(?!\s+wing)", text):
            claims.add(value)
    return claims


def _bare_numbers(text):
    return {int(n) for n in re.findall(r"(?<![\d.\-/])\d{1,2}(?![\d\-/]|\.\d)", text)}


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").strip()
    if not answer:
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        mine = conn.execute(
            """SELECT h.id, h.title_id FROM holds h JOIN titles t ON t.id = h.title_id
               WHERE h.user_id = 1 AND h.status = 'waiting' AND t.title = 'Fourth Wing'"""
        ).fetchall()
        if len(mine) != 1:
            return {"result": "others", "reason": "user 1 does not have exactly one waiting Fourth Wing hold"}
        hold_id, title_id = mine[0]
        queue = [r[0] for r in conn.execute(
            "SELECT id FROM holds WHERE title_id = ? AND status = 'waiting' ORDER BY placed_at, id", (title_id,))]
        expected = queue.index(hold_id) + 1
        placed = conn.execute("SELECT placed_at FROM holds WHERE id = ?", (hold_id,)).fetchone()[0]
        with_cancelled = 1 + conn.execute(
            "SELECT COUNT(*) FROM holds WHERE title_id = ? AND id != ? AND placed_at < ?", (title_id, hold_id, placed)
        ).fetchone()[0]
        with_all_editions = 1 + conn.execute(
            """SELECT COUNT(*) FROM holds h JOIN titles t ON t.id = h.title_id
               WHERE t.title = 'Fourth Wing' AND h.status = 'waiting' AND h.id != ? AND h.placed_at < ?""",
            (hold_id, placed),
        ).fetchone()[0]
        before = conn.execute("SELECT * FROM holds ORDER BY id").fetchall()
    finally:
        conn.close()

    if len(set(re.findall(r"\d+", answer))) > MAX_NUMBERS:
        return {"result": "others", "reason": "answer lists too many numbers to state one position"}
    claims = _position_claims(answer)
    if claims:
        if claims != {expected}:
            return {"result": "others", "reason": f"position claims {sorted(claims)} do not match {expected}"}
    else:
        numbers = _bare_numbers(answer)
        if expected not in numbers:
            return {"result": "others", "reason": f"answer does not state position {expected}"}
        if numbers & ({with_cancelled, with_all_editions} - {expected}):
            return {"result": "others", "reason": "answer states a careless queue position"}

    conn = sqlite3.connect(final_db_path)
    try:
        after = conn.execute("SELECT * FROM holds ORDER BY id").fetchall()
    finally:
        conn.close()
    if before != after:
        return {"result": "others", "reason": "holds changed during a read-only task"}
    return {"result": "complete", "expected_position": expected}
