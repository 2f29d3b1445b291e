# reasoning: Posting a 5-star Piranesi review with two tags. Report the Piranesi reviews before and after, any new review rows, and whether existing reviews changed.
# success_criteria: One new review by user 1 for Piranesi (title 2) with rating 5, tags ["atmospheric", "mind-bending"] and the requested text; existing reviews unchanged.
# failure_criteria: No new review, a review of a different title (e.g. Jonathan Strange & Mr Norrell), wrong rating, missing tags or text, duplicates, or edits to other reviews.
import sqlite3


def _dicts(path, sql):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    piranesi_sql = """SELECT r.id, r.user_id, r.rating, r.review_text, r.tags FROM reviews r JOIN titles t ON t.id = r.title_id
                      WHERE t.title = 'Piranesi' ORDER BY r.id"""
    before = {r["id"]: r for r in _dicts(initial_db_path, "SELECT * FROM reviews")}
    after = {r["id"]: r for r in _dicts(final_db_path, "SELECT * FROM reviews")}
    return {
        "piranesi_reviews_before": _dicts(initial_db_path, piranesi_sql),
        "piranesi_reviews_after": _dicts(final_db_path, piranesi_sql),
        "new_review_rows": [after[i] for i in sorted(set(after) - set(before))],
        "existing_reviews_unchanged": all(after.get(i) == r for i, r in before.items()),
    }
