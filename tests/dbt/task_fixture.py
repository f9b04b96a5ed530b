"""Hand-made input of the task tracking models' test (tests/dbt/test_task_models.py): task lists
and status reports inserted straight into the raw task tables (ingestion/core/schema.py
insert_rows), and the tasks gate's status rows. Every case is a date case built by hand; the
expected classes, contradictions and counts are in the test.

Document QĐ 1/QĐ-TTg (issuer TTG, dated 2025-05-15): version 1 (T01 due 2025-06-15, T02), then
version 2 (the registry in effect: T01 due 2025-06-30 and every other task, one row rejected),
then a rejected version 3. Document KH 2/KH-UBQGCDS (2025-07-10) assigns T20 to province 08.
Status reports: 2025-06 (province 01 v1 superseded by v2, a rejected v3; 02 Hà Giang; 08 about a
task of 01), 2025-07 (01; 08, which now leads 02's task T12 after the province merger), 2025-08
(01 only: 08 reports nothing). The gate validated 2025-06 and 2025-07; 2025-08 is withheld.
As of 2025-08-31."""

from __future__ import annotations

import datetime as dt

import duckdb

from ingestion.core.schema import insert_rows, prepare_warehouse

AS_OF = dt.date(2025, 8, 31)
D = dt.date.fromisoformat
DOC_A = "QĐ 1/QĐ-TTg"
DOC_B = "KH 2/KH-UBQGCDS"
EVIDENCE = "CV 12/UBND"

# task_code: (lead unit, deadline, recurrence, key task)
TASKS_A = {
    "T01": ("01", "2025-06-30", "once", False),  # within on its deadline day, overdue the day after
    "T02": ("01", "2025-06-29", "once", True),   # overdue (key task) in June
    "T03": ("01", "2025-06-20", "once", False),  # completed on the deadline: on time
    "T04": ("01", "2025-06-20", "once", False),  # completed the day after: late
    "T05": ("01", None, "monthly", False),       # recurring: met, missed, met
    "T06": ("01", None, "quarterly", False),     # met in Q2's last month; not due mid-Q3
    "T07": ("01", "2025-06-30", "once", False),  # closed with approval
    "T08": ("01", "2025-06-10", "once", False),  # closed without approval: overdue, flagged
    "T09": ("01", "2025-06-15", "once", False),  # extension approved before the deadline: moves it
    "T10": ("01", "2025-06-15", "once", False),  # extension without approval: does not (flagged)
    "T11": ("01", "2025-06-15", "once", False),  # extension approved after the deadline: does not (flagged)
    "T12": ("02", "2025-12-31", "once", True),   # Hà Giang's: led by 08 from 2025-07
    "T13": ("01", "2025-07-31", "once", False),  # completed without a date (flagged)
    "T14": ("01", "2025-06-10", "once", False),  # completed without evidence (flagged): overdue
    "T15": ("01", "2025-08-31", "once", False),  # completion after the report date (flagged)
    "T16": ("01", "2025-06-20", "once", False),  # completed in June, not completed in July (flagged)
    "T17": ("01", "2025-12-31", "once", False),  # progress 60 then 30 (flagged)
    "T18": ("01", "2025-09-10", "once", False),  # never reported: due soon without progress in August
}
TASKS_B = {"T20": ("08", "2025-12-31", "once", False)}


def plan_submission(submission_id, document, document_date, version, received, status="accepted", issuer="TTG"):
    return {"submission_id": submission_id, "year": 2025, "folder_unit_code": issuer, "unit_code": issuer,
            "level": "government" if issuer == "TTG" else "committee", "document_number": document,
            "document_date": D(document_date), "document_title": f"Tasks of {document}", "template_version": "1",
            "report_date": D(document_date), "version": version, "received_at": dt.datetime.fromisoformat(received),
            "inbox_path": f"data/task_plans/2025/{issuer}/{submission_id.rsplit(':', 1)[-1]}.xlsx",
            "archived_path": None, "sha256": submission_id.ljust(64, "0"), "size_bytes": 100, "file_format": "xlsx",
            "status": status}


def plan_row(submission_id, document, issuer, row, task, lead, deadline, recurrence, key, rejection=None):
    return {"submission_id": submission_id, "year": 2025, "issuer_code": issuer, "document_number": document,
            "task_code": task, "title": f"Task {task}", "lead_unit_code": lead, "lead_unit_text": lead,
            "cooperating_unit_codes": "08;46" if task == "T01" else None,
            "deadline": D(deadline) if deadline else None, "recurrence": recurrence, "raw_deadline": deadline,
            "expected_result": "done", "is_key_task": key, "sheet": "Nhiệm vụ", "source_row": row,
            "rejection_rule": rejection, "rejection_reason": "lead agency missing" if rejection else None,
            "rejection_field": "lead_unit" if rejection else None}


