"""The one intake engine of agency report forms (docs/dti_reports.md, docs/kpi_reports.md).

A form (`ReportForm`: the DTI's in `ingestion/reports/intake.py`, the KPI's in
`ingestion/kpi/reports/intake.py`) says what its inbox folders, header cells and rows mean; the
engine does everything else, the same way for every form:

* the inbox `<root>/<period>/<unit_code>/<file>` is walked in order of receipt; only regular files
  are inputs (`scan_folder`): a symbolic link, a FIFO or a device is refused unread (rule
  `not_a_regular_file`, a reason file and a row in `quarantine.rejected_files`);
* a file is hashed without following links (sha256), stored in the raw archive and read back from
  the archived copy (its hash checked), never again from the inbox; the same bytes again are a no-op;
* it gets the next version of its (period, folder unit) in order of receipt;
* the form checks the header read from inside the file (unit, period, level, date) against the
  folder and the unit registry; a file-level problem rejects the submission, and a copy goes to
  the quarantine (`data/quarantine/<input kind>/<period>/<unit>/`);
* the form turns the table rows into value rows, each accepted or flagged with a rule and a
  reason naming file, sheet, row and field; the other rows still flow;
* every submission reconciles: `rows_read = rows_accepted + rows_rejected` (NULL when the file was
  rejected whole and its rows were not kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.core import quarantine
from ingestion.core.files import CHUNK
from ingestion.core.input_files import InputRejected, open_regular, scan_folder
from ingestion.core.raw_archive import ArchiveIntegrityError, archive_input
from ingestion.core.schema import insert_rows, prepare_warehouse
from ingestion.reports.cell_parsing import CellError, parse_unit_code, shown
from ingestion.reports.report_files import ReportFile, ReportFileError, ReportLayout, location, read_report

log = logging.getLogger(__name__)

FileRejection = InputRejected  # a file refused as a whole: rule and reason

# The plausible report dates: from the first day of the reported period to the end of the N-th
# year after the period, and never later than N days after the file was received.
REPORT_DATE_YEARS_AFTER_ENV, REPORT_DATE_YEARS_AFTER = "DXMON_REPORT_DATE_YEARS_AFTER", 2
REPORT_DATE_DAYS_AHEAD_ENV, REPORT_DATE_DAYS_AHEAD = "DXMON_REPORT_DATE_DAYS_AHEAD", 1


@dataclass
class FileOutcome:
    path: str
    action: str  # accepted | rejected | unchanged | skipped | refused (a link or special file, not read)
    submission_id: str | None = None
    year: int | None = None  # the DTI's period (None for other forms)
    folder_unit_code: str | None = None
    version: int | None = None
    rows: int = 0
    rejected_rows: int = 0
    reason: str | None = None
    rule: str | None = None
    period: str | None = None  # the folder's period key ('2023', '2025-Q3', '2025-08')


@dataclass
class IntakeSummary:
    inbox: str
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(f.action == action for f in self.files)

    @property
    def new_submission_ids(self) -> list[str]:
        return [f.submission_id for f in self.files if f.action in ("accepted", "rejected") and f.submission_id]

    @property
    def years(self) -> list[int]:
        return sorted({f.year for f in self.files if f.action in ("accepted", "rejected") and f.year})

    @property
    def periods(self) -> list[str]:
        """The folder periods with a new submission (accepted or rejected)."""
        return sorted({f.period for f in self.files if f.action in ("accepted", "rejected") and f.period})

    def as_metadata(self) -> dict:
        return {
            "files": len(self.files),
            "accepted": self.count("accepted"),
            "rejected": self.count("rejected"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "refused": self.count("refused"),
            "rows_loaded": sum(f.rows for f in self.files),
            "rows_rejected": sum(f.rejected_rows for f in self.files),
            "years": self.years,
            "periods": self.periods,
        }


@dataclass
class Header:
    """What a form's header check found: the fields every form has, and the form's own columns of
    its submissions table (`submission_fields`: DTI report_year, methodology_version; KPI
    report_period, catalogue_version, ...)."""

    unit_code: str
    level: str
    report_date: dt.date
    submission_fields: dict = field(default_factory=dict)


class ReportForm:
    """One kind of agency report: its folders, tables, layout and rules. Subclasses define the
    attributes and the four methods; the engine calls nothing else."""

    name: str  # 'dti' / 'kpi': the submission id's prefix
    input_kind: str  # its folder of the quarantine
    source_type: str  # its source type in the raw archive's index
    inbox_name: str  # how reasons name its inbox ('inbox', 'kpi_inbox')
    folder_pattern: str  # where a file must sit ('inbox/<year>/<unit_code>/')
    submissions_table: str
    values_table: str
    period_column: str  # the submissions' column holding the folder period ('year', 'period')
    layout: ReportLayout
    # rules of a report filed in the wrong place: still read under its own place, so its rows can be traced
    misplaced_rules: tuple[str, ...] = ()
    # the header cell naming whose report it is (kept on a rejected submission): 'issuer_code' for a task list
    header_unit_field: str = "unit_code"

    def folder_period(self, name: str):
        """The period a folder name stands for, or None when it is not one."""
        raise NotImplementedError

    def period_key(self, period) -> str:
        """The period as text: in submission ids, quarantine folders and the raw archive's inbox paths."""
        return str(period)

    def period_value(self, period):
        """The period as stored in the tables' `period_column`."""
        return period

    def archive_period(self, period) -> str:
        raise NotImplementedError

    def submission_period_fields(self, period) -> dict:
        """The submissions table's columns for the folder period ({'year': 2023}, {'period': ...})."""
        return {self.period_column: self.period_value(period)}

    def check_header(self, report: ReportFile, period, folder_unit: str, received: dt.date) -> Header:
        raise NotImplementedError

    def own_place(self, report: ReportFile) -> tuple:
        """(period, unit) the file's header names (for a misplaced report); raises CellError."""
        raise NotImplementedError

    def value_rows(self, report: ReportFile, header: Header) -> list[dict]:
        raise NotImplementedError

    def value_row_fields(self, period, header: Header) -> dict:
        """The values table's columns every row of a submission shares."""
        return {self.period_column: self.period_value(period), "level": header.level, "unit_code": header.unit_code}



