# reasoning: Read-only question: how many copies of the paperback Overstory are available at user 1's home branch. Report the home branch, every copy of both editions with branch and status, the expected count, and whether the database changed.
# success_criteria: The answer gives the number of 'available' copies of the Paperback edition (ISBN 9780393356687) owned by user 1's home branch (expected: 2) and the database is unchanged.
# failure_criteria: The answer counts the hardcover edition too, counts copies at other branches, counts the checked-out paperback, or the agent changed any data.
import sqlite3


def _query(path, sql, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    home = _query(initial_db_path,
                  "SELECT u.home_branch_id, b.name FROM users u JOIN branches b ON b.id = u.home_branch_id WHERE u.id = 1")[0]
    copies = _query(initial_db_path, """
        SELECT c.id, t.id AS title_id, t.edition, t.isbn_13, b.name AS branch, c.status
        FROM copies c JOIN titles t ON t.id = c.title_id JOIN branches b ON b.id = c.branch_id
        WHERE lower(t.title) = 'the overstory' ORDER BY t.id, c.branch_id, c.id
    """)
    expected = [c for c in copies if c["edition"] == "Paperback" and c["branch"] == home["name"] and c["status"] == "available"]
    unchanged = all(
        _query(initial_db_path, f"SELECT * FROM {t} ORDER BY id") == _query(final_db_path, f"SELECT * FROM {t} ORDER BY id")
        for t in ["copies", "loans", "holds", "fines", "reviews", "users"]
    )
    return {
        "home_branch": home["name"],
        "overstory_copies_all_editions": copies,
        "expected_available_paperback_at_home": len(expected),
        "database_unchanged": unchanged,
    }
