"""`dxmon explain --index tasks`: why a task has its class in a month (docs/task_tracking.md).

For a task code and a month (YYYY-MM), from the live warehouse (read-only):

* the class of `marts.fct_tasks` that month, its group and the rule that gives it (seed
  `task_classes`), the deadline in force and the completion counted;
* the registry row it was assigned by: the document, the task-list file (inbox path, raw-archive
  copy, sha256, version), sheet and row, and the cells as read (lead unit, deadline as typed);
  the lead unit that month and how it got there (a crosswalk says so);
* every change of its deadline (`int_task_deadline_history`), counted or not and why;
* the deciding report row: the status-report file (inbox path, archive copy, sha256, version,
  report date), sheet and row, the cells as typed; and every report row of the task up to the
  month with its contradictions;
* the month's gate (`meta.publication_gate`, index 'tasks') and the task build's run, code version
  and input hash (`meta.run_provenance`, index 'tasks')."""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.core.warehouse import connect, table_exists
from publication.audit.provenance import TASKS

REPORT_ROW_COLUMNS = ("period", "reporting_unit_code", "row_status", "reported_status", "reported_status_text",
                      "completion_date", "evidence", "progress_percent", "extension_deadline", "approval_document",
                      "approval_date", "contradictions", "is_deciding_row", "inbox_path", "sheet", "source_row")


class TaskExplainError(LookupError):
    """Nothing to explain; the message says what was looked for and what exists."""


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _one(con, sql: str, params: list) -> dict | None:
    rows = _rows(con, sql, params)
    return rows[0] if rows else None


def explain_task(task_code: str, period: str, warehouse: Path | None = None) -> dict:
    task_code, month = task_code.strip().upper(), period.strip()[:7]
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.fct_tasks"):
            raise TaskExplainError("marts.fct_tasks is not built; run the pipeline (`make run`, "
                                   "`dxmon tasks status --rebuild`) first")
        task = _one(con, "SELECT * FROM marts.fct_tasks WHERE task_code = ? AND period = ?", [task_code, month])
        if task is None:
            months = [r["period"] for r in _rows(con, "SELECT DISTINCT period FROM marts.fct_tasks "
                                                      "WHERE task_code = ? ORDER BY 1", [task_code])]
            if months:
                raise TaskExplainError(f"task {task_code} has no class in {month}; it is classified in "
                                       f"{months[0]} … {months[-1]}")
            like = [r["task_code"] for r in _rows(con, "SELECT DISTINCT task_code FROM marts.fct_tasks "
                                                       "WHERE task_code LIKE ? ORDER BY 1 LIMIT 5",
                                                  [f"%{task_code[-6:]}%"])]
            raise TaskExplainError(f"no task {task_code} in the registry in effect"
                                   + (f" (similar codes: {', '.join(like)})" if like else ""))
        rule = _one(con, "SELECT class_code, class_name_vi AS name_vi, class_name_en AS name_en, class_group, class_rule AS rule "
                         "FROM staging.stg_tasks__classes "
                         "WHERE class_code = ?", [task["class_code"]]) \
            if table_exists(con, "staging.stg_tasks__classes") else None
        registry = _one(con, """
            SELECT r.*, s.inbox_path, s.archived_path, s.sha256, s.version, s.document_date, s.document_title,
                   s.received_at
            FROM raw.task_plan_rows r JOIN raw.task_plan_submissions s USING (submission_id)
            WHERE r.submission_id = ? AND r.source_row = ?""",
                        [task["registry_submission_id"], task["registry_source_row"]])
        deciding = None
        if task.get("deciding_submission_id") is not None:
            deciding = _one(con, """
                SELECT r.*, s.inbox_path, s.archived_path, s.sha256, s.version, s.report_date, s.received_at
                FROM raw.task_report_rows r JOIN raw.task_report_submissions s USING (submission_id)
                WHERE r.submission_id = ? AND r.source_row = ?""",
                            [task["deciding_submission_id"], task["deciding_source_row"]])
        history = _rows(con, "SELECT change_sequence, change_kind, effective_from_month, deadline_before, "
                             "deadline_after, approval_document, approval_date, is_counted, not_counted_reason, "
                             "inbox_path, sheet, source_row FROM intermediate.int_task_deadline_history "
                             "WHERE task_code = ? ORDER BY change_sequence", [task_code]) \
            if table_exists(con, "intermediate.int_task_deadline_history") else []
        reports = _rows(con, f"SELECT {', '.join(REPORT_ROW_COLUMNS)} FROM marts.fct_task_status_reports "
                             "WHERE task_code = ? AND period <= ? ORDER BY period, inbox_path, source_row",
                        [task_code, month]) \
            if table_exists(con, "marts.fct_task_status_reports") else []
        gate = _one(con, "SELECT publication_basis, is_publishable, blocking_failures, override_id, checked_at "
                         "FROM meta.publication_gate WHERE index_name = 'tasks' AND period_key = ?", [month])
        build = _one(con, "SELECT run_id, code_version, input_hash, recorded_at FROM meta.run_provenance "
                          "WHERE index_name = ? ORDER BY recorded_at DESC, run_id LIMIT 1", [TASKS])
    return {"task_code": task_code, "period": month, "task": task, "class_rule": rule, "registry_row": registry,
            "deadline_history": history, "deciding_row": deciding, "report_rows": reports,
            "gate": gate or {"publication_basis": "withheld", "why": "the month was never validated"},
            "build": build}


