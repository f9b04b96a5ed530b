"""GX validation of task tracking: the task lists in effect and the month's counted reports, each
rule caught, failing rows flagged, the month's gate read through meta.publication_gate. The
files go through the real intake; what intake already rejects (no lead unit, no deadline, an
unknown status, progress over 100) is put into the raw rows afterwards, as a row reaching the
table another way would, to show the suites hold the line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from expectations.task_validation import validate_task_period
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.report_intake import ingest_task_reports
from ingestion.tasks.templates import write_plan_file, write_report_file


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def add_plan(con, data_root, issuer, document_number, document_date, tasks, name="danh_muc.xlsx"):
    """A task list sent and taken in by the intake (each call is received after the previous)."""
    path = data_root / "task_plans" / str(document_date.year) / issuer / name
    write_plan_file(path, {"issuer_code": issuer, "document_number": document_number, "document_date": document_date,
                           "document_title": f"Văn bản {document_number}", "report_date": document_date},
                    [{"task_code": t["task_code"], "title": f"Nhiệm vụ {t['task_code']}", "lead_unit": t.get("lead", "01"),
                      "deadline": t.get("deadline"), "expected_result": t.get("result", "Báo cáo kết quả")}
                     for t in tasks])
    [outcome] = [f for f in ingest_task_plans(con).files if f.action == "accepted"]
    return outcome.submission_id


def add_report(con, data_root, unit, period, rows, name="bao_cao.csv"):
    """A unit's status report sent and taken in by the intake."""
    path = data_root / "task_reports" / period / unit / name
    report_date = dt.date.fromisoformat(period + "-28") + dt.timedelta(days=5)
    write_report_file(path, {"unit_code": unit, "period": period, "report_date": report_date},
                      [{"status": "Đang thực hiện", **r} for r in rows])
    [outcome] = [f for f in ingest_task_reports(con).files if f.action == "accepted"]
    return outcome.submission_id


def put(con, table, submission_id, task_code, **values):
    """Change a stored row as if it had reached the table another way than the intake."""
    assignments = ", ".join(f"{k} = ?" for k in values)
    con.execute(f"UPDATE {table} SET {assignments} WHERE submission_id = ? AND task_code = ?",
                [*values.values(), submission_id, task_code])


def gate(con, period):
    return con.execute("SELECT publication_basis, blocking_failures FROM meta.publication_gate "
                       "WHERE index_name = 'tasks' AND period_key = ?", [period]).fetchone()


def test_warnings_do_not_withhold_the_month_and_merged_units_are_covered(con, data_root):
    add_plan(con, data_root, "TTG", "QĐ 06/QĐ-TTg", dt.date(2025, 1, 6), [
        {"task_code": "DA06-001", "lead": "02", "deadline": dt.date(2025, 9, 30)},   # Hà Giang: 08 from July
        {"task_code": "DA06-002", "lead": "01", "deadline": "Thường xuyên", "result": None},  # no expected result
        {"task_code": "DA06-003", "lead": "79", "deadline": "Tháng 6/2025"},          # 79 sends no report
    ])
    add_report(con, data_root, "08", "2025-08", [{"task_code": "DA06-001", "progress": 40}])
    add_report(con, data_root, "01", "2025-08", [{"task_code": "DA06-002", "status": "Thường xuyên",
                                                  "evidence": "BC 12/BC-UBND"}])
    summary = validate_task_period(con, "2025-08", run_id="r1")
    assert summary.is_publishable and summary.flagged_rows == 0
    assert summary.documents == 1 and summary.submissions == 2
    rows = con.execute("SELECT extract_kind, suite_name, is_blocking, success, unexpected_count, details "
                       "FROM meta.validation_results WHERE period_month = DATE '2025-08-01' ORDER BY 1, 2").fetchall()
    assert {(r[0], r[1]) for r in rows} == {
        ("task_plans", "task_plans_required"), ("task_plans", "task_plans_expected_result"),
        ("task_reports", "task_reports_values"), ("task_reports", "task_reports_coverage")}
    assert all(r[3] for r in rows if r[2])
    warnings = {r[1]: r for r in rows if not r[3]}
    assert set(warnings) == {"task_plans_expected_result", "task_reports_coverage"}
    assert not any(r[2] for r in warnings.values())
    # 02's task is 08's from July (the merger crosswalk); only 79 is missing
    coverage = json.loads(warnings["task_reports_coverage"][5])
    assert warnings["task_reports_coverage"][4] == 1
    assert coverage["failures"] == ["no report: unit 79 leads 1 open task(s) and has no accepted report of the month"]
    assert coverage["period"] == "2025-08"
    assert "DA06-002 of QĐ 06/QĐ-TTg states no result" in json.loads(warnings["task_plans_expected_result"][5])["failures"][0]
    assert gate(con, "2025-08") == ("checks_passed", None)
    # Before the merger 02 reports for itself: its missing report is the warning.
    june = validate_task_period(con, "2025-06", run_id="r1", build_docs=False)
    assert june.is_publishable
    [coverage_june] = [o for o in june.outcomes if o.suite_name == "task_reports_coverage"]
    assert [m.split()[3] for m in json.loads(coverage_june.details)["failures"]] == ["01", "02", "79"]
    assert summary.as_metadata()["is_publishable"] is True


