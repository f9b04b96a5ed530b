"""Intake of agencies' monthly task status reports (docs/task_tracking.md), as a form over the one
intake engine (`ingestion/reports/engine.py`).

`task_reports/<YYYY-MM>/<unit_code>/<file>.xlsx|csv` (env `DXMON_TASK_REPORTS_INBOX`). Into
`raw.task_report_submissions` (submission_id `taskreport:<period>:<folder unit>:<sha256[:16]>`,
versions per (period, folder unit) in order of receipt) and `raw.task_report_rows`.

File-level rules (the submission is rejected, a copy goes to `data/quarantine/task_reports/`):
`missing_header`, `bad_header`, `foreign_unit` (both units named), `foreign_period`,
`unknown_unit`, `unit_not_valid` (not valid on the period's last day: province 02 does not report
for 2025-08; the reason names its successor), `wrong_level`, `implausible_report_date`,
`wrong_template_version`, and every reader rule and limit of `ingestion/reports/report_files.py`.

Row-level rules (the row is kept with its rule and a reason naming file, sheet, row and field;
the other rows flow): `missing_task_code`, `duplicate_task` (the first counts), `unknown_status`,
`bad_date` (completion, extension or approval date), `not_a_number` and `out_of_range`
(progress), `extension_without_deadline` (an approving document or date, for a task that is not
closed, without a new deadline), `formula_without_value`.

Not rejected here: what contradicts the registry or the dates (an unknown task, another agency's
task, completed without a date or evidence, a completion after the report date, an extension
approved late). Those rows are accepted as reported and flagged by dbt, where the registry and the
deadlines in force are known (the contract). A pre-filled row the agency did not touch is kept
with reported_status NULL: it says "no report of progress".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import duckdb

from ingestion.core import quarantine
from ingestion.core.raw_archive import task_period
from ingestion.core.warehouse import data_dir
from ingestion.kpi.reports.intake import LEVEL_WORDS
from ingestion.kpi.reports.periods import KpiPeriod, parse_period
from ingestion.reports import engine
from ingestion.reports.cell_parsing import CellError, clean_text, fold, parse_date, parse_unit_code, shown
from ingestion.reports.dti.catalogue import unit_by_code
from ingestion.reports.engine import FileOutcome, FileRejection, Header, IntakeSummary, PeriodKeyedForm
from ingestion.reports.report_files import RawRow, ReportFile, location
from ingestion.tasks.templates import (
    REPORT_COLUMNS,
    REPORT_DATE_FIELDS,
    REPORT_HEADER_FIELDS,
    REPORT_INPUT_FIELDS,
    REPORT_LAYOUT,
    REPORT_REQUIRED_HEADER_FIELDS,
    TEMPLATE_FORMAT_VERSION,
)
from ingestion.tasks.units import is_valid_on, successor_on, unit_label
from ingestion.tasks.vocabulary import parse_code, parse_progress, parse_status

HEADER_LABEL = {key: label for key, _, label, _ in REPORT_HEADER_FIELDS}
# the status of a task closed without completion: its approving document is the closure's, not an extension's
CLOSURE_STATUS = "not_completed"


def default_reports_dir() -> Path:
    return Path(os.environ.get("DXMON_TASK_REPORTS_INBOX", data_dir() / "task_reports")).resolve()


def quarantine_dir() -> Path:
    return quarantine.quarantine_dir(quarantine.TASK_REPORTS)


def folder_period(name: str) -> KpiPeriod | None:
    """The month a task_reports folder stands for (YYYY-MM only), or None."""
    if re.fullmatch(r"\d{4}-\d{2}", name):
        try:
            return parse_period(name)
        except CellError:
            return None
    return None


def check_header(report: ReportFile, period: KpiPeriod, folder_unit: str, received: dt.date) -> Header:
    where = location(report.name, report.sheet)
    found = report.header.get("_found", set())
    missing = [k for k in REPORT_REQUIRED_HEADER_FIELDS if k not in found or clean_text(report.header.get(k)) is None]
    if missing:
        labels = ", ".join(f"'{HEADER_LABEL[k]}'" for k in missing)
        raise FileRejection("missing_header", f"missing header: header cell(s) {labels} missing or empty; fill the "
                                              f"template's header (named cells dxmon_{missing[0]}, ...) ({where})")
    parsed = {}
    for key, parse in (("unit_code", parse_unit_code), ("period", parse_period), ("report_date", parse_date)):
        try:
            parsed[key] = parse(report.header[key])
        except CellError as exc:
            raise FileRejection("bad_header", f"unreadable header '{HEADER_LABEL[key]}': {exc} ({where})") from None
    unit_code, report_period, report_date = parsed["unit_code"], parsed["period"], parsed["report_date"]
    if unit_code != folder_unit:
        raise FileRejection(
            "foreign_unit",
            f"the file is the task report of unit {unit_label(unit_code)} but was submitted into the folder of unit "
            f"{unit_label(folder_unit)}; unit {unit_code} must send it to task_reports/{period.key}/{unit_code}/ "
            f"({where})")
    if report_period.key != period.key:
        raise FileRejection("foreign_period", f"the file reports period {report_period.key} but was submitted into "
                                              f"task_reports/{period.key}/; send it to "
                                              f"task_reports/{report_period.key}/{unit_code}/ (a monthly report: "
                                              f"YYYY-MM) ({where})")
    unit = unit_by_code(unit_code)
    if unit is None:
        raise FileRejection("unknown_unit", f"unknown unit: code {unit_code} is not in the unit registry ({where})")
    if not is_valid_on(unit, period.end):
        ended = f"; it ended on {unit.valid_to:%d/%m/%Y}" if unit.valid_to else ""
        moved = successor_on(unit_code, period.end)
        then = (f"; its tasks are led by {unit_label(moved.new_code)} from {moved.effective_date:%d/%m/%Y}, which "
                f"reports them" if moved else "")
        raise FileRejection("unit_not_valid", f"unit {unit_label(unit_code)} does not report for {period.key} (not "
                                              f"valid on {period.end:%d/%m/%Y}{ended}{then}; see the unit registry) "
                                              f"({where})")
    level_text = clean_text(report.header.get("level"))
    if level_text:
        level = LEVEL_WORDS.get(fold(level_text), fold(level_text))
        if level != unit.level:
            raise FileRejection("wrong_level", f"wrong level: header level '{shown(level_text, 40)}' but unit "
                                               f"{unit_code} is a {unit.level}; write {unit.level} ({where})")
    earliest, latest = engine.report_date_window_between(period.start, period.end, received)
    if not earliest <= report_date <= latest:
        raise FileRejection(
            "implausible_report_date",
            f"implausible report date {report_date:%d/%m/%Y}: a report on {period.key} is dated from "
            f"{earliest:%d/%m/%Y} to {latest:%d/%m/%Y} (not after the day it is received; "
            f"{engine.REPORT_DATE_YEARS_AFTER_ENV}, {engine.REPORT_DATE_DAYS_AHEAD_ENV}) ({where})")
    version = clean_text(report.header.get("template_version")) or TEMPLATE_FORMAT_VERSION
    if version != TEMPLATE_FORMAT_VERSION:
        raise FileRejection("wrong_template_version",
                            f"wrong template version: the file fills in version {shown(version, 20)} of the status "
                            f"report template; the current version is {TEMPLATE_FORMAT_VERSION}: download the "
                            f"{period.key} template again ({where})")
    return Header(unit_code, unit.level, report_date,
                  {"report_period": report_period.key, "template_version": version})


def _typed(value):
    """A cell as typed, for raw_values: text as written, a number as a number, a date ISO."""
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float, bool)):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    return clean_text(value)


def raw_values(raw: RawRow) -> str:
    """The row's non-empty cells as typed, JSON in column order."""
    cells = {name: _typed(raw.cells.get(name)) for name, _ in REPORT_COLUMNS}
    return json.dumps({k: v for k, v in cells.items() if v is not None}, ensure_ascii=False)


