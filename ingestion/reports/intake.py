"""Intake of agencies' DTI reports from the inbox (docs/dti_reports.md, contract docs/dti_design.md).

`inbox/<year>/<unit_code>/<file>.xlsx|csv`. For every file not seen before (by sha256):

* the file is stored in the raw archive (`ingestion/core/raw_archive.py`: content-addressed,
  read-only, verified by `dxmon audit-archive verify`), indexed under the period `dti-<year>`;
* its unit and year are read from inside the file and checked against the folder and the unit
  registry (a file in another unit's folder is rejected, saying whose it is);
* it gets the next version number of its (year, folder unit), in order of receipt;
* its indicator rows land in `raw.dti_report_values`; a row that cannot be read (text in a
  number cell, out of range, unknown code, formula without a value) is flagged with a rule and
  a reason naming file, sheet, row and field, and the other rows still flow;
* a file that cannot be read as a report (corrupt, truncated, no indicator sheet, no header
  cells, wrong encoding) is a `rejected` submission, and a copy goes to the quarantine
  (`ingestion/core/quarantine.py`: `data/quarantine/dti_reports/<year>/<unit>/`, a `.reason.json`,
  a row in `quarantine.rejected_files`).
The same bytes again are a no-op. Nothing in the inbox is moved or changed. A missing or broken
catalogue (`CatalogueError`) stops the run before the file is registered: it is not the file's
fault, and the file must be taken again once the catalogue is fixed.

The engine (`ingestion/reports/engine.py`) does the walking, hashing, archiving, versioning,
storing and quarantining for every form; this module is the DTI form's definition over it
(`DtiReportForm`: its folders, header rules and row rules) and the DTI's entry points.

Hardening shared by every agency-report kind (docs/reliability.md):
* only regular files inside the inbox are inputs (`scan_folder`): a symbolic link (to a file or
  a unit folder), a FIFO or a device is refused unread, with a reason file and a row in
  `quarantine.rejected_files` (rule `not_a_regular_file`, `quarantine.record_refused`); nothing
  behind it is opened, copied or archived. A file is hashed through `open_regular` (no link
  followed) and then read from its raw-archive copy, whose hash was checked, never again from the
  inbox;
* every reader is bounded (`ingestion/reports/report_files.py`): a breach is a named file-level
  rule (`too_many_rows`, `too_many_cells`, `field_too_large`, `line_too_long`,
  `uncompressed_too_large`, `compression_ratio_too_high`, `zip_size_mismatch`, `file_too_large`);
* every submission reconciles: `rows_read = rows_accepted + rows_rejected` (NULL when the file was
  rejected whole and its rows were not kept);
* the report date must lie in a plausible window (`report_date_window`, rule
  `implausible_report_date`);
* reasons start with the cause (fixed text) and name file, sheet, row and field after it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import duckdb

from ingestion.core import quarantine
from ingestion.core.raw_archive import dti_period
from ingestion.core.warehouse import data_dir
from ingestion.reports import engine
from ingestion.reports.cell_parsing import (
    CellError,
    clean_text,
    fold,
    parse_bool,
    parse_date,
    parse_indicator_code,
    parse_quantity,
    parse_unit_code,
    parse_year,
    shown,
)
from ingestion.reports.dti.catalogue import (
    CatalogueError,
    Indicator,
    indicators,
    known_versions,
    methodology_version_for_year,
    unit_by_code,
    units_for_year,
)
from ingestion.reports.engine import (  # noqa: F401 - the DTI intake's public names
    REPORT_DATE_DAYS_AHEAD,
    REPORT_DATE_DAYS_AHEAD_ENV,
    REPORT_DATE_YEARS_AFTER,
    REPORT_DATE_YEARS_AFTER_ENV,
    FileOutcome,
    Header,
    IntakeSummary,
    ReportForm,
    report_date_window_between,
)
from ingestion.reports.report_files import DTI_LAYOUT, RawRow, ReportFile, location
from ingestion.reports.templates import HEADER_FIELDS, REQUIRED_HEADER_FIELDS

HEADER_LABEL = {key: label for key, _, label, _ in HEADER_FIELDS}
# Tolerance when a ratio's value is below 0 or above 1 only by rounding of a typed percentage.
RANGE_EPSILON = 1e-9
_FileRejection = engine.FileRejection
_env_int = engine.env_int


def default_inbox_dir() -> Path:
    return Path(os.environ.get("DXMON_DTI_INBOX", data_dir() / "inbox")).resolve()


def quarantine_dir() -> Path:
    """Where rejected report files are copied (`<year>/<unit>/` below)."""
    return quarantine.quarantine_dir(quarantine.DTI_REPORTS)


def report_date_window(year: int, received: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest, latest) plausible report date of a report on `year` received on `received`:
    1 January of the year to 31 December of the year + `DXMON_REPORT_DATE_YEARS_AFTER` (2),
    and never more than `DXMON_REPORT_DATE_DAYS_AHEAD` (1) days after receipt (a report is not
    dated in the future)."""
    return report_date_window_between(dt.date(year, 1, 1), dt.date(year, 12, 31), received)


