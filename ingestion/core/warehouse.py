"""The DuckDB warehouse: where it is, how to open it, and two SQL helpers.

Connections are short-lived and there is one writer at a time (see docs/architecture.md). The
tables of the `raw`, `meta` and `quarantine` schemas are declared, created and migrated in
`ingestion/core/schema.py` (`prepare_warehouse`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Root of everything the pipeline writes; `DXMON_DATA_DIR` overrides `<project>/data`."""
    return Path(os.environ.get("DXMON_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("DXMON_WAREHOUSE", data_dir() / "warehouse" / "dxmon.duckdb")).resolve()


# DuckDB settings for every connection: bounded memory (spills to disk beyond it) so a 100 M-row
# month fits the machine and the whole process stays under 2 GB at 10 M rows (1200MB for DuckDB
# plus Python, Dagster and GX), and a temp folder beside the warehouse.
DEFAULT_MEMORY_LIMIT = os.environ.get("DXMON_DUCKDB_MEMORY_LIMIT", "1200MB")


@contextlib.contextmanager
def connect(path: Path | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path) if path else warehouse_path()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute(f"SET memory_limit = {sql_str(DEFAULT_MEMORY_LIMIT)}")
        con.execute(f"SET temp_directory = {sql_str(path.parent / 'duckdb_tmp')}")
        con.execute("SET preserve_insertion_order = false")
        yield con
    finally:
        con.close()


def sql_str(value) -> str:
    """A SQL string literal (for the places DuckDB takes no parameter: file paths in read_csv, COPY)."""
    return "'" + str(value).replace("'", "''") + "'"


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether `schema.table` (a table or a view) exists; works on read-only connections."""
    schema, table = qualified.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0])
