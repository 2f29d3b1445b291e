# reasoning: User 1's 'Weekly pipeline report' is workflow 2 (not Daniel's workflow 11 with the same name, not the '(copy)' draft 9). It has 6 succeeded runs with durations 47200, 44300, 51200, 39800, 45500 and 42000 ms, average 45000 ms = 45 s. Including the failed run would give about 39 s. The answer must give 6 runs and 45 s (or 45000 ms / 0.75 min); runs must be unchanged.
# strategy: query_based
# key_check: final answer mentions 6 successful runs
# key_check: final answer gives an average of 45 s / 45000 ms / 0.75 min
# key_check: the answer is specific: at most 30 distinct numbers, and not the careless count (7, the failed run included) or average (about 39 s)
# key_check: workflow_runs unchanged
import re
import sqlite3


MAX_NUMBERS = 30  # a list of candidate values is not an answer


def _numbers(text):
    values = []
    for token in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            continue
    return values


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    conn = sqlite3.connect(initial_db_path)
    try:
        rows = conn.execute(
            "SELECT duration_ms FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
            "WHERE w.user_id = 1 AND w.name = 'Weekly pipeline report' AND r.status = 'succeeded'"
        ).fetchall()
        before_runs = conn.execute("SELECT * FROM workflow_runs ORDER BY id").fetchall()
    finally:
        conn.close()
    if not rows:
        return {"result": "others", "reason": "no succeeded runs in initial db"}
    count = len(rows)
    avg_ms = sum(r[0] for r in rows) / count
    conn = sqlite3.connect(initial_db_path)
    try:
        all_runs = [r[0] for r in conn.execute(
            "SELECT duration_ms FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
            "WHERE w.user_id = 1 AND w.name = 'Weekly pipeline report' AND r.duration_ms IS NOT NULL"
        )]
    finally:
        conn.close()

    nums = _numbers(answer)
    if len(set(nums)) > MAX_NUMBERS:
        return {"result": "others", "reason": f"answer lists {len(set(nums))} numbers; one count and one average were asked for"}
    if len(all_runs) != count and all_runs:
        careless_s = sum(all_runs) / len(all_runs) / 1000.0
        if abs(careless_s - avg_ms / 1000.0) > 1 and any(abs(n - careless_s) <= 0.5 or abs(n - careless_s * 1000) <= 500 for n in nums):
            return {"result": "others", "reason": "answer states the average including failed runs"}
    count_ok = any(abs(n - count) < 1e-9 for n in nums) or (count == 6 and re.search(r"\bsix\b", answer))
    if not count_ok:
        return {"result": "others", "reason": "run count not found", "expected_count": count}
    avg_s = avg_ms / 1000.0
    avg_ok = any(
        abs(n - avg_s) <= 0.5 or abs(n - avg_ms) <= 500 or abs(n - avg_s / 60.0) <= 0.01
        for n in nums
    )
    if not avg_ok:
        return {"result": "others", "reason": "average duration not found", "expected_ms": avg_ms}

    conn = sqlite3.connect(final_db_path)
    try:
        after_runs = conn.execute("SELECT * FROM workflow_runs ORDER BY id").fetchall()
    finally:
        conn.close()
    if before_runs != after_runs:
        return {"result": "others", "reason": "workflow_runs changed during a read-only task"}
    return {"result": "complete"}
