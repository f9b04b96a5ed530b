"""The store, `<store>/<YYYY-MM>/<kind>.parquet`: pages read and rendered as JSON by DuckDB."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.core.extract_contract import ExtractKind
from ingestion.core.warehouse import sql_str as _sql_str

log = logging.getLogger(__package__)  # one logger for the server: "demo.portal_server"

# Files with more rows than this are served from a sorted copy made once (one external sort in
# DuckDB, ~2.5 s for 5 M rows), then each page is a file_row_number range read (~5 ms). Below it
# a per-request ORDER BY ... LIMIT/OFFSET (~0.1 s at 50 k rows) is cheap enough and needs no copy.
SORT_IN_QUERY_MAX_ROWS = 50_000


class StoreError(RuntimeError):
    """A store file that cannot serve the contract (e.g. a missing contract column)."""


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_LOCAL_TS_FORMAT = ("CASE WHEN microsecond({c}) = 0 THEN strftime({c}, '%Y-%m-%dT%H:%M:%S') "
                    "ELSE strftime({c}, '%Y-%m-%dT%H:%M:%S.%f') END")


def _json_expr(column: str, duckdb_type: str) -> str:
    """SQL giving the contract's JSON value of a store column: timestamps as ISO 8601 local time
    (Asia/Ho_Chi_Minh) without zone, NaN/inf as null; dates, decimals, numbers, booleans and
    text are rendered by DuckDB's to_json as they are (decimals as exact JSON numbers)."""
    c = _quote_ident(column)
    t = duckdb_type.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return _LOCAL_TS_FORMAT.format(c=f"timezone('Asia/Ho_Chi_Minh', {c})")
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return _LOCAL_TS_FORMAT.format(c=f"CAST({c} AS TIMESTAMP)")
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return f"CASE WHEN isnan({c}) OR isinf({c}) THEN NULL ELSE {c} END"
    if t == "BLOB":
        return f"CAST({c} AS VARCHAR)"
    return c


@dataclass
class _SourceInfo:
    signature: tuple  # (mtime_ns, size) of the store file when this was built
    row_count: int
    item_json_sql: str  # to_json({...}) of one item, in contract field order
    serve_path: Path  # the store file, or its sorted copy
    sorted_copy: bool


class PortalStore:
    """Pages of `<store>/<YYYY-MM>/<kind>.parquet`, ordered by the kind's key, as JSON text.

    DuckDB renders each item as JSON itself (no per-value Python), and reads only the page's
    rows: small files with ORDER BY ... LIMIT/OFFSET, large ones from a sorted copy made once
    (the file is re-sorted when it changes) by file_row_number range.
    """

    def __init__(self, store_dir: str | Path, cache_dir: str | Path | None = None,
                 sort_in_query_max_rows: int = SORT_IN_QUERY_MAX_ROWS) -> None:
        self.store_dir = Path(store_dir).resolve()
        self._own_cache = cache_dir is None
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="dxmon-portal-cache-"))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.sort_in_query_max_rows = sort_in_query_max_rows
        self._db = duckdb.connect()
        self._db.execute("SET memory_limit = '1GB'")
        self._db.execute(f"SET temp_directory = {_sql_str(str(self.cache_dir / 'duckdb_tmp'))}")
        self._lock = threading.Lock()
        self._file_locks: dict[Path, threading.Lock] = {}
        self._info: dict[Path, _SourceInfo] = {}
        self._idle = threading.Condition()
        self._active = 0
        self._closed = False

    def _enter(self) -> None:
        with self._idle:
            if self._closed:
                raise StoreError("the demo portal is stopping")
            self._active += 1

    def _leave(self) -> None:
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    def close(self) -> None:
        """Close once running queries finish (a late request gets a 500, never a dead connection)."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._active == 0, timeout=10)
        self._db.close()
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def path_for(self, kind: ExtractKind, month: str) -> Path:
        return self.store_dir / month / f"{kind.name}.parquet"

    def page(self, kind: ExtractKind, month: str, page: int, page_size: int) -> tuple[int, list[str]]:
        """(total_items, the page's items as JSON object texts). A month without a store file has
        no items."""
        self._enter()
        try:
            return self._page(kind, month, page, page_size)
        finally:
            self._leave()

    def _source(self, kind: ExtractKind, month: str) -> _SourceInfo | None:
        path = self.path_for(kind, month)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        signature = (st.st_mtime_ns, st.st_size)
        with self._lock:
            file_lock = self._file_locks.setdefault(path, threading.Lock())
        with file_lock:
            info = self._info.get(path)
            if info is None or info.signature != signature:
                info = self._build_source(kind, month, path, signature)
                self._info[path] = info
            return info

    def _build_source(self, kind: ExtractKind, month: str, path: Path, signature: tuple) -> _SourceInfo:
        con = self._db.cursor()
        try:
            scan = f"read_parquet({_sql_str(str(path))})"
            columns = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
            missing = [f for f in kind.field_names if f not in columns]
            if missing:
                raise StoreError(f"{path}: missing contract column(s) {', '.join(missing)} of '{kind.name}'")
            item_json_sql = "to_json({" + ", ".join(
                f"{_sql_str(name)}: {_json_expr(name, columns[name])}" for name in kind.field_names
            ) + "})"
            row_count = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]
            if row_count <= self.sort_in_query_max_rows:
                return _SourceInfo(signature, row_count, item_json_sql, path, sorted_copy=False)
            # Large file: one sorted copy, then every page is a row-number range read.
            target = self.cache_dir / month / f"{kind.name}.{signature[0]}.sorted.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".tmp-{uuid.uuid4().hex}")
            fields = ", ".join(_quote_ident(n) for n in kind.field_names)
            order = ", ".join(_quote_ident(k) for k in kind.key)
            started = time.monotonic()
            con.execute(
                f"COPY (SELECT {fields} FROM {scan} ORDER BY {order}) "
                f"TO {_sql_str(str(tmp))} (FORMAT parquet, ROW_GROUP_SIZE 20000)"
            )
            os.replace(tmp, target)
            log.info("sorted %s (%d rows) into %s in %.1f s", path, row_count, target, time.monotonic() - started)
            return _SourceInfo(signature, row_count, item_json_sql, target, sorted_copy=True)
        finally:
            con.close()

    def _page(self, kind: ExtractKind, month: str, page: int, page_size: int) -> tuple[int, list[str]]:
        info = self._source(kind, month)
        if info is None:
            return 0, []
        offset = (page - 1) * page_size
        if offset >= info.row_count:
            return info.row_count, []
        source = f"read_parquet({_sql_str(str(info.serve_path))}"
        if info.sorted_copy:
            sql = (
                f"SELECT {info.item_json_sql} FROM {source}, file_row_number = true) "
                f"WHERE file_row_number >= {offset} AND file_row_number < {offset + page_size} "
                f"ORDER BY file_row_number"
            )
        else:
            order = ", ".join(_quote_ident(k) for k in kind.key)
            sql = f"SELECT {info.item_json_sql} FROM {source}) ORDER BY {order} LIMIT {page_size} OFFSET {offset}"
        con = self._db.cursor()
        try:
            rows = con.execute(sql).fetchall()
        finally:
            con.close()
        return info.row_count, [r[0] for r in rows]
