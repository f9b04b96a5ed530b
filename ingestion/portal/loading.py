"""Loading archived portal API pages into the raw tables.

The client (`ingestion/portal/client.py`) archives every page gzipped before anything parses
it (`ingestion/portal/page_archive.py`); this module reads those archived pages with DuckDB (rows never pass through pandas) through
the same typed load and row rules as the bulk files. Each page is one source in
`raw.ingested_sources`: loading the same archived page again is a no-op; a page whose content
changed (a refetch) replaces the rows of its earlier version, which stays in the registry as
history. A month can be replayed from the archive without the network.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind
from ingestion.core.files import sha256_of
from ingestion.core.quarantine import PORTAL_PAGES, record_quarantined
from ingestion.core.raw_archive import archive_input
from ingestion.core.raw_loading import counts_by_source, insert_typed_rows
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import sql_str
from ingestion.portal.page_archive import archived_pages, portal_archive_dir, read_manifest

log = logging.getLogger(__name__)


@dataclass
class MonthPagesReport:
    period_month: str
    pages_loaded: int = 0
    pages_unchanged: int = 0
    pages_quarantined: int = 0  # rejected page bodies recorded in quarantine.rejected_files by this load
    rows_loaded: int = 0
    rows_rejected: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "pages_loaded": self.pages_loaded,
            "pages_unchanged": self.pages_unchanged,
            "pages_quarantined": self.pages_quarantined,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
        }


def page_files(archive_dir: Path, month: str, kind: ExtractKind) -> list[tuple[Path, str | None]]:
    """(archived page, its URL) in page order, as listed by the fetch's complete manifest.
    A month whose fetch did not finish raises ArchiveIncompleteError (it is never half-loaded)."""
    if not (archive_dir / month / kind.name).is_dir():
        return []
    urls = {p["file"]: p.get("url") for p in (read_manifest(archive_dir, month, kind) or {}).get("pages", [])}
    return [(path, urls.get(path.name)) for path in archived_pages(archive_dir, month, kind, complete_only=True)]


def _page_number(path: Path) -> int:
    return int(path.name.split("-")[1].split(".")[0])


def _items_relation(kind: ExtractKind, pages: list[tuple[Path, str]]) -> str:
    """SQL over the pages' items: contract columns as text, `__source_id`, `__source_row`."""
    struct = ", ".join(f'"{f.name}" VARCHAR' for f in kind.fields)
    files = "[" + ", ".join(sql_str(str(p)) for p, _ in pages) + "]"
    ids = ", ".join(f"({sql_str(str(p))}, {sql_str(sid)})" for p, sid in pages)
    fields = ", ".join(f'it."{f.name}" AS "{f.name}"' for f in kind.fields)
    return f"""
SELECT {fields}, m.source_id AS __source_id, n AS __source_row
FROM (
  SELECT filename, unnest(items) AS it, generate_subscripts(items, 1) AS n
  FROM read_json({files}, columns = {{items: 'STRUCT({struct})[]'}}, filename = true,
                 format = 'auto', compression = 'gzip',
                 maximum_object_size = 67108864)  -- a 20 000-dossier page (~12 MB) nears the 16 MB default
) AS pages
JOIN (VALUES {ids}) AS m(filename, source_id) USING (filename)
"""


def load_archived_month(con: duckdb.DuckDBPyConnection, month: str, archive_dir: Path | None = None) -> MonthPagesReport:
    """Load every archived page of `month` (all kinds) that is not loaded yet."""
    prepare_warehouse(con)
    archive_dir = archive_dir or portal_archive_dir()
    report = MonthPagesReport(month)
    # pages the client quarantined while fetching (it has no warehouse open) get their rows now
    report.pages_quarantined = record_quarantined(con, PORTAL_PAGES, month)
    period = dt.date.fromisoformat(month + "-01")
    for kind in EXTRACT_KINDS.values():
        new_pages: list[tuple[Path, str, str, int, str | None]] = []
        for path, url in page_files(archive_dir, month, kind):
            sha = sha256_of(path)
            source_id = f"api:{month}:{kind.name}:{_page_number(path):05d}:{sha[:12]}"
            # kept once in the immutable raw archive (ingestion/core/raw_archive.py)
            archive_input(con, path, sha, month, extract_kind=kind.name, source_type="api_page",
                          original_location=url or f"{kind.api_endpoint}?month={month}&page={_page_number(path)}",
                          page=_page_number(path))
            previous = con.execute(
                "SELECT source_id FROM raw.ingested_sources WHERE location = ? AND superseded_at IS NULL",
                [str(path)],
            ).fetchone()
            if previous and previous[0] == source_id:
                report.pages_unchanged += 1
                continue
            url = url or f"{kind.api_endpoint}?month={month}&page={_page_number(path)}"
            new_pages.append((path, source_id, sha, path.stat().st_size, previous[0] if previous else None, url))
        if not new_pages:
            continue
        now = dt.datetime.now()
        con.execute("BEGIN TRANSACTION")
        try:
            for _, source_id, _, _, previous_id, _ in new_pages:
                if previous_id:
                    con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [previous_id])
                    con.execute("UPDATE raw.ingested_sources SET superseded_at = ? WHERE source_id = ?",
                                [now, previous_id])
                con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [source_id])
                con.execute("DELETE FROM raw.ingested_sources WHERE source_id = ?", [source_id])
            relation = _items_relation(kind, [(p, sid) for p, sid, *_ in new_pages])
            insert_typed_rows(con, kind, relation, {}, month + "-01")
            counts = counts_by_source(con, kind, [sid for _, sid, *_ in new_pages])
            for path, source_id, sha, size, _, url in new_pages:
                rows, rejected = counts.get(source_id, (0, 0))
                con.execute(
                    "INSERT INTO raw.ingested_sources (source_id, extract_kind, period_month, source_type, location, "
                    "original_location, sha256, size_bytes, row_count, rejected_count, loaded_at, superseded_at) "
                    "VALUES (?, ?, ?, 'api_page', ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [source_id, kind.name, period, str(path), url, sha, size, rows, rejected, now],
                )
                report.rows_loaded += rows
                report.rows_rejected += rejected
                report.by_kind[kind.name] = report.by_kind.get(kind.name, 0) + rows
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        report.pages_loaded += len(new_pages)
        log.info("loaded %d archived %s pages of %s", len(new_pages), kind.name, month)
    return report
