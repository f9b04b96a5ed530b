"""Client of the national public-service portal's extract API (contract: docs/portal_api.md).

`PortalClient.fetch_month(kind, month, archive_dir)` fetches every page of one extract for one
month and archives each page's raw body, gzipped, before parsing it:

    <archive_dir>/<YYYY-MM>/<kind>/page-00001.json.gz   one JSON object per file, with `items`
    <archive_dir>/<YYYY-MM>/<kind>/manifest.json        written once every page is archived

A page that fails the shape checks goes to the quarantine (data/quarantine/portal_pages/, with
its reason) and is fetched again.

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
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion.core.extract_contract import ExtractKind
from ingestion.core.files import sha256_of
from ingestion.portal.page_archive import (
    MANIFEST_NAME,
    ArchivedPage,
    atomic_write,
    manifest_problem,
    month_kind_dir,
    page_filename,
    page_files,
    portal_archive_dir,
    read_manifest,
    reject_page,
    supersede,
    utc_now,
    write_manifest,
)
from ingestion.portal.page_contract import (
    MAX_PAGE_SIZE,
    PageShapeError,
    PortalConfigError,
    PortalError,
    check_month,
    check_page,
    is_int,
    resolve_kind,
)

log = logging.getLogger(__name__)

ENV_URL = "DXMON_PORTAL_URL"
ENV_TOKEN = "DXMON_PORTAL_TOKEN"
DEFAULT_PAGE_SIZE = 5000
RETRY_STATUSES = (429, 500, 502, 503, 504)


# ---------------------------------------------------------------------------------------------
# Errors (PortalError, PortalConfigError and PageShapeError: ingestion/portal/page_contract.py;
# ArchiveIncompleteError: ingestion/portal/page_archive.py)
# ---------------------------------------------------------------------------------------------


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
                atomic_write(path, body, compress=True)
                try:
                    payload = check_page(body, kind, month, page, page_size, expected_totals)
                except PageShapeError as e:
                    problem = str(e)
                    moved = reject_page(path, month, kind, "malformed_page", problem, url, page)
                    log.debug("quarantined the rejected page as %s", moved)
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
        The first invalid page is quarantined (reject_page)."""
        files = dict(page_files(folder))
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
                    if not is_int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
                        raise PageShapeError(f"page_size is {page_size!r}")
                    url = self.page_url(kind, month, page, page_size)
                totals = (first["total_pages"], first["total_items"]) if first else None
                payload = check_page(body, kind, month, page, page_size, totals)
            except (OSError, EOFError, ValueError) as e:  # gzip errors, JSON errors, PageShapeError
                log.warning("%s: archived page %d is not valid (%s); fetching it again", folder, page, e)
                reject_page(path, month, kind, "invalid_archived_page",
                            f"archived page failed validation on resume: {e}", url, page)
                break
            if first is None:
                first = payload
            good.append(ArchivedPage(page, path, sha256_of(path), path.stat().st_size, len(payload["items"]), url))
            if page >= max(first["total_pages"], 1):
                break
            page += 1
        return good, first

    # -- one month ----------------------------------------------------------------------------
    def fetch_month(self, kind: str | ExtractKind, month: str | dt.date,
                    archive_dir: str | Path | None = None, refresh: bool = False) -> FetchResult:
        """Fetch and archive every page of `kind` for `month` (YYYY-MM); see the module docstring."""
        kind, month = resolve_kind(kind), check_month(month)
        archive_dir = Path(archive_dir) if archive_dir is not None else portal_archive_dir()
        folder = month_kind_dir(archive_dir, month, kind)
        manifest_path = folder / MANIFEST_NAME

        manifest = read_manifest(archive_dir, month, kind)
        if manifest is not None and not refresh:
            problem = manifest_problem(folder, manifest) if manifest.get("complete") else "not complete"
            if problem is None:
                log.info("%s %s: already complete in %s (%d pages, %d items); not fetching",
                         kind.name, month, folder, len(manifest["pages"]), manifest["total_items"])
                return self._result_from_manifest(kind, month, folder, manifest)
            log.warning("%s: manifest ignored (%s); checking archived pages", manifest_path, problem)
            manifest_path.unlink(missing_ok=True)
        if refresh:
            moved = supersede(folder, [p for _, p in page_files(folder)] + [p for p in [manifest_path] if p.exists()])
            if moved:
                log.info("%s: archived pages and manifest moved to %s (refresh requested)", folder, moved.name)
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
        stale = [p for n, p in page_files(folder) if n > len(pages)]
        moved = supersede(folder, stale)
        if moved:
            log.warning("%s: moved %d stale page file(s) beyond page %d to %s", folder, len(stale), len(pages),
                        moved.name)

        manifest = {
            "kind": kind.name,
            "month": month,
            "endpoint": kind.api_endpoint,
            "base_url": self.base_url,
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


__all__ = [
    "CappedRetry", "FetchResult", "PortalAuthError", "PortalClient", "PortalHTTPError", "PortalPageError",
    "PortalUnavailableError",
]
