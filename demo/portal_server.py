"""A local portal that serves the portal API contract (docs/portal_api.md) for the demo and tests.

The real national portal's interface is not public, so this server is the reference
implementation of the contract our client (`ingestion/portal/client.py`) is written against.
It serves monthly extracts from a store folder, `<store>/<YYYY-MM>/<kind>.parquet` (written by
the demo data generator), one page at a time: DuckDB reads only the rows of the requested page,
so a large month is never loaded whole.

For tests it can inject faults (429, 500, slow pages, truncated bodies, malformed pages) on a
given endpoint/page, a given number of times, and it keeps a log of every request it answered.

Run it:  python -m demo.portal_server --store DIR --port N --token T [--pid-file F]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hmac
import json
import logging
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind
from ingestion.core.warehouse import sql_str as _sql_str

log = logging.getLogger(__name__)

PORTAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_PAGE_SIZE = 5000
MAX_PAGE_SIZE = 20000
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
KINDS_BY_ENDPOINT: dict[str, ExtractKind] = {k.api_endpoint: k for k in EXTRACT_KINDS.values()}
FAULT_TYPES = ("429", "500", "slow", "truncated", "malformed")
MALFORMED_VARIANTS = ("missing_items", "kind_mismatch", "extra_field", "wrong_page", "not_object")
TRUNCATED_VARIANTS = ("no_length", "short_length")

# Files with more rows than this are served from a sorted copy made once (one external sort in
# DuckDB, ~2.5 s for 5 M rows), then each page is a file_row_number range read (~5 ms). Below it
# a per-request ORDER BY ... LIMIT/OFFSET (~0.1 s at 50 k rows) is cheap enough and needs no copy.
SORT_IN_QUERY_MAX_ROWS = 50_000


# ---------------------------------------------------------------------------------------------
# Faults and the request log
# ---------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault: fires `times` times on matching requests, after letting `after`
    matching requests through normally; then the page is served normally again.

    `path` is an endpoint path (`/api/v1/dossiers`) or a kind name (`dossiers`). `page` and
    `month` of None match any page or month. Faults for the same request form a queue: the first
    one that has not finished fires, so adding a 429 then a 500 for page 2 gives 429, 500, OK.
    """

    path: str
    fault: str  # one of FAULT_TYPES
    page: int | None = None
    month: str | None = None
    times: int = 1
    after: int = 0
    retry_after: int = 1  # 429: the Retry-After header, seconds
    delay_s: float = 5.0  # slow: sleep this long before answering (longer than the client timeout)
    variant: str | None = None  # malformed: MALFORMED_VARIANTS; truncated: TRUNCATED_VARIANTS
    fired: int = 0

    def __post_init__(self) -> None:
        self.fault = str(self.fault)
        if self.fault not in FAULT_TYPES:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {', '.join(FAULT_TYPES)}")
        if self.path in EXTRACT_KINDS:
            self.path = EXTRACT_KINDS[self.path].api_endpoint
        if self.path not in KINDS_BY_ENDPOINT:
            raise ValueError(f"fault path {self.path!r} is neither an endpoint nor a kind name")
        if self.variant is None:
            self.variant = {"malformed": "missing_items", "truncated": "no_length"}.get(self.fault)
        allowed = {"malformed": MALFORMED_VARIANTS, "truncated": TRUNCATED_VARIANTS}.get(self.fault)
        if allowed and self.variant not in allowed:
            raise ValueError(f"{self.fault} fault variant {self.variant!r}; expected one of {', '.join(allowed)}")

    @classmethod
    def from_dict(cls, data: dict) -> Fault:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "fired"}
        unknown = sorted(set(data) - set(known) - {"fired"})
        if unknown:
            raise ValueError(f"fault {data!r}: unknown key(s) {', '.join(unknown)}")
        return cls(**known)

    def matches(self, path: str, month: str, page: int) -> bool:
        return (
            self.path == path
            and (self.page is None or self.page == page)
            and (self.month is None or self.month == month)
        )

    @property
    def finished(self) -> bool:
        return self.fired >= self.times


