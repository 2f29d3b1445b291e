# reasoning: Read-only task. The expected count is the number of copies of the Paperback edition of The Overstory owned by user 1's home branch with status 'available'. The hardcover edition, copies at other branches and a checked-out paperback at the same branch give the wrong counts a careless agent would report.
# strategy: combined
# key_check: home branch of user 1 and the paperback title id are read from the initial DB
# key_check: the answer states the correct count (digit or word)
# key_check: the answer does not state the careless counts (both editions at the home branch, or the paperback across all branches)
# key_check: no rows changed in any table
import re
import sqlite3

NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10}
TABLES = ["branches", "users", "titles", "copies", "loans", "holds", "fines", "reviews"]


def _numbers_in(text):
    text = text.lower()
    found = {int(n) for n in re.findall(r"(?<![\d.\-/])\d{1,3}(?![\d\-/]|\.\d)", text)}
    for word, value in NUMBER_WORDS.items():
        if re.search(r"\b" + word + r"\b", text):
            found.add(value)
    return found


def _tables_equal(initial_db_path, final_db_path):
    a = sqlite3.connect(initial_db_path)
    b = sqlite3.connect(final_db_path)
    try:
        for table in TABLES:
            q = f"SELECT * FROM {table} ORDER BY id"
            if a.execute(q).fetchall() != b.execute(q).fetchall():
                return False
        return True
    finally:
        a.close()
        b.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").strip()
    if not answer:
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        home = conn.execute("SELECT home_branch_id FROM users WHERE id = 1").fetchone()[0]
        paperback = conn.execute(
            "SELECT id FROM titles WHERE lower(title) = 'the overstory' AND lower(edition) = 'paperback'"
        ).fetchone()
        if not paperback:
            return {"result": "others", "reason": "paperback edition missing"}
        expected = conn.execute(
            "SELECT COUNT(*) FROM copies WHERE title_id = ? AND branch_id = ? AND status = 'available'",
            (paperback[0], home),
        ).fetchone()[0]
        both_editions_home = conn.execute(
            """SELECT COUNT(*) FROM copies c JOIN titles t ON t.id = c.title_id
               WHERE lower(t.title) = 'the overstory' AND c.branch_id = ? AND c.status = 'available'""",
            (home,),
        ).fetchone()[0]
        paperback_everywhere = conn.execute(
            "SELECT COUNT(*) FROM copies WHERE title_id = ? AND status = 'available'", (paperback[0],)
        ).fetchone()[0]
    finally:
        conn.close()

    numbers = _numbers_in(answer)
    if expected not in numbers:
        return {"result": "others", "reason": f"answer does not state {expected}", "numbers": sorted(numbers)}
    wrong = {both_editions_home, paperback_everywhere} - {expected}
    if numbers & wrong:
        return {"result": "others", "reason": f"answer also states a careless count {sorted(numbers & wrong)}"}
    if not _tables_equal(initial_db_path, final_db_path):
        return {"result": "others", "reason": "database changed during a read-only task"}
    return {"result": "complete", "expected": expected}
