"""Bulk extract files dropped into the landing folder, one folder per month.

`data/landing/<YYYY-MM>/<kind prefix>*.csv | .csv.gz | .parquet` (see docs/architecture.md).
Each file is registered in `raw.ingested_sources` with its sha256, size and row counts:

* the same file again (same name, same content) is a no-op;
* a changed file replaces the rows of its previous version, whose registry row stays as history
  with `superseded_at` set;
* an unreadable file (cut or corrupt gzip, wrong encoding, a line too long, missing columns, an
  unknown name, a limit exceeded) is copied to the quarantine (`ingestion/core/quarantine.py`:
  `data/quarantine/landing/<YYYY-MM>/`, a `.reason.json`, a row in `quarantine.rejected_files`)
  and left in place; the same bytes there again are a no-op. The month's other files still load.

What a file must be before a row of it counts (issue 10, docs/reliability.md):

* **a regular file inside the month's folder**: a symbolic link (whatever it points to, or
  nothing), a FIFO, a device or a socket is refused unread (`not_a_regular_file`), recorded with
  `quarantine.record_refused` and never followed, read, copied, archived or moved; files are
  opened with `O_NOFOLLOW`;
* **read literally**: what DuckDB reads is the content-addressed copy in the raw archive (named by
  its sha256, written by `archive_input` before loading) or the loader's own UTF-8 transcode of it,
  never the sender's file name, which may hold glob characters (`dossiers_*.csv`);
* **read to its end** (`ingestion/core/csv_stream.py` for CSV, the footer for Parquet) within the
  `InputLimits`, before DuckDB reads it;
* **reconciled**: the rows the reader counted (`rows_read`) equal the rows stored (valid +
  rejected); a file whose counts differ is quarantined (`rows_not_reconciled`), not recorded.

Reasons start with the cause (fixed text), then name the file and, where it applies, the line,
row and field.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.core.csv_stream import CsvInspection, inspect_csv
from ingestion.core.extract_contract import ExtractKind, kind_for_filename
from ingestion.core.files import sha256_of_regular
from ingestion.core.input_files import (
    InputLimits,
    InputRejected,
    exceeds,
    input_limits,
    limit_rejected,
    regular_file_problem,
    scan_folder,
)
from ingestion.core.quarantine import LANDING, quarantine_file, quarantined_before, record_refused
from ingestion.core.raw_archive import archive_input
from ingestion.core.raw_loading import SourceContractError, counts_by_source, insert_typed_rows, map_source_columns
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import data_dir, literal_file, sql_str

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet")
LOADED, REPLACED, UNCHANGED, QUARANTINED, REFUSED = "loaded", "replaced", "unchanged", "quarantined", "refused"


def landing_dir() -> Path:
    return Path(os.environ.get("DXMON_LANDING_DIR", data_dir() / "landing")).resolve()


def staging_dir() -> Path:
    """The loader's own working copies (UTF-8 transcodes of UTF-16 files), removed after each load."""
    return data_dir() / "staging" / "landing"


@dataclass
class FileOutcome:
    path: str
    action: str  # loaded | replaced | unchanged | quarantined | refused
    extract_kind: str | None = None
    source_id: str | None = None
    rows: int = 0  # rows stored, valid and rejected
    rejected_rows: int = 0
    reason: str | None = None
    rule: str | None = None  # the quarantine rule of a quarantined or refused file
    rows_read: int | None = None  # data rows the reader counted: rows_read == rows when loaded
    same_content_as: str | None = None  # not loaded: another current file holds the same bytes


@dataclass
class MonthFilesReport:
    period_month: str
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def loaded_rows(self) -> int:
        return sum(f.rows for f in self.files if f.action in (LOADED, REPLACED))

    def as_metadata(self) -> dict:
        loaded = [f for f in self.files if f.action in (LOADED, REPLACED)]
        return {
            "files": len(self.files),
            "loaded": len(loaded),
            "unchanged": sum(f.action == UNCHANGED for f in self.files),
            "quarantined": sum(f.action == QUARANTINED for f in self.files),
            "refused": sum(f.action == REFUSED for f in self.files),
            "rows_read": sum(f.rows_read or 0 for f in loaded),
            "rows_loaded": self.loaded_rows,
            "rows_rejected": sum(f.rejected_rows for f in self.files),
            "reconciled": all(f.rows_read == f.rows for f in loaded),
        }