def _cells(row: dict | None, names: tuple[str, ...]) -> str:
    if not row:
        return "—"
    return ", ".join(f"{n}={row[n]!r}" if isinstance(row[n], str) else f"{n}={row[n]}"
                     for n in names if row.get(n) not in (None, ""))


def format_task_explanation(result: dict) -> str:
    t = result["task"]
    rule = result["class_rule"] or {}
    out = [f"task {result['task_code']} in {result['period']} (as of {t.get('as_of_date')}): {t['class_code']}"
           + (f" — {rule.get('name_vi')} ({rule.get('name_en')})" if rule else ""),
           f"  rule: {rule.get('rule', '(seed task_classes)')}",
           f"  deadline in force {t.get('deadline_in_force')} (registry {t.get('deadline_original')}); "
           f"completion counted: {t.get('completion_date_counted') or 'none'}; days overdue: {t.get('days_overdue')}; "
           f"key task: {'yes' if t.get('is_key_task') else 'no'}",
           f"  lead unit this month: {t.get('lead_unit_code')} (assigned to {t.get('assigned_lead_unit_code')}"
           f"{'; ' + t['lead_unit_note'] if t.get('lead_unit_note') else ''})"]
    r = result["registry_row"]
    out.append("  assigned by: " + (
        f"{r['document_number']} of {r['document_date']} ({r.get('document_title') or ''}); file {r['inbox_path']} "
        f"v{r['version']} sha256 {r['sha256'][:16]}… (archive {r['archived_path']}), "
        f"{'sheet ' + r['sheet'] + ', ' if r.get('sheet') else ''}row {r['source_row']}: "
        + _cells(r, ("title", "lead_unit_text", "cooperating_unit_codes", "raw_deadline", "recurrence",
                     "expected_result", "is_key_task"))
        if r else "the registry row was not found (the task list was rebuilt since the marts)"))
    if result["deadline_history"]:
        out.append("  deadline history:")
        for h in result["deadline_history"]:
            out.append("    " + ", ".join(f"{k}={v}" for k, v in h.items() if v not in (None, "") and k != "task_code"))
    d = result["deciding_row"]
    if d:
        raw = json.loads(d["raw_values"]) if d.get("raw_values") else {}
        out.append(f"  decided by: {d['inbox_path']} v{d['version']} (report date {d['report_date']}, sha256 "
                   f"{d['sha256'][:16]}…, archive {d['archived_path']}), "
                   f"{'sheet ' + d['sheet'] + ', ' if d.get('sheet') else ''}row {d['source_row']}: "
                   + (", ".join(f"{k}={v!r}" for k, v in raw.items() if v not in (None, "")) or "no cell filled"))
    else:
        out.append("  decided by: no report row of its lead unit mentions the task up to this month: "
                   "classified from its deadline alone")
    if t.get("contradictions"):
        out.append(f"  contradictions up to this month: {t['contradictions']}")
    if result["report_rows"]:
        out.append("  report rows of the task up to this month:")
        for row in result["report_rows"]:
            out.append("    " + _cells(row, REPORT_ROW_COLUMNS))
    g = result["gate"]
    out.append(f"  gate of {result['period']}: {g.get('publication_basis')}"
               + (f" (override {g['override_id']})" if g.get("override_id") else "")
               + (f"; failures: {g['blocking_failures'][:300]}" if g.get("blocking_failures") else ""))
    b = result["build"]
    if b:
        out.append(f"  built by run {b['run_id']} (code {b['code_version']}, input hash {b['input_hash'][:16]}…, "
                   f"{b['recorded_at']:%Y-%m-%d %H:%M})")
    return "\n".join(out)
