"""The archive of portal pages (docs/portal_api.md): every page body as the portal sent it.

    <archive_dir>/<YYYY-MM>/<kind>/page-00001.json.gz   one gzipped JSON object per page, with `items`
    <archive_dir>/<YYYY-MM>/<kind>/manifest.json        written once every page is archived and checked
    <archive_dir>/<YYYY-MM>/<kind>/superseded/<sha256>.json.gz   pages set aside by a refetch, by content
    <archive_dir>/<YYYY-MM>/<kind>/superseded/index.jsonl        which page and URL each was, and when

A page body that fails its checks is not kept here: it goes to the quarantine
(`reject_page`, `ingestion/core/quarantine.py`); one that was not kept whole (over its size limit)
or must not be stored (it carries the client's credential) gets a reason file only
(`reject_unstored`). Nothing is deleted: a refetch sets the month's pages aside under their
sha256 (the same bytes set aside twice are one file) and its manifest beside them.

**Complete means checked** (`complete_manifest_problem`, fail closed): a manifest is trusted only
if it says complete, lists pages 1..N with no gap, N = max(total_pages, 1), and its item counts add
up to total_items; the client writes one only after every page passed its shape checks and the
paging order (no page repeats another's items). A manifest written before these checks (no
`format` >= MANIFEST_FORMAT) makes the client re-verify the archived pages before trusting them.

Files are written atomically (temp file, fsync, rename) and gzipped deterministically, so the
same body always gives the same bytes and sha256. `archived_pages` is what the loader reads: the
pages a complete manifest lists, so a month is never half-loaded. The client
(`ingestion/portal/client.py`) fills the archive; default folder `data/archive/portal`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.extract_contract import ExtractKind
from ingestion.core.files import sha256_of
from ingestion.core.quarantine import PORTAL_PAGES, quarantine_file, record_unstored
from ingestion.core.warehouse import data_dir
from ingestion.portal.page_contract import PortalError, check_month, resolve_kind

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 2  # 2: written after the paging-order and completeness checks (issue 10)
MANIFEST_CHECKS = ("page_shape", "page_numbers", "item_counts", "paging_order", "credential_free")
SUPERSEDED_DIR = "superseded"
PAGE_RE = re.compile(r"^page-(\d{5,})\.json\.gz$")


class ArchiveIncompleteError(PortalError):
    """The archive of a month/kind has no complete manifest (the fetch did not finish)."""


@dataclass(frozen=True)
class ArchivedPage:
    page: int
    path: Path
    sha256: str  # of the archived .json.gz file (what raw.ingested_sources records)
    size_bytes: int
    item_count: int
    url: str


def portal_archive_dir() -> Path:
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
    problem = "no manifest" if manifest is None else complete_manifest_problem(manifest)
    if problem is None:
        return [folder / p["file"] for p in manifest["pages"]]
    if complete_only:
        raise ArchiveIncompleteError(
            f"portal month not complete ({problem}): the fetch of {resolve_kind(kind).name} {month} did not "
            f"finish, in {folder}. Run the month again (the fetch resumes where it stopped)."
        )
    return [path for _, path in page_files(folder)]


def complete_manifest_problem(manifest: dict) -> str | None:
    """Why a manifest does not prove its month complete, or None. Fail closed: it must say
    complete and list pages 1..N with no gap; with totals (every manifest the client writes),
    N = max(total_pages, 1) and the item counts add up to total_items."""
    try:
        if manifest.get("complete") is not True:
            return "the manifest does not say complete"
        numbers = [entry["page"] for entry in manifest["pages"]]
        if numbers != list(range(1, len(numbers) + 1)) or not numbers:
            return f"the manifest's pages are not 1..{len(numbers)} in order"
        if "total_pages" in manifest or "total_items" in manifest:
            if len(numbers) != max(manifest["total_pages"], 1):
                return f"the manifest lists {len(numbers)} pages of {manifest['total_pages']}"
            counted = sum(entry["item_count"] for entry in manifest["pages"])
            if counted != manifest["total_items"]:
                return f"the manifest's pages hold {counted} items of {manifest['total_items']}"
    except (KeyError, TypeError, AttributeError) as e:
        return f"the manifest is malformed ({type(e).__name__}: {e})"
    return None


def page_files(folder: Path) -> list[tuple[int, Path]]:
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


def atomic_write(path: Path, data: bytes, compress: bool) -> None:
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


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def reject_unstored(body_sha256: str, size_bytes: int, month: str, kind: ExtractKind, rule: str, reason: str,
                    url: str, page: int) -> Path:
    """A page body rejected without being stored (cut off at its size limit, or carrying the
    client's credential): a reason file in the quarantine, no copy. Returns the reason file."""
    return record_unstored(None, page_filename(page), input_kind=PORTAL_PAGES, period=month,
                           folder=(month, kind.name), sha256=body_sha256, size_bytes=size_bytes, rule=rule,
                           reason=reason, original_location=url, details={"page": page, "url": url}).location


def reject_page(path: Path, month: str, kind: ExtractKind, rule: str, reason: str, url: str, page: int) -> Path:
    """A page body that failed its checks: copied to the quarantine
    (`data/quarantine/portal_pages/<month>/<kind>/`, recorded in quarantine.rejected_files when the
    month is loaded), then its page slot is emptied so only good pages carry a page-NNNNN name and
    the page is fetched again. Returns the quarantined copy."""
    copy = quarantine_file(None, path, input_kind=PORTAL_PAGES, period=month, folder=(month, kind.name),
                           sha256=sha256_of(path), rule=rule, reason=reason, original_location=url,
                           details={"page": page, "url": url})
    path.unlink()
    return copy.location


def manifest_problem(folder: Path, manifest: dict) -> str | None:
    """Why a manifest cannot be trusted (not proving completeness, written before the paging
    checks, a listed page missing or changed), or None."""
    problem = complete_manifest_problem(manifest)
    if problem is not None:
        return problem
    if not isinstance(manifest.get("format"), int) or manifest["format"] < MANIFEST_FORMAT:
        return "the manifest was written before the paging checks; re-verifying the archived pages"
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


def write_manifest(folder: Path, manifest: dict) -> Path:
    path = folder / MANIFEST_NAME
    atomic_write(path, json.dumps(manifest, indent=2).encode("utf-8"), compress=False)
    return path


def supersede(folder: Path, pages: list[Path], manifest: Path | None = None) -> Path | None:
    """Set `pages` (and the month's `manifest`) aside as history in <folder>/superseded/: each page
    under its sha256 (`<sha256>.json.gz`; the same bytes set aside twice are one file, nothing is
    deleted that is not kept there), the manifest as `manifest-<time>.json`, and one line per page
    in `index.jsonl` (page, sha256, time). Returns the folder, or None when there was nothing."""
    if not pages and manifest is None:
        return None
    target = folder / SUPERSEDED_DIR
    target.mkdir(exist_ok=True)
    now = utc_now()
    lines = []
    for path in pages:
        sha = sha256_of(path)
        kept = target / f"{sha}.json.gz"
        if kept.exists():
            path.unlink()
        else:
            os.replace(path, kept)
        m = PAGE_RE.match(path.name)
        lines.append({"page": int(m.group(1)) if m else None, "file": path.name, "sha256": sha,
                      "superseded_at": now})
    if manifest is not None and manifest.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        os.replace(manifest, target / f"manifest-{stamp}.json")
    if lines:
        with open(target / "index.jsonl", "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(line, sort_keys=True) + "\n" for line in lines)
            fh.flush()
            os.fsync(fh.fileno())
    _fsync_dir(target)
    return target
