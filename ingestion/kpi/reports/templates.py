"""KPI report forms, generated from the KPI catalogue: one XLSX and one CSV per level (ministry |
province) and period (docs/kpi_reports.md).

The rows are `ingestion/kpi/catalogue.py::reported_measures(level)`: every (KPI, measure) whose
`report_levels` name the level. The layout (`KPI_LAYOUT`) is the one intake reads back with the
shared readers (`ingestion/reports/report_files.py`):

XLSX, sheet "Chỉ tiêu KPI" (the data sheet; other sheets are ignored by intake):
  rows 2–7  header cells, each with a workbook-level defined name (`dxmon_unit_code`, ...):
            unit code, unit name, level, period, report date, catalogue version
  row 9     table header: Mã KPI | Thành phần đo | Tên chỉ tiêu | Đơn vị tính | Giá trị cho phép |
            Giá trị | Tử số | Mẫu số | Nguồn / minh chứng | Ghi chú
  row 10+   one row per reported measure; the input cells carry Excel data validation.
Sheet "Hướng dẫn": instructions in Vietnamese. Hidden sheet "Danh mục": the level's unit codes.

CSV: `# key: value` header lines, then the same table with machine column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ingestion.kpi.catalogue import Measure, catalogue_version, kpi, reported_measures
from ingestion.kpi.reports.periods import KpiPeriod, parse_period
from ingestion.kpi.reports.report_units import report_unit
from ingestion.reports.dti.catalogue import all_units, unit_by_code
from ingestion.reports.report_files import ReportLayout
from ingestion.reports.templates import (
    INPUT_FILL,
    add_unit_and_date_validation,
    new_report_workbook,
    write_header_cells,
    write_table_header,
)

KPI_SHEET = "Chỉ tiêu KPI"
TEMPLATE_FORMAT_VERSION = "1"
FORM_LEVELS = ("ministry", "province")

# (key, defined name, Vietnamese label, row on the data sheet)
HEADER_FIELDS = (
    ("unit_code", "dxmon_unit_code", "Mã đơn vị", 2),
    ("unit_name", "dxmon_unit_name", "Tên đơn vị", 3),
    ("level", "dxmon_level", "Cấp (province / ministry)", 4),
    ("period", "dxmon_period", "Kỳ báo cáo (YYYY-Qn / YYYY-MM / YYYY)", 5),
    ("report_date", "dxmon_report_date", "Ngày báo cáo (dd/mm/yyyy)", 6),
    ("catalogue_version", "dxmon_catalogue_version", "Phiên bản danh mục KPI", 7),
)
REQUIRED_HEADER_FIELDS = ("unit_code", "period", "report_date")

# (machine name used in CSV, Vietnamese label used in XLSX)
TABLE_COLUMNS = (
    ("kpi_code", "Mã KPI"),
    ("measure", "Thành phần đo"),
    ("name_vi", "Tên chỉ tiêu"),
    ("unit", "Đơn vị tính"),
    ("allowed_range", "Giá trị cho phép"),
    ("value", "Giá trị"),
    ("numerator", "Tử số"),
    ("denominator", "Mẫu số"),
    ("evidence", "Nguồn / minh chứng"),
    ("note", "Ghi chú"),
)
INPUT_FIELDS = ("value", "numerator", "denominator", "evidence", "note")
TABLE_HEADER_ROW = 9
FIRST_DATA_ROW = 10

KPI_LAYOUT = ReportLayout(
    sheet=KPI_SHEET,
    header_fields=HEADER_FIELDS,
    table_columns=TABLE_COLUMNS,
    required_columns=("kpi_code", "value"),
    header_aliases=(("ky bao cao", "period"), ("ky", "period"), ("ma don vi bao cao", "unit_code"),
                    ("ngay bao cao", "report_date"), ("phien ban", "catalogue_version")),
    column_aliases=(("ma chi tieu", "kpi_code"), ("ma", "kpi_code"), ("code", "kpi_code"), ("stt", None),
                    ("thanh phan", "measure"), ("do luong", "measure"), ("don vi", "unit"), ("so lieu", "value"),
                    ("minh chung", "evidence"), ("nguon", "evidence")),
    table_header_row=TABLE_HEADER_ROW,
)

LEVEL_VI = {"province": "cấp tỉnh", "ministry": "cấp bộ"}

INSTRUCTIONS = [
    "HƯỚNG DẪN ĐIỀN BÁO CÁO CHỈ TIÊU CHUYỂN ĐỔI SỐ (KPI) ĐỊNH KỲ",
    "",
    "1. Điền Mã đơn vị, Kỳ báo cáo (ví dụ 2025-Q3 cho quý III/2025; 2025-08 cho tháng 8/2025; 2025 cho "
    "cả năm) và Ngày báo cáo (dd/mm/yyyy) ở đầu sheet 'Chỉ tiêu KPI'. Không đổi tên sheet, không xoá các "
    "ô tiêu đề.",
    "2. Mỗi dòng là một chỉ tiêu (Mã KPI) và một thành phần đo ('main' là chỉ tiêu như tên gọi). "
    "Chỉ điền các cột Giá trị, Tử số, Mẫu số, Nguồn / minh chứng, Ghi chú.",
    "3. Chỉ tiêu tỷ lệ (%): điền Giá trị từ 0 đến 100 (ví dụ 45,5 hoặc 45,5%), hoặc điền Tử số và Mẫu số "
    "(số lượng) để hệ thống tự tính. Tử số không lớn hơn Mẫu số.",
    "4. Chỉ tiêu số lượng: điền số nguyên không âm; không ghi dấu %.",
    "5. Không sửa cột Đơn vị tính: giá trị phải đúng đơn vị đã ghi (ví dụ không ghi số người cho chỉ tiêu %).",
    "6. Số thập phân dùng dấu phẩy (45,5) hoặc dấu chấm (45.5); dấu chấm ngăn cách hàng nghìn (1.234).",
    "7. Không để công thức chưa tính: mở tệp trong Excel, để Excel tính xong rồi lưu.",
    "8. Gửi tệp vào thư mục kpi_inbox/<kỳ báo cáo>/<mã đơn vị>/. Gửi lại bản sửa thì gửi tệp mới; "
    "phiên bản nhận sau cùng được dùng.",
    "",
    "Instructions (English): fill the header cells and the input columns only; keep the sheet name "
    "'Chỉ tiêu KPI'; percentages 0-100 (45,5 or 45,5%) or numerator/denominator; counts as whole numbers; "
    "dates dd/mm/yyyy; period YYYY-Qn, YYYY-MM or YYYY. See docs/kpi_reports.md.",
]


def form_measures(level: str) -> list[Measure]:
    """The rows of a level's form, in catalogue order; a level without a form is an error."""
    if level not in FORM_LEVELS:
        raise ValueError(f"no KPI report form for level {level!r}; expected one of {', '.join(FORM_LEVELS)}")
    rows = reported_measures(level)
    if not rows:
        raise ValueError(f"no reported KPI measures for level {level} (kpi_measures.csv, report_levels)")
    return rows


