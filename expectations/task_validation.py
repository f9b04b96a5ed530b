"""Validate a month of task tracking with Great Expectations: the task lists in effect at the
month's end and the month's counted status reports (docs/task_tracking.md).

As for the agency KPI reports (expectations/kpi_validation.py), DuckDB builds small pandas frames
and GX checks them; `submission_id` is a column, so one GX run per suite covers the month.

What is validated:
* the task lists in effect at the month's end: per document number, the latest accepted
  submission (max version, then received_at) of a document dated on or before the month's last
  day; its rows that intake accepted;
* the month's counted reports: per unit folder, the latest accepted version of the month's
  folder; its rows that intake accepted.

Suites (results in `meta.validation_results`, period_month = the month's first day, the month in
`details`; extract_kind 'task_plans' for the lists, 'task_reports' for the reports):
* `task_plans_required` (blocking): every task has a task code, one lead unit and a deadline or
  a recurrence (intake enforces these; the suite holds the line if a row reaches the table
  another way), and its task code is unique across the documents in effect: a code found in two
  documents fails on the rows of the later-received one, naming both documents (the earlier
  assignment stands; which one the issuer meant is theirs to say).
* `task_plans_expected_result` (**warning**): the expected result is stated. Notice 56/TB-VPCP
  (2025) asks plans to state who, what, when and what result, but a task with a lead unit and a
  deadline is classified from its dates alone: a missing result makes the plan weaker, not the
  counts wrong, so it does not hold every agency's month back; the warning names the document,
  the row and the task for the issuer.
* `task_reports_values` (blocking): reported statuses in the vocabulary (seed
  `task_status_categories`, without the `key_task` flag), progress between 0 and 100, a
  completion date not before the date of the document assigning the task.
* `task_reports_coverage` (**warning**): every lead unit with tasks open in the month (assigned by
  the month's end, lead unit in the month through the 2025 merger and ministry-restructure
  crosswalks, not reported completed in an earlier month's counted report; recurring tasks are
  always open) has an accepted report of the month. A missing report is a fact to publish (its
  tasks are classified from their dates: overdue when their deadline passed), not a reason to
  withhold every other agency's figures.
A status that contradicts the dates (completed without a completion date, a completion after
the report date, a status going backwards, ...) is NOT checked here: the dbt models flag these
contradictions on the report rows (`fct_task_status_reports`), where the classification lives.

Rows failing a blocking expectation are flagged in `raw.task_plan_rows` / `raw.task_report_rows`
with a rule `gx_<check>` and a reason naming file, sheet, row and field; a new run recomputes
those flags (a task list's flags are those of the latest month validated, since a list is in
effect in many months). The month's gate (`meta.task_period_status`, read through
`meta.publication_gate` as index 'tasks'): publishable when no task list in effect and no
counted report fails a blocking expectation; the failures are kept as one text
('<submission_id>: <message>; ...') that an override must name.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402

from expectations.month_validation import ExpectationOutcome, build_data_docs, gx_context, quality_dir  # noqa: E402
from expectations.report_validation import (  # noqa: E402
    GX_RULE_PREFIX,
    ReportGate,
    apply_flags,
    expectation_meta,
    frame_row_location,
    record_sample_rows,
    run_report_suites,
)
from ingestion.core.schema import prepare_warehouse  # noqa: E402
from ingestion.kpi.reports.periods import month  # noqa: E402
from ingestion.tasks.units import successions  # noqa: E402
from ingestion.tasks.vocabulary import ONCE, RECURRENCES, reported_statuses  # noqa: E402

log = logging.getLogger(__name__)

PLANS_KIND = "task_plans"
REPORTS_KIND = "task_reports"
DATED_RECURRENCES = tuple(r for r in RECURRENCES if r != ONCE)  # a task of these needs no deadline


def reported_status_codes() -> list[str]:
    """The reported status vocabulary (seed task_status_categories, the key-task flag left out)."""
    return [c.status_code for c in reported_statuses()]


def completed_status_codes() -> list[str]:
    return [c.status_code for c in reported_statuses() if c.is_completed]


def unit_crosswalk() -> pd.DataFrame:
    """(old_code, new_code, effective_date) of the 2025 province merger and ministry restructure
    (ingestion/tasks/units.py::successions): a task led by the old unit is led by the new one
    from that date, as `int_unit_codes_attributed` attributes it."""
    return pd.DataFrame([(s.old_code, s.new_code, s.effective_date) for s in successions().values()],
                        columns=["old_code", "new_code", "effective_date"], dtype=object)


# --------------------------------------------------------------------------------------------
# Suites

def plans_required_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="task_plans_required")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="task_code", meta=expectation_meta(True, "a task has no task code", "task_code_missing")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="lead_unit_code", meta=expectation_meta(
            True, "every task has exactly one lead unit (Decree 39/2022/NĐ-CP)", "lead_unit_missing")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
        column="has_deadline_or_recurrence", value_set=[True], meta=expectation_meta(
            True, "a task has neither a deadline nor a recurrence: it can never be classified", "deadline_missing")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeNull(
        column="earlier_document_number", meta=expectation_meta(
            True, "a task code is unique across the documents in effect (the later-received document's rows fail)",
            "duplicate_task_code")))
    return suite


def plans_expected_result_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="task_plans_expected_result")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="expected_result", meta=expectation_meta(
            False, "plans state the expected result of every task (notice 56/TB-VPCP, 2025)", "expected_result_missing")))
    return suite


def reports_values_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="task_reports_values")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
        column="reported_status", value_set=reported_status_codes(), meta=expectation_meta(
            True, "a reported status outside the vocabulary (seed task_status_categories)", "unknown_status")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="progress_percent", min_value=0, max_value=100, meta=expectation_meta(
            True, "progress is a percentage between 0 and 100", "progress_out_of_range")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="completion_days_after_document", min_value=0, meta=expectation_meta(
            True, "a task cannot be completed before the document assigning it", "completion_before_document")))
    return suite


def reports_coverage_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="task_reports_coverage")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="accepted_reports", min_value=1, meta=expectation_meta(
            False, "a lead unit with tasks open in the month has no accepted report", "unit_without_report")))
    return suite


PLAN_SUITES = {
    "task_plans_required": plans_required_suite,
    "task_plans_expected_result": plans_expected_result_suite,
}
REPORT_SUITES = {
    "task_reports_values": reports_values_suite,
    "task_reports_coverage": reports_coverage_suite,
}


@dataclass
class TaskValidation(ReportGate):
    period: str
    period_start: dt.date
    period_end: dt.date
    run_id: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    documents: int = 0     # task lists in effect
    submissions: int = 0   # counted status reports
    flagged_rows: int = 0
    blocking_by_submission: dict[str, list[str]] = field(default_factory=dict)
    warnings_by_submission: dict[str, list[str]] = field(default_factory=dict)
    # the lists in effect and the counted reports: the only ones validated, so every failure counts
    latest_submission_ids: set[str] = field(default_factory=set)
    sample_row_ids: dict[tuple, list[str]] = field(default_factory=dict)
    docs_index: str | None = None
    docs_pages: dict[str, str] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "period": self.period,
            "documents_in_effect": self.documents,
            "submissions": self.submissions,
            "expectations": len(self.outcomes),
            "blocking_failures": len(self.blocking_failures),
            "warnings": len(self.warnings),
            "submissions_with_blocking_failures": len(self.blocking_by_submission),
            "latest_reports_with_blocking_failures": len(self.blocking_in_latest),
            "flagged_rows": self.flagged_rows,
            "is_publishable": self.is_publishable,
        }


# --------------------------------------------------------------------------------------------
# Frames

PLANS_IN_EFFECT_SQL = """
SELECT submission_id, document_number, document_date, received_at, inbox_path
FROM raw.task_plan_submissions
WHERE status = 'accepted' AND document_date <= $period_end
QUALIFY row_number() OVER (PARTITION BY document_number ORDER BY version DESC, received_at DESC) = 1
"""

# Every accepted row of the lists in effect, with the first earlier occurrence of its task code
# in order of receipt (NULL for the first one).
PLAN_ROWS_SQL = f"""
WITH in_effect AS ({PLANS_IN_EFFECT_SQL}),
plan_rows AS (
  SELECT r.submission_id, r.task_code, r.title, r.lead_unit_code, r.lead_unit_text, r.deadline, r.recurrence,
         r.expected_result, r.sheet, r.source_row, e.document_number, e.document_date, e.received_at, e.inbox_path,
         row_number() OVER (PARTITION BY r.task_code ORDER BY e.received_at, r.submission_id, r.source_row)
           AS occurrence
  FROM raw.task_plan_rows r JOIN in_effect e USING (submission_id)
  WHERE r.rejection_rule IS NULL
)
SELECT p.*, (p.deadline IS NOT NULL OR list_contains($recurrences, p.recurrence)) AS has_deadline_or_recurrence,
       CASE WHEN p.task_code IS NOT NULL AND p.occurrence > 1 THEN f.document_number END AS earlier_document_number,
       CASE WHEN p.task_code IS NOT NULL AND p.occurrence > 1 THEN f.inbox_path END AS earlier_inbox_path,
       CASE WHEN p.task_code IS NOT NULL AND p.occurrence > 1 THEN f.source_row END AS earlier_source_row,
       true AS has_row
