"""Client of the national public-service portal's extract API (contract: docs/portal_api.md).

`PortalClient.fetch_month(kind, month, archive_dir)` fetches every page of one extract for one
month and archives each page's raw body, gzipped, before parsing it:

    <archive_dir>/<YYYY-MM>/<kind>/page-00001.json.gz   one JSON object per file, with `items`
    <archive_dir>/<YYYY-MM>/<kind>/manifest.json        written once every page is archived and checked

What the client guarantees (docs/reliability.md):

* **Bounded in time.** Every HTTP attempt has a wall-clock deadline (`request_deadline_s`): a
  watchdog cuts the connection when it passes, whether the server stalls before its headers or
  trickles its body a byte at a time (the per-socket-read timeout of requests alone would let a
  trickle run for ever). Every month has one too (`month_deadline_s`, or the `deadline` given to
  `fetch_month`): retries, waits and pages included; a month past it fails with rule
  `month_deadline`, and the next fetch resumes at the first page not archived.
* **Retries it controls.** 429 and 5xx answers, connection errors, read timeouts and attempts cut
  at their deadline are retried `max_retries` times. A `Retry-After` header is honoured as
  delta-seconds or as an HTTP date, capped at `retry_after_cap_s`; an unusable one (`soon`, a
  negative number, a date that cannot be parsed) falls back to the client's own exponential
  backoff (`backoff_factor * 2**n`, at most `backoff_max_s`). No wait may run past the month's
  deadline.
* **Bounded pages.** A body is read in chunks and stopped at `InputLimits.max_page_bytes`
  (`DXMON_LIMIT_MAX_PAGE_BYTES`; a larger Content-Length is refused before reading), and a page may
  hold at most `max_page_items` items (`DXMON_LIMIT_MAX_PAGE_ITEMS`): rules `page_too_large` and
  `too_many_items`, the month fails at once (refetching would bring the same body).
* **Pages partition the month.** A page that is truncated, malformed, whose page number does not
  match the request (`page_number_mismatch`), or that repeats items of an earlier page of the
  month (`repeated_items`: the pages come in the kind's key order, so an item sorting before the
  previous pages' last key was served already) is quarantined and fetched again up to
  `page_retries` times, then fails the month naming kind, page and the repeated ids. The manifest
  (complete) is written only when pages 1..N are all archived and checked, N = max(total_pages, 1),
  holding total_items items (`page_archive.complete_manifest_problem`, also applied by the loader).
* **Done is done, unless asked.** A month with a complete, checked manifest whose files match
  their sha256 is not fetched again; `refresh=True` (`dxmon run --refetch`) sets its pages aside
  under their sha256 (history, `page_archive.supersede`) and downloads it again. An interrupted
  month resumes at the first page not archived.
* **No credential leaves the client.** The token is sent as a bearer token (default), an API key
  header, HTTP basic auth or a query parameter (`auth`); every message, exception, log line (the
  client's and urllib3's) and stored text (manifest, quarantine reason files, URLs) passes through
  one `Redactor` (ingestion/portal/redaction.py), whatever the server sends back (an error body
  echoing the token, a redirect URL carrying it). A page body that holds the token is not stored.
  Redirects are followed only inside the portal's base URL (`max_redirects`).

The loader reads the archived pages (`archived_pages`), so a month can be replayed without the
network. Plain Python, no Dagster: orchestration/ wraps it.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import gzip
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ingestion.core.extract_contract import ExtractKind
from ingestion.core.files import sha256_of
from ingestion.core.input_files import InputLimits, exceeds, input_limits
from ingestion.portal.page_archive import (
    MANIFEST_CHECKS,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    ArchivedPage,
    atomic_write,
    complete_manifest_problem,
    manifest_problem,
    month_kind_dir,
    page_filename,
    page_files,
    portal_archive_dir,
    read_manifest,
    reject_page,
    reject_unstored,
    supersede,
    utc_now,
    write_manifest,
)
from ingestion.portal.page_contract import (
    MAX_PAGE_SIZE,
    REPEATED_ITEMS,
    TOO_MANY_ITEMS,
    PageShapeError,
    PortalConfigError,
    PortalError,
    check_month,
    check_page,
    is_int,
    item_key,
    key_text,
    max_key,
    page_key_order,
    resolve_kind,
)
from ingestion.portal.redaction import LOG_FILTER, Redactor, install_log_filter, url_secrets

log = logging.getLogger(__name__)

ENV_URL = "DXMON_PORTAL_URL"
ENV_TOKEN = "DXMON_PORTAL_TOKEN"
ENV_AUTH = "DXMON_PORTAL_AUTH"
ENV_REQUEST_DEADLINE = "DXMON_PORTAL_REQUEST_DEADLINE_S"
ENV_MONTH_DEADLINE = "DXMON_PORTAL_MONTH_DEADLINE_S"
ENV_RETRY_AFTER_CAP = "DXMON_PORTAL_RETRY_AFTER_CAP_S"
DEFAULT_PAGE_SIZE = 5000
DEFAULT_REQUEST_DEADLINE_S = 300.0  # one page of 20 000 dossiers (~12 MB) on a slow link
DEFAULT_MONTH_DEADLINE_S = 4 * 3600.0  # a national month, ~10 M dossiers in 2 000 pages, takes ~1 h
RETRY_STATUSES = (429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
AUTH_MODES = ("bearer", "api_key", "basic", "query")
API_KEY_HEADER = "X-API-Key"
QUERY_TOKEN_PARAM = "access_token"
ERROR_BODY_BYTES = 65536  # what is read of an error answer's body
READ_CHUNK = 65536
MONTH_DEADLINE, REQUEST_DEADLINE, PAGE_TOO_LARGE = "month_deadline", "request_deadline", "page_too_large"
CREDENTIAL_ECHOED, UNREADABLE_BODY, INCOMPLETE_MONTH = "credential_echoed", "unreadable_body", "incomplete_month"


# ---------------------------------------------------------------------------------------------
# Errors (PortalError, PortalConfigError and PageShapeError: ingestion/portal/page_contract.py;
# ArchiveIncompleteError: ingestion/portal/page_archive.py). Every message starts with the cause.
# ---------------------------------------------------------------------------------------------


class PortalHTTPError(PortalError):
    """The portal answered with an error status (after retries, for 429/5xx), or a redirect the
    client does not follow."""

    def __init__(self, message: str, url: str, status: int, code: str | None = None, rule: str = "http_error",
                 server_message: str = "") -> None:
        super().__init__(message)
        self.url, self.status, self.code, self.rule = url, status, code, rule
        self.server_message = server_message  # redacted, one line, shortened


class PortalAuthError(PortalHTTPError):
    """401/403: the token is missing, wrong or expired."""


class PortalUnavailableError(PortalError):
    """No answer from the portal (connection refused, timeouts, attempts cut at their deadline)
    after retries."""

    def __init__(self, message: str, url: str = "", rule: str = "portal_unavailable") -> None:
        super().__init__(message)
        self.url, self.rule = url, rule


class PortalDeadlineError(PortalError):
    """The month's deadline passed before its pages were all archived. Pages archived are kept;
    the next `fetch_month` resumes at the first one missing."""

    rule = MONTH_DEADLINE

    def __init__(self, message: str, kind: str, month: str, archived: list[ArchivedPage]) -> None:
        super().__init__(message)
        self.kind, self.month, self.archived = kind, month, archived


class PortalPageError(PortalError):
    """A page stayed wrong after its re-fetches (or broke a limit). Pages archived before it are
    kept; the next `fetch_month` resumes at this page."""

    def __init__(self, message: str, url: str, page: int, reason: str, archived: list[ArchivedPage],
                 rule: str = "malformed_page") -> None:
        super().__init__(message)
        self.url, self.page, self.reason, self.archived, self.rule = url, page, reason, archived, rule


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class FetchResult:
    kind: str
    month: str
    folder: Path  # <archive_dir>/<month>/<kind>
    pages: list[ArchivedPage]
    total_pages: int
    total_items: int
    complete: bool
    fetched_pages: list[int] = field(default_factory=list)  # fetched by this call (not resumed)
    skipped: bool = False  # a complete manifest existed; nothing was fetched
    manifest_path: Path | None = None

    @property
    def page_paths(self) -> list[Path]:
        return [p.path for p in self.pages]

    @property
    def item_count(self) -> int:
        return sum(p.item_count for p in self.pages)


# ---------------------------------------------------------------------------------------------
# Retry-After
# ---------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110: delta-seconds or an HTTP date), or
    None when it is unusable (absent, `soon`, negative, fractional, a date that does not parse,
    more than ten digits). A date in the past means no wait."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,10}", value):
        return float(int(value))
    if not re.search(r"[A-Za-z]{3}", value):  # "-5", "1.5", "": not a date either
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # HTTP dates are GMT
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


# ---------------------------------------------------------------------------------------------
# The wall-clock deadline of one HTTP attempt: a watchdog that cuts the attempt's connection
# ---------------------------------------------------------------------------------------------


class _Attempt:
    """One HTTP attempt: the connection it got from the pool, and whether the watchdog fired."""

    def __init__(self) -> None:
        self.conn = None
        self.cut = False
        self.done = False
        self._lock = threading.Lock()

    def cut_connection(self) -> None:
        with self._lock:
            if self.done:
                return
            self.cut = True
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a recv blocked in another thread
            except OSError:
                pass


class _WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter without retries (the client retries itself) whose pools tell the current
    attempt which connection it uses, so its watchdog can cut that connection at the deadline."""

    def __init__(self, watch: threading.local) -> None:
        self._watch = watch
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch = self._watch

        def tracking(base):
            class Pool(base):
                def _get_conn(self, timeout=None):
                    conn = super()._get_conn(timeout)
                    attempt = getattr(watch, "attempt", None)
                    if attempt is not None:
                        attempt.conn = conn
                    return conn
            return Pool

        self.poolmanager.pool_classes_by_scheme = {
            "http": tracking(HTTPConnectionPool), "https": tracking(HTTPSConnectionPool)}


