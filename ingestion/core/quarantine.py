"""The one quarantine for every input kind that cannot be read: landing files, DTI report files
and portal pages (docs/architecture.md, "Quarantine").

    data/quarantine/<input kind>/<its folder>/<time>-<name>              a copy of the bytes
    data/quarantine/<input kind>/<its folder>/<time>-<name>.reason.json  why, in one format
    quarantine.rejected_files                                            one row per copy

`<its folder>` is where the input sat under its own root: `landing/<YYYY-MM>/`,
`inbox/<year>/<unit>/`, `kpi_inbox/<period>/<unit>/`, `<portal archive>/<YYYY-MM>/<kind>/`. The reason file holds
`input_kind, period, original_location, location, sha256, size_bytes, rule, reason,
quarantined_at` and `details` (per kind: the submission id, the page and URL).

The quarantine keeps a **copy**; the original is never moved or deleted, and nothing is followed:
`quarantine_file` copies the regular file it was given, opened with `O_NOFOLLOW`
(`ingestion/core/input_files.py`); an entry that is not a regular file (a symbolic link, a FIFO)
is never opened and goes through `record_refused` (a reason file and a row, no copy), which
`quarantine_file` falls back to by itself when it is handed one. A landing or inbox file
is the sender's record of what they sent (an agency's inbox folder is its submission history),
and moving it makes a submission look lost. Left in place, it is not taken again as new: its
sha256 is recorded (quarantine.rejected_files for a landing file, raw.dti_submissions for a
report), so the same bytes are a no-op until the sender replaces the file. The one file the
pipeline removes after quarantining it is a portal page slot, which is the client's own copy of
an HTTP body: it is emptied so the page can be fetched again.

Nothing here decides whether an input is bad; the loaders do, and call `quarantine_file`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.core.input_files import InputRejected, copy_regular
from ingestion.core.warehouse import data_dir

log = logging.getLogger(__name__)

# the input kinds, each a folder of the quarantine
LANDING, DTI_REPORTS, PORTAL_PAGES, KPI_REPORTS = "landing", "dti_reports", "portal_pages", "kpi_reports"
# files of published figures loaded by hand (ingestion/kpi/statistics.py, ingestion/kpi/international.py)
KPI_STATISTICS, INTERNATIONAL_INDICES = "kpi_statistics", "international_indices"
# task tracking's two agency forms (ingestion/tasks/): the task lists and the status reports
TASK_PLANS, TASK_REPORTS = "task_plans", "task_reports"
INPUT_KINDS = (LANDING, DTI_REPORTS, PORTAL_PAGES, KPI_REPORTS, KPI_STATISTICS, INTERNATIONAL_INDICES, TASK_PLANS,
               TASK_REPORTS)
REASON_SUFFIX = ".reason.json"
ROW_COLUMNS = ("period_month", "location", "original_location", "sha256", "reason", "quarantined_at",
               "input_kind", "rule")


def quarantine_root() -> Path:
    return data_dir() / "quarantine"


def quarantine_dir(input_kind: str) -> Path:
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {input_kind!r}; expected one of {', '.join(INPUT_KINDS)}")
    return quarantine_root() / input_kind


@dataclass(frozen=True)
class QuarantinedFile:
    location: Path  # the copy
    reason_path: Path
    record: dict  # what the reason file holds


def period_month(period: str) -> dt.date:
    """The row's period_month: a month's first day; a year (YYYY): its 1 January; a quarter
    (YYYY-Qn, a KPI report period): its first day."""
    period = str(period)
    if len(period) == 7 and period[4:6].upper() == "-Q" and period[6] in "1234":
        return dt.date(int(period[:4]), 3 * int(period[6]) - 2, 1)
    return dt.date(int(period), 1, 1) if len(period) == 4 else dt.date.fromisoformat(period[:7] + "-01")


def quarantine_file(con: duckdb.DuckDBPyConnection | None, path: Path, *, input_kind: str, period: str,
                    folder: tuple[str, ...], sha256: str, rule: str, reason: str,
                    original_location: str | None = None, details: dict | None = None) -> QuarantinedFile:
    """Copy `path` into the quarantine of `input_kind` under `folder` with its reason file, and record
    it in `quarantine.rejected_files` (when `con` is None, e.g. the portal client that has no
    warehouse open, `record_quarantined` records it later). The original stays where it is.

    Only a regular file is copied, opened without following a link: handed a link or a special
    file (or a file swapped for one), it records the entry with `record_refused` instead and copies
    nothing."""
    path = Path(path)
    target_dir = quarantine_dir(input_kind).joinpath(*folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    target = target_dir / f"{now:%Y%m%dT%H%M%S%f}-{path.name}"
    try:
        copy_regular(path, target)
    except InputRejected as refused:
        target.unlink(missing_ok=True)
        return record_refused(con, path, input_kind=input_kind, period=period, folder=folder,
                              rule=refused.rule, reason=f"{refused.reason} (instead of {rule}: {reason})",
                              always=True)
    record = {
        "input_kind": input_kind, "period": str(period), "original_location": original_location or str(path),
        "location": str(target), "sha256": sha256, "size_bytes": target.stat().st_size, "rule": rule,
        "reason": reason, "quarantined_at": now.isoformat(), "details": details or {},
    }
    reason_path = target.with_name(target.name + REASON_SUFFIX)
    reason_path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    if con is not None:
        _record_row(con, record)
    log.warning("quarantined %s (%s): %s", record["original_location"], rule, reason)
    return QuarantinedFile(target, reason_path, record)


def refused_identity(path: Path) -> str:
    """A stable id for an entry that is refused without being read (a symbolic link, a FIFO): the
    sha256 of what the entry is (its kind and, for a link, the text of the link), never of its target.
    A regular file refused unread (too large to read) is identified by its size and modification time."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return hashlib.sha256(b"missing").hexdigest()
    if stat_module.S_ISREG(info.st_mode):
        text = f"{stat_module.filemode(info.st_mode)}:{info.st_size}:{info.st_mtime_ns}"
    else:
        text = f"{stat_module.filemode(info.st_mode)}:{os.readlink(path) if os.path.islink(path) else ''}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def record_refused(con: duckdb.DuckDBPyConnection | None, path: Path, *, input_kind: str, period: str,
                   folder: tuple[str, ...], rule: str, reason: str,
                   always: bool = False) -> QuarantinedFile | None:
    """Record an entry refused without being read (a symbolic link, a special file): a reason file in
    the quarantine and a row in `quarantine.rejected_files`, **no copy** (nothing behind a link or a
    FIFO is opened, copied or moved). `location` is the reason file. The same entry again (same
    place, same identity) is a no-op and returns None (`always` records it again regardless)."""
    identity = refused_identity(path)
    if not always and con is not None and quarantined_before(con, input_kind, str(path), identity):
        return None
    target_dir = quarantine_dir(input_kind).joinpath(*folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    reason_path = target_dir / f"{now:%Y%m%dT%H%M%S%f}-{path.name}{REASON_SUFFIX}"
    record = {
        "input_kind": input_kind, "period": str(period), "original_location": str(path),
        "location": str(reason_path), "sha256": identity, "size_bytes": 0, "rule": rule,
        "reason": reason, "quarantined_at": now.isoformat(), "details": {"copied": False},
    }
    reason_path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    if con is not None:
        _record_row(con, record)
    log.warning("refused %s (%s): %s", path, rule, reason)
    return QuarantinedFile(reason_path, reason_path, record)


def _record_row(con: duckdb.DuckDBPyConnection, record: dict) -> None:
    if con.execute("SELECT 1 FROM quarantine.rejected_files WHERE location = ?", [record["location"]]).fetchone():
        return
    con.execute(
        f"INSERT INTO quarantine.rejected_files ({', '.join(ROW_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [period_month(record["period"]), record["location"], record["original_location"], record["sha256"],
         record["reason"], dt.datetime.fromisoformat(record["quarantined_at"]), record["input_kind"], record["rule"]],
    )


