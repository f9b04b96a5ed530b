"""Agency KPI reports through the shared intake engine: the demo inbox with its planted defects
(taken once per module and asserted many ways), the template round trip, the file- and row-level
rules, and the GX gate (docs/kpi_reports.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from demo.kpi_reports import generate_demo_kpi_reports
from expectations.kpi_validation import validate_kpi_reports
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.kpi.catalogue import reported_measures
from ingestion.kpi.reports.intake import ingest_kpi_inbox
from ingestion.kpi.reports.periods import parse_period
from ingestion.kpi.reports.templates import (
    KPI_LAYOUT,
    form_measures,
    report_csv_text,
    report_workbook,
    write_templates,
)
from ingestion.reports.cell_parsing import CellError
from ingestion.reports.report_files import read_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo inbox taken once and validated for both periods; the connection stays open."""
    root = tmp_path_factory.mktemp("kpi_demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        mp.setenv("DXMON_WAREHOUSE", str(root / "data" / "warehouse" / "dxmon.duckdb"))
        reports = generate_demo_kpi_reports(root / "demo")
        with connect() as con:
            summary = ingest_kpi_inbox(con, reports.inbox)
            validations = {p: validate_kpi_reports(con, p, run_id="test", build_docs=False)
                           for p in ("2025-Q2", "2025-Q3")}
            yield {"reports": reports, "summary": summary, "con": con, "validations": validations, "root": root}


def defect(demo, name: str) -> dict:
    return next(d for d in demo["reports"].defects if d["defect"] == name)


def test_every_demo_file_is_taken_and_every_submission_reconciles(demo):
    meta = demo["summary"].as_metadata()
    assert (meta["files"], meta["accepted"], meta["rejected"]) == (len(demo["reports"].files), 14, 1)
    assert meta["periods"] == ["2025-Q2", "2025-Q3"]
    for sid, read, accepted, rejected, stored, flagged_at_intake in demo["con"].execute(
            "SELECT s.submission_id, s.rows_read, s.rows_accepted, s.rows_rejected, count(v.submission_id), "
            "count(v.rejection_rule) FILTER (WHERE v.rejection_rule NOT LIKE 'gx_%') FROM raw.kpi_submissions s "
            "LEFT JOIN raw.kpi_report_values v USING (submission_id) GROUP BY ALL").fetchall():
        assert read == accepted + rejected == stored and rejected == flagged_at_intake, sid
    assert demo["con"].execute("SELECT DISTINCT submission_id LIKE 'kpi:2025-Q_:%:%' FROM raw.kpi_submissions"
                               ).fetchall() == [(True,)]


def test_a_report_in_another_units_folder_is_rejected_naming_both_units(demo):
    d = defect(demo, "wrong_folder")
    rule, reason, unit_code, folder = demo["con"].execute(
        "SELECT rejection_rule, rejection_reason, unit_code, folder_unit_code FROM raw.kpi_submissions "
        "WHERE inbox_path = ?", [d["file"]]).fetchone()
    assert (rule, unit_code, folder) == ("foreign_unit", "48", "01")
    assert reason.startswith("the file is the report of unit 48 (Đà Nẵng) but was submitted into the folder of "
                             "unit 01 (Hà Nội)"), reason
    assert "kpi_inbox/2025-Q3/48/" in reason and "file 'bao_cao_kpi_48.xlsx'" in reason
    copy = demo["con"].execute("SELECT rule, input_kind, location, period_month FROM quarantine.rejected_files "
                               "WHERE original_location = ?", [d["file"]]).fetchone()
    assert copy[:2] == ("foreign_unit", "kpi_reports") and Path(copy[2]).is_file()
    assert copy[3] == dt.date(2025, 7, 1) and "/kpi_reports/2025-Q3/01/" in copy[2]
    # unit 48's own report, in its folder, counts
    assert demo["con"].execute("SELECT status FROM raw.kpi_submissions WHERE folder_unit_code = '48' AND "
                               "period = '2025-Q3'").fetchall() == [("accepted",)]


def test_a_decimal_comma_is_read_as_the_vietnamese_decimal(demo):
    d = defect(demo, "decimal_comma")
    value, raw_value, rule = demo["con"].execute(
        "SELECT v.value, v.raw_value, v.rejection_rule FROM raw.kpi_report_values v JOIN raw.kpi_submissions s "
        "USING (submission_id) WHERE s.inbox_path = ? AND v.kpi_code = 'DG-01'", [d["file"]]).fetchone()
    assert (value, raw_value, rule) == (45.5, "45,5", None)


@pytest.mark.parametrize("name, field, cause", [
    ("above_100_percent", "value", "out of range: outside the allowed range 0–100 (%): found '112%'"),
    ("wrong_unit", "unit", "wrong unit: the unit cell says 'người' (a count unit)"),
])
def test_row_defects_are_quarantined_with_rule_and_where(demo, name, field, cause):
    d = defect(demo, name)
    rows = demo["con"].execute(
        "SELECT rule, field, reason, sheet, source_row FROM quarantine.kpi_rejections WHERE file = ? "
        "AND kpi_code = ?", [d["file"], d["kpi_code"]]).fetchall()
    assert len(rows) == 1
    rule, got_field, reason, sheet, source_row = rows[0]
    assert (rule, got_field) == (d["expected_rule"], field)
    assert reason.startswith(cause), reason
    assert f"file '{Path(d['file']).name}', sheet 'Chỉ tiêu KPI', row {source_row}, field '{field}'" in reason
    # the other rows of the same report flow
    good = demo["con"].execute("SELECT count(*) FROM raw.kpi_report_values v JOIN raw.kpi_submissions s "
                               "USING (submission_id) WHERE s.inbox_path = ? AND v.value IS NOT NULL",
                               [d["file"]]).fetchone()[0]
    assert good == len(reported_measures("ministry")) - 1


def test_the_resubmission_takes_over(demo):
    d = defect(demo, "resubmission")
    versions = demo["con"].execute(
        "SELECT s.version, s.inbox_path, v.value FROM raw.kpi_submissions s JOIN raw.kpi_report_values v "
        "USING (submission_id) WHERE s.period = '2025-Q3' AND s.unit_code = '01' AND s.status = 'accepted' "
        "AND v.kpi_code = 'DG-02' ORDER BY s.version").fetchall()
    assert versions == [(1, d["superseded_file"], 9.5), (2, d["file"], 95.0)]
    latest = demo["validations"]["2025-Q3"].latest_submission_ids
    assert [sid for sid in latest if ":01:" in sid] == [
        demo["con"].execute("SELECT submission_id FROM raw.kpi_submissions WHERE inbox_path = ?",
                            [d["file"]]).fetchone()[0]]


def test_the_gate_a_blocking_failure_withholds_the_period(demo):
    q2, q3 = demo["validations"]["2025-Q2"], demo["validations"]["2025-Q3"]
    assert q2.is_publishable and q2.blocking_failures_text is None
    assert not q3.is_publishable
    btc = next(s for s in q3.blocking_in_latest if ":BTC:" in s)
    assert "required KPI missing: KPI DG-02/main" in q3.blocking_in_latest[btc][0]
    gate = dict(demo["con"].execute("SELECT period_key, publication_basis FROM meta.publication_gate "
                                    "WHERE index_name = 'kpi_reports'").fetchall())
    assert gate == {"2025-Q2": "checks_passed", "2025-Q3": "withheld"}
    status = demo["con"].execute("SELECT blocking_failures FROM meta.kpi_period_status WHERE period = '2025-Q3'"
                                 ).fetchone()[0]
    assert status == q3.blocking_failures_text and status.startswith("kpi:2025-Q3:BCT:")
    results = demo["con"].execute(
        "SELECT suite_name, bool_and(success) FROM meta.validation_results WHERE extract_kind = 'kpi_reports' "
        "AND json_extract_string(details, '$.period') = '2025-Q3' GROUP BY 1 ORDER BY 1").fetchall()
    assert results == [("kpi_reports_coverage", False), ("kpi_reports_plausibility", False),
                       ("kpi_reports_required", False), ("kpi_reports_values", True)]
    # the plausibility jump is a warning: named, not blocking
    assert any("implausible change: KPI DG-01/main went from" in m
               for ms in q3.warnings_by_submission.values() for m in ms)


def test_a_rerun_takes_nothing_and_revalidation_gives_the_same_gate(demo):
    con = demo["con"]
    before = con.execute("SELECT * FROM raw.kpi_submissions ORDER BY submission_id").fetchall()
    values = con.execute("SELECT * FROM raw.kpi_report_values ORDER BY submission_id, source_row").fetchall()
    again = ingest_kpi_inbox(con, demo["reports"].inbox)
    assert {f.action for f in again.files} == {"unchanged"}
    assert con.execute("SELECT * FROM raw.kpi_submissions ORDER BY submission_id").fetchall() == before
    assert con.execute("SELECT * FROM raw.kpi_report_values ORDER BY submission_id, source_row").fetchall() == values
    text = demo["validations"]["2025-Q3"].blocking_failures_text
    assert validate_kpi_reports(con, "2025-Q3", run_id="test", build_docs=False).blocking_failures_text == text


# --------------------------------------------------------------------------------------------
# Templates and rules on small inboxes

@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def _values(level: str, overrides: dict | None = None) -> dict:
    values = {(m.kpi_code, m.measure): {"value": 50 if m.unit != "count" else 120} for m in form_measures(level)}
    values.update(overrides or {})
    return values


def _drop(inbox: Path, period: str, unit: str, name: str) -> Path:
    folder = inbox / period / unit
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_templates_round_trip_through_intake(con, data_root):
    written = write_templates("province", "2025-Q3", data_root / "templates")
    assert [p.name for p in written] == ["kpi_2025-Q3_province_template.xlsx", "kpi_2025-Q3_province_template.csv"]
    blank = read_report(written[0], layout=KPI_LAYOUT)
    assert blank.header["period"] == "2025-Q3" and blank.header["catalogue_version"] == "kpi_2026_12"
    assert [(r.cells["kpi_code"], r.cells["measure"]) for r in blank.rows] == \
        [(m.kpi_code, m.measure) for m in form_measures("province")]
    # fill the template as an official would (XLSX and CSV, ministry and province) and take it in
    inbox = data_root / "kpi_inbox"
    values = _values("province", {("DS-01", "communes"): {"numerator": 30, "denominator": 40}})
    report_workbook("province", "2025-Q3", unit_code="01", report_date=dt.date(2025, 10, 3),
                    values=values).save(_drop(inbox, "2025-Q3", "01", "hn.xlsx"))
    _drop(inbox, "2025-08", "BTC", "btc.csv").write_text(
        report_csv_text("ministry", "2025-08", unit_code="BTC", report_date="03/09/2025",
                        values=_values("ministry", {("DG-02", "main"): {"value": "45,5%"}})), encoding="utf-16")
    summary = ingest_kpi_inbox(con, inbox)
    assert [(f.action, f.rejected_rows) for f in summary.files] == [("accepted", 0), ("accepted", 0)]
    got = dict(con.execute("SELECT kpi_code || '/' || measure, value FROM raw.kpi_report_values WHERE unit_code = '01'"
                           ).fetchall())
    assert got["DS-01/communes"] == 75.0 and got["DE-07/main"] == 120 and got["DG-02/main"] == 50
    btc = con.execute("SELECT s.file_encoding, s.period_start, s.period_end, v.value FROM raw.kpi_submissions s "
                      "JOIN raw.kpi_report_values v USING (submission_id) WHERE v.kpi_code = 'DG-02' AND s.unit_code = 'BTC'"
                      ).fetchone()
    assert btc == ("utf-16", dt.date(2025, 8, 1), dt.date(2025, 8, 31), 45.5)


def test_file_level_rules(con, data_root, monkeypatch):
    inbox = data_root / "kpi_inbox"
    values = _values("province")
    cases = {
        # folder period, folder unit, file unit, file period, level template, name -> rule
        ("2025-Q4", "02", "02", "2025-Q4", "province", "merged.csv"): "unit_not_valid",
        ("2025-Q3", "01", "01", "2025-Q2", "province", "period.csv"): "foreign_period",
        ("2025-Q3", "99", "99", "2025-Q3", "province", "unknown.csv"): "unknown_unit",
        ("2025-Q3", "BYT", "BYT", "2025-Q3", "province", "level.csv"): "wrong_level",
    }
    for (period, folder, unit, file_period, level, name), _ in cases.items():
        text = report_csv_text(level, file_period, unit_code=unit, report_date="05/10/2025", values=values)
        _drop(inbox, period, folder, name).write_text(text, encoding="utf-8")
    early = report_csv_text("province", "2025-Q3", unit_code="79", report_date="05/01/2024", values=values)
    _drop(inbox, "2025-Q3", "79", "early.csv").write_text(early, encoding="utf-8")
    nohead = report_csv_text("province", "2025-Q3", unit_code="31", report_date="", values=values)
    _drop(inbox, "2025-Q3", "31", "nohead.csv").write_text(nohead, encoding="utf-8")
    summary = ingest_kpi_inbox(con, inbox)
    rules = {Path(f.path).name: f.rule for f in summary.files}
    assert rules == {**{k[5]: v for k, v in cases.items()}, "early.csv": "implausible_report_date",
                     "nohead.csv": "missing_header"}
    reason = next(f.reason for f in summary.files if f.rule == "unit_not_valid")
    assert reason.startswith("unit 02 (Hà Giang) does not report for 2025-Q4 (not valid on 31/12/2025; it ended on "
                             "30/06/2025"), reason
    assert con.execute("SELECT count(*) FROM quarantine.kpi_rejections WHERE rejection_level = 'file'"
                       ).fetchone() == (6,)


def test_row_level_rules(con, data_root):
    inbox = data_root / "kpi_inbox"
    values = _values("province", {
        ("DG-01", "main"): {"value": "đang cập nhật"},
        ("DG-02", "main"): {"numerator": 50, "denominator": 40},
        ("DG-03", "main"): {"value": 50, "unit": "số lượng"},
        ("DE-07", "main"): {"value": "12%"},
        ("DG-10", "main"): {"numerator": 5},
        ("DS-02", "main"): {"value": "1.234,5"},
    })
    text = report_csv_text("province", "2025-Q3", unit_code="79", report_date="05/10/2025", values=values)
    text += "DG-12,main,,%,,60,,,,\nXX-99,main,,%,,60,,,,\n"
    _drop(inbox, "2025-Q3", "79", "rows.csv").write_text(text, encoding="utf-8")
    ingest_kpi_inbox(con, inbox)
    got = {(code, measure, rule, field) for code, measure, rule, field in con.execute(
        "SELECT kpi_code, measure, rule, field FROM quarantine.kpi_rejections").fetchall()}
    assert got == {("DG-01", "main", "not_a_number", "value"), ("DG-02", "main", "numerator_above_denominator",
                                                                 "numerator"),
                   ("DG-03", "main", "wrong_unit", "unit"), ("DE-07", "main", "wrong_unit", "value"),
                   ("DG-10", "main", "missing_value", "denominator"), ("DS-02", "main", "out_of_range", "value"),
                   ("DG-12", "main", "duplicate_kpi", "kpi_code"), ("XX-99", "main", "unknown_kpi", "kpi_code")}
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine.kpi_rejections").fetchall()]
    assert all("file 'rows.csv', line " in r and ", field '" in r for r in reasons), reasons


@pytest.mark.parametrize("text, key", [("2025-Q3", "2025-Q3"), ("q3/2025", "2025-Q3"), ("Quý 3/2025", "2025-Q3"),
                                       ("2025-08", "2025-08"), ("08/2025", "2025-08"), (2025, "2025"),
                                       (dt.datetime(2025, 8, 1), "2025-08")])
def test_periods_as_officials_write_them(text, key):
    assert parse_period(text).key == key


def test_period_arithmetic_and_refusals():
    assert parse_period("2025-Q1").previous().key == "2024-Q4"
    assert parse_period("2025-01").previous().key == "2024-12"
    assert (parse_period("2025-Q3").start, parse_period("2025-Q3").end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    for bad in ("2025-Q5", "Q3", "2025-13", "hôm nay"):
        with pytest.raises(CellError):
            parse_period(bad)
