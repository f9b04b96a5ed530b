"""The immutable raw archive: every raw input stored once, by content, whatever its kind:
landing files and portal API pages (by month), agencies' DTI report files (by year).

    data/archive/raw/objects/<sha256[:2]>/<sha256><suffix>   the bytes, read-only (0444)
    data/archive/raw/index/<YYYY-MM>.jsonl                     append-only: which object arrived
    data/archive/raw/index/dti-<YYYY>.jsonl                    as which input of which period

An object is written once (to a temporary name, then renamed) and never rewritten: the same
bytes under another name or in another period are one object. `verify_archive` rechecks every
object's hash and mode. A period's index is enough to rebuild it without anything else
(`restore_month`): landing files go back into a fresh landing folder, pages back into a portal
archive with a complete manifest, DTI reports back into the inbox (with their time of receipt,
which orders their versions), and the ordinary pipeline loads them. `meta.raw_archive` lists the
objects for queries (sha256 joins `raw.ingested_sources` and `raw.dti_submissions`).

An input is copied in without following a link (`copy_regular`, O_NOFOLLOW): a symbolic link or a
special file is refused (`InputRejected`), never archived, so nothing outside an input folder
enters the archive through a link.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.core.files import sha256_of
from ingestion.core.input_files import copy_regular
from ingestion.core.warehouse import data_dir

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def raw_archive_dir() -> Path:
    return Path(os.environ.get("DXMON_RAW_ARCHIVE_DIR", data_dir() / "archive" / "raw")).resolve()


def _suffix(name: str) -> str:
    for suffix in (".csv.gz", ".json.gz", ".csv", ".parquet", ".xlsx", ".xlsm", ".json", ".gz"):
        if name.lower().endswith(suffix):
            return suffix
    return Path(name).suffix


def object_path(sha256: str, suffix: str, root: Path | None = None) -> Path:
    return (root or raw_archive_dir()) / "objects" / sha256[:2] / f"{sha256}{suffix}"


MONTH_KEY = re.compile(r"^\d{4}-\d{2}$")
# a period of another index: a DTI year (dti-2023), a KPI report period (kpi-2025-q3, kpi-2025-08, kpi-2025)
OTHER_KEY = re.compile(r"^[a-z]+-\d{4}(?:-(?:q[1-4]|\d{2}))?$")


def period_key(period: str) -> str:
    """The index a period's inputs are recorded in: 'YYYY-MM' for a month (from YYYY-MM or
    YYYY-MM-DD), 'dti-YYYY' for a DTI year, 'kpi-<period>' for a KPI report period."""
    if MONTH_KEY.match(period[:7]) and (len(period) == 7 or period[7] == "-"):
        return period[:7]
    if OTHER_KEY.match(period):
        return period
    raise ValueError(f"{period!r} is not an archive period (YYYY-MM, or dti-YYYY for a DTI year)")


def dti_period(year: int) -> str:
    return f"dti-{int(year)}"


def kpi_period(period: str) -> str:
    """The archive period of a KPI report period: 'kpi-2025-q3', 'kpi-2025-08', 'kpi-2025'."""
    return f"kpi-{str(period).lower()}"


def task_period(period: str) -> str:
    """The archive period of a task list's year or a status report's month: 'tasks-2025', 'tasks-2025-08'."""
    return f"tasks-{str(period).lower()}"


def index_path(period: str, root: Path | None = None) -> Path:
    return (root or raw_archive_dir()) / "index" / f"{period_key(period)}.jsonl"


class ArchiveIntegrityError(RuntimeError):
    """An archived object whose bytes no longer match its name."""


@dataclass(frozen=True)
class ArchivedInput:
    sha256: str
    path: Path
    is_new_object: bool


def read_index(period: str, root: Path | None = None) -> list[dict]:
    path = index_path(period, root)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def archive_input(con: duckdb.DuckDBPyConnection | None, path: Path, sha256: str, period: str, *,
                  extract_kind: str | None, source_type: str, original_location: str,
                  page: int | None = None, inbox_path: str | None = None,
                  root: Path | None = None) -> ArchivedInput:
    """Store `path` (whose sha256 the caller computed) once, and record that it arrived as an
    input of `period` (a month, or `dti_period(year)`). `source_type`: 'file' (landing),
    'api_page' or 'dti_report' (with `inbox_path`, its place under the inbox:
    <year>/<unit>/<name>). Idempotent: the same input again adds nothing."""
    root = root or raw_archive_dir()
    key = period_key(period)
    target = object_path(sha256, _suffix(path.name), root)
    is_new = not target.exists()
    if is_new:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        copy_regular(path, tmp)  # never through a link: the input itself, or InputRejected
        if sha256_of(tmp) != sha256:  # the file changed while we copied it
            tmp.unlink()
            raise ArchiveIntegrityError(f"{path}: content changed while archiving; load it again")
        os.chmod(tmp, READ_ONLY)
        os.replace(tmp, target)
    now = dt.datetime.now()
    record = {
        "sha256": sha256, "object": str(target.relative_to(root)), "size_bytes": target.stat().st_size,
        "period_month": key if MONTH_KEY.match(key) else None, "extract_kind": extract_kind,
        "source_type": source_type, "original_name": Path(path).name, "original_location": original_location,
        "page": page,
    }
    if key != record["period_month"]:
        record["period"] = key
    if inbox_path is not None:  # where it goes back on a restore, and when it arrived
        record.update(inbox_path=inbox_path, received_mtime=Path(path).stat().st_mtime)
    seen = {(r["sha256"], r["original_location"], r["original_name"]) for r in read_index(key, root)}
    if (sha256, original_location, record["original_name"]) not in seen:
        index = index_path(key, root)
        index.parent.mkdir(parents=True, exist_ok=True)
        with open(index, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**record, "archived_at": now.isoformat(timespec="seconds")}, ensure_ascii=False) + "\n")
    if con is not None:
        con.execute(
            "INSERT INTO meta.raw_archive VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [sha256, record["size_bytes"], str(target), now],
        )
    return ArchivedInput(sha256, target, is_new)


def verify_archive(root: Path | None = None) -> list[str]:
    """Problems found: objects whose content does not match their name, or that are writable."""
    root = root or raw_archive_dir()
    problems = []
    for obj in sorted((root / "objects").glob("*/*")):
        if obj.name.startswith("."):
            continue
        expected = obj.name.split(".")[0]
        if sha256_of(obj) != expected:
            problems.append(f"{obj}: content does not match its sha256 name")
        if obj.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            problems.append(f"{obj}: writable (archive objects are read-only)")
    return problems


def archived_periods(root: Path | None = None) -> list[str]:
    """Every period with an index: months (YYYY-MM) and DTI years (dti-YYYY)."""
    root = root or raw_archive_dir()
    return sorted(p.stem for p in (root / "index").glob("*.jsonl"))


def archived_months(root: Path | None = None) -> list[str]:
    """The months (YYYY-MM) with an index: the service index's periods."""
    return [p for p in archived_periods(root) if MONTH_KEY.match(p)]


