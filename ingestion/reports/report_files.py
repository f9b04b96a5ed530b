"""Read a filled DTI report file (XLSX or CSV) into header cells and raw table rows.

No interpretation against the catalogue happens here (that is intake's job); this module only
finds the cells. A file that cannot be read as a report raises `ReportFileError` naming the file,
the sheet and what is missing; everything else is returned cell by cell so one bad cell rejects
one row, not the file. Layout: ingestion/reports/templates.py and docs/dti_reports.md.
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

from ingestion.reports.cell_parsing import EncodingError, clean_text, decode_report_text, fold, sniff_delimiter
from ingestion.reports.templates import HEADER_FIELDS, INDICATOR_SHEET, TABLE_COLUMNS

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


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+):([A-Z]+\d+)"')
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\s+r="([A-Z]+\d+)"[^>]*?(?<!/)>\s*<(?:\w+:)?f[\s>/]')


def _sheet_xml(path: Path, ws) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(ws._worksheet_path.lstrip("/"))


def read_xlsx(path: Path) -> ReportFile:
    import openpyxl  # imported here: CSV-only callers do not pay for it
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only: only the indicator sheet is parsed (several times faster on these files);
        # merged ranges and formulas are then read from that sheet's XML directly.
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, EOFError, zlib.error, ParseError, OSError,
            ValueError, TypeError) as exc:
        raise _unreadable(path, exc) from None
    try:
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
        try:
            # Some generators write a wrong <dimension>; read the rows as they are.
            ws.reset_dimensions()
            grid, formats = [], {}
            for r_index, row in enumerate(ws.iter_rows(), start=1):
                values = []
                for c_index, cell in enumerate(row, start=1):
                    value = getattr(cell, "value", None)
                    values.append(value)
                    if isinstance(value, (int, float)) and "%" in (getattr(cell, "number_format", None) or ""):
                        formats[(r_index, c_index)] = "%"
                grid.append(values)
            xml = _sheet_xml(path, ws)
        except (zipfile.BadZipFile, KeyError, EOFError, zlib.error, ParseError, OSError, ValueError) as exc:
            raise _unreadable(path, exc) from None
        # A merged range shows its value in every cell it covers (a merged label, code or evidence).
        for first, last in _MERGE.findall(xml):
            r1, c1 = coordinate_to_tuple(first.decode())
            r2, c2 = coordinate_to_tuple(last.decode())
            if r1 - 1 >= len(grid):
                continue
            top = grid[r1 - 1][c1 - 1] if c1 - 1 < len(grid[r1 - 1]) else None
            for row in range(r1, min(r2, len(grid)) + 1):
                cells = grid[row - 1]
                cells.extend([None] * max(0, c2 - len(cells)))
                for col in range(c1, c2 + 1):
                    if row == r1 and col == c1:
                        continue
                    cells[col - 1] = top
        # Formulas whose result Excel did not store (a workbook written by a program and never
        # opened in Excel) read as None with data_only: find them to say so instead of 'empty'.
        formula_cells = {coordinate_to_tuple(ref.decode()) for ref in _FORMULA_CELL.findall(xml)}
        header = _xlsx_header(wb, ws, grid)
    finally:
        wb.close()
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
            f"'Mã chỉ tiêu' and 'Giá trị'; keep the template's row 9")
    rows = []
    for r_index in range(header_row + 1, len(grid)):
        values = grid[r_index]
        excel_row = r_index + 1
        cells = {name: (values[i] if i < len(values) else None) for i, name in col_map.items()}
        has_formula = {name for i, name in col_map.items() if (excel_row, i + 1) in formula_cells}
        if all(clean_text(v) is None for v in cells.values()) and not has_formula:
            continue
        raw = RawRow(ws.title, excel_row, cells)
        raw.formula_fields = {name for name in has_formula if cells[name] is None}
        raw.percent_fields = {name for i, name in col_map.items() if formats.get((excel_row, i + 1)) == "%"}
        rows.append(raw)
    return ReportFile(path, "xlsx", None, ws.title, header, rows)


def _unreadable(path: Path, exc: Exception) -> ReportFileError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ReportFileError("unreadable_file",
                           f"{path.name}: not a readable XLSX workbook ({detail}); the file may be truncated "
                           f"or not an Excel file: send it again")


def _xlsx_header(wb, ws, grid) -> dict[str, object]:
    from openpyxl.utils.cell import coordinate_to_tuple

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
                row, col = coordinate_to_tuple(coord.replace("$", "").split(":")[0])
                if title == ws.title:
                    header[key] = grid[row - 1][col - 1] if row - 1 < len(grid) and col - 1 < len(grid[row - 1]) else None
                else:
                    header[key] = wb[title].cell(row, col).value
                found.add(key)
        except (KeyError, ValueError, AttributeError):
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
