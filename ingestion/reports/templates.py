"""DTI report templates: one XLSX and one CSV per level and year (docs/dti_reports.md).

The layout defined here is the one intake reads back (`ingestion/reports/report_files.py`):

XLSX, sheet "Chỉ tiêu" (the indicator sheet; other sheets are ignored by intake):
  rows 2–7  header cells, each with a workbook-level defined name (`dxmon_unit_code`, ...):
            label in column A, value in column B
  row 9     table header: Mã chỉ tiêu | Tên chỉ tiêu | Đơn vị tính | Giá trị cho phép |
            Cách tính | Giá trị | Tử số | Mẫu số | Minh chứng
  row 10+   one row per reported sub-indicator, under a section row per main indicator; the
            input cells (Giá trị, Tử số, Mẫu số, Minh chứng) carry Excel data validation.
Sheet "Hướng dẫn": instructions. Hidden sheet "Danh mục": the unit codes the level may use.

CSV: `# key: value` header lines, then the same table with machine column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ingestion.reports.dti.catalogue import (
    Indicator,
    indicators,
    methodology_version_for_year,
    reported_indicators,
    unit_by_code,
    units_for_year,
)

INDICATOR_SHEET = "Chỉ tiêu"
INSTRUCTIONS_SHEET = "Hướng dẫn"
UNITS_SHEET = "Danh mục"
TEMPLATE_FORMAT_VERSION = "1"

# (key, defined name, Vietnamese label, row on the indicator sheet)
HEADER_FIELDS = [
    ("unit_code", "dxmon_unit_code", "Mã đơn vị", 2),
    ("unit_name", "dxmon_unit_name", "Tên đơn vị", 3),
    ("level", "dxmon_level", "Cấp (province / ministry)", 4),
    ("year", "dxmon_year", "Năm đánh giá", 5),
    ("report_date", "dxmon_report_date", "Ngày báo cáo (dd/mm/yyyy)", 6),
    ("methodology_version", "dxmon_methodology_version", "Phiên bản phương pháp", 7),
]
REQUIRED_HEADER_FIELDS = ("unit_code", "year", "report_date")

# (machine name used in CSV, Vietnamese label used in XLSX)
TABLE_COLUMNS = [
    ("indicator_code", "Mã chỉ tiêu"),
    ("name_vi", "Tên chỉ tiêu"),
    ("value_unit", "Đơn vị tính"),
    ("allowed_range", "Giá trị cho phép"),
    ("rule", "Cách tính"),
    ("value", "Giá trị"),
    ("numerator", "Tử số"),
    ("denominator", "Mẫu số"),
    ("evidence", "Minh chứng"),
]
INPUT_FIELDS = ("value", "numerator", "denominator", "evidence")
TABLE_HEADER_ROW = 9
FIRST_DATA_ROW = 10

RULE_VI = {
    "ratio": "Tỷ lệ (tử số / mẫu số)",
    "threshold": "Ngưỡng (số)",
    "checklist": "Danh mục (số tiêu chí đạt)",
    "boolean": "Có / Không",
}
LEVEL_VI = {"province": "cấp tỉnh", "ministry": "cấp bộ"}

INSTRUCTIONS = [
    "HƯỚNG DẪN ĐIỀN BÁO CÁO CHỈ SỐ CHUYỂN ĐỔI SỐ (DTI)",
    "",
    "1. Điền Mã đơn vị, Năm đánh giá và Ngày báo cáo (dd/mm/yyyy) ở đầu sheet 'Chỉ tiêu'. "
    "Không đổi tên sheet 'Chỉ tiêu', không xoá các ô tiêu đề.",
    "2. Mỗi dòng là một chỉ tiêu thành phần. Chỉ điền các cột Giá trị, Tử số, Mẫu số, Minh chứng.",
    "3. Chỉ tiêu tỷ lệ: điền Tử số và Mẫu số (số lượng), hoặc điền Giá trị dạng phần trăm (ví dụ 85%).",
    "4. Chỉ tiêu Có/Không: chọn 'Có' hoặc 'Không'. Chỉ tiêu danh mục: điền số tiêu chí đạt.",
    "5. Số thập phân dùng dấu phẩy (12,5) hoặc dấu chấm (12.5); dấu chấm ngăn cách hàng nghìn (1.234).",
    "6. Minh chứng: số hiệu văn bản hoặc đường dẫn; bắt buộc với chỉ tiêu có đánh dấu.",
    "7. Gửi tệp vào thư mục inbox/<năm>/<mã đơn vị>/. Gửi lại bản sửa thì gửi tệp mới; "
    "phiên bản mới nhất được dùng.",
    "",
    "Instructions (English): fill the header cells and the input columns only; keep the sheet "
    "name 'Chỉ tiêu'; ratios as counts (numerator/denominator) or a percentage; Có/Không for "
    "yes/no; dates dd/mm/yyyy. See docs/dti_reports.md.",
]


def _header_values(level, year, unit_code, report_date, methodology_version) -> dict:
    unit = unit_by_code(unit_code) if unit_code else None
    return {
        "unit_code": unit_code or "",
        "unit_name": unit.name_vi if unit else "",
        "level": level,
        "year": year,
        "report_date": report_date,
        "methodology_version": methodology_version,
    }


def _section_rows(version: str, level: str, rows: list[Indicator]) -> list[tuple[Indicator | None, Indicator]]:
    """Sub-indicators in display order, each with its main indicator (for section rows)."""
    mains = {i.code: i for i in indicators(version, level, node_type="main")}
    return [(mains.get(r.parent_code), r) for r in rows]


# --------------------------------------------------------------------------------------------
# Pieces every form's workbook shares (the DTI form here, the KPI form in
# ingestion/kpi/reports/templates.py): the header block with defined names, the unit list and
# date validation, the table header.

INPUT_FILL = "FFF2CC"


def write_header_cells(wb: Workbook, ws, header_fields, values: dict) -> None:
    """The header block: label in column A, value in B (merged to D), each value cell with a
    workbook-level defined name pointing at it (what intake reads first)."""
    sheet_ref = quote_sheetname(ws.title)
    for key, name, label, row in header_fields:
        ws.cell(row, 1, label).font = Font(bold=True)
        value = values.get(key)
        cell = ws.cell(row, 2, value if value != "" else None)
        if key == "unit_code":
            cell.number_format = "@"  # keep '01' as text
        if key == "report_date":
            cell.number_format = "DD/MM/YYYY"
        if key == "period":
            cell.number_format = "@"  # keep '2025-08' as text (Excel would make it a date)
        cell.fill = PatternFill("solid", fgColor=INPUT_FILL)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{sheet_ref}!$B${row}")


def add_unit_and_date_validation(wb: Workbook, ws, units, header_fields) -> None:
    """The unit codes of the level as a validation list on a hidden sheet, and a date validation
    on the report date cell."""
    rows = {key: row for key, _, _, row in header_fields}
    units_ws = wb.create_sheet(UNITS_SHEET)
    units = list(units)
    for i, u in enumerate(units, start=1):
        units_ws.cell(i, 1, u.code).number_format = "@"
        units_ws.cell(i, 2, u.name_vi)
    units_ws.sheet_state = "hidden"
    dv_unit = DataValidation(type="list", formula1=f"{quote_sheetname(UNITS_SHEET)}!$A$1:$A${max(len(units), 1)}",
                             allow_blank=False, showErrorMessage=True,
                             error="Chọn mã đơn vị trong danh sách", errorTitle="Mã đơn vị")
    dv_date = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                             showErrorMessage=True, error="Ngày dạng dd/mm/yyyy", errorTitle="Ngày báo cáo")
    ws.add_data_validation(dv_unit)
    ws.add_data_validation(dv_date)
    dv_unit.add(f"B{rows['unit_code']}")
    dv_date.add(f"B{rows['report_date']}")


def write_table_header(ws, table_columns, row: int) -> None:
    for col, (_, label) in enumerate(table_columns, start=1):
        c = ws.cell(row, col, label)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="D9E1F2")
        c.alignment = Alignment(wrap_text=True, vertical="center")


def new_report_workbook(instructions: list[str], sheet_name: str, title: str, columns: int) -> tuple[Workbook, object]:
    """A report form's workbook: the instructions sheet first, then the data sheet (active) with
    its title across the table's `columns`. Both forms (the DTI's, the KPI reports') start here."""
    wb = Workbook()
    guide = wb.active
    guide.title = INSTRUCTIONS_SHEET
    for i, line in enumerate(instructions, start=1):
        guide.cell(i, 1, line)
    guide["A1"].font = Font(bold=True, size=13)
    guide.column_dimensions["A"].width = 120
    ws = wb.create_sheet(sheet_name)
    wb.active = 1
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    return wb, ws


