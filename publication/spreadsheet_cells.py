"""Every CSV and XLSX cell the platform writes is inert: a spreadsheet never runs it as a formula.

Spreadsheet programs treat a cell whose text starts with `=`, `+`, `-` or `@` as a formula (and
a leading tab or carriage return can hide one), so an evidence string, a file name or a reason
copied from an agency's file into an audit pack could run `=HYPERLINK(...)` or a DDE command on
the auditor's machine. Every writer of the platform goes through this module:

* **CSV** (`write_csv`, DuckDB's CSV writer on a relation, so no path or value is pasted into
  SQL text): each text cell starting with one of `LEADERS` is written with an apostrophe in
  front (`'=HYPERLINK(...)`), which every spreadsheet shows as text and a reader of the CSV can
  strip (`original_text`). Numbers, booleans, dates and timestamps are typed columns and are
  written as they are: numbers stay numbers (a negative number is not text).
* **XLSX** (`set_text_cell`, openpyxl): a text cell is always a string cell (never a formula,
  whatever it starts with) with Excel's quote prefix set, so even editing it does not turn it into
  a formula; numbers stay number cells.

`inert_text` is the same rule for one Python value (JSON-free writers, console tables that are
saved). Files written this way hash and verify as any other (audit packs' SHA256SUMS).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

LEADERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
# DuckDB type names written as they are (not text): numbers, booleans, dates and times, UUIDs
_TYPED = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
          "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN", "DATE", "TIME", "TIMESTAMP",
          "UUID", "VARINT", "BIGNUM")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take `text` as a formula (it starts with one of LEADERS)."""
    return isinstance(text, str) and text.startswith(LEADERS)


def inert_text(value):
    """`value` as written to a cell: text starting with a leader gets the apostrophe; anything else
    (numbers, None, other text) is returned unchanged."""
    return PREFIX + value if is_formula_like(value) else value


def original_text(cell: str) -> str:
    """The text that `inert_text` protected (for readers of the platform's CSV files)."""
    return cell[1:] if cell.startswith(PREFIX) and is_formula_like(cell[1:]) else cell


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def inert_sql(expression: str) -> str:
    """SQL (DuckDB) of the text `expression` with the apostrophe in front when it starts with a leader."""
    leaders = ", ".join(["'='", "'+'", "'-'", "'@'", "chr(9)", "chr(13)"])
    return f"CASE WHEN substr({expression}, 1, 1) IN ({leaders}) THEN '{PREFIX}{PREFIX}' || {expression} ELSE {expression} END"


def is_typed(duckdb_type) -> bool:
    name = str(duckdb_type).upper().split("(")[0].split(" ")[0]
    return name in _TYPED or name.startswith(("TIMESTAMP", "TIME"))


def inert_relation(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`relation` with every text (or text-rendered: lists, structs, JSON, intervals) column made inert."""
    columns = []
    for name, kind in zip(relation.columns, relation.types):
        q = _quote_ident(name)
        columns.append(q if is_typed(kind) else f"{inert_sql(f'CAST({q} AS VARCHAR)')} AS {q}")
    return relation.project(", ".join(columns))


def write_csv(con: duckdb.DuckDBPyConnection, query: str, target: Path, params: Sequence | None = None,
              order_all: bool = True) -> Path:
    """The rows of `query` (with `?` parameters `params`), sorted by every column, written to
    `target` as CSV with a header, every cell inert. The query's values travel as parameters and
    the target path as a Python argument: nothing is pasted into SQL text."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    relation = con.sql(query, params=list(params) if params else None)
    relation = inert_relation(relation)
    if order_all:
        relation = relation.order("ALL")
    relation.write_csv(str(target), header=True, sep=",")
    return target


def set_text_cell(cell, value):
    """Put `value` in an openpyxl cell so that it is never a formula: text becomes a string cell
    with Excel's quote prefix when it starts with a leader; numbers, dates and None are set as
    they are. Returns the cell."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl makes '=...' a formula cell; a report's text never is one
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell
