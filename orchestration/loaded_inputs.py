"""What the sensors compare: the input files present now (name and sha256) against what the
ingestion log says was taken in (`raw.ingested_sources`, `raw.dti_submissions`, `raw.kpi_submissions`,
`raw.task_plan_submissions`, `raw.task_report_submissions`, `quarantine.rejected_files`).

A sensor's cursor is only a cache of sha256 by (size, mtime) so that an unchanged file is not
hashed again at every tick; it decides nothing. So a daemon started on a warehouse that `make run`
just built launches nothing, and a file triggers a run only when its bytes are not in the log:
new, or changed since it was loaded, in that month (or DTI year) only.

The log is read under the warehouse's shared lock (orchestration/warehouse_lock.py): while a run
writes, the sensor skips its tick instead of failing on DuckDB's lock (files that land meanwhile
are seen at the next tick). Entries that are not regular files (a symbolic link, a FIFO) are
never opened: their identity is what the quarantine recorded for them
(`ingestion.core.quarantine.refused_identity`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.files import sha256_of
from ingestion.core.input_files import scan_folder
from ingestion.core.quarantine import refused_identity
from ingestion.core.warehouse import connect, table_exists, warehouse_path
from ingestion.reports.cell_parsing import CellError, parse_unit_code
from orchestration.warehouse_lock import READ, WarehouseBusy, warehouse_lock


@dataclass(frozen=True)
class InputFile:
    rel: str         # path relative to its root (landing: 'YYYY-MM/name'; inbox: 'year/unit/name')
    path: Path       # where it is (never resolved: a link stays the link)
    sha256: str      # of its bytes; for an entry refused unread, its refused identity
    regular: bool    # False: a link or special file, refused by the loaders without being read
    signature: str   # 'size:mtime_ns' (the cache key of the sha256)


def scan_inputs(folder: Path, root: Path, cache: dict, recursive: bool = False) -> list[InputFile]:
    """Every entry of `folder` a loader would consider, with its sha256 (from `cache`, a
    {rel: [signature, sha256]} dict updated in place, when size and mtime are unchanged)."""
    good, refused = scan_folder(folder, recursive=recursive)
    found = []
    for path, regular in [(p, True) for p in good] + [(p, False) for p, _ in refused]:
        rel = str(path.relative_to(root))
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        signature = f"{info.st_size}:{info.st_mtime_ns}:{int(regular)}"
        cached = cache.get(rel)
        if cached and cached[0] == signature:
            sha = cached[1]
        else:
            try:
                sha = sha256_of(path) if regular else refused_identity(path)
            except OSError:
                continue  # vanished or unreadable between the listing and the read: next tick
            cache[rel] = [signature, sha]
        found.append(InputFile(rel, path, sha, regular, signature))
    return found


def load_cache(cursor: str | None) -> dict:
    try:
        cache = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return {k: v for k, v in cache.items() if isinstance(v, list) and len(v) == 2} if isinstance(cache, dict) else {}


def dump_cache(cache: dict, present: list[InputFile]) -> str:
    keep = {f.rel for f in present}
    return json.dumps({k: v for k, v in cache.items() if k in keep}, sort_keys=True)


def folder_unit(name: str) -> str:
    """An inbox folder's unit code as the intake reads it ('1' is '01', 'btc' is 'BTC')."""
    try:
        return parse_unit_code(name)
    except CellError:
        return name


