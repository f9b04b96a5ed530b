"""Read a filled DTI report file (XLSX or CSV) into header cells and raw table rows.

No interpretation against the catalogue happens here (that is intake's job); this module only
finds the cells. A file that cannot be read as a report raises `ReportFileError` naming the file,
the sheet and what is missing; everything else is returned cell by cell so one bad cell rejects
one row, not the file. Layout: ingestion/dti_templates.py and docs/dti_reports.md.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from ingestion.dti_parsing import EncodingError, clean_text, decode_report_text, fold, sniff_delimiter
from ingestion.dti_templates import HEADER_FIELDS, INDICATOR_SHEET, TABLE_COLUMNS

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".csv")


class ReportFileError(ValueError):
    """The file is not a readable report. `rule` is a short machine name."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


@dataclass
class RawRow:
    sheet: str | None
    source_row: int
    cells: dict[str, object]  # TABLE_COLUMNS name -> cell value as found
    formula_fields: set[str] = field(default_factory=set)  # formula cells without a cached value
    percent_fields: set[str] = field(default_factory=set)  # numeric cells formatted as a percentage


@dataclass
class ReportFile:
    path: Path
    file_format: str  # xlsx / csv
    file_encoding: str | None
    sheet: str | None
    header: dict[str, object]  # HEADER_FIELDS key -> value as found (None if absent)
    rows: list[RawRow]


# Labels that identify the header cells and table columns (compared folded: no accents, lower).
HEADER_LABELS = {fold(label.split("(")[0]): key for key, _, label, _ in HEADER_FIELDS}
HEADER_LABELS.update({key: key for key, *_ in HEADER_FIELDS})
HEADER_LABELS.update({fold(name): key for key, name, *_ in HEADER_FIELDS})
HEADER_LABELS.update({"ma don vi bao cao": "unit_code", "nam": "year", "ngay bao cao": "report_date",
                      "nam bao cao": "year", "phien ban": "methodology_version"})
COLUMN_LABELS = {fold(label): name for name, label in TABLE_COLUMNS}
COLUMN_LABELS.update({name: name for name, _ in TABLE_COLUMNS})
COLUMN_LABELS.update({"ma": "indicator_code", "ma so": "indicator_code", "stt": None, "code": "indicator_code",
                      "gia tri bao cao": "value", "so lieu": "value"})
REQUIRED_COLUMNS = ("indicator_code", "value")


def read_report(path: Path) -> ReportFile:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".csv":
        return read_csv(path)
    raise ReportFileError("unsupported_format",
                          f"{path.name}: unsupported file type '{suffix}'; send the XLSX or CSV template")


# --------------------------------------------------------------------------------------------
# XLSX

