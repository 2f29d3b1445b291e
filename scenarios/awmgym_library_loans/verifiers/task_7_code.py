# reasoning: Write task. Exactly one new review must exist: by user 1, for Piranesi, 5 stars, with tags containing 'atmospheric' and 'mind-bending' (the tags column is a JSON array), and the requested text. Other patrons' Piranesi reviews, user 1's existing reviews and the Jonathan Strange title by the same author must be untouched.
# strategy: modification_based
# key_check: Piranesi title id read from the initial DB
# key_check: exactly one review row added; user 1, that title, rating 5
# key_check: tags JSON contains both requested tags (case/spacing tolerant); text contains the requested sentence
# key_check: all pre-existing reviews identical
import json
import re
import sqlite3


def _reviews(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM reviews")}
    finally:
        conn.close()


def _norm(text):
    return re.sub(r"[\s_\-]+", " ", (text or "").strip().lower())


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    conn = sqlite3.connect(initial_db_path)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM titles WHERE lower(title) = 'piranesi'")]
    finally:
        conn.close()
    if len(ids) != 1:
        return {"result": "others", "reason": "Piranesi not uniquely identified"}

    before = _reviews(initial_db_path)
    after = _reviews(final_db_path)
    for review_id, row in before.items():
        if after.get(review_id) != row:
            return {"result": "others", "reason": f"existing review {review_id} changed or was deleted"}
    new_ids = sorted(set(after) - set(before))
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected one new review, found {len(new_ids)}"}
    new = after[new_ids[0]]
    if new["user_id"] != 1 or new["title_id"] != ids[0]:
        return {"result": "others", "reason": "new review is not user 1's review of Piranesi"}
    if new["rating"] != 5:
        return {"result": "others", "reason": f"rating is {new['rating']}"}
    try:
        tags = json.loads(new["tags"] or "[]")
    except (TypeError, ValueError):
        return {"result": "others", "reason": "tags column is not a JSON array"}
    if not isinstance(tags, list):
        return {"result": "others", "reason": "tags column is not a JSON array"}
    normalized = {_norm(str(t)) for t in tags}
    for wanted in ("atmospheric", "mind bending"):
        if wanted not in normalized:
            return {"result": "others", "reason": f"tag '{wanted}' missing", "tags": tags}
    text = _norm(new["review_text"])
    if "strange luminous book" not in re.sub(r"[^\w\s]", "", text) or "endless halls" not in text:
        return {"result": "others", "reason": "review text does not match the request"}
    return {"result": "complete", "review_id": new_ids[0]}
