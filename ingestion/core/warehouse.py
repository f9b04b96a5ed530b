"""The DuckDB warehouse: where it is, how to open it, and the SQL helpers.

No value or path is pasted into SQL text: values go in as parameters where DuckDB takes them,
else through `sql_str`, the one quoting helper (settings, file paths of DuckDB's readers). A path
handed to a reader goes through `literal_file`, because DuckDB's readers expand glob patterns
(`*`, `?`, `[...]`) in a path: a data folder named `data[1]` or `*` must still name one file.

Connections are short-lived and there is one writer at a time (see docs/architecture.md). The
tables of the `raw`, `meta` and `quarantine` schemas are declared, created and migrated in
`ingestion/core/schema.py` (`prepare_warehouse`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
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


GLOB_CHARACTERS = frozenset("*?[]{}")


@contextlib.contextmanager
def literal_file(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[str]:
    """A SQL literal that makes DuckDB's readers (read_csv, read_parquet, parquet_metadata) read
    exactly the file `path`, whatever characters its folders hold.

    A path without glob characters is quoted as it is. Otherwise the folder goes into the
    connection's `file_search_path` for the duration and the reader gets the bare file name (a
    folder that also holds a comma, which that list setting cannot hold, is replaced by a hard link
    or copy in a fresh temporary folder). The file's own name must be free of glob characters: the platform's readers only read files it named (raw
    archive objects named by sha256, its own staging copies), never a sender's file name."""
    path = Path(path)
    if not GLOB_CHARACTERS & set(str(path)):
        yield sql_str(path)
        return
    if GLOB_CHARACTERS & set(path.name):
        raise ValueError(f"cannot name this file literally for DuckDB (glob characters in its own name): {path}")
    if "," in str(path.parent):
        # file_search_path is a comma-separated list: link (or copy) the file into a fresh folder
        # of the system's temporary directory instead
        with tempfile.TemporaryDirectory(prefix="dxmon-read-") as folder:
            alias = Path(folder) / path.name
            if GLOB_CHARACTERS & set(str(alias)):
                raise ValueError(f"cannot name this file literally for DuckDB (glob characters in the temporary "
                                 f"directory too): {path}")
            try:
                os.link(path, alias)
            except OSError:
                shutil.copyfile(path, alias)
            yield sql_str(alias)
        return
    previous = con.execute("SELECT current_setting('file_search_path')").fetchone()[0]
    con.execute(f"SET file_search_path = {sql_str(path.parent)}")
    try:
        yield sql_str(path.name)
    finally:
        con.execute(f"SET file_search_path = {sql_str(previous or '')}")


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether `schema.table` (a table or a view) exists; works on read-only connections."""
    schema, table = qualified.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0])
