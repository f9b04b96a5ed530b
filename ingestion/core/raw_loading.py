"""Loading one source (a landed file or a set of archived API pages) into its raw table.

DuckDB reads the source itself and writes typed rows with their rejection rule in one pass
(`expectations.row_rules.typed_select_sql`); rows never pass through pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from expectations.row_rules import typed_select_sql
from ingestion.core.extract_contract import ExtractKind
from ingestion.core.warehouse import sql_str


class SourceContractError(ValueError):
    """A source whose columns do not meet the extract contract; the message says what to fix."""


@dataclass(frozen=True)
class LoadedSource:
    source_id: str
    row_count: int
    rejected_count: int


def normalise_column_name(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower().replace(" ", "_")


def map_source_columns(kind: ExtractKind, columns: list[tuple[str, str]], where: str) -> tuple[str, dict[str, str]]:
    """SELECT-list aliasing the source's columns to contract names, and the source type of each.
    Raises SourceContractError naming missing columns; extra columns are ignored. A field that
    `may_be_absent` and is not in the source reads as NULL."""
    by_name = {normalise_column_name(n): (n, t) for n, t in columns}
    missing = [f.name for f in kind.fields if f.name not in by_name and not f.may_be_absent]
    if missing:
        found = ", ".join(n for n, _ in columns) or "(none)"
        raise SourceContractError(
            f"missing column(s) {', '.join(missing)} required by the '{kind.name}' extract contract "
            f"(see docs/portal_api.md for the field list): {where}; columns found: {found}"
        )
    select, types = [], {}
    for f in kind.fields:
        if f.name not in by_name:  # an absent optional column
            select.append(f'CAST(NULL AS VARCHAR) AS "{f.name}"')
            types[f.name] = "VARCHAR"
            continue
        original, stype = by_name[f.name]
        select.append(f'"{original.replace(chr(34), chr(34) * 2)}" AS "{f.name}"')
        types[f.name] = stype
    return ", ".join(select), types


def insert_typed_rows(
    con: duckdb.DuckDBPyConnection,
    kind: ExtractKind,
    source_sql: str,
    source_types: dict[str, str],
    period_month: str,
    *,
    strip_controls: bool = True,
    loaded_at: dt.datetime | None = None,
) -> int:
    """Insert the typed rows of `source_sql`; the number of rows inserted. `strip_controls=False` when
    the caller knows the source holds no control character (the CSV reader saw none); `loaded_at`
    is the load time the plausibility windows are judged against (now, in Vietnam, by default)."""
    sql = typed_select_sql(kind, source_sql, source_types, period_month, strip_controls=strip_controls,
                           loaded_at=loaded_at)
    columns = [f.name for f in kind.fields] + [
        "period_month", "source_id", "source_row", "rejection_rule", "rejection_reason", "raw_record", "loaded_at"
    ]
    result = con.execute(f"INSERT INTO raw.{kind.name} ({', '.join(columns)}) {sql}").fetchone()
    return int(result[0]) if result else 0


def counts_by_source(con: duckdb.DuckDBPyConnection, kind: ExtractKind, source_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(rows, rejected rows) per source id as stored in the raw table.

    The ids go in as a literal IN list, a filter on the scan: a join against an unnested list
    parameter made DuckDB hold the whole uncommitted insert in memory (19 M status rows ran a
    1.5 GB limit out of memory inside the loading transaction)."""
    if not source_ids:
        return {}
    counts: dict[str, tuple[int, int]] = {}
    for start in range(0, len(source_ids), 500):
        batch = ", ".join(sql_str(sid) for sid in source_ids[start:start + 500])
        rows = con.execute(
            f"SELECT source_id, count(*), count(rejection_rule) FROM raw.{kind.name} "
            f"WHERE source_id IN ({batch}) GROUP BY source_id"
        ).fetchall()
        counts.update({sid: (int(n), int(r)) for sid, n, r in rows})
    return counts