def units_for_period(period: KpiPeriod, level: str | None = None):
    """Units that report for `period`: those valid on its last day (a province merged on
    1 July 2025 does not report for 2025-Q3 or 2025-Q4; it reports for 2025-Q2)."""
    return [u for u in all_units()
            if (level is None or u.level == level)
            and u.valid_from <= period.end and (u.valid_to is None or u.valid_to >= period.end)]


def _period(period: KpiPeriod | str) -> KpiPeriod:
    return period if isinstance(period, KpiPeriod) else parse_period(period)


def _header_values(level: str, period: KpiPeriod, unit_code, report_date) -> dict:
    unit = unit_by_code(unit_code) if unit_code else None
    return {"unit_code": unit_code or "", "unit_name": unit.name_vi if unit else "", "level": level,
            "period": period.key, "report_date": report_date, "catalogue_version": catalogue_version()}


def _fixed_cells(m: Measure) -> dict[str, str]:
    unit = report_unit(m.unit)
    entry = kpi(m.kpi_code)
    return {"kpi_code": m.kpi_code, "measure": m.measure, "name_vi": entry.name_vi if entry else "",
            "unit": unit.label_vi, "allowed_range": unit.range_text()}


def report_workbook(level: str, period: KpiPeriod | str, unit_code: str | None = None,
                    report_date: dt.date | str | None = None,
                    values: dict[tuple[str, str], dict] | None = None) -> Workbook:
    """The template (or, with `unit_code`, `report_date` and `values`, a filled report). `values`
    maps (kpi_code, measure) to {field: cell content} for the INPUT_FIELDS (and 'unit', to type
    over the unit cell); the content is written as given ('45,5', 45.5, '45,5%'), as an official
    would type it."""
    period = _period(period)
    rows = form_measures(level)
    wb, ws = new_report_workbook(
        INSTRUCTIONS, KPI_SHEET,
        f"BÁO CÁO CHỈ TIÊU CHUYỂN ĐỔI SỐ KỲ {period.key} — {LEVEL_VI.get(level, level).upper()}", len(TABLE_COLUMNS))
    write_header_cells(wb, ws, HEADER_FIELDS, _header_values(level, period, unit_code, report_date))
    add_unit_and_date_validation(wb, ws, units_for_period(period, level), HEADER_FIELDS)
    write_table_header(ws, TABLE_COLUMNS, TABLE_HEADER_ROW)

    col_of = {name: i for i, (name, _) in enumerate(TABLE_COLUMNS, start=1)}
    validations: dict[tuple, DataValidation] = {}

    def validate(cell_ref: str, key: tuple, **kwargs) -> None:
        if key not in validations:
            dv = DataValidation(showErrorMessage=True, errorTitle="Giá trị không hợp lệ", **kwargs)
            ws.add_data_validation(dv)
            validations[key] = dv
        validations[key].add(cell_ref)

    for r, m in enumerate(rows, start=FIRST_DATA_ROW):
        for key, text in _fixed_cells(m).items():
            ws.cell(r, col_of[key], text)
        unit = report_unit(m.unit)
        low = unit.value_min if unit.value_min is not None else -1e15
        high = unit.value_max if unit.value_max is not None else 1e15
        value_ref = f"{get_column_letter(col_of['value'])}{r}"
        if unit.family == "count":
            validate(value_ref, ("whole", low), type="whole", operator="greaterThanOrEqual", formula1=str(int(low)),
                     error="Số lượng: số nguyên không âm")
        else:
            validate(value_ref, ("decimal", low, high), type="decimal", operator="between", formula1=repr(low),
                     formula2=repr(high), error=f"Giá trị trong khoảng {unit.range_text()} ({unit.label_vi})")
        if unit.family == "percent":
            for key in ("numerator", "denominator"):
                validate(f"{get_column_letter(col_of[key])}{r}", ("count",), type="decimal",
                         operator="greaterThanOrEqual", formula1="0", error="Số lượng không âm")
        for key in INPUT_FIELDS:
            ws.cell(r, col_of[key]).fill = PatternFill("solid", fgColor=INPUT_FILL)
    for col, width in zip("ABCDEFGHIJ", (10, 16, 60, 12, 14, 12, 12, 12, 30, 24)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"D{FIRST_DATA_ROW}"
    if values:
        fill_workbook(wb, values=values)
    return wb


def fill_workbook(wb: Workbook, unit_code: str | None = None, report_date: dt.date | str | None = None,
                  values: dict[tuple[str, str], dict] | None = None) -> Workbook:
    """Write the header cells and every input cell of a KPI template workbook (cells of rows
    absent from `values` are emptied), so one workbook can be refilled for many units."""
    ws = wb[KPI_SHEET]
    rows = {key: row for key, _, _, row in HEADER_FIELDS}
    if unit_code is not None:
        ws.cell(rows["unit_code"], 2, unit_code)
        unit = unit_by_code(unit_code)
        ws.cell(rows["unit_name"], 2, unit.name_vi if unit else None)
    if report_date is not None:
        ws.cell(rows["report_date"], 2, report_date)
    col_of = {name: i for i, (name, _) in enumerate(TABLE_COLUMNS, start=1)}
    values = values or {}
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        code, measure_name = ws.cell(r, col_of["kpi_code"]).value, ws.cell(r, col_of["measure"]).value
        if code is None:
            continue
        given = values.get((str(code), str(measure_name)), {})
        for key in INPUT_FIELDS:
            content = given.get(key)
            ws.cell(r, col_of[key]).value = None if content == "" else content
        if "unit" in given:
            ws.cell(r, col_of["unit"]).value = given["unit"]
    return wb


def report_csv_text(level: str, period: KpiPeriod | str, unit_code: str | None = None,
                    report_date: dt.date | str | None = None, values: dict[tuple[str, str], dict] | None = None,
                    delimiter: str = ",") -> str:
    """The CSV template (or a filled report): `# key: value` header lines, then the table."""
    period = _period(period)
    rows = form_measures(level)
    values = values or {}
    header = _header_values(level, period, unit_code, report_date)
    if isinstance(header["report_date"], dt.date):
        header["report_date"] = header["report_date"].strftime("%d/%m/%Y")
    out = io.StringIO()
    out.write(f"# dxmon_kpi_report: {TEMPLATE_FORMAT_VERSION}\n")
    for key, *_ in HEADER_FIELDS:
        out.write(f"# {key}: {header[key] if header[key] is not None else ''}\n")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow([name for name, _ in TABLE_COLUMNS])
    for m in rows:
        fixed = _fixed_cells(m)
        given = values.get((m.kpi_code, m.measure), {})
        if "unit" in given:
            fixed["unit"] = given["unit"]
        writer.writerow([fixed[k] for k in ("kpi_code", "measure", "name_vi", "unit", "allowed_range")]
                        + ["" if given.get(k) is None else given.get(k) for k in INPUT_FIELDS])
    return out.getvalue()


def template_stem(level: str, period: KpiPeriod | str) -> str:
    return f"kpi_{_period(period).key}_{level}_template"


def write_templates(level: str, period: KpiPeriod | str, out_dir: Path) -> list[Path]:
    """Write `kpi_<period>_<level>_template.xlsx` and `.csv` into `out_dir`; returns both paths
    (what `dxmon kpi templates --level province --period 2025-Q3 --out DIR` calls)."""
    period = _period(period)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = template_stem(level, period)
    xlsx = out_dir / f"{stem}.xlsx"
    report_workbook(level, period).save(xlsx)
    csv_path = out_dir / f"{stem}.csv"
    csv_path.write_text(report_csv_text(level, period), encoding="utf-8")
    return [xlsx, csv_path]