def month_folder(month: str) -> Path:
    return landing_dir() / month


def list_landing_files(month: str) -> list[Path]:
    """The month's regular files, by name (links and special files are left out: see `scan_folder`)."""
    return scan_folder(month_folder(month))[0]


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return None


def _absolute(path: Path) -> Path:
    """The path made absolute without resolving links (resolving would follow the link itself)."""
    return Path(os.path.abspath(path))


@dataclass
class _Source:
    """What DuckDB reads for one landing file, and what the read must reconcile with."""
    sql: str  # SELECT with contract columns, __source_id, __source_row
    types: dict[str, str]
    rows_read: int
    strip_controls: bool


def _parquet_source(con, readable: str, kind: ExtractKind, source_id: str, where: str,
                    limits: InputLimits) -> _Source:
    try:
        rows = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({readable})").fetchone()[0]
        columns = [(r[0], r[1]) for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({readable})").fetchall()]
    except duckdb.Error as exc:
        raise InputRejected("unreadable_file",
                            f"not a readable Parquet file ({_first_line(exc)}): {where}") from None
    rows = int(rows or 0)
    if exceeds(rows, limits.max_rows):
        raise limit_rejected("max_rows", rows, limits.max_rows, "too many rows: data rows", where)
    select, types = map_source_columns(kind, columns, where=where)
    sql = (f"SELECT {select}, {sql_str(source_id)} AS __source_id, file_row_number + 1 AS __source_row "
           f"FROM read_parquet({readable}, file_row_number = true)")
    return _Source(sql, types, rows, strip_controls=True)


def _csv_source(con, readable: str, inspection: CsvInspection, kind: ExtractKind, source_id: str,
                where: str, limits: InputLimits) -> _Source:
    # all_varchar: every value is read as text and parsed by the row rules, so one bad cell
    # rejects one row, not the file. null_padding: a truncated last line becomes a row with
    # empty fields (rejected as such) instead of failing the whole file. The reader has already
    # read the file to its end (ingestion/core/csv_stream.py): encoding, stream end, line lengths.
    options = [
        "all_varchar = true", "header = true", "null_padding = true", "strict_mode = false",
        f"delim = {sql_str(inspection.delimiter)}", "quote = '\"'", "escape = '\"'",
        f"max_line_size = {max(limits.max_line_bytes, 2 << 20) + 16}" if limits.max_line_bytes else "",
        "parallel = false" if inspection.has_quoted_newlines else "",  # DuckDB's parallel reader splits them
    ]
    reader = f"read_csv({readable}, {', '.join(o for o in options if o)})"
    try:
        columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise InputRejected("unreadable_file", f"the CSV reader could not read the file ({_first_line(exc)}): "
                                               f"{where}") from None
    select, types = map_source_columns(kind, columns, where=where)
    sql = f"SELECT {select}, {sql_str(source_id)} AS __source_id, row_number() OVER () AS __source_row FROM {reader}"
    return _Source(sql, types, inspection.records, strip_controls=inspection.has_control_characters)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_resource_error(exc: BaseException) -> bool:
    """Errors of the machine rather than of the file: out of memory, disk full, interrupted."""
    if isinstance(exc, (duckdb.OutOfMemoryException, duckdb.InterruptException)):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.ENOMEM, errno.EDQUOT)


def _refuse(con, path: Path, month: str, problem: InputRejected) -> FileOutcome:
    """An entry refused unread: a reason file and a row, no copy; the same entry again is a no-op."""
    done = record_refused(con, path, input_kind=LANDING, period=month, folder=(month,), rule=problem.rule,
                          reason=problem.reason)
    if done is None:
        return FileOutcome(str(path), UNCHANGED, reason=f"refused before: {problem.reason}", rule=problem.rule)
    return FileOutcome(str(path), REFUSED, reason=problem.reason, rule=problem.rule)


