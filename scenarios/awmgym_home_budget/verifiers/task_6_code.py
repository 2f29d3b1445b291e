# reasoning: Read task. Maya's (user 1) "Emergency Fund" goal has target 20000.00 and 12350.75 saved, so 7649.25 remains, target date 2026-06-30. Daniel's "Emergency Car Repair Fund" and household 2's "Emergency Fund" are distractors. The answer must give the remaining amount and the target date; nothing may change.
# strategy: combined
# key_check: answer mentions target_amount - current_amount of user 1's Emergency Fund (7649.25)
# key_check: answer mentions the target date 2026-06-30 in any common format
# key_check: no table changed
import re
import sqlite3

TABLES = ["households", "users", "accounts", "categories", "transactions", "budgets", "recurring_bills", "savings_goals"]


def _query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _snapshot(db_path, table):
    conn = sqlite3.connect(db_path)
    try:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY id")
        cols = [d[0] for d in cur.description]
        return {row[0]: dict(zip(cols, row)) for row in cur.fetchall()}
    finally:
        conn.close()


def _tables_unchanged(initial_db_path, final_db_path, tables):
    for table in tables:
        if _snapshot(initial_db_path, table) != _snapshot(final_db_path, table):
            return table
    return None


def _amounts_in(text):
    values = []
    for token in re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text or ""):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            pass
    return values


def _mentions_amount(text, expected, tol=0.01):
    return any(abs(v - expected) <= tol for v in _amounts_in(text))


MONTHS = ["january", "february", "march", "april", "may", "june", "july",
          "august", "september", "october", "november", "december"]


def _mentions_date(text, iso_date):
    year, month, day = iso_date[:10].split("-")
    m, d = int(month), int(day)
    name = MONTHS[m - 1]
    t = (text or "").lower()
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)
    t = re.sub(r"([a-z])\.", r"\1", t)
    t = re.sub(r"\s+", " ", t)
    candidates = [
        iso_date[:10], f"{m}/{d}/{year}", f"{month}/{day}/{year}",
        f"{name} {d}, {year}", f"{name} {d} {year}", f"{d} {name} {year}", f"{d} {name}, {year}",
        f"{name[:3]} {d}, {year}", f"{name[:3]} {d} {year}", f"{d} {name[:3]} {year}",
    ]
    return any(c in t for c in candidates)


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    rows = _query(initial_db_path,
                  "SELECT target_amount, current_amount, target_date FROM savings_goals "
                  "WHERE household_id = 1 AND user_id = 1 AND name = 'Emergency Fund'")
    if len(rows) != 1:
        return {"result": "others", "reason": "goal not found"}
    target, current, target_date = rows[0]
    remaining = round(float(target) - float(current), 2)
    changed = _tables_unchanged(initial_db_path, final_db_path, TABLES)
    if changed:
        return {"result": "others", "reason": f"table {changed} was modified by a read-only task"}
    answer = final_answer or ""
    if not _mentions_amount(answer, remaining):
        return {"result": "others", "reason": f"answer does not mention {remaining:.2f}"}
    if not _mentions_date(answer, target_date):
        return {"result": "others", "reason": f"answer does not mention the target date {target_date}"}
    return {"result": "complete", "remaining": remaining, "target_date": target_date}