def parse_row(raw: RawRow, file_name: str) -> dict:
    """The values of one report row, or the row with its first problem (rule, field, reason)."""
    cells = raw.cells
    code = parse_code(cells.get("task_code"))
    status_text = clean_text(cells.get("status"))
    out = {"task_code": code, "reported_status": None, "reported_status_text": status_text, "completion_date": None,
           "evidence": clean_text(cells.get("evidence")), "progress_percent": None,
           "delay_reason": clean_text(cells.get("delay_reason")), "extension_deadline": None,
           "approval_document": clean_text(cells.get("approval_document")), "approval_date": None,
           "note": clean_text(cells.get("note")), "raw_values": raw_values(raw), "sheet": raw.sheet,
           "source_row": raw.source_row, "rejection_rule": None, "rejection_reason": None, "rejection_field": None}

    def reject(rule: str, fld: str, message: str) -> dict:
        out.update(rejection_rule=rule, rejection_field=fld,
                   rejection_reason=f"{message} ({location(file_name, raw.sheet, raw.source_row, fld)}"
                                    f"{', task ' + shown(code, 40) if code else ''})")
        return out

    for fld in sorted(raw.formula_fields):
        return reject("formula_without_value", fld, "formula without a value: the cell holds a formula without a "
                                                    "computed value; open the file in Excel, let it calculate, save "
                                                    "and send it again (or type the value)")
    if code is None:
        return reject("missing_task_code", "task_code", "missing task code: the row reports on a task but names no "
                                                        "task code; keep the template's Mã nhiệm vụ")
    try:
        out["reported_status"] = parse_status(cells.get("status"))
    except CellError as exc:
        return reject(exc.rule, "status", str(exc))
    for fld in REPORT_DATE_FIELDS:
        if clean_text(cells.get(fld)) is None:
            continue
        try:
            out[fld] = parse_date(cells.get(fld))
        except CellError as exc:
            return reject("bad_date", fld, f"unreadable date: {exc}")
    try:
        out["progress_percent"] = parse_progress(cells.get("progress"), "progress" in raw.percent_fields)
    except CellError as exc:
        return reject(exc.rule, "progress", str(exc))
    has_approval = out["approval_document"] is not None or out["approval_date"] is not None
    if has_approval and out["extension_deadline"] is None and out["reported_status"] != CLOSURE_STATUS:
        return reject("extension_without_deadline", "extension_deadline",
                      "extension without a new deadline: the row gives an approving document or date but no new "
                      "deadline; write the extended deadline in 'Thời hạn mới (gia hạn)' (or, for a task closed "
                      "without completion, choose 'Chưa hoàn thành')")
    return out


