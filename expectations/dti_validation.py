"""Validate a DTI year's accepted reports with Great Expectations (docs/dti_reports.md).

As for the service index (expectations/suites.py), DuckDB builds small pandas frames and GX
checks them; here a frame holds one row per (accepted submission, indicator), `submission_id`
is a column, so one GX run covers the whole year (a few thousand rows).

Suites (results in `meta.validation_results`, period_month = 1 January of the year,
extract_kind 'dti_reports'):
* `dti_reports_required`: every sub-indicator of the submission's methodology and level that is not
  measured automatically has a usable value (blocking).
* `dti_reports_values`: values inside their rule's range; a ratio's numerator not above its
  denominator (blocking).
* `dti_reports_evidence`: a claim (value > 0) on an indicator that requires evidence names it
  (blocking: methodology gives no points to an unevidenced claim).
* `dti_reports_plausibility`: a ratio that moved more than `MAX_RATIO_JUMP` against the unit's
  latest accepted report of the previous year (warning, not blocking).
* `dti_reports_coverage`: every unit of the year has an accepted report (warning).
Rows that fail a blocking expectation are flagged in `raw.dti_report_values` with a rule
`gx_<check>` and a reason naming file, sheet, row and field; a new run recomputes those flags.

The year's gate (`meta.dti_year_status`, read by publication/publish.py): publishable when no
report that currently counts (the latest accepted version of each unit) fails a blocking
expectation; the failures are kept as one text that an override must name. Each run also
records sample offending row ids (`meta.validation_sample_rows`: `<submission_id>#<row>`) and
rebuilds the GX Data Docs; `docs_pages` links each suite to its validation page.
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
    record_sample_rows,
    run_report_suites,
)
from ingestion.core.schema import prepare_warehouse  # noqa: E402
from ingestion.reports.dti.catalogue import load_catalogue, units_for_year  # noqa: E402

log = logging.getLogger(__name__)

EXTRACT_KIND = "dti_reports"
MAX_RATIO_JUMP = 0.5



def required_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dti_reports_required")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="value", meta=expectation_meta(True, "a reported sub-indicator has no usable value", "required_missing")))
    return suite


def values_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dti_reports_values")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="margin_above_min", min_value=0,
        meta=expectation_meta(True, "value below the minimum of its rule's range", "below_range")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="margin_below_max", min_value=0,
        meta=expectation_meta(True, "value above the maximum of its rule's range", "above_range")))
    suite.add_expectation(gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="denominator", column_B="numerator", or_equal=True, ignore_row_if="either_value_is_missing",
        meta=expectation_meta(True, "a ratio's numerator is larger than its denominator", "numerator_above_denominator")))
    return suite


def evidence_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dti_reports_evidence")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="evidence", meta=expectation_meta(True, "a claim on an indicator that requires evidence names none",
                                      "evidence_missing")))
    return suite


def plausibility_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dti_reports_plausibility")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="abs_change", min_value=0, max_value=MAX_RATIO_JUMP,
        meta=expectation_meta(False, f"a ratio moved more than {MAX_RATIO_JUMP} against the unit's previous-year report",
                   "implausible_jump")))
    return suite


def coverage_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dti_reports_coverage")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="accepted_reports", min_value=1,
        meta=expectation_meta(False, "a unit of the year has no accepted report", "unit_without_report")))
    return suite


SUITES = {
    "dti_reports_required": required_suite,
    "dti_reports_values": values_suite,
    "dti_reports_evidence": evidence_suite,
    "dti_reports_plausibility": plausibility_suite,
    "dti_reports_coverage": coverage_suite,
}


@dataclass
class DtiValidation(ReportGate):
    year: int
    run_id: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    submissions: int = 0
    flagged_rows: int = 0
    # submission_id -> messages of blocking failures (what the scoring side and the agency see)
    blocking_by_submission: dict[str, list[str]] = field(default_factory=dict)
    warnings_by_submission: dict[str, list[str]] = field(default_factory=dict)
    latest_submission_ids: set[str] = field(default_factory=set)  # the latest accepted version per unit
    # failed expectation (suite, expectation, column) -> ids of sample offending rows
    sample_row_ids: dict[tuple, list[str]] = field(default_factory=dict)
    docs_index: str | None = None  # the GX Data Docs site
    docs_pages: dict[str, str] = field(default_factory=dict)  # suite name -> its validation result page

    @property
    def is_clean(self) -> bool:
        return not self.blocking_failures

    def as_metadata(self) -> dict:
        return {
            "year": self.year,
            "submissions": self.submissions,
            "expectations": len(self.outcomes),
            "blocking_failures": len(self.blocking_failures),
            "warnings": len(self.warnings),
            "submissions_with_blocking_failures": len(self.blocking_by_submission),
            "latest_reports_with_blocking_failures": len(self.blocking_in_latest),
            "flagged_rows": self.flagged_rows,
        }


# --------------------------------------------------------------------------------------------
# Frames

def _register_catalogue(con) -> None:
    rows = []
    for i in load_catalogue():
        if not i.is_reported:
            continue
        low, high = i.allowed_range()
        rows.append({"methodology_version": i.methodology_version, "level": i.level, "indicator_code": i.code,
                     "rule": i.rule, "range_min": low, "range_max": high,
                     "evidence_required": i.evidence_required, "is_automatic": i.is_automatic})
    frame = pd.DataFrame(rows, columns=["methodology_version", "level", "indicator_code", "rule", "range_min",
                                        "range_max", "evidence_required", "is_automatic"])
    frame = frame.astype({"range_min": "float64", "range_max": "float64", "evidence_required": "bool",
                          "is_automatic": "bool"})
    for c in ("methodology_version", "level", "indicator_code", "rule"):
        frame[c] = frame[c].astype(object)
    con.register("dti_catalogue_reported", frame)


BASE_SQL = """
WITH subs AS (
  SELECT submission_id, year, unit_code, level, version, methodology_version, inbox_path
  FROM raw.dti_submissions WHERE status = 'accepted' AND year = $year
),
-- the first readable row of each indicator in each submission (duplicates are already rejected)
vals AS (
  SELECT v.*, row_number() OVER (PARTITION BY v.submission_id, v.indicator_code ORDER BY v.source_row) AS rn
  FROM raw.dti_report_values v JOIN subs USING (submission_id)
  WHERE v.rejection_rule IS NULL
),
expected AS (
  SELECT s.*, c.indicator_code, c.rule, c.range_min, c.range_max, c.evidence_required, c.is_automatic
  FROM subs s JOIN dti_catalogue_reported c USING (methodology_version, level)
)
SELECT e.submission_id, e.unit_code, e.version, e.indicator_code, e.rule, e.range_min, e.range_max,
       e.evidence_required, e.is_automatic, e.inbox_path, e.methodology_version,
       v.value, v.numerator, v.denominator, v.evidence, v.sheet, v.source_row, v.raw_value,
       v.submission_id IS NOT NULL AS has_row