# --------------------------------------------------------------------------------------------
# Header and rows

def _check_header(report: ReportFile, year: int, folder_unit: str,
                  received: dt.date | None = None) -> Header:
    where = location(report.name, report.sheet)
    found = report.header.get("_found", set())
    missing = [k for k in REQUIRED_HEADER_FIELDS if k not in found or clean_text(report.header.get(k)) is None]
    if missing:
        labels = ", ".join(f"'{HEADER_LABEL[k]}'" for k in missing)
        raise _FileRejection("missing_header", f"missing header: header cell(s) {labels} missing or empty; fill "
                                               f"the template's header (named cells dxmon_{missing[0]}, ...) "
                                               f"({where})")
    parsed = {}
    for key, parse in (("unit_code", parse_unit_code), ("year", parse_year), ("report_date", parse_date)):
        try:
            parsed[key] = parse(report.header[key])
        except CellError as exc:
            raise _FileRejection("bad_header", f"unreadable header '{HEADER_LABEL[key]}': {exc} ({where})") from None
    unit_code, report_year, report_date = parsed["unit_code"], parsed["year"], parsed["report_date"]
    if unit_code != folder_unit:
        owner = unit_by_code(unit_code)
        raise _FileRejection(
            "foreign_unit",
            f"the file is the report of unit {unit_code}"
            f"{' (' + owner.name_vi + ')' if owner else ''} but was submitted into the folder of unit "
            f"{shown(folder_unit, 40)}; unit {unit_code} must send it to inbox/{year}/{unit_code}/ ({where})")
    if report_year != year:
        raise _FileRejection("foreign_year", f"the file reports year {report_year} but was submitted into "
                                             f"inbox/{year}/; send it to inbox/{report_year}/{unit_code}/ ({where})")
    unit = unit_by_code(unit_code)
    if unit is None:
        raise _FileRejection("unknown_unit", f"unknown unit: code {unit_code} is not in the unit registry ({where})")
    if unit_code not in {u.code for u in units_for_year(year, unit.level)}:
        raise _FileRejection("unit_not_valid", f"unit {unit_code} ({unit.name_vi}) does not report for DTI {year} "
                                               f"(not valid on 31/12/{year}; see the unit registry) ({where})")
    level_text = clean_text(report.header.get("level"))
    if level_text:
        level = {"tinh": "province", "cap tinh": "province", "bo": "ministry", "cap bo": "ministry"}.get(
            fold(level_text), fold(level_text))
        if level != unit.level:
            raise _FileRejection("wrong_level", f"wrong template level: header level '{shown(level_text, 40)}' but "
                                                f"unit {unit_code} is a {unit.level}; use the {unit.level} "
                                                f"template ({where})")
    earliest, latest = report_date_window(year, received or dt.date.today())
    if not earliest <= report_date <= latest:
        raise _FileRejection(
            "implausible_report_date",
            f"implausible report date {report_date:%d/%m/%Y}: a report on DTI {year} is dated from "
            f"{earliest:%d/%m/%Y} to {latest:%d/%m/%Y} (not after the day it is received; "
            f"{REPORT_DATE_YEARS_AFTER_ENV}, {REPORT_DATE_DAYS_AHEAD_ENV}) ({where})")
    try:
        expected = methodology_version_for_year(year)
    except CatalogueError as exc:
        raise _FileRejection("unknown_year", f"DTI year {year} has no methodology version ({exc}) ({where})") from None
    version = clean_text(report.header.get("methodology_version")) or expected
    if version != expected:
        known = version in known_versions()
        raise _FileRejection(
            "wrong_methodology",
            f"wrong methodology: the file fills in a template of methodology {shown(version, 40)}"
            f"{'' if known else ' (unknown)'}; DTI {year} uses {expected}: download the {year} template ({where})")
    return Header(unit_code, unit.level, report_date,
                  {"report_year": report_year, "methodology_version": version})


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_row(raw: RawRow, ind: Indicator, file_name: str) -> dict:
    """Values of one indicator row, or the first problem (rule, field, message)."""
    out = {"indicator_code": ind.code, "value": None, "numerator": None, "denominator": None,
           "evidence": clean_text(raw.cells.get("evidence")), "rejection_rule": None,
           "rejection_reason": None, "rejection_field": None}
    value_cell = raw.cells.get("value")
    num_cell, den_cell = raw.cells.get("numerator"), raw.cells.get("denominator")
    raw_value = _cell_text(value_cell)
    if raw_value is None and (clean_text(num_cell) or clean_text(den_cell)):
        raw_value = f"{_cell_text(num_cell) or ''} / {_cell_text(den_cell) or ''}"
    out["raw_value"] = raw_value

    def reject(rule: str, fld: str, message: str) -> dict:
        out.update(value=None, numerator=None, denominator=None, rejection_rule=rule, rejection_field=fld,
                   rejection_reason=f"{message} ({location(file_name, raw.sheet, raw.source_row, fld, ind.code)})")
        return out

    for fld in sorted(raw.formula_fields):
        return reject("formula_without_value", fld,
                      "formula without a value: the cell holds a formula without a computed value; open the file in Excel, "
                      "let it calculate, save and send it again (or type the value)")
    low, high = ind.allowed_range()
    try:
        if ind.rule == "boolean":
            if clean_text(value_cell) is not None:
                out["value"] = 1.0 if parse_bool(value_cell) else 0.0
        elif ind.rule == "ratio":
            for fld, cell in (("numerator", num_cell), ("denominator", den_cell)):
                if clean_text(cell) is not None:
                    try:
                        q = parse_quantity(cell)
                    except CellError as exc:
                        return reject(exc.rule, fld, str(exc))
                    if q.is_percent or q.value < 0:
                        return reject("out_of_range", fld,
                                      f"out of range: a count of 0 or more is expected, found {clean_text(cell)!r}")
                    out[fld] = q.value
            if clean_text(value_cell) is not None:
                q = parse_quantity(value_cell)
                percent_cell = "value" in raw.percent_fields
                out["value"] = q.value / 100 if (ind.is_percent and not q.is_percent and not percent_cell) else q.value
            elif out["numerator"] is not None and out["denominator"] is not None:
                if out["denominator"] == 0:
                    return reject("zero_denominator", "denominator",
                                  "zero denominator: the denominator is 0; write the ratio in 'Giá trị' or leave the row empty "
                                  "if the indicator does not apply")
                out["value"] = out["numerator"] / out["denominator"]
            elif out["numerator"] is not None or out["denominator"] is not None:
                fld = "denominator" if out["denominator"] is None else "numerator"
                return reject("missing_value", fld, "missing value: a ratio needs both the numerator and the denominator "
                                                    "(or the percentage in 'Giá trị')")
        elif clean_text(value_cell) is not None:
            q = parse_quantity(value_cell)
            percent_cell = "value" in raw.percent_fields
            if (q.is_percent or percent_cell) and not ind.is_percent_number:
                raise CellError("not_a_number", f"expected a {ind.value_unit or 'number'}, found the percentage "
                                                f"{clean_text(value_cell)!r}")
            # A threshold in percent keeps percent units: '1,2%' and 1,2 are both 1.2.
            out["value"] = q.value * 100 if (q.is_percent or percent_cell) else q.value
            if ind.rule == "checklist" and not float(q.value).is_integer():
                return reject("out_of_range", "value", f"out of range: a checklist counts criteria met: a whole number "
                                                       f"{ind.range_text()} is expected, found {clean_text(value_cell)!r}")
    except CellError as exc:
        return reject(exc.rule, "value", str(exc))
    value = out["value"]
    if value is not None and ((low is not None and value < low - RANGE_EPSILON)
                              or (high is not None and value > high + RANGE_EPSILON)):
        found = repr(clean_text(value_cell)) if clean_text(value_cell) is not None else f"{value:g}"
        hint = "; write a percentage as 85% or as counts in 'Tử số'/'Mẫu số'" if ind.rule == "ratio" else ""
        return reject("out_of_range", "value", f"outside the allowed range {ind.range_text()}: found {found}{hint}")
    return out


