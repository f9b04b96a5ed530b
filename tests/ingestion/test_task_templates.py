"""The task forms' templates (ingestion/tasks/templates.py): the XLSX layout (named header cells,
data validation, instructions, hidden list sheet), the round trip template -> filled file ->
intake with equal values in both formats, and the status report pre-filled from the registry
(a task of merged province 02 listed for 08)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from openpyxl import load_workbook

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.reports.report_files import read_report
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.report_intake import ingest_task_reports
from ingestion.tasks.templates import (
    PLAN_LAYOUT,
    PLAN_SHEET,
    REPORT_LAYOUT,
    REPORT_SHEET,
    write_plan_file,
    write_plan_template,
    write_report_file,
    write_report_template,
)

D = dt.date
TITLE = "Xây dựng Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP) — bước 2"
PLAN_HEADER = {"issuer_code": "TTG", "document_number": "QĐ 749/QĐ-TTg", "document_date": D(2025, 5, 20),
               "document_title": "Chương trình Chuyển đổi số quốc gia", "report_date": D(2025, 5, 22)}
PLAN_ROWS = [
    {"task_code": "CT-01", "title": unicodedata.normalize("NFD", TITLE), "lead_unit": "02",
     "cooperating_units": ["BTC", "01"], "deadline": D(2025, 12, 31), "expected_result": "Nền tảng vận hành",
     "key_task": True, "note": "Ưu tiên"},
    {"task_code": "CT-02", "title": "Báo cáo tình hình triển khai", "lead_unit": "02", "deadline": "Hằng quý",
     "expected_result": "Báo cáo quý"},
    {"task_code": "CT-03", "title": "Đào tạo kỹ năng số", "lead_unit": "08", "deadline": "Quý III/2025"},
    {"task_code": "CT-04", "title": "Nhiệm vụ của Hà Nội", "lead_unit": "01", "deadline": "Tháng 10/2025"},
]


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def test_the_xlsx_templates_layout(data_root, con):
    path = write_plan_template(data_root / "plan.xlsx", "xlsx", issuer_code="TTG",
                               document={"document_number": "QĐ 749/QĐ-TTg", "document_date": D(2025, 5, 20)})
    wb = load_workbook(path)
    assert wb.sheetnames == ["Hướng dẫn", PLAN_SHEET, "Danh mục"] and wb["Danh mục"].sheet_state == "hidden"
    assert {"dxmon_issuer_code", "dxmon_document_number", "dxmon_document_date", "dxmon_report_date"} <= \
        set(wb.defined_names)
    guide = "\n".join(str(c.value) for c in wb["Hướng dẫn"]["A"] if c.value)
    assert "Nghị định 39/2022/NĐ-CP" in guide and "Instructions (English)" in guide
    ws = wb[PLAN_SHEET]
    assert [c.value for c in ws[10]] == ["Mã nhiệm vụ", "Tên nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp",
                                         "Thời hạn hoàn thành", "Kết quả / sản phẩm", "Nhiệm vụ trọng tâm", "Ghi chú"]
    assert len(ws.data_validations.dataValidation) == 5
    blank = read_report(path, layout=PLAN_LAYOUT)
    assert (blank.header["issuer_code"], blank.header["template_version"], blank.rows) == ("TTG", "1", [])
    assert blank.header["document_date"] == dt.datetime(2025, 5, 20)

    report = write_report_template(con, "79", "2025-08", data_root / "report.xlsx", "xlsx")
    wb = load_workbook(report)
    ws = wb[REPORT_SHEET]
    statuses = [c.value for c in wb["Danh mục"]["D"] if c.value]
    assert statuses[0] == "Đã hoàn thành – đúng hạn" and "Nhiệm vụ trọng tâm" not in statuses
    kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
    assert kinds == ["date", "date", "decimal", "list", "list"]  # report date, dates, progress, unit, status
    assert ws["B5"].value == "2025-08" and ws["B2"].value == "79" and ws["B6"].value is None


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_task_list_round_trips_through_intake(data_root, con, fmt):
    inbox = data_root / "task_plans"
    write_plan_file(inbox / "2025" / "TTG" / f"ct.{fmt}", PLAN_HEADER, PLAN_ROWS, fmt)
    summary = ingest_task_plans(con, inbox)
    assert [(f.action, f.rows, f.rejected_rows) for f in summary.files] == [("accepted", 4, 0)]
    rows = con.execute("SELECT task_code, title, lead_unit_code, cooperating_unit_codes, deadline, recurrence, "
                       "expected_result, is_key_task, note FROM raw.task_plan_rows ORDER BY source_row").fetchall()
    assert rows == [
        ("CT-01", TITLE, "02", "BTC;01", D(2025, 12, 31), "once", "Nền tảng vận hành", True, "Ưu tiên"),
        ("CT-02", "Báo cáo tình hình triển khai", "02", None, None, "quarterly", "Báo cáo quý", False, None),
        ("CT-03", "Đào tạo kỹ năng số", "08", None, D(2025, 9, 30), "once", None, False, None),
        ("CT-04", "Nhiệm vụ của Hà Nội", "01", None, D(2025, 10, 31), "once", None, False, None)]
    assert unicodedata.is_normalized("NFC", rows[0][1])
    sub = con.execute("SELECT unit_code, level, document_number, document_date, document_title, report_date, "
                      "template_version, file_format FROM raw.task_plan_submissions").fetchone()
    assert sub == ("TTG", "government", "QĐ 749/QĐ-TTg", D(2025, 5, 20), "Chương trình Chuyển đổi số quốc gia",
                   D(2025, 5, 22), "1", fmt)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_status_report_from_its_prefilled_template_round_trips(data_root, con, fmt):
    write_plan_file(data_root / "task_plans" / "2025" / "TTG" / "ct.csv", PLAN_HEADER, PLAN_ROWS)
    ingest_task_plans(con, data_root / "task_plans")
    template = write_report_template(con, "08", "2025-08", data_root / f"template.{fmt}", fmt)
    blank = read_report(template, layout=REPORT_LAYOUT)
    assert (blank.header["unit_code"], blank.header["period"], blank.header["level"]) == ("08", "2025-08", "province")
    prefilled = [{k: v for k, v in r.cells.items() if v not in (None, "")} for r in blank.rows]
    deadline = dt.datetime(2025, 12, 31) if fmt == "xlsx" else "31/12/2025"
    assert prefilled == [
        {"task_code": "CT-01", "title": f"{TITLE} [tiếp nhận từ 02 (Hà Giang)]", "deadline": deadline},
        {"task_code": "CT-02", "title": "Báo cáo tình hình triển khai [tiếp nhận từ 02 (Hà Giang)]",
         "deadline": "Hằng quý"},
        {"task_code": "CT-03", "title": "Đào tạo kỹ năng số",
         "deadline": dt.datetime(2025, 9, 30) if fmt == "xlsx" else "30/09/2025"}]
    # the agency fills the template's rows and sends it
    inputs = {
        "CT-01": {"status": "Đã hoàn thành – đúng hạn", "completion_date": D(2025, 8, 28),
                  "evidence": "Quyết định 88/QĐ-UBND", "progress": 100},
        "CT-03": {"status": "Chưa hoàn thành – quá hạn", "progress": "60%", "delay_reason": "Thiếu kinh phí",
                  "extension_deadline": D(2025, 12, 31), "approval_document": "Công văn 12/VPCP",
                  "approval_date": D(2025, 9, 20), "note": "Đã xin gia hạn"},
    }
    filled = [{**row, **inputs.get(row["task_code"], {})} for row in prefilled]
    header = {"unit_code": blank.header["unit_code"], "period": blank.header["period"], "report_date": D(2025, 9, 3)}
    write_report_file(data_root / "task_reports" / "2025-08" / "08" / f"tq.{fmt}", header, filled, fmt)
    summary = ingest_task_reports(con, data_root / "task_reports")
    assert [(f.action, f.rows, f.rejected_rows) for f in summary.files] == [("accepted", 3, 0)]
    got = con.execute("SELECT task_code, reported_status, completion_date, evidence, progress_percent, delay_reason, "
                      "extension_deadline, approval_document, approval_date, note FROM raw.task_report_rows "
                      "ORDER BY source_row").fetchall()
    assert got == [
        ("CT-01", "completed_on_time", D(2025, 8, 28), "Quyết định 88/QĐ-UBND", 100.0, None, None, None, None, None),
        ("CT-02", None, None, None, None, None, None, None, None, None),
        ("CT-03", "overdue_not_completed", None, None, 60.0, "Thiếu kinh phí", D(2025, 12, 31), "Công văn 12/VPCP",
         D(2025, 9, 20), "Đã xin gia hạn")]