FROM expected e LEFT JOIN vals v ON v.submission_id = e.submission_id AND v.indicator_code = e.indicator_code
     AND v.rn = 1
ORDER BY e.submission_id, e.indicator_code
"""

LATEST_SQL = """
SELECT submission_id FROM (
  SELECT submission_id, row_number() OVER (PARTITION BY unit_code ORDER BY version DESC, received_at DESC) AS rn
  FROM raw.dti_submissions WHERE status = 'accepted' AND year = ?
) WHERE rn = 1
"""

PREVIOUS_SQL = """
WITH latest AS (
  SELECT submission_id, unit_code, methodology_version,
         row_number() OVER (PARTITION BY unit_code ORDER BY version DESC) AS rn
  FROM raw.dti_submissions WHERE status = 'accepted' AND year = $year - 1
)
SELECT l.unit_code, l.methodology_version, v.indicator_code, v.value AS previous_value
FROM latest l JOIN raw.dti_report_values v USING (submission_id)
WHERE l.rn = 1 AND v.rejection_rule IS NULL AND v.value IS NOT NULL
"""


def year_frame(con, year: int) -> pd.DataFrame:
    frame = con.execute(BASE_SQL, {"year": year}).df()
    previous = con.execute(PREVIOUS_SQL, {"year": year}).df()
    frame = frame.merge(previous, how="left", on=["unit_code", "methodology_version", "indicator_code"])
    frame["margin_above_min"] = frame["value"] - frame["range_min"]
    frame["margin_below_max"] = frame["range_max"] - frame["value"]
    frame["abs_change"] = (frame["value"] - frame["previous_value"]).abs()
    latest = {r[0] for r in con.execute(LATEST_SQL, [year]).fetchall()}
    frame["is_latest"] = frame["submission_id"].isin(latest)
    frame.loc[frame["rule"] != "ratio", "abs_change"] = float("nan")
    return frame.reset_index(drop=True)


def coverage_frame(con, year: int) -> pd.DataFrame:
    accepted = dict(con.execute(
        "SELECT unit_code, count(*) FROM raw.dti_submissions WHERE status = 'accepted' AND year = ? GROUP BY ALL",
        [year]).fetchall())
    units = units_for_year(year)
    return pd.DataFrame({"unit_code": [u.code for u in units], "level": [u.level for u in units],
                         "accepted_reports": [accepted.get(u.code, 0) for u in units]})


def frames_for(con, year: int) -> dict[str, pd.DataFrame]:
    frame = year_frame(con, year)
    claimed = frame["evidence_required"].astype(bool) & (frame["value"].fillna(0) > 0)
    return {
        # an automatic indicator is measured from the service index: its self-report is optional
        "dti_reports_required": frame[~frame["is_automatic"].astype(bool)],
        "dti_reports_values": frame[frame["value"].notna()],
        "dti_reports_evidence": frame[claimed],
        # against last year's final: only each unit's latest report (progress reports are lower)
        "dti_reports_plausibility": frame[frame["abs_change"].notna() & frame["is_latest"]],
        "dti_reports_coverage": coverage_frame(con, year),
    }


# --------------------------------------------------------------------------------------------
# GX

def _where(row) -> str:
    file = Path(row["inbox_path"]).name
    if row.get("sheet") is not None and isinstance(row.get("sheet"), str):
        return f"{file}: sheet '{row['sheet']}', row {int(row['source_row'])}"
    if pd.notna(row.get("source_row")):
        return f"{file}: line {int(row['source_row'])}"
    return file


def _message(check: str, row) -> tuple[str, str]:
    """(field, message) for one failing frame row."""
    code = row.get("indicator_code")
    if check == "required_missing":
        if not row["has_row"]:
            return "indicator_code", f"{Path(row['inbox_path']).name}: indicator {code} is missing or its row was rejected"
        return "value", f"{_where(row)}, field 'value' (indicator {code}): empty; the indicator is required"
    if check in ("below_range", "above_range"):
        return "value", (f"{_where(row)}, field 'value' (indicator {code}): {row['value']:g} outside "
                         f"[{row['range_min']:g}, {row['range_max']:g}]")
    if check == "numerator_above_denominator":
        return "numerator", (f"{_where(row)}, field 'numerator' (indicator {code}): numerator {row['numerator']:g} "
                             f"is larger than the denominator {row['denominator']:g}")
    if check == "evidence_missing":
        return "evidence", (f"{_where(row)}, field 'evidence' (indicator {code}): the indicator requires evidence "
                            f"(document number or link) for the value {row['value']:g}")
    if check == "implausible_jump":
        return "value", (f"{_where(row)}, field 'value' (indicator {code}): {row['previous_value']:.2f} last year, "
                         f"{row['value']:.2f} now (change over {MAX_RATIO_JUMP})")
    if check == "unit_without_report":
        return "unit_code", f"unit {row['unit_code']} ({row['level']}) has no accepted report"
    return "value", f"{_where(row)}: {check}"


def _row_id(row) -> str:
    """An offending row's id: `<submission_id>#<source_row>` (the report's row), else the
    submission and indicator (a required indicator with no row), else the unit."""
    sid = row.get("submission_id")
    if isinstance(sid, str):
        if pd.notna(row.get("source_row")):
            return f"{sid}#{int(row['source_row'])}"
        return f"{sid}:{row.get('indicator_code')}"
    return f"unit:{row.get('unit_code')}"


def validate_dti_reports(con: duckdb.DuckDBPyConnection, year: int, run_id: str = "manual",
                         root: Path | None = None) -> DtiValidation:
    """Run the DTI suites on the year's accepted submissions, flag failing rows, record results."""
    prepare_warehouse(con)
    year = int(year)
    # Flags of a previous run are recomputed, never accumulated.
    con.execute(
        f"""UPDATE raw.dti_report_values SET rejection_rule = NULL, rejection_reason = NULL, rejection_field = NULL
            WHERE year = ? AND rejection_rule LIKE '{GX_RULE_PREFIX}%'""", [year])
    _register_catalogue(con)
    try:
        frames = frames_for(con, year)
    finally:
        con.unregister("dti_catalogue_reported")
    result = DtiValidation(year=year, run_id=run_id)
    result.latest_submission_ids = {r[0] for r in con.execute(LATEST_SQL, [year]).fetchall()}
    result.submissions = con.execute(
        "SELECT count(*) FROM raw.dti_submissions WHERE status = 'accepted' AND year = ?", [year]).fetchone()[0]
    root = root or quality_dir()
    root.mkdir(parents=True, exist_ok=True)
    context = gx_context(str(root))
    run_name = f"dti-{year}-{run_id}"
    result_ids, flags = run_report_suites(context, "dxmon_dti_profiles", SUITES, frames, run_name, result,
                                          EXTRACT_KIND, _message, _row_id, lambda row: (row["indicator_code"],))
    result.flagged_rows = apply_flags(con, "raw.dti_report_values", ("indicator_code",), flags)
    period = dt.date(year, 1, 1)
    now = dt.datetime.now()
    con.execute("DELETE FROM meta.validation_results WHERE period_month = ? AND extract_kind = ? AND run_id = ?",
                [period, EXTRACT_KIND, run_id])
    con.executemany(
        "INSERT INTO meta.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, period, o.extract_kind, o.suite_name, o.expectation, o.column, o.is_blocking, o.success,
          o.observed_value, o.unexpected_count, o.element_count, o.details, now] for o in result.outcomes])
    con.execute("INSERT OR REPLACE INTO meta.dti_year_status VALUES (?, ?, ?, ?, ?)",
                [year, result.is_publishable, result.blocking_failures_text, now, run_id])
    record_sample_rows(con, run_id, period, "dti_reports_", result.sample_row_ids)
    result.docs_index, result.docs_pages = build_data_docs(context, result_ids)
    log.info("validated DTI %d: %d submissions, %d blocking failures, %d warnings, %d rows flagged",
             year, result.submissions, len(result.blocking_failures), len(result.warnings), result.flagged_rows)
    return result
