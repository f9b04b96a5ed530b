"""Bulk extract files dropped into the landing folder, one folder per month.

`data/landing/<YYYY-MM>/<kind prefix>*.csv | .csv.gz | .parquet` (see docs/architecture.md).
Each file is registered in `raw.ingested_sources` with its sha256, size and row counts:

* the same file again (same name, same content) is a no-op;
* a changed file replaces the rows of its previous version, whose registry row stays as history
  with `superseded_at` set;
* an unreadable file (corrupt gzip, wrong encoding, missing columns, unknown name) is copied to
  the quarantine (`ingestion/core/quarantine.py`: `data/quarantine/landing/<YYYY-MM>/`, a
  `.reason.json`, a row in `quarantine.rejected_files`) and left in place; the same bytes there
  again are a no-op. The month's other files still load.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.core.extract_contract import ExtractKind, kind_for_filename
from ingestion.core.files import sha256_of
from ingestion.core.quarantine import LANDING, quarantine_file, quarantined_before
from ingestion.core.raw_archive import archive_input
from ingestion.core.raw_loading import SourceContractError, counts_by_source, insert_typed_rows, map_source_columns
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import data_dir, sql_str

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def landing_dir() -> Path:
    return Path(os.environ.get("DXMON_LANDING_DIR", data_dir() / "landing")).resolve()


@dataclass
class FileOutcome:
    path: str
    action: str  # loaded | replaced | unchanged | quarantined
    extract_kind: str | None = None
    source_id: str | None = None
    rows: int = 0
    rejected_rows: int = 0
    reason: str | None = None
    same_content_as: str | None = None  # not loaded: another current file holds the same bytes


@dataclass
class MonthFilesReport:
    period_month: str
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def loaded_rows(self) -> int:
        return sum(f.rows for f in self.files if f.action in ("loaded", "replaced"))

    def as_metadata(self) -> dict:
        return {
            "files": len(self.files),
            "loaded": sum(f.action in ("loaded", "replaced") for f in self.files),
            "unchanged": sum(f.action == "unchanged" for f in self.files),
            "quarantined": sum(f.action == "quarantined" for f in self.files),
            "rows_loaded": self.loaded_rows,
            "rows_rejected": sum(f.rejected_rows for f in self.files),
        }


def month_folder(month: str) -> Path:
    return landing_dir() / month


def list_landing_files(month: str) -> list[Path]:
    folder = month_folder(month)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return None


def _csv_encoding(path: Path, compressed: bool) -> str:
    """DuckDB reads UTF-8 (with or without BOM) and UTF-16; anything else is refused later
    with DuckDB's own 'invalid unicode' message naming the line."""
    opener = gzip.open if compressed else open
    with opener(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    return "utf-8"


def source_relation(con: duckdb.DuckDBPyConnection, path: Path, kind: ExtractKind, source_id: str) -> tuple[str, dict[str, str]]:
    """SQL reading the file with contract column names, `__source_id` and `__source_row`
    (1-based data row, file order), plus the source type of each column."""
    suffix = _suffix(path)
    p = sql_str(str(path))
    if suffix == ".parquet":
        reader = f"read_parquet({p}, file_row_number = true)"
        row_expr = "file_row_number + 1"
    else:
        encoding = _csv_encoding(path, suffix == ".csv.gz")
        # all_varchar: every value is read as text and parsed by the row rules, so one bad cell
        # rejects one row, not the file. null_padding: a truncated last line becomes a row with
        # empty fields (rejected as such) instead of failing the whole file.
        reader = (
            f"read_csv({p}, all_varchar = true, header = true, null_padding = true, "
            f"strict_mode = false, encoding = '{encoding}')"
        )
        row_expr = "row_number() OVER ()"
    columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    select, types = map_source_columns(kind, columns, where=str(path))
    return (
        f"SELECT {select}, {sql_str(source_id)} AS __source_id, {row_expr} AS __source_row FROM {reader}",
        types,
    )


def _quarantine_file(con, path: Path, month: str, sha: str, rule: str, reason: str) -> FileOutcome:
    quarantine_file(con, path, input_kind=LANDING, period=month, folder=(month,), sha256=sha, rule=rule,
                    reason=reason)
    return FileOutcome(str(path), "quarantined", reason=reason)


def is_resource_error(exc: BaseException) -> bool:
    """Errors of the machine rather than of the file: out of memory, disk full, interrupted."""
    if isinstance(exc, (duckdb.OutOfMemoryException, duckdb.InterruptException)):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.ENOMEM, errno.EDQUOT)