def report_submission(submission_id, period, unit, version, report_date, received, status="accepted"):
    start = D(f"{period}-01")
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return {"submission_id": submission_id, "period": period, "period_start": start, "period_end": end,
            "folder_unit_code": unit, "unit_code": unit, "level": "province", "report_period": period,
            "report_date": D(report_date), "template_version": "1", "version": version,
            "received_at": dt.datetime.fromisoformat(received),
            "inbox_path": f"data/task_reports/{period}/{unit}/v{version}.xlsx", "sha256": submission_id.ljust(64, "0"),
            "size_bytes": 100, "file_format": "xlsx", "status": status}


def report_row(submission_id, period, unit, row, task, status, completion=None, evidence=None, progress=None,
               extension=None, approval_document=None, approval_date=None):
    return {"submission_id": submission_id, "period": period, "level": "province", "unit_code": unit,
            "task_code": task, "reported_status": status, "reported_status_text": status,
            "completion_date": D(completion) if completion else None, "evidence": evidence,
            "progress_percent": progress, "extension_deadline": D(extension) if extension else None,
            "approval_document": approval_document, "approval_date": D(approval_date) if approval_date else None,
            "sheet": "Báo cáo", "source_row": row}


S01_06_V1 = "taskreport:2025-06:01:v1"
S01_06 = "taskreport:2025-06:01:v2"
S01_06_V3 = "taskreport:2025-06:01:v3"
S02_06 = "taskreport:2025-06:02:v1"
S08_06 = "taskreport:2025-06:08:v1"
S01_07 = "taskreport:2025-07:01:v1"
S08_07 = "taskreport:2025-07:08:v1"
S01_08 = "taskreport:2025-08:01:v1"
PLAN_A_V1, PLAN_A_V2, PLAN_A_V3, PLAN_B = ("taskplan:2025:TTG:a1", "taskplan:2025:TTG:a2", "taskplan:2025:TTG:a3",
                                           "taskplan:2025:UBQGCDS:b1")

# (submission, row, task, status, completion, evidence, progress, extension, approval document, approval date)
JUNE_01 = [
    (5, "T01", "in_progress", None, None, 50, None, None, None),
    (6, "T02", "in_progress", None, None, 30, None, None, None),
    (7, "T03", "completed_on_time", "2025-06-20", EVIDENCE, 100, None, None, None),
    (8, "T04", "completed", "2025-06-21", EVIDENCE, 100, None, None, None),
    (9, "T05", "recurring", None, EVIDENCE, None, None, None, None),
    (10, "T06", "recurring", None, EVIDENCE, None, None, None, None),
    (11, "T07", "not_completed", None, None, None, None, "CV 9/VPCP", "2025-06-05"),
    (12, "T08", "not_completed", None, None, None, None, None, None),
    (13, "T09", "in_progress", None, None, 40, "2025-09-30", "CV 10/VPCP", "2025-06-10"),
    (14, "T10", "in_progress", None, None, 40, "2025-09-30", None, None),
    (15, "T11", "in_progress", None, None, 40, "2025-09-30", "CV 11/VPCP", "2025-06-20"),
    (16, "T13", "completed", None, EVIDENCE, 100, None, None, None),
    (17, "T14", "completed", "2025-06-09", None, 100, None, None, None),
    (18, "T15", "completed", "2025-07-10", EVIDENCE, 100, None, None, None),
    (19, "T16", "completed", "2025-06-18", EVIDENCE, 100, None, None, None),
    (20, "T17", "in_progress", None, None, 60, None, None, None),
    (21, "T99", "in_progress", None, None, 10, None, None, None),
]
JULY_01 = [
    (5, "T01", "in_progress", None, None, 60, None, None, None),
    (6, "T02", "in_progress", None, None, 40, None, None, None),
    (7, "T05", "recurring", None, None, None, None, None, None),  # no evidence: missed
    (8, "T16", "in_progress", None, None, 90, None, None, None),
    (9, "T17", "in_progress", None, None, 30, None, None, None),
]
AUGUST_01 = [(5, "T05", "recurring", None, EVIDENCE, None, None, None, None)]


def seed(path) -> None:
    with duckdb.connect(str(path)) as con:
        prepare_warehouse(con)
        _plans(con)
        _reports(con)
        checked = dt.datetime(2025, 9, 5, 9)
        insert_rows(con, "meta.task_period_status", [
            {"period": period, "period_start": D(f"{period}-01"), "is_publishable": True, "checked_at": checked}
            for period in ("2025-06", "2025-07")])