def restore_month(month: str, data_root: Path, root: Path | None = None) -> dict:
    """Put the archived inputs of a period back where the pipeline reads them, under `data_root`:
    files into `landing/<month>/` (their last version per original name), API pages into
    `archive/portal/<month>/<kind>/` with a complete manifest, DTI reports of `dti-YYYY` into
    `inbox/<year>/<unit>/` (the last version per place, with its time of receipt). Returns counts."""
    root = root or raw_archive_dir()
    key = period_key(month)
    latest: dict[tuple, dict] = {}
    for rec in read_index(key, root):
        # the last version of each input wins, as in the loader
        place = rec["original_name"] if rec["source_type"] == "file" else rec.get("inbox_path")
        latest[(rec["source_type"], rec["extract_kind"], rec.get("page"), place)] = rec
    files = pages = reports = 0
    manifests: dict[str, list[dict]] = {}
    for rec in latest.values():
        obj = root / rec["object"]
        if sha256_of(obj) != rec["sha256"]:
            raise ArchiveIntegrityError(f"{obj}: content does not match sha256 {rec['sha256']}")
        if rec["source_type"] == "file":
            target = data_root / "landing" / key / rec["original_name"]
            files += 1
        elif rec["source_type"] == "dti_report":
            target = data_root / "inbox" / rec["inbox_path"]
            reports += 1
        elif rec["source_type"] == "kpi_report":
            target = data_root / "kpi_inbox" / rec["inbox_path"]
            reports += 1
        else:
            target = data_root / "archive" / "portal" / month[:7] / rec["extract_kind"] / f"page-{rec['page']:05d}.json.gz"
            manifests.setdefault(rec["extract_kind"], []).append(
                {"page": rec["page"], "file": target.name, "url": rec["original_location"], "sha256": rec["sha256"]})
            pages += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj, target)
        os.chmod(target, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        if rec.get("received_mtime") is not None:  # intake versions reports in order of receipt
            os.utime(target, (rec["received_mtime"], rec["received_mtime"]))
    for kind, entries in manifests.items():
        entries.sort(key=lambda e: e["page"])
        folder = data_root / "archive" / "portal" / month[:7] / kind
        (folder / "manifest.json").write_text(json.dumps(
            {"kind": kind, "month": month[:7], "complete": True, "restored_from_raw_archive": True,
             "pages": entries}, indent=2), encoding="utf-8")
    return {"files": files, "pages": pages, "reports": reports}