def value_rows(report: ReportFile, header: Header) -> list[dict]:
    seen: dict[str, int] = {}
    rows = []
    for raw in report.rows:
        has_inputs = bool(raw.formula_fields) or any(clean_text(raw.cells.get(k)) is not None
                                                     for k in REPORT_INPUT_FIELDS)
        if parse_code(raw.cells.get("task_code")) is None and not has_inputs:
            continue  # a title or note line without a task: layout, not a report
        row = parse_row(raw, report.name)
        code = row["task_code"]
        if code is not None and code in seen and row["rejection_rule"] is None:
            row.update(rejection_rule="duplicate_task", rejection_field="task_code",
                       rejection_reason=f"duplicate task: {shown(code, 40)} is reported again (first on row "
                                        f"{seen[code]}); only the first row counts "
                                        f"({location(report.name, raw.sheet, raw.source_row, 'task_code')})")
        if code is not None:
            seen.setdefault(code, raw.source_row)
        rows.append(row)
    return rows


class TaskReportForm(PeriodKeyedForm):
    """The monthly task status report: task_reports/<YYYY-MM>/<unit>/, raw.task_report_*."""

    name = "taskreport"
    input_kind = quarantine.TASK_REPORTS
    source_type = "task_report"
    inbox_name = "task_reports"
    folder_pattern = "task_reports/<YYYY-MM>/<unit_code>/"
    submissions_table = "raw.task_report_submissions"
    values_table = "raw.task_report_rows"
    period_column = "period"
    layout = REPORT_LAYOUT
    misplaced_rules = ("foreign_unit", "foreign_period")

    def folder_period(self, name: str) -> KpiPeriod | None:
        return folder_period(name)

    def archive_period(self, period: KpiPeriod) -> str:
        return task_period(period.key)

    def check_header(self, report: ReportFile, period: KpiPeriod, folder_unit: str, received: dt.date) -> Header:
        return check_header(report, period, folder_unit, received)

    def own_place(self, report: ReportFile) -> tuple:
        return parse_period(report.header.get("period")), parse_unit_code(report.header.get("unit_code"))

    def value_rows(self, report: ReportFile, header: Header) -> list[dict]:
        return value_rows(report, header)


TASK_REPORT_FORM = TaskReportForm()


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, period: KpiPeriod | str, folder_unit: str,
                archive_root: Path | None = None) -> FileOutcome:
    """Take one file submitted into task_reports/<period>/<folder_unit>/ (idempotent by content)."""
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    return engine.ingest_file(TASK_REPORT_FORM, con, path, period, folder_unit, archive_root)


def ingest_task_reports(con: duckdb.DuckDBPyConnection, inbox_dir: Path | None = None,
                        archive_dir: Path | None = None) -> IntakeSummary:
    """Take every new file of `inbox_dir` (default `data_dir()/task_reports`, or
    `DXMON_TASK_REPORTS_INBOX`) and store it in the raw archive at `archive_dir`."""
    inbox = Path(inbox_dir).resolve() if inbox_dir else default_reports_dir()
    return engine.ingest_inbox(TASK_REPORT_FORM, con, inbox, archive_dir)