def _value_rows(report: ReportFile, header: Header) -> list[dict]:
    methodology_version = header.submission_fields["methodology_version"]
    nodes = {i.code: i for i in indicators(methodology_version, header.level)}
    name = report.name
    seen: dict[str, int] = {}
    rows = []
    for raw in report.rows:
        code_cell = raw.cells.get("indicator_code")
        code = parse_indicator_code(code_cell)
        where = location(name, raw.sheet, raw.source_row, "indicator_code")
        base = {"sheet": raw.sheet, "source_row": raw.source_row}
        node = nodes.get(code) if code else None
        has_inputs = any(clean_text(raw.cells.get(k)) is not None for k in ("value", "numerator", "denominator"))
        if node is not None and node.node_type != "sub":
            # a section row (main indicator or pillar) of the template: layout, not data (its title
            # is merged across the input columns)
            continue
        if node is None or not node.is_reported:
            if code is None:
                # A row with inputs but no code (a note, a total line typed by hand).
                if not has_inputs:
                    continue  # a note: layout, not data
                reason = "the row has values but no indicator code"
            elif node is None:
                reason = (f"indicator code {code!r} is not in methodology {methodology_version} "
                          f"for {header.level}s")
            else:
                reason = f"indicator {code} is measured automatically and is not reported"
            rows.append({**base, "indicator_code": code, "value": None, "numerator": None, "denominator": None,
                         "evidence": clean_text(raw.cells.get("evidence")), "raw_value": _cell_text(raw.cells.get("value")),
                         "rejection_rule": "unknown_indicator", "rejection_field": "indicator_code",
                         "rejection_reason": f"unknown indicator: {reason} ({where})"})
            continue
        row = {**base, **_parse_row(raw, node, name)}
        if code in seen and row["rejection_rule"] is None:
            row.update(value=None, numerator=None, denominator=None, rejection_rule="duplicate_indicator",
                       rejection_field="indicator_code",
                       rejection_reason=f"duplicate indicator: indicator {code} appears again (first on row "
                                        f"{seen[code]}); only the first row counts ({where})")
        seen.setdefault(code, raw.source_row)
        rows.append(row)
    return rows



