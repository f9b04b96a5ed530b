"""Intake of task lists (docs/task_tracking.md): the tasks an assigning document gives agencies
(a programme decision, the National Committee's yearly plan, Đề án 06, a meeting conclusion), as
a form over the one intake engine (`ingestion/reports/engine.py`), which walks the inbox, hashes,
archives, versions, stores, reconciles and quarantines exactly as for the other forms.

`task_plans/<YYYY>/<issuer_code>/<file>.xlsx|csv` (env `DXMON_TASK_PLANS_INBOX`), YYYY the
document's year, the issuer a `task_issuers` code or a unit of the registry. Into
`raw.task_plan_submissions` (submission_id `taskplan:<year>:<issuer folder>:<sha256[:16]>`,
versions per (year, issuer folder) in order of receipt) and `raw.task_plan_rows` (the registry of
assigned tasks).

File-level rules (the submission is rejected, a copy goes to `data/quarantine/task_plans/`):
`missing_header`, `bad_header`, `foreign_issuer` (the file's issuer is not the folder's: both
named), `foreign_year` (the document date's year is not the folder's), `unknown_issuer` (neither a
task_issuers code nor a registry unit), `implausible_report_date` (the date prepared before the
document or after receipt), `wrong_template_version`, and every reader rule and limit of
`ingestion/reports/report_files.py`.

Row-level rules (the row is kept with its rule and a reason naming file, sheet, row and field;
the other rows flow): `missing_task_code`, `duplicate_task_code` (within the file; the first
counts), `missing_title`, `missing_lead_unit`, `several_lead_units` (one lead owner per task,
Decree 39/2022/NĐ-CP), `unknown_unit` (a lead or co-operating code the registry does not know),
`unit_not_valid` (the lead unit did not exist on the document date: the reason names its
successor), `bad_deadline`, `deadline_before_document`, `bad_key_task`, `formula_without_value`.
A missing expected result is not a rejection (expectations/task_validation.py warns).
A line with neither code, lead, deadline nor anything but a title or note is a section heading:
layout, not a task.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from ingestion.core import quarantine
from ingestion.core.raw_archive import task_period
from ingestion.core.warehouse import data_dir
from ingestion.reports import engine
from ingestion.reports.cell_parsing import CellError, clean_text, parse_date, parse_year, shown
from ingestion.reports.dti.catalogue import unit_by_code
from ingestion.reports.engine import FileOutcome, FileRejection, Header, IntakeSummary, ReportForm
from ingestion.reports.report_files import RawRow, ReportFile, location
from ingestion.tasks.templates import (
    PLAN_HEADER_FIELDS,
    PLAN_LAYOUT,
    PLAN_REQUIRED_HEADER_FIELDS,
    TEMPLATE_FORMAT_VERSION,
)
from ingestion.tasks.units import is_valid_on, successor_on, unit_label
from ingestion.tasks.vocabulary import (
    ONCE,
    issuers,
    parse_code,
    parse_deadline,
    parse_issuer_code,
    parse_key_task,
    split_units,
)

HEADER_LABEL = {key: label for key, _, label, _ in PLAN_HEADER_FIELDS}
# the cells that make a line a task (a line with only a title or a note is a section heading)
TASK_FIELDS = ("task_code", "lead_unit", "cooperating_units", "deadline", "expected_result", "key_task")


def default_plans_dir() -> Path:
    return Path(os.environ.get("DXMON_TASK_PLANS_INBOX", data_dir() / "task_plans")).resolve()


def quarantine_dir() -> Path:
    return quarantine.quarantine_dir(quarantine.TASK_PLANS)


def issuer_label(code: str) -> str:
    issuer = issuers().get(code)
    return f"{code} ({issuer.name_vi})" if issuer else unit_label(code)


def _issuer_kind(code: str) -> str | None:
    """The issuer's kind (task_issuers.issuer_kind), or the level of a registry unit; None: unknown."""
    issuer = issuers().get(code)
    if issuer:
        return issuer.issuer_kind
    unit = unit_by_code(code)
    return unit.level if unit else None