def load_file(con: duckdb.DuckDBPyConnection, path: Path, month: str) -> FileOutcome:
    """Load one landing file of `month` (idempotent by content)."""
    path = path.resolve()
    sha = sha256_of(path)
    kind = kind_for_filename(path.name)
    # every input, good or not, is kept once in the immutable raw archive (ingestion/core/raw_archive.py)
    archive_input(con, path, sha, month, extract_kind=kind.name if kind else None,
                  source_type="file", original_location=str(path))
    earlier = quarantined_before(con, LANDING, str(path), sha)
    if earlier:
        # left in place after it was quarantined: the same bytes are not taken again
        return FileOutcome(str(path), "unchanged", kind.name if kind else None,
                           reason=f"quarantined before (copy {earlier[0]}): {earlier[1]}")
    if kind is None or _suffix(path) is None:
        return _quarantine_file(
            con, path, month, sha, "unknown_file",
            f"{path.name}: not a known extract file; expected a name starting with dossiers, "
            f"dossier_status_history, procedures or complaints and ending in {', '.join(SUPPORTED_SUFFIXES)}",
        )
    previous = con.execute(
        "SELECT source_id, sha256 FROM raw.ingested_sources WHERE original_location = ? "
        "AND source_type = 'file' AND superseded_at IS NULL",
        [str(path)],
    ).fetchone()
    if previous and previous[1] == sha:
        return FileOutcome(str(path), "unchanged", kind.name, previous[0])
    source_id = f"file:{month}:{kind.name}:{sha[:16]}"
    same_content = con.execute(
        "SELECT original_location FROM raw.ingested_sources WHERE source_id = ? AND superseded_at IS NULL",
        [source_id],
    ).fetchone()
    if same_content:
        # The identical file under another name: its rows are already in; loading it twice
        # would only create duplicates. This file's own earlier version, if any, is replaced all
        # the same (its rows would otherwise stay current beside the new content).
        if previous:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [previous[0]])
                con.execute("UPDATE raw.ingested_sources SET superseded_at = ? WHERE source_id = ?",
                            [dt.datetime.now(), previous[0]])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return FileOutcome(str(path), "replaced" if previous else "unchanged", kind.name, source_id,
                           reason=f"same content as {same_content[0]}", same_content_as=same_content[0])
    period = dt.date.fromisoformat(month + "-01")
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        relation, types = source_relation(con, path, kind, source_id)
        if previous:
            con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [previous[0]])
            con.execute("UPDATE raw.ingested_sources SET superseded_at = ? WHERE source_id = ?", [now, previous[0]])
        # A source id seen before (a file restored after being replaced) is loaded afresh.
        con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [source_id])
        con.execute("DELETE FROM raw.ingested_sources WHERE source_id = ?", [source_id])
        insert_typed_rows(con, kind, relation, types, month + "-01")
        rows, rejected = counts_by_source(con, kind, [source_id]).get(source_id, (0, 0))
        con.execute(
            "INSERT INTO raw.ingested_sources VALUES (?, ?, ?, 'file', ?, ?, ?, ?, ?, ?, ?, NULL)",
            [source_id, kind.name, period, str(path), str(path), sha, path.stat().st_size, rows, rejected, now],
        )
        con.execute("COMMIT")
    except (duckdb.Error, SourceContractError, OSError, EOFError, gzip.BadGzipFile) as exc:
        con.execute("ROLLBACK")
        if is_resource_error(exc):
            raise  # the machine ran short (memory, disk), not the file: nothing to quarantine
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not reason.startswith(str(path)):
            reason = f"{path}: {reason}"
        rule = "missing_columns" if isinstance(exc, SourceContractError) else "unreadable_file"
        return _quarantine_file(con, path, month, sha, rule, reason)
    action = "replaced" if previous else "loaded"
    log.info("%s %s: %d rows (%d rejected)", action, path, rows, rejected)
    return FileOutcome(str(path), action, kind.name, source_id, rows, rejected)


def ingest_landing_month(con: duckdb.DuckDBPyConnection, month: str) -> MonthFilesReport:
    """Load every file in the month's landing folder."""
    prepare_warehouse(con)
    report = MonthFilesReport(month)
    paths = list_landing_files(month)
    for path in paths:
        report.files.append(load_file(con, path, month))
    # A file skipped because another file held the same bytes loses those rows when that other
    # file is replaced later in the pass: such files are taken once more, so the month holds
    # every current content whatever order the files arrived and were listed in.
    if any(f.action in ("loaded", "replaced") for f in report.files):
        for i, (path, outcome) in enumerate(zip(paths, report.files)):
            if outcome.same_content_as:
                again = load_file(con, path, month)
                if not again.same_content_as:  # its bytes were no longer held: loaded now
                    report.files[i] = again
    return report
