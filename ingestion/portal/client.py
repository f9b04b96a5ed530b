"""Client of the national public-service portal's extract API (contract: docs/portal_api.md).

`PortalClient.fetch_month(kind, month, archive_dir)` fetches every page of one extract for one
month and archives each page's raw body, gzipped, before parsing it:

    <archive_dir>/<YYYY-MM>/<kind>/page-00001.json.gz   one JSON object per file, with `items`
    <archive_dir>/<YYYY-MM>/<kind>/manifest.json        written once every page is archived
    <archive_dir>/<YYYY-MM>/<kind>/rejected/            pages that failed the shape checks, with reasons

Transient HTTP failures (429 with Retry-After, 5xx, connection errors, timeouts) are retried by
urllib3 with backoff; a page whose body is truncated or has the wrong shape is re-fetched a
bounded number of times. An interrupted month resumes at the first page not yet archived; a
month with a complete manifest is not fetched again unless `refresh=True`. The loader reads the
archived pages (`archived_pages`), so a month can be replayed without the network.

Plain Python, no Dagster: orchestration/ wraps it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind
from ingestion.core.files import sha256_of
from ingestion.core.warehouse import data_dir

log = logging.getLogger(__name__)

ENV_URL = "DXMON_PORTAL_URL"
ENV_TOKEN = "DXMON_PORTAL_TOKEN"
DEFAULT_PAGE_SIZE = 5000
MAX_PAGE_SIZE = 20000
PAGE_KEYS = ("kind", "month", "page", "page_size", "total_pages", "total_items", "generated_at", "items")
MANIFEST_NAME = "manifest.json"
REJECTED_DIR = "rejected"
PAGE_RE = re.compile(r"^page-(\d{5,})\.json\.gz$")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
RETRY_STATUSES = (429, 500, 502, 503, 504)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class PortalError(RuntimeError):
    """Base of every error this module raises."""


class PortalConfigError(PortalError):
    """The client is not configured (a missing environment variable, a bad argument)."""


class PortalHTTPError(PortalError):
    """The portal answered with an error status (after retries, for 429/5xx)."""

    def __init__(self, message: str, url: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.url, self.status, self.code = url, status, code


class PortalAuthError(PortalHTTPError):
    """401/403: the token is missing, wrong or expired."""


class PortalUnavailableError(PortalError):
    """No answer from the portal (connection refused, timeouts) after retries."""


class PortalPageError(PortalError):
    """A page stayed truncated or malformed after its re-fetches. Pages archived before it are
    kept; the next `fetch_month` resumes at this page."""

    def __init__(self, message: str, url: str, page: int, reason: str, archived: list[ArchivedPage]) -> None:
        super().__init__(message)
        self.url, self.page, self.reason, self.archived = url, page, reason, archived


class ArchiveIncompleteError(PortalError):
    """The archive of a month/kind has no complete manifest (the fetch did not finish)."""


class PageShapeError(ValueError):
    """A page body that does not meet the contract; the message says what is wrong."""


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedPage:
    page: int
    path: Path
    sha256: str  # of the archived .json.gz file (what raw.ingested_sources records)
    size_bytes: int
    item_count: int
    url: str


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
# Retries
# ---------------------------------------------------------------------------------------------


class CappedRetry(Retry):
    """urllib3 Retry whose Retry-After wait is capped: a portal asking for an hour must not stall
    a run for an hour (the request is retried after the cap and, if still limited, fails)."""

    def __init__(self, *args, retry_after_cap_s: float = 120.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap_s = retry_after_cap_s

    def new(self, **kw) -> CappedRetry:
        new = super().new(**kw)
        new.retry_after_cap_s = self.retry_after_cap_s
        return new

    def parse_retry_after(self, retry_after: str) -> float:
        seconds = super().parse_retry_after(retry_after)
        if seconds > self.retry_after_cap_s:
            log.warning("portal asked to retry after %.0f s; waiting %.1f s (cap)", seconds, self.retry_after_cap_s)
            return self.retry_after_cap_s
        return seconds

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        cause = f"HTTP {response.status}" if response is not None and response.status else repr(error)
        log.warning("%s %s failed (%s); retrying (retry %d, %s left)", method, url, cause, len(new.history), new.total)
        return new


def build_retry(max_retries: int, backoff_factor: float, retry_after_cap_s: float, backoff_max_s: float) -> CappedRetry:
    return CappedRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max_s,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last error response comes back, so its message can be shown
        retry_after_cap_s=retry_after_cap_s,
    )


# ---------------------------------------------------------------------------------------------
# The archive
# ---------------------------------------------------------------------------------------------


def default_archive_dir() -> Path:
    return data_dir() / "archive" / "portal"


def month_kind_dir(archive_dir: str | Path, month: str, kind: str | ExtractKind) -> Path:
    return Path(archive_dir) / check_month(month) / resolve_kind(kind).name


def page_filename(page: int) -> str:
    return f"page-{page:05d}.json.gz"


def read_manifest(archive_dir: str | Path, month: str, kind: str | ExtractKind) -> dict | None:
    path = month_kind_dir(archive_dir, month, kind) / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("%s is unreadable (%s); treating the month as not fetched", path, e)
        return None


def archived_pages(archive_dir: str | Path, month: str, kind: str | ExtractKind,
                   complete_only: bool = True) -> list[Path]:
    """The archived page files of one month and kind, in page order.

    Each file is a gzipped JSON object with `items` (a list of records keyed by the contract's
    field names). With `complete_only` (the default) the month must have a complete manifest,
    and exactly the pages it lists are returned; otherwise whatever pages are on disk.
    """
    folder = month_kind_dir(archive_dir, month, kind)
    manifest = read_manifest(archive_dir, month, kind)
    if manifest is not None and manifest.get("complete"):
        return [folder / p["file"] for p in manifest["pages"]]
    if complete_only:
        raise ArchiveIncompleteError(
            f"{folder}: no complete {MANIFEST_NAME}; the portal fetch of {resolve_kind(kind).name} "
            f"{month} did not finish. Run PortalClient.fetch_month for it (it resumes where it stopped)."
        )
    return [path for _, path in _page_files(folder)]


def _page_files(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = PAGE_RE.match(path.name)
        if m and path.is_file():
            found.append((int(m.group(1)), path))
    return sorted(found)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, compress: bool) -> None:
    """Write to a temp file beside `path`, fsync, rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if compress:
                # mtime=0 and no file name: the same body always gives the same bytes (and sha256).
                # Level 6: 4x faster than the default 9 on pages, a few percent larger.
                with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz:
                    gz.write(data)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _move_aside(path: Path, folder: Path, reason: str, url: str, page: int) -> Path:
    """Move a bad page into <kind>/rejected/ with a reason file beside it."""
    rejected = folder / REJECTED_DIR
    rejected.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = rejected / f"page-{page:05d}.{stamp}.json.gz"
    os.replace(path, target)
    reason_path = target.with_name(target.name.removesuffix(".json.gz") + ".reason.json")
    reason_path.write_text(json.dumps({"page": page, "url": url, "reason": reason, "rejected_at": _utc_now()},
                                      ensure_ascii=False, indent=2), encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# Page checks
# ---------------------------------------------------------------------------------------------


def resolve_kind(kind: str | ExtractKind) -> ExtractKind:
    if isinstance(kind, ExtractKind):
        return kind
    try:
        return EXTRACT_KINDS[kind]
    except KeyError:
        raise PortalConfigError(f"unknown extract kind {kind!r}; expected one of {', '.join(EXTRACT_KINDS)}") from None


def check_month(month: str | dt.date) -> str:
    if isinstance(month, dt.date):
        return month.strftime("%Y-%m")
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise PortalConfigError(f"month {month!r} is not YYYY-MM")
    return month


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_page(body: bytes, kind: ExtractKind, month: str, page: int, page_size: int,
               expected_totals: tuple[int, int] | None = None) -> dict:
    """Parse one page body and check its shape against the request and the contract.
    Returns the parsed page; raises PageShapeError saying what is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise PageShapeError(f"body is not valid JSON ({len(body)} bytes, truncated?): {e}") from None
    if not isinstance(payload, dict):
        raise PageShapeError(f"body is a JSON {type(payload).__name__}, expected an object")
    missing = [k for k in PAGE_KEYS if k not in payload]
    if missing:
        raise PageShapeError(f"missing key(s) {', '.join(missing)}")
    for key in ("page", "page_size", "total_pages", "total_items"):
        if not _is_int(payload[key]) or payload[key] < 0:
            raise PageShapeError(f"{key} is {payload[key]!r}, expected a non-negative integer")
    for key, want in (("kind", kind.name), ("month", month), ("page", page), ("page_size", page_size)):
        if payload[key] != want:
            raise PageShapeError(f"{key} is {payload[key]!r}, requested {want!r}")
    total_pages, total_items = payload["total_pages"], payload["total_items"]
    if total_pages != math.ceil(total_items / page_size):
        raise PageShapeError(
            f"total_pages {total_pages} does not match total_items {total_items} at page_size {page_size}"
        )
    if expected_totals is not None and (total_pages, total_items) != expected_totals:
        raise PageShapeError(
            f"total_pages/total_items are {total_pages}/{total_items} but earlier pages said "
            f"{expected_totals[0]}/{expected_totals[1]}: the month's data changed while paging "
            f"(fetch again with refresh=True)"
        )
    if page > max(total_pages, 1):
        raise PageShapeError(f"page {page} is beyond total_pages {total_pages}")
    items = payload["items"]
    if not isinstance(items, list):
        raise PageShapeError(f"items is a JSON {type(items).__name__}, expected a list")
    if len(items) > page_size:
        raise PageShapeError(f"{len(items)} items, more than page_size {page_size}")
    expected_count = min(page_size, max(total_items - (page - 1) * page_size, 0))
    if len(items) != expected_count:
        raise PageShapeError(
            f"{len(items)} items, expected {expected_count} (page {page} of {total_pages}, {total_items} items)"
        )
    fields = kind.field_names
    wanted = set(fields)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PageShapeError(f"items[{i}] is a JSON {type(item).__name__}, expected an object")
        if item.keys() != wanted:
            extra = sorted(set(item) - wanted)
            absent = [f for f in fields if f not in item]
            raise PageShapeError(
                f"items[{i}] keys differ from the '{kind.name}' contract"
                + (f"; missing: {', '.join(absent)}" if absent else "")
                + (f"; unexpected: {', '.join(extra)}" if extra else "")
            )
        for name, value in item.items():
            if isinstance(value, (dict, list)):
                raise PageShapeError(f"items[{i}].{name} is a JSON {type(value).__name__}, expected a scalar")
    return payload


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class _UnreadableBody(Exception):
    pass


class PortalClient:
    """Fetches and archives monthly extracts from the portal API (docs/portal_api.md).

    Retries: `max_retries` per request for 429/500/502/503/504, connection errors and timeouts
    (exponential backoff `backoff_factor * 2**n`, at most `backoff_max_s`; a Retry-After header is
    honoured up to `retry_after_cap_s`). A truncated or malformed page is re-fetched up to
    `page_retries` times. `timeout` is (connect, read) seconds and is passed on every request.
    If `session` is given, the retrying adapter is mounted on it for `base_url` only.
    """

    def __init__(self, base_url: str, token: str, timeout: tuple[float, float] = (10.0, 120.0),
                 max_retries: int = 5, backoff_factor: float = 1.0, retry_after_cap_s: float = 120.0,
                 page_size: int = DEFAULT_PAGE_SIZE, session: requests.Session | None = None, *,
                 page_retries: int = 3, backoff_max_s: float = 60.0) -> None:
        if not base_url or not re.match(r"^https?://", base_url):
            raise PortalConfigError(f"portal base URL {base_url!r} must start with http:// or https://")
        if not token:
            raise PortalConfigError(f"no portal token given (normally from ${ENV_TOKEN})")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise PortalConfigError(f"page_size {page_size} must be between 1 and {MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = tuple(timeout) if isinstance(timeout, (tuple, list)) else (timeout, timeout)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.backoff_max_s = backoff_max_s
        self.retry_after_cap_s = retry_after_cap_s
        self.page_size = page_size
        self.page_retries = page_retries
        self.session = session or requests.Session()
        adapter = HTTPAdapter(max_retries=build_retry(max_retries, backoff_factor, retry_after_cap_s, backoff_max_s))
        self.session.mount(self.base_url + "/", adapter)

    def __repr__(self) -> str:  # never show the token
        return f"PortalClient({self.base_url!r}, page_size={self.page_size})"

    @classmethod
    def from_env(cls, **kwargs) -> PortalClient:
        """A client for `$DXMON_PORTAL_URL` with the bearer token `$DXMON_PORTAL_TOKEN`."""
        values = {}
        for name in (ENV_URL, ENV_TOKEN):
            values[name] = os.environ.get(name, "").strip()
            if not values[name]:
                what = "the portal API base URL, e.g. http://127.0.0.1:8765" if name == ENV_URL else \
                    "the portal API bearer token"
                raise PortalConfigError(f"environment variable {name} is not set: set it to {what}")
        return cls(values[ENV_URL], values[ENV_TOKEN], **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------------------------
    def page_url(self, kind: ExtractKind, month: str, page: int, page_size: int) -> str:
        return requests.Request(
            "GET", self.base_url + kind.api_endpoint,
            params={"month": month, "page": page, "page_size": page_size},
        ).prepare().url

    def _get_body(self, url: str) -> bytes:
        """The body of a 200 answer. HTTP errors raise; a body that cannot be read completely
        raises _UnreadableBody (the page is re-fetched)."""
        try:
            resp = self.session.get(url, headers={"Authorization": f"Bearer {self._token}",
                                                  "Accept": "application/json"},
                                    timeout=self.timeout, stream=True)
        except requests.RequestException as e:
            raise PortalUnavailableError(
                f"GET {url}: no usable answer from the portal after {self.max_retries} retries: {e}"
            ) from e
        with resp:
            if resp.status_code != 200:
                raise self._http_error(url, resp)
            try:
                return resp.content
            except requests.RequestException as e:
                raise _UnreadableBody(f"body could not be read completely: {e}") from e

    def _http_error(self, url: str, resp: requests.Response) -> PortalHTTPError:
        code, message = None, ""
        try:
            err = json.loads(resp.content[:65536]).get("error", {})
            code, message = err.get("code"), err.get("message", "")
        except (ValueError, AttributeError, requests.RequestException):
            message = resp.text[:300] if resp.text else ""
        status = resp.status_code
        detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        if status in (401, 403):
            return PortalAuthError(
                f"GET {url}: the portal refused the token ({detail}). Check ${ENV_TOKEN}.", url, status, code)
        if status == 404:
            return PortalHTTPError(
                f"GET {url}: endpoint not found ({detail}). Check ${ENV_URL} ({self.base_url}).", url, status, code)
        if status in RETRY_STATUSES:
            return PortalHTTPError(f"GET {url}: still failing after {self.max_retries} retries ({detail})",
                                   url, status, code)
        return PortalHTTPError(f"GET {url}: {detail}", url, status, code)

    # -- one page -----------------------------------------------------------------------------
    def _fetch_page(self, kind: ExtractKind, month: str, page: int, page_size: int, folder: Path,
                    expected_totals: tuple[int, int] | None, archived: list[ArchivedPage]) -> tuple[ArchivedPage, dict]:
        url = self.page_url(kind, month, page, page_size)
        path = folder / page_filename(page)
        attempts = self.page_retries + 1
        problem = ""
        for attempt in range(1, attempts + 1):
            try:
                body = self._get_body(url)
            except _UnreadableBody as e:
                problem = str(e)
            else:
                # Archive the raw body before parsing it: what the portal sent is kept as sent.
                _atomic_write(path, body, compress=True)
                try:
                    payload = check_page(body, kind, month, page, page_size, expected_totals)
                except PageShapeError as e:
                    problem = str(e)
                    moved = _move_aside(path, folder, problem, url, page)
                    log.debug("moved rejected page to %s", moved)
                else:
                    return ArchivedPage(page, path, sha256_of(path), path.stat().st_size,
                                        len(payload["items"]), url), payload
            if attempt < attempts:
                wait = min(self.backoff_factor * 2 ** (attempt - 1), self.backoff_max_s)
                log.warning("%s %s page %d: %s; re-fetching in %.2f s (attempt %d of %d)",
                            kind.name, month, page, problem, wait, attempt + 1, attempts)
                time.sleep(wait)
        raise PortalPageError(
            f"{kind.name} {month} page {page} ({url}): {problem} — still wrong after {attempts} attempts. "
            f"Pages 1..{page - 1} are archived in {folder}; fetching again resumes at page {page}.",
            url, page, problem, list(archived),
        )

    # -- resume -------------------------------------------------------------------------------
    def _archived_prefix(self, kind: ExtractKind, month: str, folder: Path) -> tuple[list[ArchivedPage], dict | None]:
        """Pages 1..k already archived and valid (read back and checked), and page 1's payload.
        The first invalid page is moved to rejected/."""
        files = dict(_page_files(folder))
        good: list[ArchivedPage] = []
        first: dict | None = None
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
                    if not _is_int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
                        raise PageShapeError(f"page_size is {page_size!r}")
                    url = self.page_url(kind, month, page, page_size)
                totals = (first["total_pages"], first["total_items"]) if first else None
                payload = check_page(body, kind, month, page, page_size, totals)
            except (OSError, EOFError, ValueError) as e:  # gzip errors, JSON errors, PageShapeError
                log.warning("%s: archived page %d is not valid (%s); fetching it again", folder, page, e)
                _move_aside(path, folder, f"archived page failed validation on resume: {e}", url, page)
                break
            if first is None:
                first = payload
            good.append(ArchivedPage(page, path, sha256_of(path), path.stat().st_size, len(payload["items"]), url))
            if page >= max(first["total_pages"], 1):
                break
            page += 1
        return good, first

    def _manifest_problem(self, folder: Path, manifest: dict) -> str | None:
        try:
            for entry in manifest["pages"]:
                path = folder / entry["file"]
                if not path.is_file():
                    return f"{path} listed in the manifest is missing"
                if sha256_of(path) != entry["sha256"]:
                    return f"{path} does not match the sha256 in the manifest"
        except (KeyError, TypeError) as e:
            return f"manifest is malformed ({e!r})"
        return None

    def _set_aside(self, folder: Path, why: str) -> None:
        """Move archived pages and the manifest into superseded-<time>/ (nothing is deleted)."""
        victims = [p for _, p in _page_files(folder)] + [p for p in [folder / MANIFEST_NAME] if p.exists()]
        if not victims:
            return
        target = folder / f"superseded-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}"
        target.mkdir()
        for p in victims:
            os.replace(p, target / p.name)
        log.info("%s: moved %d archived file(s) to %s (%s)", folder, len(victims), target.name, why)

    # -- one month ----------------------------------------------------------------------------
    def fetch_month(self, kind: str | ExtractKind, month: str | dt.date,
                    archive_dir: str | Path | None = None, refresh: bool = False) -> FetchResult:
        """Fetch and archive every page of `kind` for `month` (YYYY-MM); see the module docstring."""
        kind, month = resolve_kind(kind), check_month(month)
        archive_dir = Path(archive_dir) if archive_dir is not None else default_archive_dir()
        folder = month_kind_dir(archive_dir, month, kind)
        manifest_path = folder / MANIFEST_NAME

        manifest = read_manifest(archive_dir, month, kind)
        if manifest is not None and not refresh:
            problem = self._manifest_problem(folder, manifest) if manifest.get("complete") else "not complete"
            if problem is None:
                log.info("%s %s: already complete in %s (%d pages, %d items); not fetching",
                         kind.name, month, folder, len(manifest["pages"]), manifest["total_items"])
                return self._result_from_manifest(kind, month, folder, manifest)
            log.warning("%s: manifest ignored (%s); checking archived pages", manifest_path, problem)
            manifest_path.unlink(missing_ok=True)
        if refresh:
            self._set_aside(folder, "refresh requested")
        folder.mkdir(parents=True, exist_ok=True)

        pages, first = self._archived_prefix(kind, month, folder)
        page_size = first["page_size"] if first else self.page_size
        if first and page_size != self.page_size:
            log.info("%s %s: resuming with the archived page size %d (client default %d)",
                     kind.name, month, page_size, self.page_size)
        if pages:
            log.info("%s %s: pages 1..%d already archived; resuming at page %d",
                     kind.name, month, len(pages), len(pages) + 1)
        fetched: list[int] = []
        started = time.monotonic()
        while first is None or len(pages) < max(first["total_pages"], 1):
            page = len(pages) + 1
            totals = (first["total_pages"], first["total_items"]) if first else None
            archived_page, payload = self._fetch_page(kind, month, page, page_size, folder, totals, pages)
            if first is None:
                first = payload
            pages.append(archived_page)
            fetched.append(page)
            log.info("%s %s: page %d/%d archived (%d items, %d bytes gz)", kind.name, month, page,
                     first["total_pages"], archived_page.item_count, archived_page.size_bytes)

        # Pages beyond the last one can only be leftovers of an older run with other totals.
        stale = [p for n, p in _page_files(folder) if n > len(pages)]
        if stale:
            target = folder / f"superseded-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}"
            target.mkdir()
            for p in stale:
                os.replace(p, target / p.name)
            log.warning("%s: moved %d stale page file(s) beyond page %d to %s", folder, len(stale), len(pages),
                        target.name)

        manifest = {
            "kind": kind.name,
            "month": month,
            "endpoint": kind.api_endpoint,
            "base_url": self.base_url,
            "page_size": page_size,
            "total_pages": first["total_pages"],
            "total_items": first["total_items"],
            "complete": True,
            "fetched_at": _utc_now(),
            "pages": [
                {"page": p.page, "file": p.path.name, "url": p.url, "sha256": p.sha256,
                 "size_bytes": p.size_bytes, "item_count": p.item_count}
                for p in pages
            ],
        }
        _atomic_write(manifest_path, json.dumps(manifest, indent=2).encode("utf-8"), compress=False)
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


__all__ = [
    "ArchiveIncompleteError", "ArchivedPage", "CappedRetry", "FetchResult", "PageShapeError", "PortalAuthError",
    "PortalClient", "PortalConfigError", "PortalError", "PortalHTTPError", "PortalPageError",
    "PortalUnavailableError", "archived_pages", "check_page", "default_archive_dir", "month_kind_dir",
    "page_filename", "read_manifest",
]