def _quarantine(con, path: Path, month: str, sha: str, kind: ExtractKind | None, rule: str,
                reason: str, rows_read: int | None = None) -> FileOutcome:
    quarantine_file(con, path, input_kind=LANDING, period=month, folder=(month,), sha256=sha, rule=rule,
                    reason=reason)
    return FileOutcome(str(path), QUARANTINED, kind.name if kind else None, reason=reason, rule=rule,
                       rows_read=rows_read)


def load_file(con: duckdb.DuckDBPyConnection, path: Path, month: str) -> FileOutcome:
    """Load one landing file of `month` (idempotent by content)."""
    path = _absolute(path)
    problem = regular_file_problem(path, month_folder(month))
    if problem is not None:
        return _refuse(con, path, month, problem)
    limits = input_limits()
    size = os.lstat(path).st_size
    if exceeds(size, limits.max_file_bytes):
        # not read, not copied: a reason file and a row (the same file again is a no-op)
        return _refuse(con, path, month, limit_rejected("max_file_bytes", size, limits.max_file_bytes,
                                                        "file size", str(path)))
    try:
        sha = sha256_of_regular(path)
        kind = kind_for_filename(path.name)
        # every input, good or not, is kept once in the immutable raw archive (ingestion/core/raw_archive.py);
        # what is read below is that copy, named by its sha256
        archived = archive_input(con, path, sha, month, extract_kind=kind.name if kind else None,
                                 source_type="file", original_location=str(path))
    except InputRejected as refused:  # swapped for a link or a FIFO since it was listed
        return _refuse(con, path, month, refused)
    earlier = quarantined_before(con, LANDING, str(path), sha)
    if earlier:
        # left in place after it was quarantined: the same bytes are not taken again
        return FileOutcome(str(path), UNCHANGED, kind.name if kind else None,
                           reason=f"quarantined before (copy {earlier[0]}): {earlier[1]}")
    if kind is None or _suffix(path) is None:
        return _quarantine(
            con, path, month, sha, kind, "unknown_file",
            f"not a known extract file name (expected a name starting with dossiers, dossier_status_history, "
            f"procedures or complaints and ending in {', '.join(SUPPORTED_SUFFIXES)}): {path}",
        )
    previous = con.execute(
        "SELECT source_id, sha256 FROM raw.ingested_sources WHERE original_location = ? "
        "AND source_type = 'file' AND superseded_at IS NULL",
        [str(path)],
    ).fetchone()
    if previous and previous[1] == sha:
        return FileOutcome(str(path), UNCHANGED, kind.name, previous[0])
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
        return FileOutcome(str(path), REPLACED if previous else UNCHANGED, kind.name, source_id,
                           reason=f"same content as {same_content[0]}", same_content_as=same_content[0])
    staged = staging_dir() / f"{sha}.utf8.csv"
    try:
        return _load(con, path, month, sha, kind, source_id, previous, archived.path, staged, limits)
    finally:
        staged.unlink(missing_ok=True)


def _load(con, path: Path, month: str, sha: str, kind: ExtractKind, source_id: str, previous,
          archived: Path, staged: Path, limits: InputLimits) -> FileOutcome:
    suffix = _suffix(path)
    inspection = None
    if suffix != ".parquet":
        try:
            inspection = inspect_csv(archived, compressed=suffix == ".csv.gz", limits=limits, where=str(path),
                                     staging=staged)
        except InputRejected as bad:
            return _quarantine(con, path, month, sha, kind, bad.rule, bad.reason)
    readable_file = inspection.staged if inspection and inspection.staged else archived
    with literal_file(con, readable_file) as readable:
        return _insert(con, path, month, sha, kind, source_id, previous, archived, readable, inspection, limits)