def check_header(report: ReportFile, year: int, folder_issuer: str, received: dt.date) -> Header:
    where = location(report.name, report.sheet)
    found = report.header.get("_found", set())
    missing = [k for k in PLAN_REQUIRED_HEADER_FIELDS if k not in found or clean_text(report.header.get(k)) is None]
    if missing:
        labels = ", ".join(f"'{HEADER_LABEL[k]}'" for k in missing)
        raise FileRejection("missing_header", f"missing header: header cell(s) {labels} missing or empty; fill the "
                                              f"template's header (named cells dxmon_{missing[0]}, ...) ({where})")
    parsed = {}
    for key, parse in (("issuer_code", parse_issuer_code), ("document_date", parse_date), ("report_date", parse_date)):
        try:
            parsed[key] = parse(report.header[key])
        except CellError as exc:
            raise FileRejection("bad_header", f"unreadable header '{HEADER_LABEL[key]}': {exc} ({where})") from None
    issuer, document_date, report_date = parsed["issuer_code"], parsed["document_date"], parsed["report_date"]
    document_number = clean_text(report.header.get("document_number"))
    if issuer != folder_issuer:
        raise FileRejection(
            "foreign_issuer",
            f"the file is the task list of issuer {issuer_label(issuer)} but was submitted into the folder of "
            f"{issuer_label(folder_issuer)}; send it to task_plans/{document_date.year}/{issuer}/ ({where})")
    if document_date.year != year:
        raise FileRejection("foreign_year", f"the document {shown(document_number, 60)} is dated "
                                            f"{document_date:%d/%m/%Y} but was submitted into task_plans/{year}/; "
                                            f"send it to task_plans/{document_date.year}/{issuer}/ ({where})")
    kind = _issuer_kind(issuer)
    if kind is None:
        raise FileRejection("unknown_issuer", f"unknown issuer: code {shown(issuer, 40)} is neither an issuer of "
                                              f"task_issuers.csv nor a unit of the unit registry ({where})")
    earliest, latest = engine.report_date_window_between(document_date, document_date, received)
    if not earliest <= report_date <= latest:
        raise FileRejection(
            "implausible_report_date",
            f"implausible date prepared {report_date:%d/%m/%Y}: the task list of a document dated "
            f"{document_date:%d/%m/%Y} is prepared from that day to {latest:%d/%m/%Y} (not after the day it is "
            f"received; {engine.REPORT_DATE_YEARS_AFTER_ENV}, {engine.REPORT_DATE_DAYS_AHEAD_ENV}) ({where})")
    version = clean_text(report.header.get("template_version")) or TEMPLATE_FORMAT_VERSION
    if version != TEMPLATE_FORMAT_VERSION:
        raise FileRejection("wrong_template_version",
                            f"wrong template version: the file fills in version {shown(version, 20)} of the task-list "
                            f"template; the current version is {TEMPLATE_FORMAT_VERSION}: download the template "
                            f"again ({where})")
    return Header(issuer, kind, report_date, {
        "document_number": document_number, "document_date": document_date,
        "document_title": clean_text(report.header.get("document_title")), "template_version": version})


