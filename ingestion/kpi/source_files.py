"""What the KPI loaders of published figures share (docs/kpi_sources.md): national statistics
releases (`ingestion/kpi/statistics.py`) and international indices (`ingestion/kpi/international.py`).

Each is a small CSV an analyst downloads or transcribes and loads by hand. Before a row is read the
file goes through the same steps as every other input of the platform:

* it must be a regular file (never through a link) no larger than `max_report_bytes`;
* its bytes are hashed (sha256) and stored once in the raw archive (`archive_source_file`), under
  the period `<kind>-<year loaded>` (`statistics-2026`, `indices-2026`);
* it is read to its end by the bounded reader of `ingestion/core/csv_stream.py` (encoding by BOM,
  gzip checked, line and field limits), then parsed here into (line, fields) records;
* a file that cannot be read as a table at all raises `InputRejected` with the rule and a reason
  naming the file (and the line): the loader quarantines a copy (`ingestion/core/quarantine.py`).

A cut-off file is refused whole: a last line without its line end that holds fewer fields than the
header is what a transfer interrupted mid-row leaves (`truncated_file`); so is an unclosed quote.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import duckdb

from ingestion.core.csv_stream import inspect_csv
from ingestion.core.files import sha256_of_regular
from ingestion.core.input_files import InputRejected, exceeds, input_limits, limit_rejected, open_regular
from ingestion.core.raw_archive import archive_input
from ingestion.reports.cell_parsing import clean_text, fold

LOADED, UNCHANGED, REJECTED, REFUSED = "loaded", "unchanged", "rejected", "refused"


@dataclass
class LoadSummary:
    """What one call did: `status` loaded / unchanged (the same bytes before) / rejected (whole
    file, quarantined) / refused (not a regular file: recorded, not copied)."""

    source_file: str
    status: str
    load_id: str | None = None
    rows_read: int | None = None
    rows_accepted: int | None = None
    rows_rejected: int | None = None
    rule: str | None = None
    reason: str | None = None
    values_accepted: int | None = None  # stored values (an index row is several components)
    rejections: list[str] = dataclass_field(default_factory=list)  # the first row reasons, for the console

    @property
    def is_rejected_whole(self) -> bool:
        return self.status in (REJECTED, REFUSED)

    def as_metadata(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SourceTable:
    header: list[str]  # as in the file, cleaned (BOM, NBSP, outer spaces removed)
    records: list[tuple[int, list[str]]]  # (1-based line where the record starts, its fields)
    encoding: str
    delimiter: str


@dataclass(frozen=True)
class ArchivedSource:
    sha256: str
    size_bytes: int
    archived_path: Path


def archive_period(kind: str, when: dt.datetime | None = None) -> str:
    """The raw-archive period of a file loaded now: `<kind>-<year>` (e.g. statistics-2026)."""
    return f"{kind}-{(when or dt.datetime.now()).year}"


def check_regular_file(path: Path) -> int:
    """The size of `path`, or InputRejected when it is not a regular file or is too large to read."""
    path = Path(path)
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        raise InputRejected("file_disappeared", f"file not found: {path}") from None
    limits = input_limits()
    if exceeds(size, limits.max_report_bytes):
        raise limit_rejected("max_report_bytes", size, limits.max_report_bytes, "file size", str(path))
    return size


def archive_source_file(con: duckdb.DuckDBPyConnection, path: Path, *, kind: str,
                        source_type: str) -> ArchivedSource:
    """Hash `path` (without following a link) and keep it once in the raw archive."""
    size = check_regular_file(path)
    sha = sha256_of_regular(path)
    archived = archive_input(con, path, sha, archive_period(kind), extract_kind=None, source_type=source_type,
                             original_location=str(Path(path).resolve()))
    return ArchivedSource(sha, size, archived.path)


def read_table(archived: Path, *, where: str) -> SourceTable:
    """The header and records of the archived copy of a CSV (or .csv.gz) file; `where` names the
    file as the user gave it in every reason. Raises InputRejected for a file that is not a table."""
    limits = input_limits()
    compressed = where.lower().endswith(".gz")
    with tempfile.TemporaryDirectory(prefix="dxmon-kpi-") as folder:
        staging = Path(folder) / "staged.utf8.csv"
        inspection = inspect_csv(archived, compressed=compressed, limits=limits, where=where, staging=staging)
        if inspection.staged is not None:
            data = inspection.staged.read_bytes()
        elif compressed:
            import gzip

            with open_regular(archived) as fh, gzip.open(fh) as unpacked:
                data = unpacked.read()
        else:
            with open_regular(archived) as fh:
                data = fh.read()
    text = data.decode("utf-8-sig" if inspection.encoding == "utf-8-sig" else "utf-8")
    if not text.strip():
        raise InputRejected("empty_file", f"empty file (no header line): {where}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=inspection.delimiter)
    try:
        raw_header = next(reader)
        records: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for fields in reader:
            if any((f or "").strip() for f in fields):
                records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputRejected("unreadable_file", f"not a readable CSV table ({exc}) near line {reader.line_num}: "
                                               f"{where}") from None
    header = [clean_text(h) or "" for h in raw_header]
    if records and not text.endswith(("\n", "\r")):
        line, last = records[-1]
        if len(last) < len(header):
            raise InputRejected(
                "truncated_file",
                f"truncated file (its last line {line} ends without a line end and holds {len(last)} of the "
                f"{len(header)} fields of the header: the file was cut while it was written or sent; send it "
                f"again): {where}")
    return SourceTable(header, records, inspection.encoding, inspection.delimiter)


def header_key(label: str) -> str:
    """A header label compared loosely: no case, diacritics, bracketed abbreviation ("(TII)"),
    hyphens, underscores or stray spaces: 'E-Government Index ' == 'e_government index'."""
    return re.sub(r"[\s_\-]+", " ", re.sub(r"\(.*?\)", " ", fold(label))).strip()


def column_positions(header: list[str], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...],
                     *, where: str, expected: str) -> dict[str, int]:
    """Which column holds each field: `aliases` maps a field to the header labels it may carry
    (compared by `header_key`). A missing required field rejects the file."""
    folded = [header_key(h) for h in header]
    positions: dict[str, int] = {}
    for name, labels in aliases.items():
        wanted = {header_key(label) for label in (name, *labels)}
        for index, label in enumerate(folded):
            if label in wanted:
                positions.setdefault(name, index)
    missing = [name for name in required if name not in positions]
    if missing:
        raise InputRejected(
            "unknown_header",
            f"header not recognised (missing column(s) {', '.join(missing)}; expected {expected}; found "
            f"{', '.join(repr(h) for h in header[:12])}): {where}")
    return positions


def cell(fields: list[str], positions: dict[str, int], name: str) -> str | None:
    """The cleaned text of `name` in a record, or None when empty or absent."""
    index = positions.get(name)
    if index is None or index >= len(fields):
        return None
    return clean_text(fields[index])


def location(where: str, line: int, name: str | None = None) -> str:
    """'<file>, line 7, field value': how every row reason ends."""
    return f"{where}, line {line}" + (f", field {name}" if name else "")


def next_load_sequence(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """One more than the highest load sequence of `table` (the order files were loaded in)."""
    return int(con.execute(f"SELECT coalesce(max(load_sequence), 0) + 1 FROM {table}").fetchone()[0])
