# reasoning: Read-only question about which branch has Tomorrow, and Tomorrow, and Tomorrow on the shelf. Report each copy with branch and status and whether copies, loans or holds changed.
# success_criteria: The agent names Riverside Branch, the only branch whose copy has status available, and changes nothing.
# failure_criteria: The agent names Central, Eastside (checked out) or Northgate (in transit) as having a copy available, omits Riverside, or modifies data (for example by placing a hold).
import sqlite3


def _rows(path, sql):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    sql = """SELECT c.id, c.barcode, b.name AS branch, c.status FROM copies c JOIN titles t ON t.id = c.title_id
             JOIN branches b ON b.id = c.branch_id WHERE t.title = 'Tomorrow, and Tomorrow, and Tomorrow' ORDER BY c.id"""
    copies = _rows(initial_db_path, sql)
    unchanged = all(_rows(initial_db_path, f"SELECT * FROM {t} ORDER BY id") == _rows(final_db_path, f"SELECT * FROM {t} ORDER BY id")
                    for t in ("copies", "loans", "holds"))
    return {
        "copies": copies,
        "branches_with_available_copy": sorted({c["branch"] for c in copies if c["status"] == "available"}),
        "database_unchanged": unchanged,
    }
