"""Validate a period's agency KPI reports with Great Expectations (docs/kpi_reports.md), modelled
on expectations/dti_validation.py.

DuckDB builds small pandas frames and GX checks them: one row per (accepted submission of the
period, reported measure of its level), `submission_id` a column, so one GX run covers the whole
period (a few hundred rows).

Suites (results in `meta.validation_results`, period_month = the period's first day,
extract_kind 'kpi_reports', the period key in `details`):
* `kpi_reports_required`: every measure the unit's level reports has a usable value (blocking).
* `kpi_reports_values`: values inside their unit's range, the unit cell agreeing with the
  measure's unit, a numerator not above its denominator (blocking; intake already rejects such
  rows, so these hold the line if a row reaches the table another way).
* `kpi_reports_plausibility`: a value that moved more than its unit's
  `max_change_between_periods` (kpi_report_units.csv: 30 points for a percent) against the unit's
  latest accepted report of the previous period of the same kind. **A warning, not blocking**: a
  jump may be real (a platform launched, a definition tightened), and holding every unit's period
  back for one unit's jump would withhold true numbers; the warning names the report, the row and
  both values, for the reviewer and the agency.
* `kpi_reports_coverage`: every unit of the form levels valid on the period's last day has an
  accepted report (warning).
Rows that fail a blocking expectation are flagged in `raw.kpi_report_values` with a rule
`gx_<check>` and a reason naming file, sheet, row and field; a new run recomputes those flags.

The period's gate (`meta.kpi_period_status`, read through `meta.publication_gate` as index
'kpi_reports'): publishable when no report that currently counts (the latest accepted version
of each unit) fails a blocking expectation; the failures are kept as one text
('<submission_id>: <message>; ...') that an override must name.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
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
from ingestion.kpi.catalogue import reported_measures  # noqa: E402
from ingestion.kpi.reports.periods import KpiPeriod, parse_period  # noqa: E402
from ingestion.kpi.reports.report_units import families_of_label, report_unit  # noqa: E402
from ingestion.kpi.reports.templates import FORM_LEVELS, units_for_period  # noqa: E402

log = logging.getLogger(__name__)

EXTRACT_KIND = "kpi_reports"



def required_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="kpi_reports_required")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="value", meta=expectation_meta(True, "a reported KPI measure has no usable value", "required_missing")))
    return suite


def values_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="kpi_reports_values")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="margin_above_min", min_value=0, meta=expectation_meta(True, "value below its unit's range", "below_range")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="margin_below_max", min_value=0, meta=expectation_meta(True, "value above its unit's range", "above_range")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
        column="unit_matches", value_set=[True],
        meta=expectation_meta(True, "the unit cell contradicts the measure's unit", "wrong_unit")))
    suite.add_expectation(gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="denominator", column_B="numerator", or_equal=True, ignore_row_if="either_value_is_missing",
        meta=expectation_meta(True, "a numerator is larger than its denominator", "numerator_above_denominator")))
    return suite


def plausibility_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="kpi_reports_plausibility")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="change_margin", min_value=0,
        meta=expectation_meta(False, "a value moved more than its unit's max_change_between_periods against the unit's "
                          "previous-period report", "implausible_jump")))
    return suite


def coverage_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="kpi_reports_coverage")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="accepted_reports", min_value=1,
        meta=expectation_meta(False, "a unit of the period has no accepted report", "unit_without_report")))
    return suite


SUITES = {
    "kpi_reports_required": required_suite,
    "kpi_reports_values": values_suite,
    "kpi_reports_plausibility": plausibility_suite,
    "kpi_reports_coverage": coverage_suite,
}


@dataclass
class KpiValidation(ReportGate):
    period: str
    period_start: dt.date
    run_id: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    submissions: int = 0
    flagged_rows: int = 0
    blocking_by_submission: dict[str, list[str]] = field(default_factory=dict)
    warnings_by_submission: dict[str, list[str]] = field(default_factory=dict)
    latest_submission_ids: set[str] = field(default_factory=set)  # the latest accepted version per unit
    sample_row_ids: dict[tuple, list[str]] = field(default_factory=dict)
    docs_index: str | None = None
    docs_pages: dict[str, str] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "period": self.period,
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

def _measures_frame() -> pd.DataFrame:
    rows = []
    for level in FORM_LEVELS:
        for m in reported_measures(level):
            unit = report_unit(m.unit)
            rows.append({"level": level, "kpi_code": m.kpi_code, "measure": m.measure, "unit": m.unit,
                         "unit_family": unit.family, "range_min": unit.value_min, "range_max": unit.value_max,
                         "max_change": unit.max_change})
    frame = pd.DataFrame(rows, columns=["level", "kpi_code", "measure", "unit", "unit_family", "range_min",
                                        "range_max", "max_change"])
    frame = frame.astype({"range_min": "float64", "range_max": "float64", "max_change": "float64"})
    for c in ("level", "kpi_code", "measure", "unit", "unit_family"):
        frame[c] = frame[c].astype(object)
    return frame


BASE_SQL = """
WITH subs AS (
  SELECT submission_id, unit_code, level, version, inbox_path
  FROM raw.kpi_submissions WHERE status = 'accepted' AND period = $period
),
-- the first readable row of each measure in each submission (duplicates are already rejected)
vals AS (
  SELECT v.*, row_number() OVER (PARTITION BY v.submission_id, v.kpi_code, v.measure ORDER BY v.source_row) AS rn
  FROM raw.kpi_report_values v JOIN subs USING (submission_id)
  WHERE v.rejection_rule IS NULL
),
expected AS (
  SELECT s.*, m.kpi_code, m.measure, m.unit, m.unit_family, m.range_min, m.range_max, m.max_change
  FROM subs s JOIN kpi_measures_reported m USING (level)
)
SELECT e.submission_id, e.unit_code, e.version, e.kpi_code, e.measure, e.unit, e.unit_family, e.range_min,
       e.range_max, e.max_change, e.inbox_path, v.value, v.numerator, v.denominator, v.unit_text, v.sheet,
       v.source_row, v.raw_value, v.submission_id IS NOT NULL AS has_row