@dataclass
class IngestionLog:
    """The facts of the ingestion log the sensors compare with."""

    landing_current: set[tuple[str, str]]      # (period_month 'YYYY-MM', sha256) of current file sources
    dti_submitted: set[tuple[int, str, str]]   # (year, folder unit as the intake reads it, sha256) received
    quarantined: set[tuple[str, str, str]]     # (input_kind, original_location, sha256)
    kpi_submitted: set[tuple[str, str, str]] = frozenset()  # (period folder, folder unit, sha256) received
    # task lists (year folder, issuer folder) and status reports (month folder, unit folder), with sha256
    task_plans_submitted: set[tuple[str, str, str]] = frozenset()
    task_reports_submitted: set[tuple[str, str, str]] = frozenset()

    def landing_known(self, month: str, f: InputFile) -> bool:
        return (month, f.sha256) in self.landing_current or ("landing", str(f.path), f.sha256) in self.quarantined

    def dti_known(self, year: int, unit: str, f: InputFile) -> bool:
        return ((year, folder_unit(unit), f.sha256) in self.dti_submitted
                or ("dti_reports", str(f.path), f.sha256) in self.quarantined)


    def kpi_known(self, period: str, unit: str, f: InputFile) -> bool:
        return ((period, folder_unit(unit), f.sha256) in self.kpi_submitted
                or ("kpi_reports", str(f.path), f.sha256) in self.quarantined)

    def task_plan_known(self, year: str, issuer: str, f: InputFile) -> bool:
        return ((str(year), folder_unit(issuer), f.sha256) in self.task_plans_submitted
                or ("task_plans", str(f.path), f.sha256) in self.quarantined)

    def task_report_known(self, month: str, unit: str, f: InputFile) -> bool:
        return ((month, folder_unit(unit), f.sha256) in self.task_reports_submitted
                or ("task_reports", str(f.path), f.sha256) in self.quarantined)


def read_ingestion_log(warehouse: Path | None = None) -> IngestionLog:
    """The log, read-only under the shared lock; empty for a warehouse not built yet. Raises
    WarehouseBusy while a writer holds the warehouse."""
    warehouse = Path(warehouse) if warehouse else warehouse_path()
    log = IngestionLog(set(), set(), set())
    with warehouse_lock(READ, warehouse=warehouse, wait=0, command="sensor: read the ingestion log"):
        if not warehouse.is_file():
            return log
        with connect(warehouse, read_only=True) as con:
            if table_exists(con, "raw.ingested_sources"):
                log.landing_current = {tuple(r) for r in con.execute(
                    "SELECT strftime(period_month, '%Y-%m'), sha256 FROM raw.ingested_sources "
                    "WHERE source_type = 'file' AND superseded_at IS NULL").fetchall()}
            if table_exists(con, "raw.dti_submissions"):
                log.dti_submitted = {(int(y), folder_unit(str(u)), s) for y, u, s in con.execute(
                    "SELECT year, folder_unit_code, sha256 FROM raw.dti_submissions").fetchall()}
            if table_exists(con, "raw.kpi_submissions"):
                log.kpi_submitted = {(str(p), folder_unit(str(u)), s) for p, u, s in con.execute(
                    "SELECT period, folder_unit_code, sha256 FROM raw.kpi_submissions").fetchall()}
            if table_exists(con, "raw.task_plan_submissions"):
                log.task_plans_submitted = {(str(y), folder_unit(str(u)), s) for y, u, s in con.execute(
                    "SELECT year, folder_unit_code, sha256 FROM raw.task_plan_submissions").fetchall()}
            if table_exists(con, "raw.task_report_submissions"):
                log.task_reports_submitted = {(str(p), folder_unit(str(u)), s) for p, u, s in con.execute(
                    "SELECT period, folder_unit_code, sha256 FROM raw.task_report_submissions").fetchall()}
            if table_exists(con, "quarantine.rejected_files"):
                log.quarantined = {tuple(r) for r in con.execute(
                    "SELECT input_kind, original_location, sha256 FROM quarantine.rejected_files "
                    "WHERE original_location IS NOT NULL").fetchall()}
    return log


def read_ingestion_log_at_tick() -> tuple[IngestionLog | None, str | None]:
    """(log, None), or (None, why the tick is skipped) while a writer holds the warehouse: the
    sensors read the log at the next tick (files that land meanwhile are seen then)."""
    try:
        return read_ingestion_log(), None
    except WarehouseBusy as exc:
        return None, f"the warehouse is being written, the ingestion log is read at the next tick: {exc}"
