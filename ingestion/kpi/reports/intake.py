"""Intake of agencies' periodic KPI reports (docs/kpi_reports.md): the KPI form over the one
intake engine (`ingestion/reports/engine.py`), which walks the inbox, hashes, archives, versions,
stores, reconciles and quarantines exactly as it does for the DTI form.

`kpi_inbox/<period>/<unit_code>/<file>.xlsx|csv` (env `DXMON_KPI_INBOX`), period YYYY-Qn (the
default), YYYY-MM or YYYY. Into `raw.kpi_submissions` (submission_id
`kpi:<period>:<folder unit>:<sha256[:16]>`, versions per (period, folder unit) in order of receipt)
and `raw.kpi_report_values` (value in the measure's unit: a percent measure 0-100).

File-level rules (the submission is rejected, a copy goes to `data/quarantine/kpi_reports/`):
`missing_header`, `bad_header`, `foreign_unit` (a report of unit X in unit Y's folder: both
named), `foreign_period`, `unknown_unit`, `unit_not_valid` (the unit did not exist on the
period's last day: a province merged on 1 July 2025 does not report for 2025-Q3),
`wrong_level`, `implausible_report_date`, `wrong_catalogue_version`, and every reader rule and
limit of `ingestion/reports/report_files.py` (`unreadable_file`, `wrong_encoding`,
`missing_sheet`, `missing_columns`, `too_many_rows`, ...).

Row-level rules (the row is kept with its rule and a reason naming file, sheet, row and field;
the other rows flow): `unknown_kpi`, `not_a_number`, `out_of_range` (a percent above 100),
`wrong_unit` (the unit cell, or a '%' typed for a count, contradicts the measure's unit),
`numerator_above_denominator`, `zero_denominator`, `missing_value` (a numerator without its
denominator), `duplicate_kpi`, `formula_without_value`. Ranges and unit spellings are data
(`kpi_report_units.csv`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from ingestion.core import quarantine
from ingestion.core.raw_archive import kpi_period
from ingestion.core.warehouse import data_dir
from ingestion.kpi.catalogue import Measure, catalogue_version, reported_measures
from ingestion.kpi.reports.periods import KpiPeriod, folder_period, parse_period
from ingestion.kpi.reports.report_units import families_of_label, report_unit
from ingestion.kpi.reports.templates import HEADER_FIELDS, KPI_LAYOUT, REQUIRED_HEADER_FIELDS, units_for_period
from ingestion.reports import engine
from ingestion.reports.cell_parsing import (
    CellError,
    clean_text,
    fold,
    parse_date,
    parse_indicator_code,
    parse_quantity,
    parse_unit_code,
    shown,
)
from ingestion.reports.dti.catalogue import unit_by_code
from ingestion.reports.engine import FileOutcome, FileRejection, Header, IntakeSummary, PeriodKeyedForm
from ingestion.reports.report_files import RawRow, ReportFile, location

HEADER_LABEL = {key: label for key, _, label, _ in HEADER_FIELDS}
RANGE_EPSILON = 1e-9
LEVEL_WORDS = {"tinh": "province", "cap tinh": "province", "province": "province",
               "bo": "ministry", "cap bo": "ministry", "ministry": "ministry"}


def default_inbox_dir() -> Path:
    return Path(os.environ.get("DXMON_KPI_INBOX", data_dir() / "kpi_inbox")).resolve()


def quarantine_dir() -> Path:
    """Where rejected KPI report files are copied (`<period>/<unit>/` below)."""
    return quarantine.quarantine_dir(quarantine.KPI_REPORTS)


def _unit_label(code: str) -> str:
    unit = unit_by_code(code)
    return f"{code} ({unit.name_vi})" if unit else shown(code, 40)


def check_header(report: ReportFile, period: KpiPeriod, folder_unit: str, received: dt.date) -> Header:
    where = location(report.name, report.sheet)
    found = report.header.get("_found", set())
    missing = [k for k in REQUIRED_HEADER_FIELDS if k not in found or clean_text(report.header.get(k)) is None]
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
            f"the file is the report of unit {_unit_label(unit_code)} but was submitted into the folder of unit "
            f"{_unit_label(folder_unit)}; unit {unit_code} must send it to kpi_inbox/{period.key}/{unit_code}/ "
            f"({where})")
    if report_period.key != period.key:
        raise FileRejection("foreign_period", f"the file reports period {report_period.key} but was submitted into "
                                              f"kpi_inbox/{period.key}/; send it to "
                                              f"kpi_inbox/{report_period.key}/{unit_code}/ ({where})")
    unit = unit_by_code(unit_code)
    if unit is None:
        raise FileRejection("unknown_unit", f"unknown unit: code {unit_code} is not in the unit registry ({where})")
    if unit_code not in {u.code for u in units_for_period(period, unit.level)}:
        ended = f"; it ended on {unit.valid_to:%d/%m/%Y}" if unit.valid_to else ""
        raise FileRejection("unit_not_valid", f"unit {unit_code} ({unit.name_vi}) does not report for {period.key} "
                                              f"(not valid on {period.end:%d/%m/%Y}{ended}; see the unit registry) "
                                              f"({where})")
    level_text = clean_text(report.header.get("level"))
    if level_text:
        level = LEVEL_WORDS.get(fold(level_text), fold(level_text))
        if level != unit.level:
            raise FileRejection("wrong_level", f"wrong template level: header level '{shown(level_text, 40)}' but "
                                               f"unit {unit_code} is a {unit.level}; use the {unit.level} "
                                               f"template ({where})")
    earliest, latest = engine.report_date_window_between(period.start, period.end, received)
    if not earliest <= report_date <= latest:
        raise FileRejection(
            "implausible_report_date",
            f"implausible report date {report_date:%d/%m/%Y}: a report on {period.key} is dated from "
            f"{earliest:%d/%m/%Y} to {latest:%d/%m/%Y} (not after the day it is received; "
            f"{engine.REPORT_DATE_YEARS_AFTER_ENV}, {engine.REPORT_DATE_DAYS_AHEAD_ENV}) ({where})")
    expected = catalogue_version()
    version = clean_text(report.header.get("catalogue_version")) or expected
    if version != expected:
        raise FileRejection("wrong_catalogue_version",
                            f"wrong catalogue version: the file fills in a template of KPI catalogue "
                            f"{shown(version, 40)}; the current catalogue is {expected}: download the "
                            f"{period.key} template again ({where})")
    return Header(unit_code, unit.level, report_date,
                  {"report_period": report_period.key, "catalogue_version": version})


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _count(cell, fld: str):
    """A numerator or denominator: a count of 0 or more, or CellError."""
    q = parse_quantity(cell)
    if q.is_percent or q.value < 0:
        raise CellError("out_of_range", f"out of range: a count of 0 or more is expected, found {clean_text(cell)!r}")
    return q.value


def parse_row(raw: RawRow, m: Measure, file_name: str) -> dict:
    """Values of one KPI row, or the first problem (rule, field, message)."""
    unit = report_unit(m.unit)
    value_cell, num_cell, den_cell = (raw.cells.get(k) for k in ("value", "numerator", "denominator"))
    raw_value = _cell_text(value_cell)
    if raw_value is None and (clean_text(num_cell) or clean_text(den_cell)):
        raw_value = f"{_cell_text(num_cell) or ''} / {_cell_text(den_cell) or ''}"
    out = {"kpi_code": m.kpi_code, "measure": m.measure, "value": None, "numerator": None, "denominator": None,
           "unit_text": clean_text(raw.cells.get("unit")), "evidence": clean_text(raw.cells.get("evidence")),
           "note": clean_text(raw.cells.get("note")), "raw_value": raw_value,
           "rejection_rule": None, "rejection_reason": None, "rejection_field": None}
    label = f"{m.kpi_code}/{m.measure}"

    def reject(rule: str, fld: str, message: str) -> dict:
        out.update(value=None, numerator=None, denominator=None, rejection_rule=rule, rejection_field=fld,
                   rejection_reason=f"{message} ({location(file_name, raw.sheet, raw.source_row, fld, label)})")
        return out

    for fld in sorted(raw.formula_fields):
        return reject("formula_without_value", fld,
                      "formula without a value: the cell holds a formula without a computed value; open the file in "
                      "Excel, let it calculate, save and send it again (or type the value)")
    if out["unit_text"] is not None:
        families = families_of_label(out["unit_text"])
        if unit.family not in families:
            said = f" (a {'/'.join(sorted(families))} unit)" if families else " (not a unit this form knows)"
            return reject("wrong_unit", "unit", f"wrong unit: the unit cell says {out['unit_text']!r}{said} but "
                                                f"{label} is measured in '{unit.label_vi}' ({unit.family}); report "
                                                f"the value in '{unit.label_vi}' and keep the template's unit")
    try:
        for fld, cell in (("numerator", num_cell), ("denominator", den_cell)):
            if clean_text(cell) is not None:
                try:
                    out[fld] = _count(cell, fld)
                except CellError as exc:
                    return reject(exc.rule, fld, str(exc))
        if out["numerator"] is not None and out["denominator"] is not None and out["numerator"] > out["denominator"]:
            return reject("numerator_above_denominator", "numerator",
                          f"numerator above denominator: the numerator {out['numerator']:g} is larger than the "
                          f"denominator {out['denominator']:g}")
        if clean_text(value_cell) is not None:
            q = parse_quantity(value_cell)
            percent_typed = q.is_percent or "value" in raw.percent_fields
            if unit.family == "percent":
                # '45,5%' and a cell formatted as a percentage hold 0.455: stored 45.5; 45,5 is 45.5
                out["value"] = q.value * 100 if percent_typed else q.value
            elif percent_typed:
                return reject("wrong_unit", "value", f"wrong unit: {label} is measured in '{unit.label_vi}', found "
                                                     f"the percentage {clean_text(value_cell)!r}")
            else:
                out["value"] = q.value
                if unit.family == "count" and not float(q.value).is_integer():
                    return reject("not_a_number", "value", f"expected a whole number of {unit.label_vi}, found "
                                                           f"{clean_text(value_cell)!r}")
        elif out["numerator"] is not None and out["denominator"] is not None:
            if unit.family != "percent":
                return reject("missing_value", "value", f"missing value: {label} is measured in '{unit.label_vi}'; "
                                                        f"write the value in 'Giá trị'")
            if out["denominator"] == 0:
                return reject("zero_denominator", "denominator",
                              "zero denominator: the denominator is 0; write the percentage in 'Giá trị' or leave "
                              "the row empty")
            out["value"] = 100 * out["numerator"] / out["denominator"]
        elif out["numerator"] is not None or out["denominator"] is not None:
            fld = "denominator" if out["denominator"] is None else "numerator"
            return reject("missing_value", fld, "missing value: a percentage needs both the numerator and the "
                                                "denominator (or the percentage in 'Giá trị')")
    except CellError as exc:
        return reject(exc.rule, "value", str(exc))
    value = out["value"]
    low, high = unit.value_min, unit.value_max
    if value is not None and ((low is not None and value < low - RANGE_EPSILON)
                              or (high is not None and value > high + RANGE_EPSILON)):
        found = repr(clean_text(value_cell)) if clean_text(value_cell) is not None else f"{value:g}"
        return reject("out_of_range", "value", f"out of range: outside the allowed range {unit.range_text()} "
                                               f"({unit.label_vi}): found {found}")
    return out


def value_rows(report: ReportFile, header: Header) -> list[dict]:
    measures = {(m.kpi_code, m.measure): m for m in reported_measures(header.level)}
    known_codes = {code for code, _ in measures}
    seen: dict[tuple[str, str], int] = {}
    rows = []
    for raw in report.rows:
        code = parse_indicator_code(raw.cells.get("kpi_code"))
        code = code.upper() if code else None
        measure_name = clean_text(raw.cells.get("measure")) or "main"
        base = {"sheet": raw.sheet, "source_row": raw.source_row}
        has_inputs = any(clean_text(raw.cells.get(k)) is not None for k in ("value", "numerator", "denominator"))
        m = measures.get((code, measure_name)) if code else None
        if m is None:
            if code is None:
                if not has_inputs:
                    continue  # a note line: layout, not data
                reason, fld = "the row has values but no KPI code", "kpi_code"
            elif code in known_codes:
                reason, fld = (f"KPI {code} has no measure {measure_name!r} reported by {header.level}s "
                               f"(kpi_measures.csv)"), "measure"
            else:
                reason, fld = f"KPI code {code!r} is not reported by {header.level}s in the KPI catalogue", "kpi_code"
            rows.append({**base, "kpi_code": code, "measure": measure_name, "value": None, "numerator": None,
                         "denominator": None, "unit_text": clean_text(raw.cells.get("unit")),
                         "evidence": clean_text(raw.cells.get("evidence")), "note": clean_text(raw.cells.get("note")),
                         "raw_value": _cell_text(raw.cells.get("value")), "rejection_rule": "unknown_kpi",
                         "rejection_field": fld,
                         "rejection_reason": f"unknown KPI: {reason} "
                                             f"({location(report.name, raw.sheet, raw.source_row, fld)})"})
            continue
        row = {**base, **parse_row(raw, m, report.name)}
        key = (code, measure_name)
        if key in seen and row["rejection_rule"] is None:
            row.update(value=None, numerator=None, denominator=None, rejection_rule="duplicate_kpi",
                       rejection_field="kpi_code",
                       rejection_reason=f"duplicate KPI: {code}/{measure_name} appears again (first on row "
                                        f"{seen[key]}); only the first row counts "
                                        f"({location(report.name, raw.sheet, raw.source_row, 'kpi_code')})")
        seen.setdefault(key, raw.source_row)
        rows.append(row)
    return rows


class KpiReportForm(PeriodKeyedForm):
    """The periodic KPI report: kpi_inbox/<period>/<unit>/, raw.kpi_submissions, raw.kpi_report_values."""

    name = "kpi"
    input_kind = quarantine.KPI_REPORTS
    source_type = "kpi_report"
    inbox_name = "kpi_inbox"
    folder_pattern = "kpi_inbox/<period>/<unit_code>/ (period 2025-Q3, 2025-08 or 2025)"
    submissions_table = "raw.kpi_submissions"
    values_table = "raw.kpi_report_values"
    period_column = "period"
    layout = KPI_LAYOUT
    misplaced_rules = ("foreign_unit", "foreign_period")

    def folder_period(self, name: str) -> KpiPeriod | None:
        return folder_period(name)

    def archive_period(self, period: KpiPeriod) -> str:
        return kpi_period(period.key)

    def check_header(self, report: ReportFile, period: KpiPeriod, folder_unit: str, received: dt.date) -> Header:
        return check_header(report, period, folder_unit, received)

    def own_place(self, report: ReportFile) -> tuple:
        return parse_period(report.header.get("period")), parse_unit_code(report.header.get("unit_code"))

    def value_rows(self, report: ReportFile, header: Header) -> list[dict]:
        return value_rows(report, header)


KPI_FORM = KpiReportForm()


def scan_inbox(inbox: Path):
    """(files, refused) of a KPI inbox (`engine.scan_inbox`)."""
    return engine.scan_inbox(KPI_FORM, inbox)


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, period: KpiPeriod | str, folder_unit: str,
                archive_root: Path | None = None) -> FileOutcome:
    """Take one file submitted into kpi_inbox/<period>/<folder_unit>/ (idempotent by content)."""
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    return engine.ingest_file(KPI_FORM, con, path, period, folder_unit, archive_root)


def ingest_kpi_inbox(con: duckdb.DuckDBPyConnection, inbox_dir: Path | None = None,
                     archive_dir: Path | None = None) -> IntakeSummary:
    """Take every new file of `inbox_dir` (default `data_dir()/kpi_inbox`, or `DXMON_KPI_INBOX`)
    and store it in the raw archive at `archive_dir` (default `raw_archive_dir()`)."""
    inbox = Path(inbox_dir).resolve() if inbox_dir else default_inbox_dir()
    return engine.ingest_inbox(KPI_FORM, con, inbox, archive_dir)