FROM expected e LEFT JOIN vals v ON v.submission_id = e.submission_id AND v.kpi_code = e.kpi_code
     AND v.measure = e.measure AND v.rn = 1
ORDER BY e.submission_id, e.kpi_code, e.measure
"""

LATEST_SQL = """
SELECT submission_id FROM (
  SELECT submission_id, row_number() OVER (PARTITION BY unit_code ORDER BY version DESC, received_at DESC) AS rn
  FROM raw.kpi_submissions WHERE status = 'accepted' AND period = ?
) WHERE rn = 1
"""

PREVIOUS_SQL = """
WITH latest AS (
  SELECT submission_id, unit_code,
         row_number() OVER (PARTITION BY unit_code ORDER BY version DESC, received_at DESC) AS rn
  FROM raw.kpi_submissions WHERE status = 'accepted' AND period = ?
)
SELECT l.unit_code, v.kpi_code, v.measure, v.value AS previous_value
FROM latest l JOIN raw.kpi_report_values v USING (submission_id)
WHERE l.rn = 1 AND v.rejection_rule IS NULL AND v.value IS NOT NULL
"""


def period_frame(con, period: KpiPeriod) -> pd.DataFrame:
    con.register("kpi_measures_reported", _measures_frame())
    try:
        frame = con.execute(BASE_SQL, {"period": period.key}).df()
    finally:
        con.unregister("kpi_measures_reported")
    previous = con.execute(PREVIOUS_SQL, [period.previous().key]).df()
    frame = frame.merge(previous, how="left", on=["unit_code", "kpi_code", "measure"])
    frame["margin_above_min"] = frame["value"] - frame["range_min"]
    frame["margin_below_max"] = frame["range_max"] - frame["value"]
    frame["abs_change"] = (frame["value"] - frame["previous_value"]).abs()
    frame["change_margin"] = frame["max_change"] - frame["abs_change"]
    frame["unit_matches"] = [
        bool(text is None or (isinstance(text, float) and pd.isna(text)) or family in families_of_label(text))
        for text, family in zip(frame["unit_text"], frame["unit_family"], strict=True)]
    latest = {r[0] for r in con.execute(LATEST_SQL, [period.key]).fetchall()}
    frame["is_latest"] = frame["submission_id"].isin(latest)
    return frame.reset_index(drop=True)


def coverage_frame(con, period: KpiPeriod) -> pd.DataFrame:
    accepted = dict(con.execute(
        "SELECT unit_code, count(*) FROM raw.kpi_submissions WHERE status = 'accepted' AND period = ? GROUP BY ALL",
        [period.key]).fetchall())
    units = [u for level in FORM_LEVELS for u in units_for_period(period, level)]
    return pd.DataFrame({"unit_code": [u.code for u in units], "level": [u.level for u in units],
                         "accepted_reports": [accepted.get(u.code, 0) for u in units]})


def frames_for(con, period: KpiPeriod) -> dict[str, pd.DataFrame]:
    frame = period_frame(con, period)
    return {
        "kpi_reports_required": frame,
        "kpi_reports_values": frame[frame["value"].notna() | frame["unit_text"].notna()],
        "kpi_reports_plausibility": frame[frame["change_margin"].notna() & frame["is_latest"]],
        "kpi_reports_coverage": coverage_frame(con, period),
    }


# --------------------------------------------------------------------------------------------
# GX

def _message(check: str, row) -> tuple[str, str]:
    """(field, message) for one failing frame row: the cause, then file, sheet, row and field."""
    label = f"KPI {row.get('kpi_code')}/{row.get('measure')}"
    if check == "required_missing":
        if not row["has_row"]:
            return "kpi_code", f"required KPI missing: {label} has no row or its row was rejected ({frame_row_location(row)})"
        return "value", f"required KPI empty: {label} has no value ({frame_row_location(row)}, field 'value')"
    if check in ("below_range", "above_range"):
        return "value", (f"out of range: {label} = {row['value']:g} outside [{row['range_min']:g}, "
                         f"{row['range_max'] if pd.notna(row['range_max']) else '∞'}] ({frame_row_location(row)}, field 'value')")
    if check == "wrong_unit":
        return "unit", (f"wrong unit: {label} is in {row['unit']}, the unit cell says {row['unit_text']!r} "
                        f"({frame_row_location(row)}, field 'unit')")
    if check == "numerator_above_denominator":
        return "numerator", (f"numerator above denominator: {label} numerator {row['numerator']:g} > denominator "
                             f"{row['denominator']:g} ({frame_row_location(row)}, field 'numerator')")
    if check == "implausible_jump":
        return "value", (f"implausible change: {label} went from {row['previous_value']:g} to {row['value']:g} "
                         f"(more than {row['max_change']:g} points since the previous period) "
                         f"({frame_row_location(row)}, field 'value')")
    if check == "unit_without_report":
        return "unit_code", f"no report: unit {row['unit_code']} ({row['level']}) has no accepted report"
    return "value", f"{check} ({frame_row_location(row)})"


def _row_id(row) -> str:
    sid = row.get("submission_id")
    if isinstance(sid, str):
        if pd.notna(row.get("source_row")):
            return f"{sid}#{int(row['source_row'])}"
        return f"{sid}:{row.get('kpi_code')}/{row.get('measure')}"
    return f"unit:{row.get('unit_code')}"


def validate_kpi_reports(con: duckdb.DuckDBPyConnection, period: KpiPeriod | str, run_id: str | None = None,
                         root: Path | None = None, build_docs: bool = True) -> KpiValidation:
    """Run the KPI suites on the period's accepted submissions, flag failing rows, record the
    results and the period's gate row (meta.kpi_period_status)."""
    prepare_warehouse(con)
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    run_id = run_id or "manual"
    # Flags of a previous run are recomputed, never accumulated.
    con.execute(f"""UPDATE raw.kpi_report_values SET rejection_rule = NULL, rejection_reason = NULL,
                        rejection_field = NULL
                    WHERE period = ? AND rejection_rule LIKE '{GX_RULE_PREFIX}%'""", [period.key])
    frames = frames_for(con, period)
    result = KpiValidation(period=period.key, period_start=period.start, run_id=run_id)
    result.latest_submission_ids = {r[0] for r in con.execute(LATEST_SQL, [period.key]).fetchall()}
    result.submissions = con.execute("SELECT count(*) FROM raw.kpi_submissions WHERE status = 'accepted' "
                                     "AND period = ?", [period.key]).fetchone()[0]
    root = root or quality_dir()
    root.mkdir(parents=True, exist_ok=True)
    context = gx_context(str(root))
    run_name = f"kpi-{period.key}-{run_id}"
    result_ids, flags = run_report_suites(context, "dxmon_kpi_profiles", SUITES, frames, run_name, result,
                                          EXTRACT_KIND, _message, _row_id,
                                          lambda row: (row["kpi_code"], row["measure"]), details={"period": period.key})
    result.flagged_rows = apply_flags(con, "raw.kpi_report_values", ("kpi_code", "measure"), flags)
    now = dt.datetime.now()
    # A year, its first quarter and its first month share a first day: the period key in details
    # tells their results apart.
    con.execute("DELETE FROM meta.validation_results WHERE period_month = ? AND extract_kind = ? AND run_id = ? "
                "AND json_extract_string(details, '$.period') = ?", [period.start, EXTRACT_KIND, run_id, period.key])
    con.executemany(
        "INSERT INTO meta.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, period.start, o.extract_kind, o.suite_name, o.expectation, o.column, o.is_blocking, o.success,
          o.observed_value, o.unexpected_count, o.element_count, o.details, now] for o in result.outcomes])
    con.execute("INSERT OR REPLACE INTO meta.kpi_period_status VALUES (?, ?, ?, ?, ?, ?)",
                [period.key, period.start, result.is_publishable, result.blocking_failures_text, now, run_id])
    record_sample_rows(con, run_id, period.start, "kpi_reports_", result.sample_row_ids)
    if build_docs:
        result.docs_index, result.docs_pages = build_data_docs(context, result_ids)
    log.info("validated KPI reports %s: %d submissions, %d blocking failures, %d warnings, %d rows flagged",
             period.key, result.submissions, len(result.blocking_failures), len(result.warnings), result.flagged_rows)
    return result
