"""Monthly task status reports through the shared intake engine (ingestion/tasks/report_intake.py):
one inbox with every file rule and every row rule once, the contradictions that are accepted (dbt
flags them), the untouched pre-filled row kept, reconciliation, versions and an idempotent rerun."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.tasks.report_intake import ingest_task_reports
from ingestion.tasks.templates import REPORT_SHEET, report_workbook, write_report_file
from tests.ingestion.test_task_plan_intake import assert_reconciled, outcome, stamp

D = dt.date
PERIOD = "2025-08"
REPORT_DATE = D(2025, 9, 3)


def report_header(unit="01", period=PERIOD, prepared=REPORT_DATE, **extra) -> dict:
    return {"unit_code": unit, "period": period, "report_date": prepared, **extra}


def put_report(inbox: Path, folder: str, name: str, header: dict, rows: list[dict], seconds: int,
               period: str = PERIOD) -> Path:
    return stamp(write_report_file(inbox / period / folder / name, header, rows), seconds)


ROWS = [
    {"task_code": "NV-01", "title": "Chiến lược dữ liệu", "deadline": D(2025, 9, 30),
     "status": "Đã hoàn thành – đúng hạn", "completion_date": D(2025, 8, 20), "evidence": "Quyết định 12/QĐ-UBND",
     "progress": 100},
    {"task_code": "NV-02", "status": "Đang thực hiện trung hạn", "progress": "45,5%", "note": "Đang lấy ý kiến"},
    {"task_code": "NV-03", "title": "Chưa báo cáo", "deadline": "Hằng quý"},  # pre-filled, untouched: kept
    {"task_code": "nv-02", "status": "Đang thực hiện"},
    {"title": "Nhiệm vụ phát sinh", "status": "Đang thực hiện"},
    {"task_code": "NV-04", "status": "xong rồi"},
    {"task_code": "NV-05", "status": "Đã hoàn thành", "completion_date": "31/02/2025"},
    {"task_code": "NV-06", "status": "Đang thực hiện", "extension_deadline": "sang năm"},
    {"task_code": "NV-07", "status": "Đang thực hiện", "approval_date": "hôm qua"},
    {"task_code": "NV-08", "status": "Đang thực hiện", "progress": 140},
    {"task_code": "NV-09", "status": "Đang thực hiện", "progress": "gần xong"},
    {"task_code": "NV-10", "status": "Quá hạn", "approval_document": "Công văn 45/VPCP-KSTT",
     "approval_date": D(2025, 8, 1)},
    {"task_code": "NV-11", "status": "Đang thực hiện"},  # its progress becomes a formula without a value
    # accepted as reported: dbt flags the contradictions
    {"task_code": "NV-999", "status": "Đang thực hiện"},  # not in the registry
    {"task_code": "NV-12", "status": "Đã hoàn thành"},  # completed without date or evidence
    {"task_code": "NV-13", "status": "Hoàn thành", "completion_date": D(2025, 12, 1), "evidence": "CV 1"},  # after
    {"task_code": "NV-14", "status": "Chưa hoàn thành", "approval_document": "Thông báo 56/TB-VPCP",
     "approval_date": D(2025, 8, 10)},  # closed, citing the approving document
    {"task_code": "NV-15", "status": "Quá hạn chưa hoàn thành", "delay_reason": "Chờ kinh phí",
     "extension_deadline": D(2025, 12, 31), "approval_document": "Công văn 99/VPCP", "approval_date": D(2025, 7, 1)},
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("task_reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        mp.setenv("DXMON_WAREHOUSE", str(root / "data" / "warehouse" / "dxmon.duckdb"))
        inbox = root / "data" / "task_reports"
        wb = report_workbook(report_header(), ROWS)
        wb[REPORT_SHEET].cell(9 + 13, 7).value = "=50+1"  # NV-11's progress: a formula openpyxl leaves uncached
        folder = inbox / PERIOD / "01"
        folder.mkdir(parents=True)
        out = io.BytesIO()
        wb.save(out)
        (folder / "rules.xlsx").write_bytes(out.getvalue())
        stamp(folder / "rules.xlsx", 0)
        put_report(inbox, "01", "rules_v2.csv", report_header(prepared=D(2025, 9, 5)),
                   [{"task_code": "NV-01", "status": "Hoàn thành", "completion_date": D(2025, 8, 20),
                     "evidence": "Quyết định 12/QĐ-UBND"}], 1)
        files = {
            "missing_header.csv": ("79", report_header("79", prepared=None)),
            "bad_header.csv": ("79", report_header("79", period="tháng tám")),
            "foreign_unit.csv": ("01", report_header("79")),
            "foreign_period.csv": ("79", report_header("79", period="2025-07")),
            "unknown_unit.csv": ("99", report_header("99")),
            "merged.csv": ("02", report_header("02")),
            "wrong_level.csv": ("48", report_header("48", level="ministry")),
            "implausible.csv": ("48", report_header("48", prepared=D(2025, 7, 30))),
            "old_template.csv": ("BTC", report_header("BTC", template_version="0")),
        }
        for i, (name, (folder_name, header)) in enumerate(files.items()):
            put_report(inbox, folder_name, name, header, [{"task_code": "NV-01", "status": "Đang thực hiện"}], 10 + i)
        put_report(inbox, "02", "june.csv", report_header("02", period="2025-06", prepared=D(2025, 7, 2)),
                   [{"task_code": "HG-01", "status": "Đang thực hiện"}], 30, period="2025-06")
        with connect() as con:
            prepare_warehouse(con)
            summary = ingest_task_reports(con, inbox)
            yield {"con": con, "summary": summary, "inbox": inbox}


def test_every_file_is_taken_and_every_submission_reconciles(reports):
    meta = reports["summary"].as_metadata()
    assert (meta["files"], meta["accepted"], meta["rejected"]) == (12, 3, 9)
    assert meta["periods"] == ["2025-06", "2025-08"]
    assert_reconciled(reports["con"], "raw.task_report_submissions", "raw.task_report_rows")
    assert reports["con"].execute(
        "SELECT period_start, period_end, report_period, level, template_version FROM raw.task_report_submissions "
        "WHERE inbox_path LIKE '%/rules.xlsx'").fetchone() == (D(2025, 8, 1), D(2025, 8, 31), "2025-08", "province",
                                                                 "1")


@pytest.mark.parametrize("name, rule, cause", [
    ("missing_header.csv", "missing_header", "missing header: header cell(s) 'Ngày báo cáo (dd/mm/yyyy)'"),
    ("bad_header.csv", "bad_header", "unreadable header 'Kỳ báo cáo (YYYY-MM)'"),
    ("foreign_unit.csv", "foreign_unit", "the file is the task report of unit 79 (Hồ Chí Minh) but was submitted into "
                                         "the folder of unit 01 (Hà Nội); unit 79 must send it to "
                                         "task_reports/2025-08/79/"),
    ("foreign_period.csv", "foreign_period", "the file reports period 2025-07 but was submitted into "
                                             "task_reports/2025-08/"),
    ("unknown_unit.csv", "unknown_unit", "unknown unit: code 99 is not in the unit registry"),
    ("merged.csv", "unit_not_valid", "unit 02 (Hà Giang) does not report for 2025-08 (not valid on 31/08/2025; it "
                                     "ended on 30/06/2025; its tasks are led by 08 (Tuyên Quang) from 01/07/2025"),
    ("wrong_level.csv", "wrong_level", "wrong level: header level 'ministry' but unit 48 is a province"),
    ("implausible.csv", "implausible_report_date", "implausible report date 30/07/2025: a report on 2025-08 is dated "
                                                   "from 01/08/2025"),
    ("old_template.csv", "wrong_template_version", "wrong template version: the file fills in version 0"),
])
def test_file_rules_reject_the_file_naming_it(reports, name, rule, cause):
    result = outcome(reports["summary"], name)
    assert (result.action, result.rule) == ("rejected", rule), result.reason
    assert result.reason.startswith(cause) and f"file '{name}'" in result.reason, result.reason
    assert reports["con"].execute("SELECT input_kind, period_month FROM quarantine.rejected_files WHERE "
                                  "original_location = ?", [result.path]).fetchone() == ("task_reports", D(2025, 8, 1))


def test_province_02_reports_for_june_not_for_august(reports):
    assert outcome(reports["summary"], "june.csv").action == "accepted"
    assert outcome(reports["summary"], "merged.csv").action == "rejected"


EXPECTED_ROW_RULES = {
    "NV-02": ("duplicate_task", "task_code", "duplicate task: NV-02 is reported again (first on row 11); only the "
                                             "first row counts"),
    None: ("missing_task_code", "task_code", "missing task code: the row reports on a task but names no task code"),
    "NV-04": ("unknown_status", "status", "unknown status 'xong rồi': choose one of the template's list"),
    "NV-05": ("bad_date", "completion_date", "unreadable date: not a calendar date"),
    "NV-06": ("bad_date", "extension_deadline", "unreadable date: expected a date dd/mm/yyyy, found 'sang năm'"),
    "NV-07": ("bad_date", "approval_date", "unreadable date: expected a date dd/mm/yyyy, found 'hôm qua'"),
    "NV-08": ("out_of_range", "progress", "out of range: progress is a percentage from 0 to 100, found '140'"),
    "NV-09": ("not_a_number", "progress", "progress: expected a number"),
    "NV-10": ("extension_without_deadline", "extension_deadline", "extension without a new deadline: the row gives "
                                                                  "an approving document or date but no new deadline"),
    "NV-11": ("formula_without_value", "progress", "formula without a value"),
}


def test_every_row_rule_once_with_file_sheet_row_and_field(reports):
    got = {code: (rule, field, reason) for code, rule, field, reason in reports["con"].execute(
        "SELECT task_code, rule, field, reason FROM quarantine.task_rejections WHERE rejection_level = 'row' AND "
        "file LIKE '%/rules.xlsx'").fetchall()}
    assert set(got) == set(EXPECTED_ROW_RULES)
    for code, (rule, field, cause) in EXPECTED_ROW_RULES.items():
        assert got[code][:2] == (rule, field), (code, got[code])
        assert got[code][2].startswith(cause), got[code][2]
        assert "file 'rules.xlsx', sheet 'Báo cáo tiến độ', row " in got[code][2], got[code][2]
        assert f"field '{field}'" in got[code][2]


def test_good_rows_and_contradictions_flow_as_reported(reports):
    rows = {r[0]: r[1:] for r in reports["con"].execute(
        "SELECT r.task_code, r.reported_status, r.reported_status_text, r.completion_date, r.evidence, "
        "r.progress_percent, r.extension_deadline, r.approval_document, r.approval_date, r.note, r.unit_code, r.period "
        "FROM raw.task_report_rows r JOIN raw.task_report_submissions s USING (submission_id) "
        "WHERE s.inbox_path LIKE '%/rules.xlsx' AND r.rejection_rule IS NULL").fetchall()}
    assert set(rows) == {"NV-01", "NV-02", "NV-03", "NV-999", "NV-12", "NV-13", "NV-14", "NV-15"}
    assert rows["NV-01"] == ("completed_on_time", "Đã hoàn thành – đúng hạn", D(2025, 8, 20), "Quyết định 12/QĐ-UBND",
                             100.0, None, None, None, None, "01", PERIOD)
    assert rows["NV-02"][:2] == ("in_progress_within_deadline", "Đang thực hiện trung hạn")
    assert rows["NV-02"][4] == 45.5 and rows["NV-02"][8] == "Đang lấy ý kiến"
    assert rows["NV-03"][:9] == (None,) * 9  # no report of progress, kept
    assert rows["NV-999"][0] == "in_progress"
    assert rows["NV-12"][:4] == ("completed", "Đã hoàn thành", None, None)
    assert rows["NV-13"][2] == D(2025, 12, 1)  # after the report date: dbt's contradiction
    assert rows["NV-14"][0] == "not_completed" and rows["NV-14"][6] == "Thông báo 56/TB-VPCP"
    assert rows["NV-15"][0] == "overdue_not_completed" and rows["NV-15"][5:8] == (D(2025, 12, 31), "Công văn 99/VPCP",
                                                                                  D(2025, 7, 1))


def test_raw_values_keep_the_cells_as_typed(reports):
    raw = dict(reports["con"].execute(
        "SELECT r.task_code, r.raw_values FROM raw.task_report_rows r JOIN raw.task_report_submissions s "
        "USING (submission_id) WHERE s.inbox_path LIKE '%/rules.xlsx' AND r.rejection_rule IS NULL "
        "AND r.task_code IN ('NV-01', 'NV-02', 'NV-03')"
    ).fetchall())
    assert json.loads(raw["NV-01"]) == {"task_code": "NV-01", "title": "Chiến lược dữ liệu", "deadline": "2025-09-30",
                                        "status": "Đã hoàn thành – đúng hạn", "completion_date": "2025-08-20",
                                        "evidence": "Quyết định 12/QĐ-UBND", "progress": 100}
    assert json.loads(raw["NV-02"])["progress"] == "45,5%"
    assert json.loads(raw["NV-03"]) == {"task_code": "NV-03", "title": "Chưa báo cáo", "deadline": "Hằng quý"}


def test_versions_and_a_rerun_that_takes_nothing(reports):
    con = reports["con"]
    assert con.execute("SELECT version, status, rows_read FROM raw.task_report_submissions WHERE period = ? AND "
                       "folder_unit_code = '01' ORDER BY version", [PERIOD]).fetchall() == \
        [(1, "accepted", len(ROWS)), (2, "accepted", 1), (3, "rejected", 1)]
    before = con.execute("SELECT * FROM raw.task_report_submissions ORDER BY submission_id").fetchall()
    rows = con.execute("SELECT * FROM raw.task_report_rows ORDER BY submission_id, source_row").fetchall()
    again = ingest_task_reports(con, reports["inbox"])
    assert {f.action for f in again.files} == {"unchanged"}
    assert con.execute("SELECT * FROM raw.task_report_submissions ORDER BY submission_id").fetchall() == before
    assert con.execute("SELECT * FROM raw.task_report_rows ORDER BY submission_id, source_row").fetchall() == rows