class FaultPlan:
    """The queue of faults, shared by the request threads."""

    def __init__(self, faults: Iterable[Fault | dict] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.add(*faults)

    def add(self, *faults: Fault | dict) -> None:
        with self._lock:
            self._faults += [f if isinstance(f, Fault) else Fault.from_dict(f) for f in faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [copy.copy(f) for f in self._faults if not f.finished]

    def take(self, path: str, month: str, page: int) -> Fault | None:
        """The fault to apply to this request, if any (and count it)."""
        with self._lock:
            for f in self._faults:
                if f.finished or not f.matches(path, month, page):
                    continue
                if f.after > 0:
                    f.after -= 1
                    return None
                f.fired += 1
                return copy.copy(f)
        return None

    @classmethod
    def from_json_file(cls, path: str | Path) -> FaultPlan:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("faults", [])
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of faults (or {{\"faults\": [...]}})")
        return cls(data)


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    month: str | None
    page: int | None
    page_size: int | None
    status: int
    fault: str | None
    at: float


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ---------------------------------------------------------------------------------------------
# The store: pages read with DuckDB
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store: PortalStore, token: str, faults: FaultPlan, request_log: RequestLog):
        self.store, self.token, self.faults, self.request_log = store, token, faults, request_log
        super().__init__(address, _PortalHandler)

    def handle_error(self, request, client_address) -> None:
        # A client that timed out and hung up mid-answer is expected (slow faults): not an error.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            log.debug("client %s went away: %s", client_address, exc)
            return
        log.exception("error while answering %s", client_address)


class _PortalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _PortalHTTPServer
    server_version = "dxmon-demo-portal/1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self._record(status)  # before answering, so a client that has the answer sees it logged
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, status: int) -> None:
        ctx = getattr(self, "_ctx", None)
        if ctx is None or ctx.get("recorded"):
            return
        ctx["recorded"] = True
        self.server.request_log.append(LoggedRequest(
            ctx["path"], ctx["month"], ctx["page"], ctx["page_size"], status, ctx["fault"], time.time()))

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        self._ctx = None
        if path == "/health":
            self._send(200, b'{"status": "ok"}')
            return
        self._ctx = ctx = {"path": path, "month": None, "page": None, "page_size": None, "fault": None}
        try:
            self._check_auth()
            kind = KINDS_BY_ENDPOINT.get(path)
            if kind is None:
                raise _ApiError(404, "not_found", f"no endpoint {path}; endpoints: {', '.join(KINDS_BY_ENDPOINT)}")
            month, page, page_size = self._params(parse_qs(parts.query))
            ctx.update(month=month, page=page, page_size=page_size)
            fault = self.server.faults.take(path, month, page)
            if fault is not None:
                ctx["fault"] = fault.fault
                log.info("fault %s %s on %s month=%s page=%s", fault.fault, fault.variant or "", path, month, page)
                self._apply_fault(fault, kind, month, page, page_size)
                return
            self._send(200, self._payload_body(kind, month, page, page_size))
        except _ApiError as e:
            self._send(e.status, _error_body(e.code, e.message), e.headers)
        except StoreError as e:
            log.error("%s", e)
            self._send(500, _error_body("store_error", str(e)))

    def _check_auth(self) -> None:
        header = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.token}"
        if not header:
            raise _ApiError(401, "unauthorized", "missing 'Authorization: Bearer <token>' header",
                            {"WWW-Authenticate": 'Bearer realm="portal"'})
        if not hmac.compare_digest(header.encode("utf-8"), expected.encode("utf-8")):
            raise _ApiError(401, "unauthorized", "the bearer token is not valid",
                            {"WWW-Authenticate": 'Bearer realm="portal", error="invalid_token"'})

    @staticmethod
    def _params(query: dict[str, list[str]]) -> tuple[str, int, int]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        month = one("month")
        if month is None:
            raise _ApiError(400, "bad_request", "query parameter 'month' (YYYY-MM) is required")
        if not MONTH_RE.match(month):
            raise _ApiError(400, "bad_request", f"month {month!r} is not YYYY-MM")

        def integer(name: str, default: int, lo: int, hi: int | None) -> int:
            raw = one(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise _ApiError(400, "bad_request", f"{name} {raw!r} is not an integer") from None
            if value < lo or (hi is not None and value > hi):
                bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
                raise _ApiError(400, "bad_request", f"{name} {value} must be {bound}")
            return value

        return month, integer("page", 1, 1, None), integer("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)

    def _payload_body(self, kind: ExtractKind, month: str, page: int, page_size: int) -> bytes:
        """The page as JSON bytes; the items' JSON comes ready-made from DuckDB."""
        total_items, items = self.server.store.page(kind, month, page, page_size)
        total_pages = math.ceil(total_items / page_size)
        if page > max(total_pages, 1):
            raise _ApiError(400, "page_out_of_range",
                            f"page {page} is beyond total_pages {total_pages} for {kind.name} {month}")
        head = json.dumps({
            "kind": kind.name,
            "month": month,
            "page": page,
            "page_size": page_size,
            "total_pages": total_pages,
            "total_items": total_items,
            "generated_at": dt.datetime.now(PORTAL_TZ).replace(microsecond=0).isoformat(),
        })
        return (head[:-1] + ', "items": [' + ", ".join(items) + "]}").encode("utf-8")

    def _payload(self, kind: ExtractKind, month: str, page: int, page_size: int) -> dict:
        return json.loads(self._payload_body(kind, month, page, page_size))

    def _apply_fault(self, fault: Fault, kind: ExtractKind, month: str, page: int, page_size: int) -> None:
        if fault.fault == "429":
            self._send(429, _error_body("rate_limited", f"too many requests; retry after {fault.retry_after} s"),
                       {"Retry-After": fault.retry_after})
            return
        if fault.fault == "500":
            self._send(500, _error_body("internal_error", "injected server error"))
            return
        if fault.fault == "slow":
            self._record(200)  # on arrival: the client gives up long before the answer
            time.sleep(fault.delay_s)
            self._send(200, self._payload_body(kind, month, page, page_size))
            return
        if fault.fault == "truncated":
            # A correct-looking 200 whose body stops half way (the connection is then closed).
            body = self._payload_body(kind, month, page, page_size)
            self._record(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if fault.variant == "short_length":
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        # malformed: valid JSON, wrong shape
        payload = self._payload(kind, month, page, page_size)
        if fault.variant == "missing_items":
            del payload["items"]
        elif fault.variant == "kind_mismatch":
            payload["kind"] = "procedures" if kind.name != "procedures" else "dossiers"
        elif fault.variant == "extra_field":
            items = payload["items"] or [{n: None for n in kind.field_names}]
            items[0]["unexpected_field"] = 1
            payload["items"] = items
        elif fault.variant == "wrong_page":
            payload["page"] = page + 1
        elif fault.variant == "not_object":
            payload = payload["items"]
        self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


class DemoPortalServer:
    """The demo portal, in a background thread (`start`/`stop`, or `with`) or blocking
    (`serve_forever`).

    >>> with DemoPortalServer(store, token="t") as portal:
    ...     portal.url  # http://127.0.0.1:<port>
    """

    def __init__(self, store_dir: str | Path, token: str, host: str = "127.0.0.1", port: int = 0,
                 faults: Iterable[Fault | dict] = (), cache_dir: str | Path | None = None,
                 sort_in_query_max_rows: int = SORT_IN_QUERY_MAX_ROWS) -> None:
        if not token:
            raise ValueError("the demo portal needs a bearer token (--token or DXMON_PORTAL_TOKEN)")
        self.store_dir = Path(store_dir)
        self.token = token
        self.host, self._requested_port = host, port
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults)
        self.request_log = RequestLog()
        self._cache_dir = cache_dir
        self._sort_in_query_max_rows = sort_in_query_max_rows
        self._httpd: _PortalHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._store: PortalStore | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def bind(self) -> DemoPortalServer:
        if self._httpd is None:
            self._store = PortalStore(self.store_dir, self._cache_dir, self._sort_in_query_max_rows)
            self._httpd = _PortalHTTPServer((self.host, self._requested_port), self._store, self.token,
                                            self.faults, self.request_log)
            log.info("demo portal serving %s at %s", self.store_dir, self.url)
        return self

    def start(self) -> DemoPortalServer:
        """Serve in a daemon thread; returns once the socket accepts connections."""
        self.bind()
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"demo-portal-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `shutdown()` is called from another thread."""
        self.bind()
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def shutdown(self) -> None:
        """Stop `serve_forever` (safe from a signal handler: does not wait in the serving thread)."""
        if self._httpd is not None:
            threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> DemoPortalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests look at -------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the demo portal is not bound yet; call start() or bind()")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_fault(self, path: str, fault: str, **options) -> Fault:
        f = Fault(path=path, fault=fault, **options)
        self.faults.add(f)
        return f

    def requests_made(self, path: str | None = None, month: str | None = None) -> list[LoggedRequest]:
        """The request log, optionally for one endpoint (path or kind name) and month."""
        if path in EXTRACT_KINDS:
            path = EXTRACT_KINDS[path].api_endpoint
        return [
            r for r in self.request_log.entries()
            if (path is None or r.path == path) and (month is None or r.month == month)
        ]

    def pages_requested(self, path: str, month: str | None = None) -> list[int]:
        return [r.page for r in self.requests_made(path, month) if r.page is not None]


def serve(store_dir: str | Path, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
          faults: Iterable[Fault | dict] = (), on_ready=None) -> None:
    """Serve the store until interrupted (blocking). `on_ready(server)` is called once bound."""
    token = token or os.environ.get("DXMON_PORTAL_TOKEN")
    server = DemoPortalServer(store_dir, token, host, port, faults).bind()
    if on_ready is not None:
        on_ready(server)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.portal_server",
        description="Serve a demo store (<store>/<YYYY-MM>/<kind>.parquet) over the portal API contract "
        "(docs/portal_api.md). Prints the base URL on stdout once listening.",
    )
    parser.add_argument("--store", required=True, help="store folder: <store>/<YYYY-MM>/<kind>.parquet")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument("--token", default=os.environ.get("DXMON_PORTAL_TOKEN"),
                        help="bearer token clients must send (default: $DXMON_PORTAL_TOKEN)")
    parser.add_argument("--pid-file", help="write this process id here; removed on exit")
    parser.add_argument("--faults", help="JSON file: a list of faults (see Fault) to inject")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.token:
        parser.error("no token: pass --token or set DXMON_PORTAL_TOKEN")
    if not Path(args.store).is_dir():
        parser.error(f"store folder {args.store} does not exist")
    faults = FaultPlan.from_json_file(args.faults) if args.faults else FaultPlan()

    server = DemoPortalServer(args.store, args.token, args.host, args.port, faults).bind()

    def stop(signum, _frame) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        server.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pid_file = Path(args.pid_file) if args.pid_file else None
    if pid_file:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{os.getpid()}\n")
    print(server.url, flush=True)
    try:
        server.serve_forever()
    finally:
        if pid_file:
            pid_file.unlink(missing_ok=True)
    log.info("demo portal stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