class PeriodKeyedForm(ReportForm):
    """A form whose folder periods are period objects with `key`, `start` and `end` (the KPI
    report's quarters, months and years; the task status report's months,
    `ingestion/kpi/reports/periods.py::KpiPeriod`): stored by key in `period_column`, with the
    period's first and last day."""

    def period_key(self, period) -> str:
        return period.key

    def period_value(self, period) -> str:
        return period.key

    def submission_period_fields(self, period) -> dict:
        return {self.period_column: period.key, "period_start": period.start, "period_end": period.end}

def report_date_window_between(start: dt.date, end: dt.date, received: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest, latest) plausible report date of a report on the period [start, end] received on
    `received`: the period's first day to 31 December of the period's last year +
    `DXMON_REPORT_DATE_YEARS_AFTER` (2), and never more than `DXMON_REPORT_DATE_DAYS_AHEAD` (1) days
    after receipt (a report is not dated in the future)."""
    years_after = env_int(REPORT_DATE_YEARS_AFTER_ENV, REPORT_DATE_YEARS_AFTER)
    days_ahead = env_int(REPORT_DATE_DAYS_AHEAD_ENV, REPORT_DATE_DAYS_AHEAD)
    latest = min(dt.date(min(end.year + years_after, 9999), 12, 31), received + dt.timedelta(days=days_ahead))
    return start, latest


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{name}={raw!r}: not a whole number of 0 or more")
    return int(raw)


# --------------------------------------------------------------------------------------------
# Inbox walking

def _place(form: ReportForm, inbox: Path, path: Path):
    """(period, folder unit, parts) of an inbox entry: inbox/<period>/<unit>/<file>."""
    parts = path.relative_to(inbox).parts
    period = form.folder_period(parts[0]) if len(parts) >= 2 else None
    unit = parts[1] if len(parts) == 3 and period is not None else None
    return period, unit, parts


def scan_inbox(form: ReportForm, inbox: Path):
    """(files, refused). Files: (period, folder unit, path) of every regular file, in order of
    receipt (modification time, then name); period and unit are None outside
    inbox/<period>/<unit>/. Refused: (period, unit, path, why) of every entry that is not a regular
    file inside the inbox (a symbolic link to a file or a folder, a FIFO, a device), never
    followed. Hidden files, Excel lock files (~$...) and .reason.json are ignored."""
    inbox = Path(inbox)
    files, refused = [], []
    if not inbox.is_dir():
        return files, refused
    good, bad = scan_folder(inbox, recursive=True)
    for path in good:
        if path.name.endswith(quarantine.REASON_SUFFIX):
            continue
        period, unit, parts = _place(form, inbox, path)
        files.append((period if len(parts) == 3 else None, unit, path))
    for path, why in bad:
        period, unit, _ = _place(form, inbox, path)
        refused.append((period, unit, path, why))
    files.sort(key=lambda t: (os.lstat(t[2]).st_mtime, str(t[2])))
    return files, refused


# --------------------------------------------------------------------------------------------
# One file

def sha256_regular(path: Path) -> tuple[str, int]:
    """(sha256, size) of a regular file, opened without following a link (`open_regular`)."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(path) as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _next_version(con, form: ReportForm, period, folder_unit: str) -> int:
    return con.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {form.submissions_table} "
                       f"WHERE {form.period_column} = ? AND folder_unit_code = ?", [period, folder_unit]).fetchone()[0]