def report_workbook(level: str, year: int, methodology_version: str | None = None,
                    unit_code: str | None = None, report_date: dt.date | str | None = None,
                    values: dict[str, dict] | None = None) -> Workbook:
    """The template (or, with `unit_code`, `report_date` and `values`, a filled report).
    `values` maps an indicator code to {field: cell content} for the INPUT_FIELDS; the content is
    written as given (a number, 'Có', '12,5', a date), as an official would type it."""
    version = methodology_version or methodology_version_for_year(year)
    rows = reported_indicators(version, level)
    if not rows:
        raise ValueError(f"no reported sub-indicators for methodology {version}, level {level}")
    values = values or {}
    wb, ws = new_report_workbook(
        INSTRUCTIONS, INDICATOR_SHEET,
        f"BÁO CÁO CHỈ SỐ CHUYỂN ĐỔI SỐ (DTI) NĂM {year} — {LEVEL_VI.get(level, level).upper()}", len(TABLE_COLUMNS))
    header = _header_values(level, year, unit_code, report_date, version)
    write_header_cells(wb, ws, HEADER_FIELDS, header)
    add_unit_and_date_validation(wb, ws, units_for_year(year, level), HEADER_FIELDS)
    write_table_header(ws, TABLE_COLUMNS, TABLE_HEADER_ROW)
    col_of = {name: i for i, (name, _) in enumerate(TABLE_COLUMNS, start=1)}
    validations: dict[tuple, DataValidation] = {}

    def validate(cell_ref: str, key: tuple, **kwargs) -> None:
        if key not in validations:
            dv = DataValidation(showErrorMessage=True, errorTitle="Giá trị không hợp lệ", **kwargs)
            ws.add_data_validation(dv)
            validations[key] = dv
        validations[key].add(cell_ref)

    r = FIRST_DATA_ROW
    current_main = None
    for main, ind in _section_rows(version, level, rows):
        if main is not None and main.code != current_main:
            current_main = main.code
            ws.cell(r, col_of["indicator_code"], main.code).font = Font(bold=True)
            ws.cell(r, col_of["name_vi"], main.name_vi).font = Font(bold=True)
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=len(TABLE_COLUMNS))
            r += 1
        name = ind.name_vi + (" (*)" if ind.evidence_required else "")
        low, high = ind.allowed_range()
        fixed = {"indicator_code": ind.code, "name_vi": name, "value_unit": ind.value_unit or "",
                 "allowed_range": ind.range_text(),
                 "rule": RULE_VI.get(ind.rule, ind.rule) + (" — đo tự động, điền số tự đánh giá" if ind.is_automatic else "")}
        for key, text in fixed.items():
            ws.cell(r, col_of[key], text)
        ws.cell(r, col_of["indicator_code"]).number_format = "@"
        value_ref = f"{get_column_letter(col_of['value'])}{r}"
        if ind.rule == "boolean":
            validate(value_ref, ("list",), type="list", formula1='"Có,Không"', error="Chọn Có hoặc Không")
        elif ind.rule == "checklist":
            validate(value_ref, ("whole", low, high), type="whole", operator="between",
                     formula1=str(int(low or 0)), formula2=str(int(high or 0)),
                     error=f"Số tiêu chí đạt từ {int(low or 0)} đến {int(high or 0)}")
        elif ind.rule == "ratio":
            ws[value_ref].number_format = "0.0%"
            validate(value_ref, ("decimal", low, high), type="decimal", operator="between",
                     formula1=repr(low), formula2=repr(high), error=f"Tỷ lệ trong khoảng {ind.range_text()}")
            for key in ("numerator", "denominator"):
                validate(f"{get_column_letter(col_of[key])}{r}", ("count",), type="decimal",
                         operator="greaterThanOrEqual", formula1="0", error="Số lượng không âm")
        elif low is not None or high is not None:
            validate(value_ref, ("decimal", low, high), type="decimal", operator="between",
                     formula1=repr(low if low is not None else -1e15), formula2=repr(high if high is not None else 1e15),
                     error=f"Giá trị trong khoảng {ind.range_text()}")
        for key in INPUT_FIELDS:
            ws.cell(r, col_of[key]).fill = PatternFill("solid", fgColor="FFF2CC")
        r += 1
    for col, width in zip("ABCDEFGHI", (12, 60, 12, 16, 22, 12, 12, 12, 30)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"C{FIRST_DATA_ROW}"
    if values:
        fill_workbook(wb, values=values)
    return wb


def fill_workbook(wb: Workbook, unit_code: str | None = None, report_date: dt.date | str | None = None,
                  values: dict[str, dict] | None = None) -> Workbook:
    """Write the header cells and every input cell of a template workbook (cells of indicators
    absent from `values` are emptied), so one workbook can be refilled for many units."""
    ws = wb[INDICATOR_SHEET]
    if unit_code is not None:
        ws["B2"] = unit_code
        unit = unit_by_code(unit_code)
        ws["B3"] = unit.name_vi if unit else None
    if report_date is not None:
        ws["B6"] = report_date
    col_of = {name: i for i, (name, _) in enumerate(TABLE_COLUMNS, start=1)}
    values = values or {}
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        code = ws.cell(r, 1).value
        if code is None or ws.cell(r, col_of["rule"]).value is None:  # a section row
            continue
        given = values.get(str(code), {})
        for key in INPUT_FIELDS:
            content = given.get(key)
            ws.cell(r, col_of[key]).value = None if content == "" else content
    return wb


def report_csv_text(level: str, year: int, methodology_version: str | None = None,
                    unit_code: str | None = None, report_date: dt.date | str | None = None,
                    values: dict[str, dict] | None = None, delimiter: str = ",") -> str:
    """The CSV template (or a filled report): `# key: value` header lines, then the table."""
    version = methodology_version or methodology_version_for_year(year)
    rows = reported_indicators(version, level)
    if not rows:
        raise ValueError(f"no reported sub-indicators for methodology {version}, level {level}")
    values = values or {}
    header = _header_values(level, year, unit_code, report_date, version)
    if isinstance(header["report_date"], dt.date):
        header["report_date"] = header["report_date"].strftime("%d/%m/%Y")
    out = io.StringIO()
    out.write(f"# dxmon_dti_report: {TEMPLATE_FORMAT_VERSION}\n")
    for key, *_ in HEADER_FIELDS:
        out.write(f"# {key}: {header[key] if header[key] is not None else ''}\n")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([name for name, _ in TABLE_COLUMNS])
    for ind in rows:
        given = values.get(ind.code, {})
        writer.writerow([ind.code, ind.name_vi, ind.value_unit or "", ind.range_text(), ind.rule]
                        + ["" if given.get(k) is None else given.get(k) for k in INPUT_FIELDS])
    return out.getvalue()


def write_templates(level: str, year: int, out_dir: Path, methodology_version: str | None = None) -> list[Path]:
    """Write `dti_<year>_<level>_template.xlsx` and `.csv` into `out_dir`; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"dti_{year}_{level}_template"
    xlsx = out_dir / f"{stem}.xlsx"
    report_workbook(level, year, methodology_version).save(xlsx)
    csv_path = out_dir / f"{stem}.csv"
    csv_path.write_text(report_csv_text(level, year, methodology_version), encoding="utf-8")
    return [xlsx, csv_path]
