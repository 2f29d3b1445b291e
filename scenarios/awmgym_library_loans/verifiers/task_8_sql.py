# reasoning: Read-only question about user 1's place in the Fourth Wing holds queue. Report the full queue on both Fourth Wing editions with status and placed_at, the computed position of user 1, and whether holds changed.
# success_criteria: The agent reports position 3 (two waiting holds on the standard hardcover were placed before user 1's); holds unchanged.
# failure_criteria: The answer counts the cancelled hold (position 4) or the Deluxe Limited Edition queue (position 5), or the agent changed or cancelled holds.
import sqlite3


def _queue(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            """SELECT h.id, h.user_id, h.title_id, t.edition, h.status, h.placed_at
               FROM holds h JOIN titles t ON t.id = h.title_id WHERE t.title = 'Fourth Wing'
               ORDER BY h.title_id, h.placed_at, h.id""")]
    finally:
        conn.close()


def _user1_position(queue):
    mine = [h for h in queue if h["user_id"] == 1 and h["status"] == "waiting"]
    if not mine:
        return None
    same = [h for h in queue if h["title_id"] == mine[0]["title_id"] and h["status"] == "waiting"]
    return [h["id"] for h in same].index(mine[0]["id"]) + 1


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    before = _queue(initial_db_path)
    after = _queue(final_db_path)
    return {
        "fourth_wing_holds": before,
        "expected_user1_position": _user1_position(before),
        "holds_unchanged": before == after,
    }