def record_quarantined(con: duckdb.DuckDBPyConnection, input_kind: str, *folder: str) -> int:
    """Record in `quarantine.rejected_files` every reason file under the quarantine of
    `input_kind`/`folder` that has no row yet; the number recorded."""
    root = quarantine_dir(input_kind).joinpath(*folder)
    if not root.is_dir():
        return 0
    known = {r[0] for r in con.execute("SELECT location FROM quarantine.rejected_files WHERE input_kind = ?",
                                       [input_kind]).fetchall()}
    added = 0
    for reason_path in sorted(root.rglob(f"*{REASON_SUFFIX}")):
        record = json.loads(reason_path.read_text(encoding="utf-8"))
        if record.get("location") not in known:
            _record_row(con, record)
            added += 1
    return added


def quarantined_before(con: duckdb.DuckDBPyConnection, input_kind: str, original_location: str,
                       sha256: str) -> tuple[str, str] | None:
    """(location of the copy, reason) when these bytes from this place were quarantined already."""
    return con.execute(
        "SELECT location, reason FROM quarantine.rejected_files WHERE input_kind = ? AND original_location = ? "
        "AND sha256 = ? ORDER BY quarantined_at LIMIT 1", [input_kind, original_location, sha256]).fetchone()


def record_unstored(con: duckdb.DuckDBPyConnection | None, name: str, *, input_kind: str, period: str,
                    folder: tuple[str, ...], sha256: str, size_bytes: int, rule: str, reason: str,
                    original_location: str, details: dict | None = None) -> QuarantinedFile:
    """Record an input rejected before it was kept whole, so there is nothing to copy (a portal page
    body cut off at its size limit, or one that carries the client's credential and must not be
    stored): a reason file named after `name` and a row in `quarantine.rejected_files` (later, by
    `record_quarantined`, when `con` is None), **no copy**. `location` is the reason file."""
    target_dir = quarantine_dir(input_kind).joinpath(*folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    reason_path = target_dir / f"{now:%Y%m%dT%H%M%S%f}-{name}{REASON_SUFFIX}"
    record = {
        "input_kind": input_kind, "period": str(period), "original_location": original_location,
        "location": str(reason_path), "sha256": sha256, "size_bytes": size_bytes, "rule": rule,
        "reason": reason, "quarantined_at": now.isoformat(), "details": {**(details or {}), "copied": False},
    }
    reason_path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    if con is not None:
        _record_row(con, record)
    log.warning("rejected %s unstored (%s): %s", original_location, rule, reason)
    return QuarantinedFile(reason_path, reason_path, record)
