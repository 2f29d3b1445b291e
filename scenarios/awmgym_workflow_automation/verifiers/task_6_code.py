# reasoning: Workflow 9 'Weekly pipeline report (copy)' (draft, user 1) must be renamed to 'Monthly pipeline report' and its schedule (id 6) must get cron '0 8 1 * *'. The original 'Weekly pipeline report' (workflow 2, schedule 1 with the same weekly cron) and Daniel's same-named workflow 11 (schedule 7) must stay untouched, as must every other workflow and schedule.
# strategy: modification_based
# key_check: workflows id 9 name is 'Monthly pipeline report'
# key_check: schedules id 6 cron_expression is '0 8 1 * *'
# key_check: workflows 2 and 11 and schedules 1 and 7 unchanged
# key_check: no schedules added or removed; all other workflows/schedules unchanged
import sqlite3


def _fetch(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    wf = _fetch(final_db_path, "SELECT user_id, name FROM workflows WHERE id = 9")
    if not wf or wf[0][0] != 1:
        return {"result": "others", "reason": "workflow 9 missing"}
    if " ".join(wf[0][1].split()).lower() != "monthly pipeline report":
        return {"result": "others", "reason": "workflow 9 not renamed", "name": wf[0][1]}

    sched = _fetch(final_db_path, "SELECT workflow_id, cron_expression FROM schedules WHERE id = 6")
    if not sched or sched[0][0] != 9:
        return {"result": "others", "reason": "schedule 6 missing or moved"}
    if " ".join(sched[0][1].split()) != "0 8 1 * *":
        return {"result": "others", "reason": "schedule 6 cron not monthly on the 1st at 08:00", "cron": sched[0][1]}

    before_wf = {r[0]: r for r in _fetch(initial_db_path, "SELECT * FROM workflows")}
    after_wf = {r[0]: r for r in _fetch(final_db_path, "SELECT * FROM workflows")}
    if set(before_wf) != set(after_wf):
        return {"result": "others", "reason": "workflows were added or deleted"}
    for wf_id, row in before_wf.items():
        if wf_id != 9 and after_wf[wf_id] != row:
            return {"result": "others", "reason": f"workflow {wf_id} was modified"}

    before_s = {r[0]: r for r in _fetch(initial_db_path, "SELECT * FROM schedules")}
    after_s = {r[0]: r for r in _fetch(final_db_path, "SELECT * FROM schedules")}
    if set(before_s) != set(after_s):
        return {"result": "others", "reason": "schedules were added or deleted"}
    for s_id, row in before_s.items():
        if s_id != 6 and after_s[s_id] != row:
            return {"result": "others", "reason": f"schedule {s_id} was modified"}
    return {"result": "complete"}
