"""The tables the command line prints, as a person reads them, and the same rows for scripts.

* `table(header, lines)`: plain aligned columns, each cut at `max_width` characters (the task
  and 766 ranking reports: `dxmon tasks ...`, `dxmon ranking`).
* `fit_table(columns, rows, width)`: the columns a person reads first (rank, change, unit name,
  score; rule, count, example) within the terminal's width (`shutil.get_terminal_size()`):
  when the table is wider, the least important columns are shortened first (to their minimum,
  with `…`), then left out, least important first; a column marked `keep` (the unit name, the
  rule) is never shortened or left out, so a table wider than the terminal wraps rather than
  hide the unit name behind `…`. What was left out is named under the table.
* `render(columns, rows, fmt)`: `table` (the above), `csv` (every field of the rows, every text
  cell made inert by publication/spreadsheet_cells.py's `inert_text`: a spreadsheet never runs it
  as a formula) or `json` (a list of objects, UTF-8 text as it is).

Widths are display widths: Vietnamese text in decomposed form (a letter and combining marks)
counts one column per letter, wide (CJK) characters two.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import shutil
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FORMATS = ("table", "csv", "json")
GAP = "  "
ELLIPSIS = "…"


def table(header: tuple, lines: list[tuple], max_width: int = 60) -> str:
    """Aligned columns with a header, each at most `max_width` characters wide."""
    lines = [header, *lines]
    widths = [min(max(len(str(line[i])) for line in lines), max_width) for i in range(len(header))]
    return "\n".join("  ".join(str(c)[:w].ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal (combining marks 0, wide characters 2)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` columns, ending with `…` when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 0 if unicodedata.combining(ch) else (2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int, align: str = "left") -> str:
    space = " " * max(width - display_width(text), 0)
    return space + text if align == "right" else text + space


def terminal_width(default: int = 100) -> int:
    return shutil.get_terminal_size((default, 24)).columns


@dataclass(frozen=True)
class Column:
    """A column of a fitted table: its header, how a row's cell is made (a key of the row dict or
    a function of the row), its importance (0 = read first; larger numbers give way first) and
    whether it is never shortened (`keep`)."""
    header: str
    value: str | Callable[[dict], object]
    importance: int = 1
    keep: bool = False
    align: str = "left"
    min_width: int = 6

    def cell(self, row: dict) -> str:
        value = self.value(row) if callable(self.value) else row.get(self.value)
        return cell_text(value)


def cell_text(value) -> str:
    """A value as a table shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())  # one line: newlines and tabs of a reason become spaces


def rank_change(value) -> str:
    """previous rank - rank as printed: ▲ moved up, ▼ down, = unchanged, `new` without a previous rank."""
    if value is None:
        return "new"
    return "=" if value == 0 else (f"▲{value}" if value > 0 else f"▼{-value}")


def fit_table(columns: Sequence[Column], rows: Sequence[dict], width: int | None = None) -> str:
    """The rows as a table of `columns` within `width` terminal columns (default: the terminal's)."""
    width = width or terminal_width()
    columns = list(columns)
    cells = [[c.cell(r) for c in columns] for r in rows]
    natural = [max([display_width(c.header), *(display_width(line[i]) for line in cells)])
               for i, c in enumerate(columns)]
    widths = list(natural)
    shown = list(range(len(columns)))
    headers = [c.header for c in columns]

    def total() -> int:
        return sum(widths[i] for i in shown) + len(GAP) * (len(shown) - 1)

    # the columns give way by tiers of importance, least important first: a tier is shortened
    # (its widest column first, down to each one's minimum), then, when that is not enough, left
    # out (rightmost first), before the next more important tier is touched
    tiers = sorted({c.importance for c in columns if not c.keep}, reverse=True)
    left_out = []
    for tier in tiers:
        members = [i for i, c in enumerate(columns) if not c.keep and c.importance == tier]
        floors = {i: min(natural[i], max(columns[i].min_width, 2)) for i in members}
        while total() > width:
            room = [i for i in members if widths[i] > floors[i]]
            if not room:
                break
            widest = max(room, key=lambda i: (widths[i], i))
            widths[widest] -= 1
        dropped = False
        for i in reversed(members):
            if total() <= width:
                break
            shown.remove(i)
            left_out.append(columns[i].header)
            dropped = True
        if dropped:  # what is left of the tier takes back the room a dropped column freed
            for i in (i for i in members if i in shown):
                widths[i] = min(natural[i], widths[i] + max(width - total(), 0))
    lines = [GAP.join(pad(truncate(columns[i].header, widths[i]), widths[i], columns[i].align) for i in shown)]
    for line in cells:
        lines.append(GAP.join(pad(truncate(line[i], widths[i]), widths[i], columns[i].align) for i in shown))
    out = "\n".join(text.rstrip() for text in lines)
    if left_out:
        note = (f"(left out to fit {width} columns: {', '.join(sorted(left_out, key=headers.index))}; "
                "--format csv or json gives every column)")
        out += "\n" + "\n".join(textwrap.wrap(note, max(width, 40)))
    return out


def _json_value(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def as_json(rows: Sequence[dict]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=1, default=_json_value)


def as_csv(rows: Sequence[dict], fields: Sequence[str] | None = None) -> str:
    """CSV with a header; text cells through `inert_text` (publication/spreadsheet_cells.py),
    numbers, booleans and dates as they are."""
    from publication.spreadsheet_cells import inert_text

    fields = list(fields or (rows[0].keys() if rows else []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else inert_text(row.get(f)) if isinstance(row.get(f), str)
                         else row.get(f) for f in fields])
    return out.getvalue().rstrip("\n")


def render(columns: Sequence[Column], rows: Sequence[dict], fmt: str = "table", width: int | None = None,
           fields: Sequence[str] | None = None) -> str:
    """`rows` as a fitted table, CSV or JSON (CSV and JSON carry every field of the rows)."""
    if fmt == "csv":
        return as_csv(rows, fields)
    if fmt == "json":
        return as_json(rows)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return fit_table(columns, rows, width)


def relation_rows(relation) -> list[dict]:
    """A DuckDB relation's rows as dicts (column name -> value)."""
    columns = relation.columns
    return [dict(zip(columns, r)) for r in relation.fetchall()]


def add_format_argument(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (what a person reads first, within the terminal's width), csv or json "
                             "(every column, for scripts; default %(default)s)")