def _insert(con, path: Path, month: str, sha: str, kind: ExtractKind, source_id: str, previous, archived: Path,
            readable: str, inspection: CsvInspection | None, limits: InputLimits) -> FileOutcome:
    """One transaction: the file's rows replace its previous version's, or nothing changes."""
    where = str(path)
    period = dt.date.fromisoformat(month + "-01")
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        if inspection is None:
            source = _parquet_source(con, readable, kind, source_id, where, limits)
        else:
            source = _csv_source(con, readable, inspection, kind, source_id, where, limits)
        if previous:
            con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [previous[0]])
            con.execute("UPDATE raw.ingested_sources SET superseded_at = ? WHERE source_id = ?", [now, previous[0]])
        # A source id seen before (a file restored after being replaced) is loaded afresh.
        con.execute(f"DELETE FROM raw.{kind.name} WHERE source_id = ?", [source_id])
        con.execute("DELETE FROM raw.ingested_sources WHERE source_id = ?", [source_id])
        insert_typed_rows(con, kind, source.sql, source.types, month + "-01", strip_controls=source.strip_controls)
        rows, rejected = counts_by_source(con, kind, [source_id]).get(source_id, (0, 0))
        if rows != source.rows_read:
            con.execute("ROLLBACK")
            return _quarantine(
                con, path, month, sha, kind, "rows_not_reconciled",
                f"rows do not reconcile (the file holds {source.rows_read} data rows, {rows} were stored: "
                f"{rows - rejected} valid, {rejected} rejected); nothing of it was loaded: {where}",
                rows_read=source.rows_read)
        con.execute(
            "INSERT INTO raw.ingested_sources (source_id, extract_kind, period_month, source_type, location, "
            "original_location, sha256, size_bytes, row_count, rejected_count, loaded_at, superseded_at, rows_read) "
            "VALUES (?, ?, ?, 'file', ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [source_id, kind.name, period, where, where, sha, archived.stat().st_size, rows, rejected, now,
             source.rows_read],
        )
        con.execute("COMMIT")
    except InputRejected as bad:
        con.execute("ROLLBACK")
        return _quarantine(con, path, month, sha, kind, bad.rule, bad.reason)
    except (duckdb.Error, SourceContractError, OSError) as exc:
        con.execute("ROLLBACK")
        if is_resource_error(exc):
            raise  # the machine ran short (memory, disk), not the file: nothing to quarantine
        if isinstance(exc, SourceContractError):
            return _quarantine(con, path, month, sha, kind, "missing_columns", str(exc))
        return _quarantine(con, path, month, sha, kind, "unreadable_file",
                           f"the file could not be read ({_first_line(exc)}): {where}")
    action = REPLACED if previous else LOADED
    log.info("%s %s: %d rows (%d rejected)", action, path, rows, rejected)
    return FileOutcome(str(path), action, kind.name, source_id, rows, rejected, rows_read=source.rows_read)


def ingest_landing_month(con: duckdb.DuckDBPyConnection, month: str) -> MonthFilesReport:
    """Load every regular file in the month's landing folder; refuse (and record) every entry that
    is not one: a symbolic link, a FIFO, a device, a socket, a sub-folder."""
    prepare_warehouse(con)
    report = MonthFilesReport(month)
    folder = month_folder(month)
    if folder.is_symlink():
        report.files.append(_refuse(con, _absolute(folder), month, InputRejected(
            "not_a_regular_file",
            f"symbolic link refused as a month folder (the link is not followed): {_absolute(folder)}")))
        return report
    files, refused = scan_folder(folder)
    for path, problem in refused:
        report.files.append(_refuse(con, _absolute(path), month, problem))
    first = len(report.files)  # the outcomes of `files`, in order, start here
    for path in files:
        report.files.append(load_file(con, path, month))
    # A file skipped because another file held the same bytes loses those rows when that other
    # file is replaced later in the pass: such files are taken once more, so the month holds
    # every current content whatever order the files arrived and were listed in.
    if any(f.action in (LOADED, REPLACED) for f in report.files):
        for i, path in enumerate(files, start=first):
            if report.files[i].same_content_as:
                again = load_file(con, path, month)
                if not again.same_content_as:  # its bytes were no longer held: loaded now
                    report.files[i] = again
    return report
