# reasoning: Read-only question. Among user 1's ACTIVE workflows, failed runs started in the last 7 days are: HubSpot lead enrichment 3, Support ticket escalation 2 (4 within 14 days), Stripe payments to Slack #revenue 1, Sync Airtable content calendar to Notion 1. The paused 'Invoice reminder emails' has 4 and must not be chosen. The answer must name HubSpot lead enrichment with 3 failures and the database must be unchanged.
# strategy: query_based
# key_check: final answer names 'HubSpot lead enrichment'
# key_check: final answer states 3 failures
# key_check: final answer does not crown the paused 'Invoice reminder emails' or 'Support ticket escalation'
# key_check: workflows and workflow_runs are unchanged
import re
import sqlite3


def _rows(db_path, sql):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    answer = (final_answer or "").lower()
    if not answer.strip():
        return {"result": "others", "reason": "empty final answer"}

    # the expected workflow must exist for user 1 and be active
    wf = _rows(initial_db_path, "SELECT id, status FROM workflows WHERE user_id = 1 AND name = 'HubSpot lead enrichment'")
    if not wf or wf[0][1] != "active":
        return {"result": "others", "reason": "expected workflow missing from initial db"}

    if "hubspot lead enrichment" not in answer:
        return {"result": "others", "reason": "answer does not name HubSpot lead enrichment"}

    normalized = answer.replace(",", "")
    if not (re.search(r"(?<![\d.])3(?!\d)(?!\.\d)", normalized) or re.search(r"\bthree\b", normalized)):
        return {"result": "others", "reason": "answer does not state 3 failures"}

    # a careless answer that ranks another workflow first (e.g. "Invoice reminder emails ... 4 failures")
    first_name_pos = {}
    for name in ("hubspot lead enrichment", "invoice reminder emails", "support ticket escalation"):
        pos = answer.find(name)
        if pos >= 0:
            first_name_pos[name] = pos
    if min(first_name_pos, key=first_name_pos.get) != "hubspot lead enrichment":
        return {"result": "others", "reason": "answer leads with a different workflow"}

    for table in ("workflows", "workflow_runs"):
        before = _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id")
        after = _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id")
        if before != after:
            return {"result": "others", "reason": f"{table} changed during a read-only task"}

    return {"result": "complete"}