def _plans(con) -> None:
    insert_rows(con, "raw.task_plan_submissions", [
        plan_submission(PLAN_A_V1, DOC_A, "2025-05-15", 1, "2025-05-16 08:00:00"),
        plan_submission(PLAN_A_V2, DOC_A, "2025-05-15", 2, "2025-05-20 08:00:00"),
        plan_submission(PLAN_A_V3, DOC_A, "2025-05-15", 3, "2025-05-21 08:00:00", status="rejected"),
        plan_submission(PLAN_B, DOC_B, "2025-07-10", 1, "2025-07-11 08:00:00", issuer="UBQGCDS"),
    ])
    rows = [plan_row(PLAN_A_V1, DOC_A, "TTG", 5, "T01", "01", "2025-06-15", "once", False),
            plan_row(PLAN_A_V1, DOC_A, "TTG", 6, "T02", "01", "2025-06-29", "once", True)]
    for row, (task, (lead, deadline, recurrence, key)) in enumerate(TASKS_A.items(), start=5):
        rows.append(plan_row(PLAN_A_V2, DOC_A, "TTG", row, task, lead, deadline, recurrence, key))
    rows.append(plan_row(PLAN_A_V2, DOC_A, "TTG", 40, "T50", None, "2025-06-30", "once", False,
                         rejection="lead_unit_missing"))
    rows.append(plan_row(PLAN_A_V3, DOC_A, "TTG", 5, "T01", "01", "2026-01-31", "once", False))
    for row, (task, (lead, deadline, recurrence, key)) in enumerate(TASKS_B.items(), start=5):
        rows.append(plan_row(PLAN_B, DOC_B, "UBQGCDS", row, task, lead, deadline, recurrence, key))
    insert_rows(con, "raw.task_plan_rows", rows)


def _rows(submission_id, period, unit, cases):
    return [report_row(submission_id, period, unit, row, task, status, completion, evidence, progress, extension,
                       document, approved) for row, task, status, completion, evidence, progress, extension, document,
            approved in cases]


def _reports(con) -> None:
    insert_rows(con, "raw.task_report_submissions", [
        report_submission(S01_06_V1, "2025-06", "01", 1, "2025-07-03", "2025-07-03 10:00:00"),
        report_submission(S01_06, "2025-06", "01", 2, "2025-07-05", "2025-07-05 10:00:00"),
        report_submission(S01_06_V3, "2025-06", "01", 3, "2025-07-06", "2025-07-06 10:00:00", status="rejected"),
        report_submission(S02_06, "2025-06", "02", 1, "2025-07-02", "2025-07-02 10:00:00"),
        report_submission(S08_06, "2025-06", "08", 1, "2025-07-02", "2025-07-02 11:00:00"),
        report_submission(S01_07, "2025-07", "01", 1, "2025-08-04", "2025-08-04 10:00:00"),
        report_submission(S08_07, "2025-07", "08", 1, "2025-08-03", "2025-08-03 10:00:00"),
        report_submission(S01_08, "2025-08", "01", 1, "2025-09-03", "2025-09-03 10:00:00"),
    ])
    rows = _rows(S01_06_V1, "2025-06", "01", [(5, "T02", "completed", "2025-06-25", EVIDENCE, 100, None, None, None)])
    rows += _rows(S01_06, "2025-06", "01", JUNE_01)
    rows += _rows(S01_06_V3, "2025-06", "01", [(5, "T01", "completed", "2025-06-01", EVIDENCE, 100, None, None, None)])
    rows += _rows(S02_06, "2025-06", "02", [(5, "T12", "in_progress", None, None, 20, None, None, None)])
    rows += _rows(S08_06, "2025-06", "08", [(5, "T01", "in_progress", None, None, 10, None, None, None)])
    rows += _rows(S01_07, "2025-07", "01", JULY_01)
    rows += _rows(S08_07, "2025-07", "08", [(5, "T12", "in_progress", None, None, 40, None, None, None),
                                           (6, "T20", "in_progress", None, None, 10, None, None, None)])
    rows += _rows(S01_08, "2025-08", "01", AUGUST_01)
    # a row the intake rejected never counts
    rows.append({**report_row(S01_07, "2025-07", "01", 10, "T03", None), "rejection_rule": "unknown_status",
                 "rejection_reason": "status 'xyz' is not a known status", "rejection_field": "status"})
    insert_rows(con, "raw.task_report_rows", rows)
