"""The two task forms (docs/task_tracking.md): the task list of an assigning document and an
agency's monthly status report, as XLSX and CSV templates, and the writers that fill them.

The layouts (`PLAN_LAYOUT`, `REPORT_LAYOUT`) are the ones intake reads back with the shared
readers (`ingestion/reports/report_files.py`):

XLSX, task list, sheet "Nhiệm vụ" (the data sheet; other sheets are ignored by intake):
  rows 2–8   header cells, each with a workbook-level defined name (`dxmon_issuer_code`, ...):
             issuer code, issuer name, document number, document date, title, date prepared,
             template version
  row 10     table header: Mã nhiệm vụ | Tên nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp |
             Thời hạn hoàn thành | Kết quả / sản phẩm | Nhiệm vụ trọng tâm | Ghi chú
  row 11+    one row per task.
XLSX, status report, sheet "Báo cáo tiến độ":
  rows 2–7   unit code, unit name, level, period (YYYY-MM), report date, template version
  row 9      table header: Mã nhiệm vụ | Tên nhiệm vụ | Thời hạn | Tình trạng thực hiện |
             Ngày hoàn thành | Văn bản / minh chứng kết quả | Tiến độ (%) | Lý do chậm |
             Thời hạn mới (gia hạn) | Văn bản cho phép (gia hạn / dừng) | Ngày văn bản cho phép | Ghi chú
  row 10+    one row per task, pre-filled with the unit's tasks as of the period (code, title,
             deadline): the agency fills the other columns.
Sheet "Hướng dẫn": instructions (Vietnamese, then English). Hidden sheet "Danh mục": the unit
codes, the issuers and the status list the data validation offers.

CSV: `# key: value` header lines (machine keys), then the table with machine column names.

`write_plan_file` / `write_report_file` fill a form the way an agency does (a date as a date cell,
a key task as 'x', every other cell as typed): the demo and the tests submit what they write.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ingestion.kpi.reports.periods import KpiPeriod, parse_period
from ingestion.reports.dti.catalogue import all_units, unit_by_code
from ingestion.reports.report_files import ReportLayout
from ingestion.reports.templates import (
    INPUT_FILL,
    UNITS_SHEET,
    add_unit_and_date_validation,
    new_report_workbook,
    write_header_cells,
    write_table_header,
)
from ingestion.tasks.units import is_valid_on, unit_label
from ingestion.tasks.vocabulary import deadline_shown, issuers, reported_statuses

TEMPLATE_FORMAT_VERSION = "1"
PLAN_SHEET = "Nhiệm vụ"
REPORT_SHEET = "Báo cáo tiến độ"
BLANK_ROWS = 200  # rows of a blank task list that carry the input formats and validation

# (key, defined name, Vietnamese label, row on the data sheet)
PLAN_HEADER_FIELDS = (
    ("issuer_code", "dxmon_issuer_code", "Mã cơ quan giao nhiệm vụ", 2),
    ("issuer_name", "dxmon_issuer_name", "Tên cơ quan giao nhiệm vụ", 3),
    ("document_number", "dxmon_document_number", "Số hiệu văn bản giao nhiệm vụ", 4),
    ("document_date", "dxmon_document_date", "Ngày ban hành văn bản (dd/mm/yyyy)", 5),
    ("document_title", "dxmon_document_title", "Trích yếu văn bản", 6),
    ("report_date", "dxmon_report_date", "Ngày lập danh mục (dd/mm/yyyy)", 7),
    ("template_version", "dxmon_template_version", "Phiên bản biểu mẫu", 8),
)
PLAN_REQUIRED_HEADER_FIELDS = ("issuer_code", "document_number", "document_date", "report_date")
PLAN_COLUMNS = (
    ("task_code", "Mã nhiệm vụ"),
    ("title", "Tên nhiệm vụ"),
    ("lead_unit", "Cơ quan chủ trì"),
    ("cooperating_units", "Cơ quan phối hợp"),
    ("deadline", "Thời hạn hoàn thành"),
    ("expected_result", "Kết quả / sản phẩm"),
    ("key_task", "Nhiệm vụ trọng tâm"),
    ("note", "Ghi chú"),
)
PLAN_TABLE_HEADER_ROW, PLAN_FIRST_ROW = 10, 11

REPORT_HEADER_FIELDS = (
    ("unit_code", "dxmon_unit_code", "Mã đơn vị", 2),
    ("unit_name", "dxmon_unit_name", "Tên đơn vị", 3),
    ("level", "dxmon_level", "Cấp (province / ministry)", 4),
    ("period", "dxmon_period", "Kỳ báo cáo (YYYY-MM)", 5),
    ("report_date", "dxmon_report_date", "Ngày báo cáo (dd/mm/yyyy)", 6),
    ("template_version", "dxmon_template_version", "Phiên bản biểu mẫu", 7),
)
REPORT_REQUIRED_HEADER_FIELDS = ("unit_code", "period", "report_date")
REPORT_COLUMNS = (
    ("task_code", "Mã nhiệm vụ"),
    ("title", "Tên nhiệm vụ"),
    ("deadline", "Thời hạn"),
    ("status", "Tình trạng thực hiện"),
    ("completion_date", "Ngày hoàn thành"),
    ("evidence", "Văn bản / minh chứng kết quả"),
    ("progress", "Tiến độ (%)"),
    ("delay_reason", "Lý do chậm"),
    ("extension_deadline", "Thời hạn mới (gia hạn)"),
    ("approval_document", "Văn bản cho phép (gia hạn / dừng)"),
    ("approval_date", "Ngày văn bản cho phép"),
    ("note", "Ghi chú"),
)
# the columns an agency fills (the others are pre-filled and ignored on intake)
REPORT_INPUT_FIELDS = ("status", "completion_date", "evidence", "progress", "delay_reason", "extension_deadline",
                       "approval_document", "approval_date", "note")
REPORT_DATE_FIELDS = ("completion_date", "extension_deadline", "approval_date")
REPORT_TABLE_HEADER_ROW, REPORT_FIRST_ROW = 9, 10

PLAN_LAYOUT = ReportLayout(
    sheet=PLAN_SHEET,
    header_fields=PLAN_HEADER_FIELDS,
    table_columns=PLAN_COLUMNS,
    required_columns=("task_code", "lead_unit", "deadline"),
    header_aliases=(("co quan ban hanh", "issuer_code"), ("ma co quan ban hanh", "issuer_code"),
                    ("so hieu van ban", "document_number"), ("so van ban", "document_number"),
                    ("ngay van ban", "document_date"), ("ngay ban hanh", "document_date"),
                    ("trich yeu", "document_title"), ("ngay lap", "report_date"), ("phien ban", "template_version")),
    column_aliases=(("ma", "task_code"), ("ma nv", "task_code"), ("stt", None), ("nhiem vu", "title"),
                    ("noi dung", "title"), ("noi dung nhiem vu", "title"), ("ten nhiem vu", "title"),
                    ("chu tri", "lead_unit"), ("co quan chu tri", "lead_unit"), ("don vi chu tri", "lead_unit"),
                    ("phoi hop", "cooperating_units"), ("co quan phoi hop", "cooperating_units"),
                    ("don vi phoi hop", "cooperating_units"), ("thoi han", "deadline"),
                    ("thoi gian hoan thanh", "deadline"), ("ket qua", "expected_result"),
                    ("san pham", "expected_result"), ("ket qua du kien", "expected_result"),
                    ("san pham du kien", "expected_result"), ("trong tam", "key_task"), ("ghi chu", "note")),
    table_header_row=PLAN_TABLE_HEADER_ROW,
)
REPORT_LAYOUT = ReportLayout(
    sheet=REPORT_SHEET,
    header_fields=REPORT_HEADER_FIELDS,
    table_columns=REPORT_COLUMNS,
    required_columns=("task_code", "status"),
    header_aliases=(("ky bao cao", "period"), ("ky", "period"), ("thang bao cao", "period"),
                    ("ma don vi bao cao", "unit_code"), ("ngay bao cao", "report_date"),
                    ("phien ban", "template_version")),
    column_aliases=(("ma", "task_code"), ("ma nv", "task_code"), ("stt", None), ("nhiem vu", "title"),
                    ("noi dung", "title"), ("thoi han hoan thanh", "deadline"), ("tinh trang", "status"),
                    ("trang thai", "status"), ("ket qua thuc hien", "status"), ("ngay hoan thanh thuc te", "completion_date"),
                    ("minh chung", "evidence"), ("van ban ket qua", "evidence"), ("tien do", "progress"),
                    ("tien do %", "progress"), ("ly do", "delay_reason"), ("thoi han moi", "extension_deadline"),
                    ("thoi han gia han", "extension_deadline"), ("van ban cho phep", "approval_document"),
                    ("van ban gia han", "approval_document"), ("ngay van ban", "approval_date"),
                    ("ghi chu", "note")),
    table_header_row=REPORT_TABLE_HEADER_ROW,
)

PLAN_INSTRUCTIONS = [
    "HƯỚNG DẪN LẬP DANH MỤC NHIỆM VỤ ĐƯỢC GIAO",
    "",
    "1. Điền Mã cơ quan giao nhiệm vụ (ví dụ TTG, UBQGCDS, TCT06 hoặc mã bộ, tỉnh), Số hiệu văn bản, Ngày ban "
    "hành (dd/mm/yyyy) và Ngày lập danh mục ở đầu sheet 'Nhiệm vụ'. Không đổi tên sheet, không xoá các ô tiêu đề.",
    "2. Mỗi dòng là một nhiệm vụ: Mã nhiệm vụ (duy nhất), Tên nhiệm vụ, Cơ quan chủ trì (đúng MỘT mã đơn vị, "
    "Nghị định 39/2022/NĐ-CP), Cơ quan phối hợp (các mã đơn vị cách nhau bởi dấu ',' hoặc ';').",
    "3. Thời hạn hoàn thành: ngày dd/mm/yyyy, hoặc 'Tháng 6/2025', 'Quý III/2025', 'Năm 2025' (ngày cuối kỳ), "
    "hoặc 'Hằng tháng', 'Hằng quý', 'Hằng năm', 'Thường xuyên' cho nhiệm vụ định kỳ.",
    "4. Kết quả / sản phẩm: sản phẩm phải có khi hoàn thành (Thông báo 56/TB-VPCP năm 2025). Nhiệm vụ trọng tâm: "
    "ghi x (hoặc Có).",
    "5. Cơ quan chủ trì phải còn tồn tại vào ngày ban hành văn bản (tỉnh đã sáp nhập từ 01/07/2025: ghi mã tỉnh mới).",
    "6. Gửi tệp vào thư mục task_plans/<năm của văn bản>/<mã cơ quan giao nhiệm vụ>/. Gửi lại bản sửa thì gửi "
    "tệp mới; bản nhận sau cùng được dùng.",
    "",
    "Instructions (English): fill the header cells (issuer code, document number, document date, date prepared) "
    "and one row per task: a unique task code, the title, exactly ONE lead agency (a unit code), the co-operating "
    "agencies (unit codes separated by ',' or ';'), the deadline (dd/mm/yyyy, 'Tháng 6/2025', 'Quý III/2025', "
    "'Năm 2025', or 'Hằng tháng' / 'Hằng quý' / 'Hằng năm' / 'Thường xuyên' for recurring tasks), the expected "
    "result, x for a key task. Submit to task_plans/<document year>/<issuer code>/. See docs/task_tracking.md.",
]
REPORT_INSTRUCTIONS = [
    "HƯỚNG DẪN BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ ĐƯỢC GIAO (HẰNG THÁNG)",
    "",
    "1. Điền Ngày báo cáo (dd/mm/yyyy) ở đầu sheet 'Báo cáo tiến độ'; Mã đơn vị và Kỳ báo cáo (YYYY-MM) đã điền "
    "sẵn. Không đổi tên sheet, không xoá các ô tiêu đề.",
    "2. Các cột Mã nhiệm vụ, Tên nhiệm vụ, Thời hạn đã điền sẵn các nhiệm vụ đơn vị chủ trì; không sửa.",
    "3. Tình trạng thực hiện: chọn trong danh sách. Đã hoàn thành: ghi Ngày hoàn thành và Văn bản / minh chứng "
    "kết quả. Chưa hoàn thành: ghi Tiến độ (%) từ 0 đến 100 và Lý do chậm nếu quá hạn.",
    "4. Gia hạn: ghi Thời hạn mới, Văn bản cho phép và Ngày văn bản cho phép (gia hạn chỉ được tính khi được "
    "cho phép bằng văn bản trước thời hạn). Dừng thực hiện: chọn 'Chưa hoàn thành' và ghi văn bản cho phép dừng.",
    "5. Dòng để trống nghĩa là chưa báo cáo tiến độ nhiệm vụ đó trong kỳ.",
    "6. Gửi tệp vào thư mục task_reports/<YYYY-MM>/<mã đơn vị>/. Gửi lại bản sửa thì gửi tệp mới; bản nhận "
    "sau cùng được dùng.",
    "",
    "Instructions (English): fill the report date; for each pre-filled task choose the status from the list; a "
    "completed task needs its completion date and evidence; an open task its progress (0-100 %) and the reason "
    "for a delay; an extension needs the new deadline, the approving document and its date (it counts only when "
    "approved in writing before the deadline); an empty row means no report of progress this month. Submit to "
    "task_reports/<YYYY-MM>/<unit code>/. See docs/task_tracking.md.",
]
LIST_COLUMN = 4  # column D of the hidden list sheet (A-B: unit codes): the issuers or the statuses
DATE_FORMAT = "DD/MM/YYYY"


def _period(period: KpiPeriod | str) -> KpiPeriod:
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    if period.kind != "month":
        raise ValueError(f"a task status report is monthly (YYYY-MM), not {period.key}")
    return period


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def units_valid_on(day: dt.date) -> list:
    return [u for u in all_units() if is_valid_on(u, day)]


# --------------------------------------------------------------------------------------------
# Values as an agency types them

def _typed(key: str, value):
    """A cell as the agency types it: a key task True as 'x', a list of units joined by '; ',
    every other value as given (a date stays a date)."""
    if key == "key_task":
        return "x" if value is True else ("" if value in (False, None) else value)
    if key == "cooperating_units" and isinstance(value, (list, tuple)):
        return "; ".join(value)
    return value


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_line(value) -> str:
    return " ".join(_csv_text(value).split())


def _csv(header_fields, header: dict, columns, rows: list[dict]) -> str:
    out = io.StringIO()
    for key, *_ in header_fields:
        out.write(f"# {key}: {_header_line(header.get(key))}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([_csv_text(_typed(name, row.get(name))) for name, _ in columns])
    return out.getvalue()


def _save(path: Path, fmt: str | None, workbook, text) -> Path:
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "xlsx").lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        workbook().save(path)
    elif fmt == "csv":
        path.write_text(text(), encoding="utf-8-sig")  # 'CSV UTF-8' as Excel saves it: with a BOM
    else:
        raise ValueError(f"unknown format {fmt!r}: xlsx or csv")
    return path


def _list_sheet_column(wb: Workbook, column: int, values: list[str]) -> str:
    """Write `values` into a column of the hidden list sheet; the range for a list validation."""
    ws = wb[UNITS_SHEET]
    for i, v in enumerate(values, start=1):
        ws.cell(i, column, v).number_format = "@"
    letter = get_column_letter(column)
    return f"{quote_sheetname(UNITS_SHEET)}!${letter}$1:${letter}${max(len(values), 1)}"


def _write_rows(ws, columns, first_row: int, rows: list[dict], input_fields, date_fields, text_fields) -> int:
    col_of = {name: i for i, (name, _) in enumerate(columns, start=1)}
    r = first_row
    for r, row in enumerate(rows, start=first_row):
        for name, _ in columns:
            value = _typed(name, row.get(name))
            cell = ws.cell(r, col_of[name], None if value in ("", None) else value)
            if name in date_fields or _as_date(value) is not None:
                cell.number_format = DATE_FORMAT
            elif name in text_fields:
                cell.number_format = "@"
            if name in input_fields:
                cell.fill = PatternFill("solid", fgColor=INPUT_FILL)
    return r


def _column_range(columns, name: str, first: int, last: int) -> str:
    letter = get_column_letter([n for n, _ in columns].index(name) + 1)
    return f"{letter}{first}:{letter}{last}"


# --------------------------------------------------------------------------------------------
# The task list

def _plan_header(header: dict) -> dict:
    values = {key: header.get(key) for key, *_ in PLAN_HEADER_FIELDS}
    code = values.get("issuer_code")
    if code and not values.get("issuer_name"):
        issuer = issuers().get(str(code).upper())
        unit = unit_by_code(str(code))
        values["issuer_name"] = issuer.name_vi if issuer else (unit.name_vi if unit else None)
    values["template_version"] = values.get("template_version") or TEMPLATE_FORMAT_VERSION
    return values


def plan_workbook(header: dict, rows: list[dict]) -> Workbook:
    """The task list as an XLSX workbook: the template (rows empty) or a filled list."""
    values = _plan_header(header)
    wb, ws = new_report_workbook(PLAN_INSTRUCTIONS, PLAN_SHEET, "DANH MỤC NHIỆM VỤ ĐƯỢC GIAO", len(PLAN_COLUMNS))
    write_header_cells(wb, ws, PLAN_HEADER_FIELDS, values)
    rows_of = {key: row for key, _, _, row in PLAN_HEADER_FIELDS}
    ws.cell(rows_of["issuer_code"], 2).number_format = "@"
    ws.cell(rows_of["document_date"], 2).number_format = DATE_FORMAT
    write_table_header(ws, PLAN_COLUMNS, PLAN_TABLE_HEADER_ROW)
    day = _as_date(values.get("document_date")) or dt.date.today()
    units = units_valid_on(day)
    list_ws = wb.create_sheet(UNITS_SHEET)
    for i, u in enumerate(units, start=1):
        list_ws.cell(i, 1, u.code).number_format = "@"
        list_ws.cell(i, 2, u.name_vi)
    list_ws.sheet_state = "hidden"
    issuer_range = _list_sheet_column(wb, LIST_COLUMN, list(issuers()) + [u.code for u in units])
    last = _write_rows(ws, PLAN_COLUMNS, PLAN_FIRST_ROW, rows, {n for n, _ in PLAN_COLUMNS}, (),
                       ("task_code", "lead_unit", "cooperating_units"))
    last = max(last, PLAN_FIRST_ROW + BLANK_ROWS)
    validations = [
        (DataValidation(type="list", formula1=issuer_range, allow_blank=False, showErrorMessage=True,
                        errorTitle="Cơ quan giao nhiệm vụ", error="Chọn mã cơ quan trong danh sách"),
         f"B{rows_of['issuer_code']}"),
        (DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                        showErrorMessage=True, errorTitle="Ngày", error="Ngày dạng dd/mm/yyyy"),
         f"B{rows_of['document_date']} B{rows_of['report_date']}"),
        (DataValidation(type="list", formula1=f"{quote_sheetname(UNITS_SHEET)}!$A$1:$A${max(len(units), 1)}",
                        allow_blank=True, showErrorMessage=True, errorTitle="Cơ quan chủ trì",
                        error="Đúng một mã đơn vị chủ trì (Nghị định 39/2022/NĐ-CP)"),
         _column_range(PLAN_COLUMNS, "lead_unit", PLAN_FIRST_ROW, last)),
        (DataValidation(type="list", formula1='"x,Có"', allow_blank=True, showErrorMessage=True,
                        errorTitle="Nhiệm vụ trọng tâm", error="Ghi x cho nhiệm vụ trọng tâm, để trống nếu không"),
         _column_range(PLAN_COLUMNS, "key_task", PLAN_FIRST_ROW, last)),
        (DataValidation(showInputMessage=True, promptTitle="Thời hạn",
                        prompt="dd/mm/yyyy, Tháng 6/2025, Quý III/2025, Năm 2025, Hằng tháng, Hằng quý, Hằng năm, "
                               "Thường xuyên"),
         _column_range(PLAN_COLUMNS, "deadline", PLAN_FIRST_ROW, last)),
    ]
    for dv, ref in validations:
        ws.add_data_validation(dv)
        for one in ref.split():
            dv.add(one)
    for col, width in zip("ABCDEFGH", (14, 60, 14, 22, 20, 36, 12, 24)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"C{PLAN_FIRST_ROW}"
    return wb


def plan_csv_text(header: dict, rows: list[dict]) -> str:
    return _csv(PLAN_HEADER_FIELDS, _plan_header(header), PLAN_COLUMNS, rows)


def write_plan_file(path: Path, header: dict, rows: list[dict], fmt: str | None = None) -> Path:
    """A filled task list at `path` (fmt 'xlsx' | 'csv', default by suffix). `header`: the
    PLAN_HEADER_FIELDS keys (issuer_name and template_version filled in when absent); `rows`:
    dicts of the PLAN_COLUMNS keys, values as Python objects (a date as datetime.date, a key task
    as True, the co-operating units as a list or as typed text, other cells as typed text)."""
    return _save(path, fmt, lambda: plan_workbook(header, rows), lambda: plan_csv_text(header, rows))


def write_plan_template(path: Path, fmt: str | None = None, issuer_code: str | None = None,
                        document: dict | None = None) -> Path:
    """The blank task-list template (`document`: header values to pre-fill, e.g. the document
    number and date)."""
    header = {**(document or {}), **({"issuer_code": issuer_code} if issuer_code else {})}
    return write_plan_file(path, header, [], fmt)


# --------------------------------------------------------------------------------------------
# The status report

def _report_header(header: dict) -> dict:
    values = {key: header.get(key) for key, *_ in REPORT_HEADER_FIELDS}
    unit = unit_by_code(str(values["unit_code"])) if values.get("unit_code") else None
    if unit is not None:
        values["unit_name"] = values.get("unit_name") or unit.name_vi
        values["level"] = values.get("level") or unit.level
    if isinstance(values.get("period"), KpiPeriod):
        values["period"] = values["period"].key
    values["template_version"] = values.get("template_version") or TEMPLATE_FORMAT_VERSION
    return values


def report_workbook(header: dict, rows: list[dict]) -> Workbook:
    """The status report as an XLSX workbook: the template (pre-filled rows, inputs empty) or a
    filled report."""
    values = _report_header(header)
    period = _period(values["period"]) if values.get("period") else None
    title = f"BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ ĐƯỢC GIAO — KỲ {period.key if period else ''}".strip(" —")
    wb, ws = new_report_workbook(REPORT_INSTRUCTIONS, REPORT_SHEET, title, len(REPORT_COLUMNS))
    write_header_cells(wb, ws, REPORT_HEADER_FIELDS, values)
    add_unit_and_date_validation(wb, ws, units_valid_on(period.end if period else dt.date.today()),
                                 REPORT_HEADER_FIELDS)
    write_table_header(ws, REPORT_COLUMNS, REPORT_TABLE_HEADER_ROW)
    status_range = _list_sheet_column(wb, LIST_COLUMN, [c.name_vi for c in reported_statuses()])
    last = _write_rows(ws, REPORT_COLUMNS, REPORT_FIRST_ROW, rows, REPORT_INPUT_FIELDS, REPORT_DATE_FIELDS,
                       ("task_code", "approval_document"))
    last = max(last, REPORT_FIRST_ROW + len(rows) + 20)
    validations = [
        (DataValidation(type="list", formula1=status_range, allow_blank=True, showErrorMessage=True,
                        errorTitle="Tình trạng thực hiện", error="Chọn tình trạng trong danh sách"), ("status",)),
        (DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                        allow_blank=True, showErrorMessage=True, errorTitle="Ngày", error="Ngày dạng dd/mm/yyyy"),
         REPORT_DATE_FIELDS),
        (DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                        showErrorMessage=True, errorTitle="Tiến độ", error="Tiến độ từ 0 đến 100 (%)"), ("progress",)),
    ]
    for dv, names in validations:
        ws.add_data_validation(dv)
        for n in names:
            dv.add(_column_range(REPORT_COLUMNS, n, REPORT_FIRST_ROW, last))
    for col, width in zip("ABCDEFGHIJKL", (14, 50, 14, 30, 14, 30, 10, 30, 14, 28, 14, 24)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"C{REPORT_FIRST_ROW}"
    return wb


def report_csv_text(header: dict, rows: list[dict]) -> str:
    return _csv(REPORT_HEADER_FIELDS, _report_header(header), REPORT_COLUMNS, rows)


def write_report_file(path: Path, header: dict, rows: list[dict], fmt: str | None = None) -> Path:
    """A filled status report at `path` (fmt 'xlsx' | 'csv', default by suffix). `header`: the
    REPORT_HEADER_FIELDS keys (unit name and level from the registry when absent); `rows`: dicts
    of the REPORT_COLUMNS keys, values as Python objects (dates as datetime.date, other cells as
    typed text or numbers)."""
    return _save(path, fmt, lambda: report_workbook(header, rows), lambda: report_csv_text(header, rows))


def template_rows(tasks: list[dict]) -> list[dict]:
    """The pre-filled rows of a status report: code, title (saying where a task moved from) and
    the deadline shown; the agency's columns empty."""
    out = []
    for t in tasks:
        title = t["title"] or ""
        if t.get("moved_from"):
            title = f"{title} [tiếp nhận từ {unit_label(t['moved_from'])}]".strip()
        out.append({"task_code": t["task_code"], "title": title,
                    "deadline": deadline_shown(t["deadline"], t["recurrence"])})
    return out


def write_report_template(con, unit_code: str, period: KpiPeriod | str, path: Path, fmt: str | None = None) -> Path:
    """The status report of `unit_code` for the month `period`, pre-filled with the tasks it leads
    as of that month (`registry.tasks_of_unit`): task code, title, deadline shown; status and the
    other input columns empty, the report date empty."""
    from ingestion.tasks.registry import tasks_of_unit

    period = _period(period)
    rows = template_rows(tasks_of_unit(con, unit_code, period.key))
    return write_report_file(path, {"unit_code": unit_code, "period": period.key}, rows, fmt)
