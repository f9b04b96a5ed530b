"""GX validation of DTI reports: each rule caught on real ingested files, flags and results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from expectations.dti_validation import validate_dti_reports
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.reports.intake import ingest_inbox
from ingestion.reports.templates import report_workbook

GOOD = {
    "1.1": {"value": "Có", "evidence": "QĐ 123/QĐ-UBND"},
    "1.2": {"value": 3},
    "1.3": {"numerator": 45, "denominator": 60},
    "6.1": {"value": "Không"},
    "7.1": {"value": "60%", "evidence": "https://dichvucong.gov.vn"},
    "7.2": {"value": 12},
    "8.1": {"value": "1,2%"},
}


@pytest.fixture
def con(data_root, dti_catalogue):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def submit(data_root, unit, year, values, name="bao_cao.xlsx"):
    path = data_root / "inbox" / str(year) / unit / name
    path.parent.mkdir(parents=True, exist_ok=True)
    report_workbook("province", year, unit_code=unit, report_date=dt.date(year + 1, 1, 15), values=values).save(path)
    return path


def results(con, year):
    return con.execute(
        "SELECT suite_name, expectation, is_blocking, success, unexpected_count, details FROM meta.validation_results "
        "WHERE period_month = ? AND extract_kind = 'dti_reports' ORDER BY suite_name, expectation",
        [dt.date(year, 1, 1)]).fetchall()


def test_clean_reports_pass_every_blocking_expectation(con, data_root):
    submit(data_root, "01", 2023, GOOD)
    ingest_inbox(con)
    summary = validate_dti_reports(con, 2023)
    assert summary.is_clean and summary.submissions == 1 and summary.flagged_rows == 0
    rows = results(con, 2023)
    assert {r[0] for r in rows} == {"dti_reports_required", "dti_reports_values", "dti_reports_evidence",
                                    "dti_reports_plausibility", "dti_reports_coverage"}
    assert all(r[3] for r in rows if r[2])
    # Coverage is a warning: 62 other provinces and every ministry sent nothing.
    coverage = next(r for r in rows if r[0] == "dti_reports_coverage")
    assert coverage[2] is False and coverage[3] is False and coverage[4] == 62 + 25
    # the year's gate is open (a warning never holds it back)
    assert con.execute("SELECT is_publishable, blocking_failures FROM meta.dti_year_status WHERE year = 2023"
                       ).fetchall() == [(True, None)]
    # every suite has its own Data Docs validation page, written to disk under data/quality/
    assert set(summary.docs_pages) == {r[0] for r in rows}
    for url in summary.docs_pages.values():
        assert url.startswith("file://") and (data_root / "quality").as_posix() in url
        assert Path(url.removeprefix("file://")).is_file()


def test_each_rule_is_caught_and_failing_rows_are_flagged(con, data_root):
    # 02: a required indicator left empty, and a claim without its evidence.
    submit(data_root, "02", 2023, {**GOOD, "1.2": {}, "7.1": {"value": "60%"}})
    # 04: a numerator above its denominator (the value typed beside them is in range).
    submit(data_root, "04", 2023, {**GOOD, "1.3": {"value": "50%", "numerator": 80, "denominator": 60}})
    # 06: a row rejected at intake (text in a number cell) leaves the indicator missing.
    submit(data_root, "06", 2023, {**GOOD, "7.2": {"value": "đang cập nhật"}})
    ingest_inbox(con)
    # 08: a value the catalogue's range no longer allows (as after a catalogue correction).
    submit(data_root, "08", 2023, GOOD)
    ingest_inbox(con)
    con.execute("UPDATE raw.dti_report_values SET value = 2000 WHERE unit_code = '08' AND indicator_code = '7.2'")
    summary = validate_dti_reports(con, 2023)
    assert not summary.is_clean
    by_unit = {sid.split(":")[2]: msgs for sid, msgs in summary.blocking_by_submission.items()}
    assert set(by_unit) == {"02", "04", "06", "08"}
    assert any("indicator 1.2): empty" in m for m in by_unit["02"])
    assert any("field 'evidence' (indicator 7.1)" in m for m in by_unit["02"])
    assert any("numerator 80 is larger than the denominator 60" in m for m in by_unit["04"])
    assert any("indicator 7.2 is missing or its row was rejected" in m for m in by_unit["06"])
    assert any("2000 outside [0, 1000]" in m for m in by_unit["08"])
    flags = con.execute(
        "SELECT unit_code, indicator_code, rejection_rule, rejection_field, rejection_reason FROM raw.dti_report_values "
        "WHERE rejection_rule LIKE 'gx_%' ORDER BY unit_code, indicator_code").fetchall()
    assert [f[:4] for f in flags] == [
        ("02", "1.2", "gx_required_missing", "value"), ("02", "7.1", "gx_evidence_missing", "evidence"),
        ("04", "1.3", "gx_numerator_above_denominator", "numerator"), ("08", "7.2", "gx_above_range", "value")]
    assert "bao_cao.xlsx: sheet 'Chỉ tiêu', row" in flags[0][4]
    failed = {(r[0], r[1]) for r in results(con, 2023) if r[2] and not r[3]}
    assert failed == {("dti_reports_required", "expect_column_values_to_not_be_null"),
                      ("dti_reports_evidence", "expect_column_values_to_not_be_null"),
                      ("dti_reports_values", "expect_column_pair_values_a_to_be_greater_than_b"),
                      ("dti_reports_values", "expect_column_values_to_be_between")}
    required = next(r for r in results(con, 2023) if r[0] == "dti_reports_required")
    assert required[4] == 2 and len(json.loads(required[5])["failures"]) == 2
    # the validation history keeps the offending rows' ids: the report's row, or the submission
    # and indicator when the row is missing
    samples = dict(con.execute(
        "SELECT suite_name || '/' || expectation, sample_row_ids FROM meta.validation_sample_rows").fetchall())
    evidence_row = con.execute(
        "SELECT submission_id || '#' || source_row FROM raw.dti_report_values WHERE unit_code = '02' "
        "AND indicator_code = '7.1'").fetchone()[0]
    assert json.loads(samples["dti_reports_evidence/expect_column_values_to_not_be_null"]) == [evidence_row]
    assert any(i.endswith(":7.2") and ":06:" in i
               for i in json.loads(samples["dti_reports_required/expect_column_values_to_not_be_null"]))
    # the gate: closed, naming each failing report; the text is what an override must name
    status = con.execute("SELECT is_publishable, blocking_failures FROM meta.dti_year_status WHERE year = 2023"
                         ).fetchone()
    assert status[0] is False and status[1] == summary.blocking_failures_text
    assert all(sid in status[1] for sid in summary.blocking_by_submission)
    # The quarantine view shows GX flags beside intake rejections.
    view = con.execute("SELECT folder_unit_code, rule FROM quarantine.dti_rejections ORDER BY 1, 2").fetchall()
    assert ("06", "not_a_number") in view and ("04", "gx_numerator_above_denominator") in view

    # Fixing the data and validating again clears the flags instead of accumulating them.
    con.execute("UPDATE raw.dti_report_values SET value = 12 WHERE unit_code = '08' AND indicator_code = '7.2'")
    again = validate_dti_reports(con, 2023)
    assert "08" not in {sid.split(":")[2] for sid in again.blocking_by_submission}
    assert con.execute("SELECT count(*) FROM raw.dti_report_values WHERE rejection_rule LIKE 'gx_%'").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM meta.validation_results").fetchone()[0] == len(again.outcomes)
    assert ":08:" not in con.execute("SELECT blocking_failures FROM meta.dti_year_status WHERE year = 2023").fetchone()[0]


def test_a_big_jump_against_last_year_is_a_warning_not_blocking(con, data_root):
    submit(data_root, "01", 2022, {**GOOD, "7.1": {"value": "20%", "evidence": "x"}})
    submit(data_root, "01", 2023, {**GOOD, "7.1": {"value": "90%", "evidence": "x"}})
    submit(data_root, "02", 2022, GOOD)
    submit(data_root, "02", 2023, {**GOOD, "7.1": {"value": "70%", "evidence": "x"}})
    ingest_inbox(con)
    summary = validate_dti_reports(con, 2023)
    assert summary.is_clean
    plaus = next(o for o in summary.outcomes if o.suite_name == "dti_reports_plausibility")
    assert not plaus.success and not plaus.is_blocking and plaus.unexpected_count == 1
    jumps = {sid: [m for m in msgs if "last year" in m] for sid, msgs in summary.warnings_by_submission.items()}
    [(sid, messages)] = [(sid, m) for sid, m in jumps.items() if m]
    assert sid.startswith("dti:2023:01:") and "0.20 last year, 0.90 now" in messages[0]
    assert con.execute("SELECT count(*) FROM raw.dti_report_values WHERE rejection_rule IS NOT NULL").fetchone() == (0,)