# --------------------------------------------------------------------------------------------
# The DTI form over the engine

class DtiReportForm(ReportForm):
    """The DTI report: inbox/<year>/<unit>/, raw.dti_submissions and raw.dti_report_values."""

    name = "dti"
    input_kind = quarantine.DTI_REPORTS
    source_type = "dti_report"
    inbox_name = "inbox"
    folder_pattern = "inbox/<year>/<unit_code>/"
    submissions_table = "raw.dti_submissions"
    values_table = "raw.dti_report_values"
    period_column = "year"
    layout = DTI_LAYOUT
    misplaced_rules = ("foreign_unit", "foreign_year")

    def folder_period(self, name: str) -> int | None:
        return int(name) if re.fullmatch(r"\d{4}", name) else None

    def archive_period(self, period) -> str:
        return dti_period(period)

    def check_header(self, report: ReportFile, period, folder_unit: str, received: dt.date) -> Header:
        return _check_header(report, period, folder_unit, received)

    def own_place(self, report: ReportFile) -> tuple:
        return _own_place(report)

    def value_rows(self, report: ReportFile, header: Header) -> list[dict]:
        return _value_rows(report, header)


DTI_FORM = DtiReportForm()


def scan_inbox(inbox: Path):
    """(files, refused) of the DTI inbox (`engine.scan_inbox`): (year, folder unit, path) of every
    regular file in order of receipt; (year, unit, path, why) of every refused entry."""
    return engine.scan_inbox(DTI_FORM, inbox)


def list_inbox_files(inbox: Path) -> list[tuple[int | None, str | None, Path]]:
    """(year, folder unit, path) for every regular file of the inbox, in order of receipt
    (`scan_inbox`; links and special files are left out)."""
    return scan_inbox(inbox)[0]


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, year: int, folder_unit: str,
                archive_root: Path | None = None) -> FileOutcome:
    """Take one file submitted into inbox/<year>/<folder_unit>/ (idempotent by content). The file
    is hashed without following links and read from its raw-archive copy (sha256 checked)."""
    return engine.ingest_file(DTI_FORM, con, path, year, folder_unit, archive_root)


def _own_place(report: ReportFile) -> tuple[int, str]:
    return parse_year(report.header.get("year")), parse_unit_code(report.header.get("unit_code"))


def ingest_inbox(con: duckdb.DuckDBPyConnection, inbox_dir: Path | None = None,
                 archive_dir: Path | None = None) -> IntakeSummary:
    """Take every new file of `inbox_dir` (default `data_dir()/inbox`, or `DXMON_DTI_INBOX`) and
    store it in the raw archive at `archive_dir` (default `raw_archive_dir()`); see the module docstring."""
    inbox = Path(inbox_dir).resolve() if inbox_dir else default_inbox_dir()
    return engine.ingest_inbox(DTI_FORM, con, inbox, archive_dir)