def _text(value) -> str | None:
    """A cell as typed, for the raw_* columns (a date as dd/mm/yyyy)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    return clean_text(value)


def parse_row(raw: RawRow, document_date: dt.date, file_name: str) -> dict:
    """The registry row of one task line, or the row with its first problem (rule, field, reason)."""
    cells = raw.cells
    lead_text = clean_text(cells.get("lead_unit"))
    code = parse_code(cells.get("task_code"))
    out = {"task_code": code, "title": clean_text(cells.get("title")), "lead_unit_code": None,
           "lead_unit_text": lead_text, "cooperating_unit_codes": None, "deadline": None, "recurrence": ONCE,
           "raw_deadline": _text(cells.get("deadline")), "expected_result": clean_text(cells.get("expected_result")),
           "is_key_task": False, "note": clean_text(cells.get("note")), "sheet": raw.sheet,
           "source_row": raw.source_row, "rejection_rule": None, "rejection_reason": None, "rejection_field": None}

    def reject(rule: str, fld: str, message: str) -> dict:
        out.update(rejection_rule=rule, rejection_field=fld,
                   rejection_reason=f"{message} ({location(file_name, raw.sheet, raw.source_row, fld, None)}"
                                    f"{', task ' + shown(code, 40) if code else ''})")
        return out

    for fld in sorted(raw.formula_fields):
        return reject("formula_without_value", fld, "formula without a value: the cell holds a formula without a "
                                                    "computed value; open the file in Excel, let it calculate, save "
                                                    "and send it again (or type the value)")
    if code is None:
        return reject("missing_task_code", "task_code", "missing task code: every task needs a code unique in the "
                                                        "list (e.g. NV-01)")
    if out["title"] is None:
        return reject("missing_title", "title", "missing title: write what the task is")
    try:
        leads = split_units(cells.get("lead_unit"))
    except CellError as exc:
        return reject("unknown_unit", "lead_unit", f"unknown lead unit: {exc}")
    if not leads:
        return reject("missing_lead_unit", "lead_unit", "missing lead unit: every task has exactly one lead agency "
                                                        "(Decree 39/2022/NĐ-CP); write its unit code")
    if len(leads) > 1:
        return reject("several_lead_units", "lead_unit",
                      f"several lead units: the lead cell names {', '.join(unit_label(c) for c in leads)}; a task has "
                      f"exactly one lead agency (Decree 39/2022/NĐ-CP): keep one and move the others to "
                      f"'Cơ quan phối hợp'")
    lead = leads[0]
    unit = unit_by_code(lead)
    if unit is None:
        return reject("unknown_unit", "lead_unit", f"unknown unit: lead unit {shown(lead, 40)} is not in the unit "
                                                   f"registry")
    if not is_valid_on(unit, document_date):
        ended = f" (it ended on {unit.valid_to:%d/%m/%Y})" if unit.valid_to else ""
        moved = successor_on(lead, document_date)
        where_to = (f"; its tasks passed to {unit_label(moved.new_code)} on {moved.effective_date:%d/%m/%Y} "
                    f"({moved.crosswalk}): assign the task to {moved.new_code}" if moved else "; see the unit registry")
        return reject("unit_not_valid", "lead_unit", f"lead unit not valid: {unit_label(lead)} did not exist on the "
                                                     f"document date {document_date:%d/%m/%Y}{ended}{where_to}")
    out["lead_unit_code"] = lead
    try:
        cooperating = split_units(cells.get("cooperating_units"))
    except CellError as exc:
        return reject("unknown_unit", "cooperating_units", f"unknown co-operating unit: {exc}")
    unknown = [c for c in cooperating if unit_by_code(c) is None]
    if unknown:
        return reject("unknown_unit", "cooperating_units",
                      f"unknown unit: co-operating unit(s) {', '.join(shown(c, 20) for c in unknown)} not in the unit "
                      f"registry")
    out["cooperating_unit_codes"] = ";".join(c for c in cooperating if c != lead) or None
    try:
        deadline = parse_deadline(cells.get("deadline"))
    except CellError as exc:
        return reject("bad_deadline", "deadline", str(exc))
    out["deadline"], out["recurrence"] = deadline.deadline, deadline.recurrence
    if deadline.deadline is not None and deadline.deadline < document_date:
        return reject("deadline_before_document", "deadline",
                      f"deadline before the document: the deadline {deadline.deadline:%d/%m/%Y} is before the "
                      f"document's date {document_date:%d/%m/%Y}")
    try:
        out["is_key_task"] = parse_key_task(cells.get("key_task"))
    except CellError as exc:
        return reject(exc.rule, "key_task", str(exc))
    return out


def value_rows(report: ReportFile, header: Header) -> list[dict]:
    document_date = header.submission_fields["document_date"]
    seen: dict[str, int] = {}
    rows = []
    for raw in report.rows:
        if not raw.formula_fields and all(clean_text(raw.cells.get(k)) is None for k in TASK_FIELDS):
            continue  # a section heading or a note line: layout, not a task
        row = parse_row(raw, document_date, report.name)
        code = row["task_code"]
        if code is not None and code in seen and row["rejection_rule"] is None:
            row.update(rejection_rule="duplicate_task_code", rejection_field="task_code",
                       rejection_reason=f"duplicate task code: {shown(code, 40)} appears again (first on row "
                                        f"{seen[code]}); only the first row counts; give each task its own code "
                                        f"({location(report.name, raw.sheet, raw.source_row, 'task_code')})")
        if code is not None:
            seen.setdefault(code, raw.source_row)
        rows.append(row)
    return rows


class TaskPlanForm(ReportForm):
    """The task list of an assigning document: task_plans/<year>/<issuer>/, raw.task_plan_*."""

    name = "taskplan"
    input_kind = quarantine.TASK_PLANS
    source_type = "task_plan"
    inbox_name = "task_plans"
    folder_pattern = "task_plans/<YYYY>/<issuer_code>/ (the document's year)"
    submissions_table = "raw.task_plan_submissions"
    values_table = "raw.task_plan_rows"
    period_column = "year"
    layout = PLAN_LAYOUT
    misplaced_rules = ("foreign_issuer", "foreign_year")
    header_unit_field = "issuer_code"

    def folder_period(self, name: str) -> int | None:
        if len(name) == 4 and name.isdigit():
            try:
                return parse_year(name)
            except CellError:
                return None
        return None

    def archive_period(self, period: int) -> str:
        return task_period(str(period))

    def check_header(self, report: ReportFile, period: int, folder_unit: str, received: dt.date) -> Header:
        return check_header(report, period, folder_unit, received)

    def own_place(self, report: ReportFile) -> tuple:
        return parse_date(report.header.get("document_date")).year, parse_issuer_code(report.header.get("issuer_code"))

    def value_rows(self, report: ReportFile, header: Header) -> list[dict]:
        return value_rows(report, header)

    def value_row_fields(self, period: int, header: Header) -> dict:
        return {"year": period, "issuer_code": header.unit_code,
                "document_number": header.submission_fields.get("document_number")}


TASK_PLAN_FORM = TaskPlanForm()


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, year: int, folder_issuer: str,
                archive_root: Path | None = None) -> FileOutcome:
    """Take one file submitted into task_plans/<year>/<folder_issuer>/ (idempotent by content)."""
    return engine.ingest_file(TASK_PLAN_FORM, con, path, int(year), folder_issuer, archive_root)


def ingest_task_plans(con: duckdb.DuckDBPyConnection, inbox_dir: Path | None = None,
                      archive_dir: Path | None = None) -> IntakeSummary:
    """Take every new file of `inbox_dir` (default `data_dir()/task_plans`, or
    `DXMON_TASK_PLANS_INBOX`) and store it in the raw archive at `archive_dir`."""
    inbox = Path(inbox_dir).resolve() if inbox_dir else default_plans_dir()
    return engine.ingest_inbox(TASK_PLAN_FORM, con, inbox, archive_dir)
