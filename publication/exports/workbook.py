"""The period's tables as an Excel workbook or CSV files (docs/reports.md): the same tables as the
period report (publication/reports/period_data.py), for people who compute with them.

    export_workbook("2025-08", dti_year=None, out=Path("dxmon-2025-08.xlsx"))
    export_csv("2025-08", dti_year=None, out=Path("dxmon-2025-08/"))

Workbook: an `about` sheet first (the period, methodology versions, run, code version, input hash,
publication, and every sheet with its source mart, row count and note), then one sheet per table:
a frozen bold header row with a filter, typed cells (numbers are numbers with a number format,
dates are dates, booleans are booleans), widths set from the content. Every cell is written by
`publication.spreadsheet_cells.set_text_cell`: a text that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return is a string cell with Excel's quote prefix, never a formula.

CSV: one file per table (the query's column names as header) and `about.csv`, each written by
`spreadsheet_cells.write_csv` (the same rule: such text gets an apostrophe in front)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from publication.reports.period_data import (
    BOOL,
    CHANGE,
    DATE,
    INT,
    PERCENT,
    SCORE,
    VALUE,
    YEAR,
    PeriodData,
    TableSpec,
    load_period,
    period_specs,
    published_database,
)
from publication.spreadsheet_cells import set_text_cell, write_csv

NUMBER_FORMATS = {INT: "#,##0", YEAR: "0", SCORE: "#,##0.00", VALUE: "#,##0.0000", PERCENT: "0.00%",
                  CHANGE: "+0;-0;0", DATE: "yyyy-mm-dd"}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MAX_WIDTH = 60


def _default_out(month: str, suffix: str) -> Path:
    from ingestion.core.warehouse import data_dir

    return data_dir() / "exports" / f"dxmon-{month[:7]}{suffix}"


def _header(sheet, labels: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="E8ECF2")
    for i, label in enumerate(labels, start=1):
        cell = set_text_cell(sheet.cell(row=1, column=i), label)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(vertical="top", wrap_text=False)
    sheet.freeze_panes = "A2"


def _widths(sheet, widths: dict[int, int]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(8, width + 2))


def _display_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 19
    if isinstance(value, float):
        return len(f"{value:,.4f}")
    return max(len(line) for line in str(value).splitlines() or [""])


def _table_sheet(book, spec: TableSpec) -> None:
    sheet = book.create_sheet(spec.key[:31])
    _header(sheet, [c.label for c in spec.columns])
    widths = {i: len(c.label) for i, c in enumerate(spec.columns, start=1)}
    if spec.missing:
        set_text_cell(sheet.cell(row=2, column=1), f"Not in this publication: {spec.missing}")
        return
    for r, row in enumerate(spec.rows, start=2):
        for i, (column, value) in enumerate(zip(spec.columns, row), start=1):
            cell = set_text_cell(sheet.cell(row=r, column=i), value)
            if isinstance(value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif column.kind in NUMBER_FORMATS and column.kind != BOOL and not isinstance(value, str):
                cell.number_format = NUMBER_FORMATS[column.kind]
            widths[i] = max(widths[i], _display_length(value))
    sheet.auto_filter.ref = sheet.dimensions
    _widths(sheet, widths)


def _about_rows(data: PeriodData) -> list[tuple[str, object]]:
    return [("dxmon workbook of the period", data.period.month), *data.provenance,
            ("Published database", str(data.database.name)),
            ("Exported at", dt.datetime.now().replace(microsecond=0))]


def _about_sheet(book, data: PeriodData) -> None:
    sheet = book.active
    sheet.title = "about"
    _header(sheet, ["What", "Value"])
    rows = _about_rows(data)
    for r, (what, value) in enumerate(rows, start=2):
        set_text_cell(sheet.cell(row=r, column=1), what)
        cell = set_text_cell(sheet.cell(row=r, column=2), value)
        if isinstance(value, dt.datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, dt.date):
            cell.number_format = NUMBER_FORMATS[DATE]
    from openpyxl.styles import Font

    start = len(rows) + 3
    for i, label in enumerate(("Sheet", "Table", "Source mart", "Rows", "Note"), start=1):
        set_text_cell(sheet.cell(row=start, column=i), label).font = Font(bold=True)
    for r, spec in enumerate(data.tables.values(), start=start + 1):
        for i, value in enumerate((spec.key[:31], spec.title, spec.source, len(spec.rows),
                                   f"not published: {spec.missing}" if spec.missing else spec.note), start=1):
            cell = set_text_cell(sheet.cell(row=r, column=i), value)
            if i == 4:
                cell.number_format = NUMBER_FORMATS[INT]
    _widths(sheet, {1: 42, 2: 66, 3: 30, 4: 8, 5: 60})


def export_workbook(month: str, dti_year: int | None = None, out: Path | None = None,
                    database: Path | None = None) -> Path:
    """Write the period's workbook (default data/exports/dxmon-<month>.xlsx); returns its path."""
    from openpyxl import Workbook

    data = load_period(month, dti_year, database)
    out = Path(out) if out else _default_out(data.period.month, ".xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    _about_sheet(book, data)
    for spec in data.tables.values():
        _table_sheet(book, spec)
    tmp = out.with_name(f".{out.name}.tmp")
    book.save(tmp)
    os.replace(tmp, out)
    return out


def export_csv(month: str, dti_year: int | None = None, out: Path | None = None,
               database: Path | None = None) -> Path:
    """Write one CSV per table of the period and about.csv into the folder `out` (default
    data/exports/dxmon-<month>/); returns the folder. A table whose mart is not published has no
    file; about.csv says so."""
    data = load_period(month, dti_year, database)  # the provenance and the tables' row counts
    out = Path(out) if out else _default_out(data.period.month, "")
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(published_database(database)), read_only=True) as con:
        _, specs = period_specs(con, month, dti_year)
        for spec in specs:
            spec.missing = spec.missing or data.tables[spec.key].missing  # incl. a table that could not be read
            if not spec.missing:
                write_csv(con, spec.sql, out / f"{spec.key}.csv", spec.params, order_all=False)
        about = [(what, None if value is None else str(value)) for what, value in _about_rows(data)]
        about += [(f"table {s.key}", f"not published: {s.missing}" if s.missing else
                   f"{len(data.tables[s.key].rows)} rows from {s.source}: {s.title}") for s in specs]
        values = ", ".join("(?, ?)" for _ in about)
        write_csv(con, f"SELECT * FROM (VALUES {values}) AS about(what, value)", out / "about.csv",
                  [v for pair in about for v in pair], order_all=False)
    return out