def test_blocking_failures_withhold_the_month_flag_rows_and_a_rerun_recomputes(con, data_root):
    early = add_plan(con, data_root, "UBQGCDS", "KH 01/KH-UBQGCDS", dt.date(2025, 2, 10), [
        {"task_code": "CDS-01", "lead": "BTC", "deadline": dt.date(2025, 6, 30)},
        {"task_code": "CDS-02", "lead": "BYT", "deadline": "Năm 2025"},
    ])
    later = add_plan(con, data_root, "VPCP", "TB 56/TB-VPCP", dt.date(2025, 3, 3), [
        {"task_code": "CDS-02", "lead": "BCT", "deadline": dt.date(2025, 4, 30)},  # code of the earlier list
        {"task_code": "VP-01", "lead": "BCT", "deadline": dt.date(2025, 4, 30)},
        {"task_code": "VP-02", "lead": "BCT", "deadline": "Quý II/2025"},
        {"task_code": "VP-03", "lead": "BCT", "deadline": "Hằng tháng"},
    ])
    put(con, "raw.task_plan_rows", later, "VP-01", lead_unit_code=None)              # no lead unit
    put(con, "raw.task_plan_rows", later, "VP-02", deadline=None, recurrence="once")  # no deadline, no recurrence
    btc = add_report(con, data_root, "BTC", "2025-03", [
        {"task_code": "CDS-01", "status": "Đã hoàn thành", "completion_date": dt.date(2025, 2, 1), "evidence": "CV 1"},
        {"task_code": "CDS-02", "status": "Đang thực hiện"},
    ])
    put(con, "raw.task_report_rows", btc, "CDS-02", reported_status="on_hold")  # outside the vocabulary
    bct = add_report(con, data_root, "BCT", "2025-03", [{"task_code": "VP-03", "progress": 95}])
    put(con, "raw.task_report_rows", bct, "VP-03", progress_percent=120)
    add_report(con, data_root, "BYT", "2025-03", [{"task_code": "CDS-02", "progress": 30}])
    bct_line = con.execute("SELECT source_row FROM raw.task_report_rows WHERE submission_id = ?", [bct]).fetchone()[0]
    summary = validate_task_period(con, "2025-03", run_id="r1", build_docs=False)
    assert not summary.is_publishable
    assert set(summary.blocking_in_latest) == {later, btc, bct}
    messages = summary.blocking_in_latest
    duplicate = next(m for m in messages[later] if m.startswith("duplicate task code"))
    assert "CDS-02 of TB 56/TB-VPCP is already assigned by KH 01/KH-UBQGCDS" in duplicate
    assert "row 12, received earlier) (file 'danh_muc.xlsx', sheet 'Nhiệm vụ', row 11, field 'task_code')" in duplicate
    assert any(m.startswith("lead unit missing: task VP-01") for m in messages[later])
    assert any(m.startswith("deadline missing: task VP-02") for m in messages[later])
    assert any("completed on 01/02/2025, before KH 01/KH-UBQGCDS of 10/02/2025" in m for m in messages[btc])
    assert any("reported 'on_hold' (typed 'Đang thực hiện')" in m for m in messages[btc])
    assert messages[bct] == ["progress out of range: task VP-03 reported 120 %, outside 0-100 "
                             f"(file 'bao_cao.csv', line {bct_line}, field 'progress')"]
    flags = con.execute("""SELECT input, task_code, rule, field FROM quarantine.task_rejections
                           WHERE rejection_level = 'row' ORDER BY 1, 2, 3""").fetchall()
    assert flags == [
        ("task_plan", "CDS-02", "gx_duplicate_task_code", "task_code"),
        ("task_plan", "VP-01", "gx_lead_unit_missing", "lead_unit"),
        ("task_plan", "VP-02", "gx_deadline_missing", "deadline"),
        ("task_report", "CDS-01", "gx_completion_before_document", "completion_date"),
        ("task_report", "CDS-02", "gx_unknown_status", "status"),
        ("task_report", "VP-03", "gx_progress_out_of_range", "progress")]
    # the earlier list's row stands; its lead's report row passes
    assert con.execute("SELECT count(*) FROM raw.task_plan_rows WHERE submission_id = ? AND rejection_rule IS NULL",
                       [early]).fetchone() == (2,)
    basis, failures = gate(con, "2025-03")
    assert basis == "withheld" and failures == summary.blocking_failures_text
    assert all(sid in failures for sid in summary.blocking_in_latest)
    samples = dict(con.execute("SELECT suite_name || '/' || expectation || '/' || column_name, sample_row_ids "
                               "FROM meta.validation_sample_rows WHERE period_month = DATE '2025-03-01'").fetchall())
    assert json.loads(samples["task_reports_values/expect_column_values_to_be_between/progress_percent"]) == \
        [f"{bct}#{bct_line}"]

    # A rerun of the same run gives the same results: flags recomputed, results replaced.
    results_before = con.execute("SELECT count(*) FROM meta.validation_results").fetchone()
    again = validate_task_period(con, "2025-03", run_id="r1", build_docs=False)
    assert again.blocking_failures_text == summary.blocking_failures_text
    assert con.execute("SELECT count(*) FROM meta.validation_results").fetchone() == results_before
    assert con.execute("SELECT input, task_code, rule, field FROM quarantine.task_rejections "
                       "WHERE rejection_level = 'row' ORDER BY 1, 2, 3").fetchall() == flags
    assert gate(con, "2025-03") == ("withheld", failures)

    # February: the later list is not in effect yet, BTC's report is not of the month: publishable.
    february = validate_task_period(con, "2025-02", run_id="r1", build_docs=False)
    assert february.is_publishable and february.documents == 1
    assert gate(con, "2025-02") == ("checks_passed", None)

    # The corrected reports and a corrected list (version 2 of the same document) open March.
    add_plan(con, data_root, "VPCP", "TB 56/TB-VPCP", dt.date(2025, 3, 3), [
        {"task_code": "VP-04", "lead": "BCT", "deadline": dt.date(2025, 4, 30)},
        {"task_code": "VP-03", "lead": "BCT", "deadline": "Hằng tháng"},
    ], name="danh_muc_v2.xlsx")
    add_report(con, data_root, "BTC", "2025-03", [
        {"task_code": "CDS-01", "status": "Đã hoàn thành", "completion_date": dt.date(2025, 3, 10), "evidence": "CV 1"}],
        name="bao_cao_v2.csv")
    add_report(con, data_root, "BCT", "2025-03", [{"task_code": "VP-03", "status": "Thường xuyên", "evidence": "BC 3"}],
               name="bao_cao_v2.csv")
    fixed = validate_task_period(con, "2025-03", run_id="r2", build_docs=False)
    assert fixed.is_publishable and fixed.flagged_rows == 0
    assert gate(con, "2025-03") == ("checks_passed", None)
    # the superseded versions' flags were cleared with the month's (they no longer count)
    assert con.execute("SELECT count(*) FROM raw.task_plan_rows WHERE rejection_rule LIKE 'gx_%'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM raw.task_report_rows WHERE rejection_rule LIKE 'gx_%'").fetchone() == (0,)


def test_a_month_that_is_not_a_month_is_refused(con):
    with pytest.raises(ValueError, match=r"task period '2025-Q3': expected a month 'YYYY-MM'"):
        validate_task_period(con, "2025-Q3")