def _header_unit(report: ReportFile | None, field: str = "unit_code") -> str | None:
    if report is None:
        return None
    try:
        return parse_unit_code(report.header.get(field))
    except CellError:
        return None


def ingest_file(form: ReportForm, con: duckdb.DuckDBPyConnection, path: Path, period, folder_unit: str,
                archive_root: Path | None = None) -> FileOutcome:
    """Take one file submitted into <inbox>/<period>/<folder_unit>/ (idempotent by content). The
    file is hashed without following links and read from its raw-archive copy (sha256 checked)."""
    path = Path(path)
    key = form.period_key(period)

    def outcome(action: str, **kwargs) -> FileOutcome:
        return FileOutcome(str(path), action, year=period if form.period_column == "year" else None,
                           folder_unit_code=folder_unit, period=key, **kwargs)

    try:
        sha, size = sha256_regular(path)
    except InputRejected as exc:
        return outcome("refused", reason=exc.reason, rule=exc.rule)
    submission_id = f"{form.name}:{key}:{folder_unit}:{sha[:16]}"
    if con.execute(f"SELECT 1 FROM {form.submissions_table} WHERE submission_id = ?", [submission_id]).fetchone():
        return outcome("unchanged", submission_id=submission_id)
    received_at = dt.datetime.now()
    try:
        archived = archive_input(con, path, sha, form.archive_period(period), extract_kind=None,
                                 source_type=form.source_type, original_location=str(path),
                                 inbox_path=f"{key}/{path.parent.name}/{path.name}", root=archive_root).path
    except ArchiveIntegrityError:
        # replaced (or swapped for a link) between hashing and copying: taken on the next run
        return outcome("skipped", reason=f"file changed while it was being taken; it is taken again on the next "
                                         f"run ({location(path.name)})")
    fmt = path.suffix.lower().lstrip(".")
    report, header, rows = None, None, []
    rule = reason = None
    try:
        try:
            report = read_report(archived, name=path.name, layout=form.layout)
        except ReportFileError as exc:
            raise FileRejection(exc.rule, exc.reason) from None
        except Exception as exc:  # noqa: BLE001 - one odd file must not block the inbox
            raise FileRejection("unreadable_file", f"cannot be read as a report ({type(exc).__name__}: "
                                                   f"{shown(exc, 200)}); send the template again "
                                                   f"({location(path.name)})") from None
        try:
            header = form.check_header(report, period, folder_unit, received_at.date())
        except FileRejection as exc:
            # A foreign or misfiled report is still read, so its rows can be traced.
            if exc.rule in form.misplaced_rules:
                try:
                    header = form.check_header(report, *form.own_place(report), received_at.date())
                except (FileRejection, CellError):
                    header = None
            raise
        rows = form.value_rows(report, header)
    except FileRejection as exc:
        rule, reason = exc.rule, exc.reason
        if header is not None and not rows:
            rows = form.value_rows(report, header)
    status = "rejected" if rule else "accepted"
    rejected = sum(r["rejection_rule"] is not None for r in rows)
    # reconciliation: every data row read is stored, accepted or rejected (None: not read/kept)
    counts = (len(rows), len(rows) - rejected, rejected) if header is not None else (None, None, None)
    con.execute("BEGIN TRANSACTION")
    try:
        version = _next_version(con, form, form.period_value(period), folder_unit)
        submission = {
            **form.submission_period_fields(period),
            **(header.submission_fields if header else {}),
            "submission_id": submission_id, "folder_unit_code": folder_unit,
            "unit_code": header.unit_code if header else _header_unit(report, form.header_unit_field),
            "level": header.level if header else None, "report_date": header.report_date if header else None,
            "version": version, "received_at": received_at, "inbox_path": str(path), "archived_path": str(archived),
            "sha256": sha, "size_bytes": size, "file_format": fmt or None,
            "file_encoding": report.file_encoding if report else None, "status": status,
            "rejection_rule": rule, "rejection_reason": reason,
            "rows_read": counts[0], "rows_accepted": counts[1], "rows_rejected": counts[2],
        }
        insert_rows(con, form.submissions_table, [submission])
        if rows:
            shared = {**form.value_row_fields(period, header), "submission_id": submission_id}
            insert_rows(con, form.values_table, [{**r, **shared} for r in rows])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if rule:
        quarantine.quarantine_file(con, path, input_kind=form.input_kind, period=key,
                                   folder=(key, str(folder_unit)), sha256=sha, rule=rule, reason=reason,
                                   details={"submission_id": submission_id})
    log.info("%s %s v%d: %d rows (%d rejected)", status, path, version, len(rows), rejected)
    return outcome(status, submission_id=submission_id, version=version, rows=len(rows), rejected_rows=rejected,
                   reason=reason, rule=rule)