FROM plan_rows p
LEFT JOIN plan_rows f ON f.task_code = p.task_code AND f.occurrence = 1
ORDER BY p.received_at, p.submission_id, p.source_row
"""

COUNTED_REPORTS_SQL = """
SELECT submission_id, period, folder_unit_code, unit_code, report_date, inbox_path
FROM raw.task_report_submissions
WHERE status = 'accepted' AND period = $period
QUALIFY row_number() OVER (PARTITION BY folder_unit_code ORDER BY version DESC, received_at DESC) = 1
"""

# The registry in effect, one row per task code (its first assignment), for the report checks.
REGISTRY_SQL = f"""
SELECT task_code, lead_unit_code, recurrence, document_number, document_date FROM (
  SELECT r.task_code, r.lead_unit_code, r.recurrence, e.document_number, e.document_date,
         row_number() OVER (PARTITION BY r.task_code ORDER BY e.received_at, r.submission_id, r.source_row) AS occurrence
  FROM raw.task_plan_rows r JOIN ({PLANS_IN_EFFECT_SQL}) e USING (submission_id)
  WHERE r.rejection_rule IS NULL AND r.task_code IS NOT NULL
) WHERE occurrence = 1
"""

REPORT_ROWS_SQL = f"""
WITH counted AS ({COUNTED_REPORTS_SQL}),
registry AS ({REGISTRY_SQL})
SELECT r.submission_id, r.unit_code, r.task_code, r.reported_status, r.reported_status_text, r.completion_date,
       r.progress_percent, r.sheet, r.source_row, c.inbox_path, g.document_number, g.document_date,
       date_diff('day', g.document_date, r.completion_date) AS completion_days_after_document,
       true AS has_row