def _table_columns(labels: list[object]) -> dict[int, str]:
    found = {}
    for i, label in enumerate(labels):
        name = COLUMN_LABELS.get(fold(str(label))) if label is not None else None
        if name and name not in found.values():
            found[i] = name
    return found


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (cheap: scans the zip's XML)."""
    with zipfile.ZipFile(path) as zf:
        return any(_FORMULA_TAG.search(zf.read(n)) for n in zf.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml"))


def read_xlsx(path: Path) -> ReportFile:
    import openpyxl  # imported here: CSV-only callers do not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, EOFError, zlib.error, ParseError, OSError,
            ValueError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportFileError("unreadable_file",
                              f"{path.name}: not a readable XLSX workbook ({detail}); the file may be truncated "
                              f"or not an Excel file: send it again") from None
    ws = None
    for candidate in wb.worksheets:
        if fold(candidate.title) == fold(INDICATOR_SHEET):
            ws = candidate
            break
    if ws is None:
        raise ReportFileError(
            "missing_sheet",
            f"{path.name}: no sheet '{INDICATOR_SHEET}' (found: {', '.join(repr(s.title) for s in wb.worksheets)}); "
            f"fill the template without renaming or deleting the sheet")
    # A merged range shows its value in every cell it covers (a merged label or code).
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    for merged in ws.merged_cells.ranges:
        top = ws.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if col - 1 < len(grid[row - 1]):
                    grid[row - 1][col - 1] = top

    header = _xlsx_header(wb, ws, grid)
    header_row = None
    for i, values in enumerate(grid[:60]):
        columns = _table_columns(values)
        if all(c in columns.values() for c in REQUIRED_COLUMNS):
            header_row, col_map = i, columns
            break
    if header_row is None:
        raise ReportFileError(
            "missing_columns",
            f"{path.name}: sheet '{ws.title}': no table header row with the columns "
            f"'Mã chỉ tiêu' and 'Giá trị'; keep the template's row {9}")
    # Formulas without a cached value (a workbook generated by a program and never opened in
    # Excel) read as None with data_only=True; find them to say so instead of 'empty'.
    formula_cells: set[tuple[int, int]] = set()
    if _has_formulas(path):
        formulas = openpyxl.load_workbook(path, data_only=False)[ws.title]
        for row in formulas.iter_rows(min_row=header_row + 2):
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    formula_cells.add((c.row, c.column))
    rows = []
    for r_index in range(header_row + 1, len(grid)):
        values = grid[r_index]
        excel_row = r_index + 1
        cells = {name: (values[i] if i < len(values) else None) for i, name in col_map.items()}
        if all(clean_text(v) is None for v in cells.values()) and not any(
                (excel_row, i + 1) in formula_cells for i in col_map):
            continue
        raw = RawRow(ws.title, excel_row, cells)
        for i, name in col_map.items():
            if (excel_row, i + 1) in formula_cells and cells[name] is None:
                raw.formula_fields.add(name)
            if name in ("value",) and isinstance(cells[name], (int, float)) and not isinstance(cells[name], bool):
                if "%" in (ws.cell(excel_row, i + 1).number_format or ""):
                    raw.percent_fields.add(name)
        rows.append(raw)
    return ReportFile(path, "xlsx", None, ws.title, header, rows)


def _xlsx_header(wb, ws, grid) -> dict[str, object]:
    """Header cells by defined name; by label in the first rows when a name is missing (a sheet
    copied into another workbook loses its names)."""
    header: dict[str, object] = {key: None for key, *_ in HEADER_FIELDS}
    found: set[str] = set()
    for key, name, _, _ in HEADER_FIELDS:
        defined = wb.defined_names.get(name) or ws.defined_names.get(name)
        if defined is None:
            continue
        try:
            for title, coord in defined.destinations:
                target = wb[title]
                coord = coord.replace("$", "").split(":")[0]
                header[key] = target[coord].value
                found.add(key)
                # A merged header cell: the value sits in the range's first cell.
                if header[key] is None and target is ws:
                    row = target[coord].row
                    col = target[coord].column
                    if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
                        header[key] = grid[row - 1][col - 1]
        except (KeyError, ValueError):
            continue
    for values in grid[:20]:
        for i, v in enumerate(values[:6]):
            if v is None or not isinstance(v, str):
                continue
            key = HEADER_LABELS.get(fold(v.split("(")[0]))
            if key is None or key in found:
                continue
            following = [x for x in values[i + 1:] if clean_text(x) is not None]
            header[key] = following[0] if following else None
            found.add(key)
    header["_found"] = found
    return header


# --------------------------------------------------------------------------------------------
# CSV

_COMMENT = re.compile(r"^\s*#\s*([^:=]+?)\s*[:=]\s*(.*)$")


def read_csv(path: Path) -> ReportFile:
    data = path.read_bytes()
    if not data.strip():
        raise ReportFileError("unreadable_file", f"{path.name}: the file is empty")
    try:
        text, encoding = decode_report_text(data)
    except EncodingError as exc:
        raise ReportFileError("wrong_encoding", f"{path.name}: {exc}") from None
    lines = text.splitlines()
    header: dict[str, object] = {key: None for key, *_ in HEADER_FIELDS}
    found: set[str] = set()
    table_start = None
    for n, line in enumerate(lines):
        stripped = line.strip().strip('"')
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _COMMENT.match(stripped.rstrip(",;\t").rstrip('"'))
            if m:
                key = HEADER_LABELS.get(fold(m.group(1))) or HEADER_LABELS.get(m.group(1).strip().lower())
                if key:
                    header[key] = m.group(2).strip().strip('"') or None
                    found.add(key)
            continue
        table_start = n
        break
    header["_found"] = found
    if table_start is None:
        raise ReportFileError("missing_columns", f"{path.name}: no table after the '# key: value' header lines")
    delimiter = sniff_delimiter(lines[table_start])
    reader = csv.reader(io.StringIO("\n".join(lines[table_start:])), delimiter=delimiter)
    try:
        table = list(reader)
    except csv.Error as exc:
        raise ReportFileError("unreadable_file", f"{path.name}: not a readable CSV table ({exc})") from None
    col_map = _table_columns(table[0])
    if not all(c in col_map.values() for c in REQUIRED_COLUMNS):
        raise ReportFileError(
            "missing_columns",
            f"{path.name}: line {table_start + 1}: the table header needs the columns indicator_code and value "
            f"(found: {', '.join(table[0])})")
    rows = []
    for offset, values in enumerate(table[1:], start=1):
        cells = {name: (values[i] if i < len(values) else None) for i, name in col_map.items()}
        if all(clean_text(v) is None for v in cells.values()):
            continue
        rows.append(RawRow(None, table_start + 1 + offset, cells))
    return ReportFile(path, "csv", encoding, None, header, rows)