class _Transient(Exception):
    """An attempt that may succeed if repeated (no answer, timeout, cut at its deadline)."""

    def __init__(self, problem: str, rule: str = "portal_unavailable") -> None:
        super().__init__(problem)
        self.problem, self.rule = problem, rule


class _UnreadableBody(Exception):
    """A 200 whose body could not be read to its end (the page is fetched again)."""


class _BodyTooLarge(Exception):
    def __init__(self, problem: str, received: bytes) -> None:
        super().__init__(problem)
        self.problem, self.received = problem, received


@dataclass
class _MonthClock:
    at: float  # time.monotonic() of the deadline
    seconds: float
    kind: str
    month: str

    def left(self) -> float:
        return self.at - time.monotonic()


class _MonthDeadline(Exception):
    """Raised inside a month's fetch when its deadline passes (turned into PortalDeadlineError)."""


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class PortalClient:
    """Fetches and archives monthly extracts from the portal API (docs/portal_api.md); what it
    guarantees: the module docstring.

    `timeout` is (connect, read) seconds per socket operation; `request_deadline_s` bounds each
    attempt as a whole, `month_deadline_s` each `fetch_month` (unless it is given a `deadline`).
    `limits` (default: `input_limits()` read at each fetch) gives `max_page_bytes` and
    `max_page_items`. If `session` is given, the client's adapter is mounted on it for `base_url`.
    """

    def __init__(self, base_url: str, token: str, timeout: tuple[float, float] = (10.0, 120.0),
                 max_retries: int = 5, backoff_factor: float = 1.0, retry_after_cap_s: float = 120.0,
                 page_size: int = DEFAULT_PAGE_SIZE, session: requests.Session | None = None, *,
                 page_retries: int = 3, backoff_max_s: float = 60.0,
                 request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
                 month_deadline_s: float = DEFAULT_MONTH_DEADLINE_S, auth: str = "bearer",
                 max_redirects: int = 3, limits: InputLimits | None = None) -> None:
        if not token:
            raise PortalConfigError(f"no portal token given (normally from ${ENV_TOKEN})")
        # Every text from here on may carry the token: the redactor exists before anything else.
        self._token = token
        secrets = [token, *url_secrets(base_url or "")]
        self._redact = Redactor(secrets)
        if not base_url or not re.match(r"^https?://", base_url):
            raise PortalConfigError(
                f"portal base URL must start with http:// or https://: {self._redact(base_url)!r}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise PortalConfigError(f"page_size {page_size} must be between 1 and {MAX_PAGE_SIZE}")
        if auth not in AUTH_MODES:
            raise PortalConfigError(f"unknown portal auth mode {auth!r}; expected one of {', '.join(AUTH_MODES)}")
        if auth == "basic" and ":" not in token:
            raise PortalConfigError("portal auth 'basic' needs the token as user:password")
        for name, value in (("request_deadline_s", request_deadline_s), ("month_deadline_s", month_deadline_s)):
            if not value > 0:
                raise PortalConfigError(f"{name} must be more than 0 seconds, not {value!r}")
        install_log_filter()
        LOG_FILTER.register(self, secrets)
        self.base_url = base_url.rstrip("/")
        self.shown_base_url = self._redact(self.base_url)
        self.auth = auth
        self.timeout = tuple(timeout) if isinstance(timeout, (tuple, list)) else (timeout, timeout)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.backoff_max_s = backoff_max_s
        self.retry_after_cap_s = retry_after_cap_s
        self.request_deadline_s = float(request_deadline_s)
        self.month_deadline_s = float(month_deadline_s)
        self.max_redirects = max_redirects
        self.page_size = page_size
        self.page_retries = page_retries
        self.limits = limits
        self._watch = threading.local()
        self.session = session or requests.Session()
        self.session.mount(self.base_url + "/", _WatchedAdapter(self._watch))

    def __repr__(self) -> str:  # never show the token
        return f"PortalClient({self.shown_base_url!r}, page_size={self.page_size}, auth={self.auth!r})"

    @classmethod
    def from_env(cls, **kwargs) -> PortalClient:
        """A client for `$DXMON_PORTAL_URL` with the token `$DXMON_PORTAL_TOKEN`, sent as
        `$DXMON_PORTAL_AUTH` (bearer by default); `settings_from_env()` for the rest."""
        values = {}
        for name in (ENV_URL, ENV_TOKEN):
            values[name] = os.environ.get(name, "").strip()
            if not values[name]:
                what = "the portal API base URL, e.g. http://127.0.0.1:8765" if name == ENV_URL else \
                    "the portal API token"
                raise PortalConfigError(f"environment variable {name} is not set: set it to {what}")
        return cls(values[ENV_URL], values[ENV_TOKEN], **{**settings_from_env(), **kwargs})

    def close(self) -> None:
        self.session.close()
        LOG_FILTER.unregister(self)

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def redact(self, text) -> str:
        """`text` without this client's credentials (or anything that looks like one)."""
        return self._redact(text)

    # -- URLs -----------------------------------------------------------------------------------
    def page_url(self, kind: ExtractKind, month: str, page: int, page_size: int) -> str:
        """The page's URL as shown and stored: without any credential."""
        return self._redact(requests.Request(
            "GET", self.base_url + kind.api_endpoint,
            params={"month": month, "page": page, "page_size": page_size},
        ).prepare().url)

    def _request_url(self, kind: ExtractKind, month: str, page: int, page_size: int) -> str:
        params = {"month": month, "page": page, "page_size": page_size}
        if self.auth == "query":
            params[QUERY_TOKEN_PARAM] = self._token
        return requests.Request("GET", self.base_url + kind.api_endpoint, params=params).prepare().url

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.auth == "bearer":
            headers["Authorization"] = f"Bearer {self._token}"
        elif self.auth == "api_key":
            headers[API_KEY_HEADER] = self._token
        elif self.auth == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(self._token.encode("utf-8")).decode("ascii")
        return headers

    def _same_portal(self, url: str) -> bool:
        base, target = urlsplit(self.base_url + "/"), urlsplit(url)
        return ((target.scheme, target.hostname, target.port) == (base.scheme, base.hostname, base.port)
                and target.path.startswith(base.path))

    # -- one HTTP attempt -------------------------------------------------------------------------
    def _attempt(self, url: str, deadline: float, limit: int) -> tuple[int, dict, bytes]:
        """(status, headers, body) of one GET, cut at `deadline` (time.monotonic()). A 200 body is
        read whole, up to `limit` bytes; an error body up to ERROR_BODY_BYTES."""
        attempt = _Attempt()
        self._watch.attempt = attempt
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), attempt.cut_connection)
        timer.daemon = True
        timer.start()
        try:
            left = max(0.001, deadline - time.monotonic())
            try:
                resp = self.session.get(url, headers=self._headers(), stream=True, allow_redirects=False,
                                        timeout=(min(self.timeout[0], left), min(self.timeout[1], left)))
            except requests.RequestException as e:
                raise self._transient(e, attempt, deadline) from None
            with resp:
                if resp.status_code == 200:
                    body = self._read_body(resp, attempt, deadline, limit)
                else:
                    try:
                        body = self._read_body(resp, attempt, deadline, ERROR_BODY_BYTES, cut_at_limit=True)
                    except (_UnreadableBody, _Transient):
                        body = b""
                return resp.status_code, resp.headers, body
        finally:
            with attempt._lock:
                attempt.done = True
            timer.cancel()
            self._watch.attempt = None

    def _transient(self, error: Exception, attempt: _Attempt, deadline: float) -> _Transient:
        if attempt.cut or time.monotonic() >= deadline:
            return _Transient(f"request deadline of {self.request_deadline_s:g} s exceeded", REQUEST_DEADLINE)
        if isinstance(error, requests.ConnectTimeout):
            what = "connect timeout"
        elif isinstance(error, requests.Timeout):
            what = "read timeout"
        elif isinstance(error, requests.ConnectionError):
            what = "connection failed"
        else:
            what = "request failed"
        return _Transient(f"{what} ({type(error).__name__}: {self._redact(str(error))[:300]})")

    def _read_body(self, resp: requests.Response, attempt: _Attempt, deadline: float, limit: int,
                   cut_at_limit: bool = False) -> bytes:
        declared = resp.headers.get("Content-Length", "")
        if not cut_at_limit and declared.isdigit() and exceeds(int(declared), limit):
            raise _BodyTooLarge(f"page body too large: Content-Length {declared} bytes, the limit is {limit} "
                                f"(DXMON_LIMIT_MAX_PAGE_BYTES)", b"")
        buf = bytearray()
        try:
            while True:
                if time.monotonic() >= deadline:
                    break
                chunk = resp.raw.read1(READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                buf += chunk
                if exceeds(len(buf), limit):
                    if cut_at_limit:
                        return bytes(buf[:limit])
                    raise _BodyTooLarge(f"page body too large: more than {limit} bytes, reading stopped at the "
                                        f"limit (DXMON_LIMIT_MAX_PAGE_BYTES)", bytes(buf))
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as e:
            if attempt.cut or time.monotonic() >= deadline:
                raise self._deadline_in_body(len(buf)) from None
            raise _UnreadableBody(f"page body could not be read to its end ({len(buf)} bytes received, "
                                  f"{type(e).__name__})") from None
        if attempt.cut or time.monotonic() >= deadline:  # a cut connection looks like the end of a body
            raise self._deadline_in_body(len(buf))
        return bytes(buf)

    def _deadline_in_body(self, received: int) -> _Transient:
        return _Transient(f"request deadline of {self.request_deadline_s:g} s exceeded while reading the body "
                          f"({received} bytes received)", REQUEST_DEADLINE)

    # -- one request, retried -----------------------------------------------------------------
    def _backoff(self, retry: int) -> float:
        return min(self.backoff_factor * 2 ** (retry - 1), self.backoff_max_s)

    def _retry_wait(self, headers, retry: int, shown_url: str) -> float:
        backoff = self._backoff(retry)
        raw = headers.get("Retry-After") if headers is not None else None
        if raw is None:
            return backoff
        seconds = parse_retry_after(raw)
        if seconds is None:
            log.warning("unusable Retry-After header (%s); using the client's backoff of %.2f s: GET %s",
                        self._server_text(raw, 40), backoff, shown_url)
            return backoff
        if seconds > self.retry_after_cap_s:
            log.warning("Retry-After of %.0f s is over the cap; waiting %.2f s (retry_after_cap_s): GET %s",
                        seconds, self.retry_after_cap_s, shown_url)
            return self.retry_after_cap_s
        return seconds

    def _server_text(self, text, limit: int = 300) -> str:
        """Text the server sent, fit to be shown after a cause: redacted, on one line, shortened."""
        text = self._redact(text).replace("\n", " ").replace("\t", " ")
        return text if len(text) <= limit else text[:limit] + "..."

    def _get_body(self, url: str, shown_url: str, clock: _MonthClock, limit: int) -> bytes:
        """The body of a 200 answer to GET `url` (shown as `shown_url`). 429/5xx, timeouts and
        connection errors are retried; redirects inside the portal followed; other statuses raise.
        A body that cannot be read to its end raises _UnreadableBody (the page is fetched again)."""
        retries = redirects = 0
        while True:
            if clock.left() <= 0:
                raise _MonthDeadline()
            deadline = time.monotonic() + min(self.request_deadline_s, clock.left())
            try:
                status, headers, body = self._attempt(url, deadline, limit)
            except _Transient as e:
                status, headers, problem, last = None, None, e.problem, e
            else:
                if status == 200:
                    return body
                if status in REDIRECT_STATUSES:
                    url, shown_url = self._redirect(url, shown_url, status, headers, redirects)
                    redirects += 1
                    continue
                error = self._http_error(shown_url, status, body, retries)
                if status not in RETRY_STATUSES:
                    raise error
                problem = f"HTTP {status}" + (f" {error.code}" if error.code else "") + (
                    f", server message: {error.server_message[:120]}" if error.server_message else "")
                last = error
            retries += 1
            if retries > self.max_retries:
                if isinstance(last, PortalError):
                    raise self._http_error(shown_url, status, body, retries - 1)
                raise PortalUnavailableError(
                    f"no usable answer from the portal after {retries - 1} retries (last: {problem}): GET {shown_url}",
                    shown_url, last.rule)
            wait = self._retry_wait(headers, retries, shown_url) if status is not None else self._backoff(retries)
            if wait >= clock.left():
                log.warning("%s; the retry in %.2f s would pass the month's deadline: GET %s", problem, wait, shown_url)
                raise _MonthDeadline()
            log.warning("portal attempt failed (%s); retry %d of %d in %.2f s: GET %s", problem, retries,
                        self.max_retries, wait, shown_url)
            time.sleep(wait)

    def _redirect(self, url: str, shown_url: str, status: int, headers, redirects: int) -> tuple[str, str]:
        location = headers.get("Location", "")
        target = urljoin(url, location)
        shown_target = self._redact(target)
        if not location or not self._same_portal(target):
            raise PortalHTTPError(
                f"redirect outside the portal refused (HTTP {status} to {shown_target or 'nowhere'}; redirects are "
                f"followed only inside {self.shown_base_url}): GET {shown_url}", shown_url, status, rule="redirect_refused")
        if redirects >= self.max_redirects:
            raise PortalHTTPError(f"too many redirects (more than {self.max_redirects}; last to {shown_target}): "
                                  f"GET {shown_url}", shown_url, status, rule="too_many_redirects")
        log.info("following a redirect inside the portal (HTTP %d): GET %s -> %s", status, shown_url, shown_target)
        return target, shown_target

    def _http_error(self, url: str, status: int, body: bytes, retries: int) -> PortalHTTPError:
        """The error for an answer with `status`: cause first, the server's code and message
        (redacted, shortened) last."""
        code, message = None, ""
        try:
            err = json.loads(body).get("error", {})
            code, message = err.get("code"), err.get("message", "")
            code = self._server_text(code, 40) if code is not None else None
        except (ValueError, AttributeError, TypeError):
            message = body.decode("utf-8", errors="replace") if body else ""
        message = self._server_text(message) if message else ""
        said = f" Server message: {message}" if message else ""
        detail = f"HTTP {status}" + (f" {code}" if code else "")
        if status in (401, 403):
            return PortalAuthError(f"the portal refused the token ({detail}): GET {url}. Check ${ENV_TOKEN}.{said}",
                                   url, status, code, "auth_refused", message)
        if status == 404:
            return PortalHTTPError(f"portal endpoint not found ({detail}): GET {url}. Check ${ENV_URL} "
                                   f"({self.shown_base_url}).{said}", url, status, code, "not_found", message)
        if status in RETRY_STATUSES:
            return PortalHTTPError(f"portal still failing after {retries} retries ({detail}): GET {url}.{said}",
                                   url, status, code, "http_retries_exhausted", message)
        return PortalHTTPError(f"portal refused the request ({detail}): GET {url}.{said}", url, status, code,
                               "http_error", message)

    # -- one page -----------------------------------------------------------------------------
    def _fetch_page(self, kind: ExtractKind, month: str, page: int, page_size: int, folder: Path,
                    expected_totals: tuple[int, int] | None, archived: list[ArchivedPage],
                    clock: _MonthClock, limits: InputLimits, previous_max: tuple | None) -> tuple[ArchivedPage, dict]:
        url = self.page_url(kind, month, page, page_size)
        request_url = self._request_url(kind, month, page, page_size)
        path = folder / page_filename(page)
        attempts = self.page_retries + 1
        problem, rule = "", ""

        def fail(reason: str, rule: str, tried: int) -> PortalPageError:
            resume = (f"Pages 1..{page - 1} are archived in {folder}; fetching again resumes at page {page}."
                      if page > 1 else f"No page is archived in {folder}.")
            return PortalPageError(
                f"{reason} ({rule}): {kind.name} {month} page {page}, GET {url}; still wrong after {tried} "
                f"attempt{'s' if tried > 1 else ''}. {resume}", url, page, reason, list(archived), rule)

        for attempt in range(1, attempts + 1):
            try:
                body = self._get_body(request_url, url, clock, limits.max_page_bytes)
            except _UnreadableBody as e:
                problem, rule = str(e), UNREADABLE_BODY
            except _BodyTooLarge as e:
                reject_unstored(hashlib.sha256(e.received).hexdigest(), len(e.received), month, kind,
                                PAGE_TOO_LARGE, e.problem, url, page)
                raise fail(e.problem, PAGE_TOO_LARGE, attempt) from None
            else:
                if self._redact.contains_secret(body):
                    # never stored, not even in the quarantine: the reason file says what happened
                    problem, rule = "page body carries the client's credential; not stored", CREDENTIAL_ECHOED
                    reject_unstored(hashlib.sha256(body).hexdigest(), len(body), month, kind, rule, problem, url, page)
                else:
                    # Archive the raw body before parsing it: what the portal sent is kept as sent.
                    atomic_write(path, body, compress=True)
                    try:
                        payload = check_page(body, kind, month, page, page_size, expected_totals,
                                             max_items=limits.max_page_items)
                        self._check_order(kind, month, page, payload["items"], previous_max, archived)
                    except PageShapeError as e:
                        problem, rule = e.reason, e.rule
                        reject_page(path, month, kind, rule, problem, url, page)
                        if rule == TOO_MANY_ITEMS:  # a limit: the same body would come again
                            raise fail(problem, rule, attempt) from None
                    else:
                        return ArchivedPage(page, path, sha256_of(path), path.stat().st_size,
                                            len(payload["items"]), url), payload
            if attempt < attempts:
                wait = self._backoff(attempt)
                if wait >= clock.left():
                    raise _MonthDeadline()
                log.warning("%s (%s): %s %s page %d; fetching it again in %.2f s (attempt %d of %d)",
                            problem, rule, kind.name, month, page, wait, attempt + 1, attempts)
                time.sleep(wait)
        raise fail(problem, rule, attempts)

    def _check_order(self, kind: ExtractKind, month: str, page: int, items: list[dict],
                     previous_max: tuple | None, archived: list[ArchivedPage]) -> None:
        """Raise PageShapeError(repeated_items) when the page repeats items of earlier pages."""
        bad = page_key_order(kind, items, previous_max)
        if not bad:
            return
        # name every item the earlier pages hold (an item equal to their last key included), or,
        # when none is found there, the items that sort before what they served
        holders, seen = pages_holding(kind, {item_key(kind, it) for it in items}, archived)
        repeated = [it for it in items if item_key(kind, it) in seen] or [items[i] for i in bad]
        where = f"page(s) {', '.join(map(str, holders))}" if holders else "earlier pages"
        ids = ", ".join(key_text(kind, it) for it in repeated[:10]) + (", ..." if len(repeated) > 10 else "")
        raise PageShapeError(
            f"page repeats items of another page of the month: {kind.name} {month} page {page} repeats "
            f"{len(repeated)} item(s) of {where} ({', '.join(kind.key)}: {ids})", REPEATED_ITEMS)

    # -- resume -------------------------------------------------------------------------------
    def _archived_prefix(self, kind: ExtractKind, month: str, folder: Path,
                         limits: InputLimits) -> tuple[list[ArchivedPage], dict | None, tuple | None]:
        """Pages 1..k already archived and valid (read back and checked like fresh pages,
        paging order included), page 1's payload, and the largest key so far. The first invalid
        page is quarantined (reject_page)."""
        files = dict(page_files(folder))
        good: list[ArchivedPage] = []
        first: dict | None = None
        last_key = None
        page = 1
        while page in files:
            path = files[page]
            page_size = first["page_size"] if first else None
            url = self.page_url(kind, month, page, page_size) if page_size else f"{folder}/{path.name}"
            try:
                with gzip.open(path, "rb") as fh:
                    body = fh.read()
                if first is None:
                    # Page 1 sets the page size the rest of the month must be fetched with.
                    probe = json.loads(body)
                    page_size = probe.get("page_size") if isinstance(probe, dict) else None
                    if not is_int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
                        raise PageShapeError(f"page_size is not usable: {page_size!r}"[:120])
                    url = self.page_url(kind, month, page, page_size)
                totals = (first["total_pages"], first["total_items"]) if first else None
                payload = check_page(body, kind, month, page, page_size, totals, max_items=limits.max_page_items)
                self._check_order(kind, month, page, payload["items"], last_key, good)
            except (OSError, EOFError, ValueError) as e:  # gzip errors, JSON errors, PageShapeError
                reason = self._redact(e.reason if isinstance(e, PageShapeError) else f"{type(e).__name__}: {e}")
                rule = e.rule if isinstance(e, PageShapeError) else "invalid_archived_page"
                log.warning("archived page failed validation on resume (%s): page %d in %s; fetching it again",
                            reason, page, folder)
                reject_page(path, month, kind, rule, f"archived page failed validation on resume: {reason}", url, page)
                break
            if first is None:
                first = payload
            page_max = max_key(kind, payload["items"])
            last_key = page_max if last_key is None or (page_max is not None and page_max > last_key) else last_key
            good.append(ArchivedPage(page, path, sha256_of(path), path.stat().st_size, len(payload["items"]), url))
            if page >= max(first["total_pages"], 1):
                break
            page += 1
        return good, first, last_key

    # -- one month ----------------------------------------------------------------------------
    def fetch_month(self, kind: str | ExtractKind, month: str | dt.date,
                    archive_dir: str | Path | None = None, refresh: bool = False,
                    deadline: float | None = None) -> FetchResult:
        """Fetch and archive every page of `kind` for `month` (YYYY-MM); see the module docstring.
        `deadline` is a time.monotonic() by which the month must be complete (default: now +
        month_deadline_s); `refresh=True` downloads a complete month again."""
        kind, month = resolve_kind(kind), check_month(month)
        archive_dir = Path(archive_dir) if archive_dir is not None else portal_archive_dir()
        folder = month_kind_dir(archive_dir, month, kind)
        manifest_path = folder / MANIFEST_NAME
        limits = self.limits or input_limits()
        started = time.monotonic()
        clock = _MonthClock(deadline if deadline is not None else started + self.month_deadline_s,
                            (deadline - started) if deadline is not None else self.month_deadline_s,
                            kind.name, month)

        manifest = read_manifest(archive_dir, month, kind)
        if manifest is not None and not refresh:
            problem = manifest_problem(folder, manifest)
            if problem is None:
                log.info("%s %s: already complete in %s (%d pages, %d items); not fetching",
                         kind.name, month, folder, len(manifest["pages"]), manifest["total_items"])
                return self._result_from_manifest(kind, month, folder, manifest)
            log.warning("manifest not trusted (%s): %s; checking the archived pages", problem, manifest_path)
            supersede(folder, [], manifest_path)
        if refresh:
            moved = supersede(folder, [p for _, p in page_files(folder)], manifest_path)
            if moved:
                log.info("%s %s: archived pages set aside in %s (refetch requested)", kind.name, month, moved)
        folder.mkdir(parents=True, exist_ok=True)

        pages, first, last_key = self._archived_prefix(kind, month, folder, limits)
        page_size = first["page_size"] if first else self.page_size
        if first and page_size != self.page_size:
            log.info("%s %s: resuming with the archived page size %d (client default %d)",
                     kind.name, month, page_size, self.page_size)
        if pages:
            log.info("%s %s: pages 1..%d already archived; resuming at page %d",
                     kind.name, month, len(pages), len(pages) + 1)
        fetched: list[int] = []
        try:
            while first is None or len(pages) < max(first["total_pages"], 1):
                if clock.left() <= 0:
                    raise _MonthDeadline()
                page = len(pages) + 1
                totals = (first["total_pages"], first["total_items"]) if first else None
                archived_page, payload = self._fetch_page(kind, month, page, page_size, folder, totals, pages,
                                                          clock, limits, last_key)
                if first is None:
                    first = payload
                page_max = max_key(kind, payload["items"])
                if page_max is not None and (last_key is None or page_max > last_key):
                    last_key = page_max
                pages.append(archived_page)
                fetched.append(page)
                log.info("%s %s: page %d/%d archived (%d items, %d bytes gz)", kind.name, month, page,
                         first["total_pages"], archived_page.item_count, archived_page.size_bytes)
        except _MonthDeadline:
            done = f"pages 1..{len(pages)} are archived" if pages else "no page is archived"
            raise PortalDeadlineError(
                f"month deadline exceeded: {kind.name} {month} not complete after {time.monotonic() - started:.1f} s "
                f"(limit {clock.seconds:g} s, {ENV_MONTH_DEADLINE}); {done} in {folder}, fetching again resumes "
                f"at page {len(pages) + 1}", kind.name, month, list(pages)) from None

        # Pages beyond the last one can only be leftovers of an older run with other totals.
        stale = [p for n, p in page_files(folder) if n > len(pages)]
        moved = supersede(folder, stale)
        if moved:
            log.warning("stale page files beyond page %d set aside: %d file(s) in %s", len(pages), len(stale), moved)

        manifest = {
            "format": MANIFEST_FORMAT,
            "checks": list(MANIFEST_CHECKS),
            "kind": kind.name,
            "month": month,
            "endpoint": kind.api_endpoint,
            "base_url": self.shown_base_url,
            "page_size": page_size,
            "total_pages": first["total_pages"],
            "total_items": first["total_items"],
            "complete": True,
            "fetched_at": utc_now(),
            "pages": [
                {"page": p.page, "file": p.path.name, "url": p.url, "sha256": p.sha256,
                 "size_bytes": p.size_bytes, "item_count": p.item_count}
                for p in pages
            ],
        }
        problem = complete_manifest_problem(manifest)
        if problem is not None:  # fail closed: never a complete manifest with pages missing
            raise PortalPageError(f"month not complete ({problem}): {kind.name} {month}; no manifest written",
                                  self.page_url(kind, month, len(pages), page_size), len(pages), problem,
                                  list(pages), INCOMPLETE_MONTH)
        write_manifest(folder, manifest)
        log.info("%s %s: complete, %d pages / %d items (%d fetched now) in %.1f s -> %s", kind.name, month,
                 len(pages), first["total_items"], len(fetched), time.monotonic() - started, folder)
        return FetchResult(kind.name, month, folder, pages, first["total_pages"], first["total_items"],
                           complete=True, fetched_pages=fetched, skipped=False, manifest_path=manifest_path)

    @staticmethod
    def _result_from_manifest(kind: ExtractKind, month: str, folder: Path, manifest: dict) -> FetchResult:
        pages = [
            ArchivedPage(e["page"], folder / e["file"], e["sha256"], e["size_bytes"], e["item_count"], e.get("url", ""))
            for e in manifest["pages"]
        ]
        return FetchResult(kind.name, month, folder, pages, manifest["total_pages"], manifest["total_items"],
                           complete=True, fetched_pages=[], skipped=True, manifest_path=folder / MANIFEST_NAME)


def pages_holding(kind: ExtractKind, keys: set[tuple], archived: list[ArchivedPage]) -> tuple[list[int], set[tuple]]:
    """The archived pages that hold any of `keys`, and the keys found (pages read back; used only
    to name a repeat)."""
    pages, seen = [], set()
    for page in archived:
        try:
            with gzip.open(page.path, "rb") as fh:
                items = json.loads(fh.read()).get("items", [])
        except (OSError, EOFError, ValueError, AttributeError):
            continue
        found = {item_key(kind, it) for it in items if isinstance(it, dict)} & keys
        if found:
            pages.append(page.page)
            seen |= found
    return pages, seen


def settings_from_env(environ: dict[str, str] | None = None) -> dict:
    """Client settings from the environment: `DXMON_PORTAL_AUTH` (bearer, api_key, basic, query),
    `DXMON_PORTAL_REQUEST_DEADLINE_S`, `DXMON_PORTAL_MONTH_DEADLINE_S`, `DXMON_PORTAL_RETRY_AFTER_CAP_S`."""
    environ = os.environ if environ is None else environ
    settings: dict = {}
    auth = environ.get(ENV_AUTH, "").strip()
    if auth:
        settings["auth"] = auth
    for name, key in ((ENV_REQUEST_DEADLINE, "request_deadline_s"), (ENV_MONTH_DEADLINE, "month_deadline_s"),
                      (ENV_RETRY_AFTER_CAP, "retry_after_cap_s")):
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            settings[key] = float(raw)
        except ValueError:
            raise PortalConfigError(f"{name}={raw!r}: not a number of seconds") from None
    return settings


__all__ = [
    "FetchResult", "PortalAuthError", "PortalClient", "PortalDeadlineError", "PortalHTTPError", "PortalPageError",
    "PortalUnavailableError", "parse_retry_after", "settings_from_env",
]