FROM raw.task_report_rows r JOIN counted c USING (submission_id)
LEFT JOIN registry g USING (task_code)
WHERE r.rejection_rule IS NULL
ORDER BY r.submission_id, r.source_row
"""

# Lead units (in the month, through the crosswalk) with open tasks, and their accepted reports.
COVERAGE_SQL = f"""
WITH registry AS ({REGISTRY_SQL}),
attributed AS (
  SELECT g.task_code, g.recurrence, coalesce(x.new_code, g.lead_unit_code) AS lead_unit_code
  FROM registry g
  LEFT JOIN task_unit_crosswalk x ON x.old_code = g.lead_unit_code AND x.effective_date <= $period_end
  WHERE g.lead_unit_code IS NOT NULL
),
earlier_counted AS (
  SELECT submission_id FROM raw.task_report_submissions
  WHERE status = 'accepted' AND period < $period
  QUALIFY row_number() OVER (PARTITION BY period, folder_unit_code ORDER BY version DESC, received_at DESC) = 1
),
completed_before AS (
  SELECT DISTINCT r.task_code FROM raw.task_report_rows r JOIN earlier_counted USING (submission_id)
  WHERE r.rejection_rule IS NULL AND list_contains($completed, r.reported_status)
),
accepted AS (
  SELECT unit_code, count(*) AS accepted_reports FROM raw.task_report_submissions
  WHERE status = 'accepted' AND period = $period GROUP BY unit_code
)
SELECT a.lead_unit_code AS unit_code, count(*) AS open_tasks, coalesce(max(c.accepted_reports), 0) AS accepted_reports
FROM attributed a
LEFT JOIN accepted c ON c.unit_code = a.lead_unit_code
WHERE a.recurrence <> 'once' OR a.task_code NOT IN (SELECT task_code FROM completed_before)
GROUP BY a.lead_unit_code
ORDER BY a.lead_unit_code
"""


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """('2025-08') -> (1 August 2025, 31 August 2025); a clear error for anything else."""
    if not isinstance(period, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"task period {period!r}: expected a month 'YYYY-MM' (e.g. '2025-08')")
    bounds = month(int(period[:4]), int(period[5:]))
    return bounds.start, bounds.end


def frames_for(con, period: str, period_end: dt.date) -> dict[str, pd.DataFrame]:
    params = {"period": period, "period_end": period_end}
    plans = con.execute(PLAN_ROWS_SQL, {"period_end": period_end, "recurrences": list(DATED_RECURRENCES)}).df()
    reports = con.execute(REPORT_ROWS_SQL, params).df()
    con.register("task_unit_crosswalk", unit_crosswalk())
    try:
        coverage = con.execute(COVERAGE_SQL, {**params, "completed": completed_status_codes()}).df()
    finally:
        con.unregister("task_unit_crosswalk")
    return {
        "task_plans_required": plans,
        "task_plans_expected_result": plans,
        "task_reports_values": reports,
        "task_reports_coverage": coverage,
    }


# --------------------------------------------------------------------------------------------
# GX

def _date(value) -> str:
    return pd.Timestamp(value).strftime("%d/%m/%Y") if pd.notna(value) else "?"


def _message(check: str, row) -> tuple[str, str]:
    """(field, message) of one failing frame row: the cause, then file, sheet, row and field."""
    task = f"task {row.get('task_code')!s}"
    if check == "task_code_missing":
        return "task_code", f"task code missing: a task of {row['document_number']} has no code ({frame_row_location(row)}, " \
                            "field 'task_code')"
    if check == "lead_unit_missing":
        return "lead_unit", (f"lead unit missing: {task} of {row['document_number']} has no single lead unit "
                             f"(typed {row.get('lead_unit_text')!r}) ({frame_row_location(row)}, field 'lead_unit')")
    if check == "deadline_missing":
        return "deadline", (f"deadline missing: {task} of {row['document_number']} has neither a deadline nor a "
                            f"recurrence ({frame_row_location(row)}, field 'deadline')")
    if check == "duplicate_task_code":
        earlier = Path(row["earlier_inbox_path"]).name
        return "task_code", (f"duplicate task code: {task} of {row['document_number']} is already assigned by "
                             f"{row['earlier_document_number']} (file '{earlier}', row "
                             f"{int(row['earlier_source_row'])}, received earlier) ({frame_row_location(row)}, field 'task_code')")
    if check == "expected_result_missing":
        return "expected_result", (f"expected result missing: {task} of {row['document_number']} states no result "
                                   f"({frame_row_location(row)}, field 'expected_result')")
    if check == "unknown_status":
        return "status", (f"unknown status: {task} reported {row['reported_status']!r} (typed "
                          f"{row.get('reported_status_text')!r}), not in the status vocabulary ({frame_row_location(row)}, "
                          "field 'status')")
    if check == "progress_out_of_range":
        return "progress", (f"progress out of range: {task} reported {row['progress_percent']:g} %, outside 0-100 "
                            f"({frame_row_location(row)}, field 'progress')")
    if check == "completion_before_document":
        return "completion_date", (f"completion before assignment: {task} completed on "
                                   f"{_date(row['completion_date'])}, before {row['document_number']} of "
                                   f"{_date(row['document_date'])} assigned it ({frame_row_location(row)}, field 'completion_date')")
    if check == "unit_without_report":
        return "unit_code", (f"no report: unit {row['unit_code']} leads {int(row['open_tasks'])} open task(s) and "
                             "has no accepted report of the month")
    return "task_code", f"{check} ({frame_row_location(row)})"


def _row_id(row) -> str:
    sid = row.get("submission_id")
    if isinstance(sid, str):
        return f"{sid}#{int(row['source_row'])}" if pd.notna(row.get("source_row")) else sid
    return f"unit:{row.get('unit_code')}"


def _flag_key(row) -> tuple:
    return (int(row["source_row"]),)


def validate_task_period(con: duckdb.DuckDBPyConnection, period: str, run_id: str | None = None,
                         root: Path | None = None, build_docs: bool = True) -> TaskValidation:
    """Run the task suites for month `period` ('YYYY-MM'): flag failing rows, record the results
    and the month's gate row (meta.task_period_status)."""
    prepare_warehouse(con)
    period_start, period_end = month_bounds(period)
    run_id = run_id or "manual"
    # Flags of a previous run are recomputed, never accumulated: the month's reports, and the
    # lists (in effect or superseded) dated by the month's end.
    con.execute(f"""UPDATE raw.task_report_rows SET rejection_rule = NULL, rejection_reason = NULL,
                        rejection_field = NULL
                    WHERE period = ? AND rejection_rule LIKE '{GX_RULE_PREFIX}%'""", [period])
    con.execute(f"""UPDATE raw.task_plan_rows r SET rejection_rule = NULL, rejection_reason = NULL,
                        rejection_field = NULL
                    FROM raw.task_plan_submissions s
                    WHERE s.submission_id = r.submission_id AND s.document_date <= ?
                      AND r.rejection_rule LIKE '{GX_RULE_PREFIX}%'""", [period_end])
    frames = frames_for(con, period, period_end)
    result = TaskValidation(period=period, period_start=period_start, period_end=period_end, run_id=run_id)
    plans = {r[0] for r in con.execute(PLANS_IN_EFFECT_SQL, {"period_end": period_end}).fetchall()}
    reports = {r[0] for r in con.execute(COUNTED_REPORTS_SQL, {"period": period}).fetchall()}
    result.documents, result.submissions = len(plans), len(reports)
    result.latest_submission_ids = plans | reports
    root = root or quality_dir()
    root.mkdir(parents=True, exist_ok=True)
    context = gx_context(str(root))
    run_name = f"tasks-{period}-{run_id}"
    details = {"period": period}
    result_ids, flags = run_report_suites(
        context, "dxmon_task_profiles", PLAN_SUITES, {k: frames[k] for k in PLAN_SUITES}, run_name, result,
        PLANS_KIND, _message, _row_id, _flag_key, details=details)
    report_ids, report_flags = run_report_suites(
        context, "dxmon_task_profiles", REPORT_SUITES, {k: frames[k] for k in REPORT_SUITES}, run_name, result,
        REPORTS_KIND, _message, _row_id, _flag_key, details=details)
    result_ids.update(report_ids)
    result.flagged_rows = (apply_flags(con, "raw.task_plan_rows", ("source_row",), flags)
                           + apply_flags(con, "raw.task_report_rows", ("source_row",), report_flags))
    now = dt.datetime.now()
    con.execute("DELETE FROM meta.validation_results WHERE period_month = ? AND extract_kind IN (?, ?) "
                "AND run_id = ?", [period_start, PLANS_KIND, REPORTS_KIND, run_id])
    con.executemany(
        "INSERT INTO meta.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, period_start, o.extract_kind, o.suite_name, o.expectation, o.column, o.is_blocking, o.success,
          o.observed_value, o.unexpected_count, o.element_count, o.details, now] for o in result.outcomes])
    con.execute("INSERT OR REPLACE INTO meta.task_period_status VALUES (?, ?, ?, ?, ?, ?)",
                [period, period_start, result.is_publishable, result.blocking_failures_text, now, run_id])
    record_sample_rows(con, run_id, period_start, "task_", result.sample_row_ids)
    if build_docs:
        result.docs_index, result.docs_pages = build_data_docs(context, result_ids)
    log.info("validated tasks %s: %d lists in effect, %d reports, %d blocking failures, %d warnings, %d rows flagged",
             period, result.documents, result.submissions, len(result.blocking_failures), len(result.warnings),
             result.flagged_rows)
    return result