def ingest_inbox(form: ReportForm, con: duckdb.DuckDBPyConnection, inbox: Path,
                 archive_dir: Path | None = None) -> IntakeSummary:
    """Take every new file of `inbox` for `form` (see the module docstring)."""
    prepare_warehouse(con)
    inbox = Path(inbox).resolve()
    summary = IntakeSummary(str(inbox))
    files, refused = scan_inbox(form, inbox)
    for period, unit, path, why in refused:
        key = form.period_key(period) if period is not None else None
        summary.files.append(FileOutcome(str(path), "refused", year=period if form.period_column == "year" else None,
                                         folder_unit_code=unit, reason=why.reason, rule=why.rule, period=key))
        if period is not None:
            folder = tuple(str(p) for p in (key, unit) if p is not None)
            quarantine.record_refused(con, path, input_kind=form.input_kind, period=key, folder=folder,
                                      rule=why.rule, reason=why.reason)
        else:
            log.warning("refused %s (%s): %s", path, why.rule, why.reason)
    for period, unit, path in files:
        if period is None:
            summary.files.append(FileOutcome(
                str(path), "skipped",
                reason=f"not in a folder {form.folder_pattern}; move it there to submit it ({location(path.name)})"))
            log.warning("skipped %s: not in %s", path, form.folder_pattern)
            continue
        try:
            unit = parse_unit_code(unit)
        except CellError:
            pass
        summary.files.append(ingest_file(form, con, path, period, unit, archive_dir))
    return summary
