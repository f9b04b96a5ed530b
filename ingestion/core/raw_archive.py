"""The immutable raw archive: every raw input (landing file or API page) stored once, by content.

    data/archive/raw/objects/<sha256[:2]>/<sha256><suffix>   the bytes, read-only (0444)
    data/archive/raw/index/<YYYY-MM>.jsonl                     append-only: which object arrived
                                                               as which input of which month

An object is written once (to a temporary name, then renamed) and never rewritten: the same
bytes under another name or in another month are one object. The month index is enough to
rebuild a period without anything else (`restore_month`): the files go back into a fresh landing
folder and the pages back into a portal archive with a complete manifest, and the ordinary
pipeline loads them. `meta.raw_archive` lists the objects for queries (sha256 joins
`raw.ingested_sources`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.core.files import sha256_of
from ingestion.core.warehouse import data_dir

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def raw_archive_dir() -> Path:
    return Path(os.environ.get("DXMON_RAW_ARCHIVE_DIR", data_dir() / "archive" / "raw")).resolve()


def _suffix(name: str) -> str:
    for suffix in (".csv.gz", ".json.gz", ".csv", ".parquet", ".xlsx", ".json", ".gz"):
        if name.lower().endswith(suffix):
            return suffix
    return Path(name).suffix


def object_path(sha256: str, suffix: str, root: Path | None = None) -> Path:
    return (root or raw_archive_dir()) / "objects" / sha256[:2] / f"{sha256}{suffix}"


def index_path(month: str, root: Path | None = None) -> Path:
    return (root or raw_archive_dir()) / "index" / f"{month[:7]}.jsonl"


class ArchiveIntegrityError(RuntimeError):
    """An archived object whose bytes no longer match its name."""


@dataclass(frozen=True)
class ArchivedInput:
    sha256: str
    path: Path
    is_new_object: bool


def read_index(month: str, root: Path | None = None) -> list[dict]:
    path = index_path(month, root)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def archive_input(con: duckdb.DuckDBPyConnection | None, path: Path, sha256: str, month: str, *,
                  extract_kind: str | None, source_type: str, original_location: str,
                  page: int | None = None, root: Path | None = None) -> ArchivedInput:
    """Store `path` (whose sha256 the caller computed) once, and record that it arrived as an
    input of `month`. Idempotent: the same input again adds nothing."""
    root = root or raw_archive_dir()
    target = object_path(sha256, _suffix(path.name), root)
    is_new = not target.exists()
    if is_new:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        if sha256_of(tmp) != sha256:  # the file changed while we copied it
            tmp.unlink()
            raise ArchiveIntegrityError(f"{path}: content changed while archiving; load it again")
        os.chmod(tmp, READ_ONLY)
        os.replace(tmp, target)
    now = dt.datetime.now()
    record = {
        "sha256": sha256, "object": str(target.relative_to(root)), "size_bytes": target.stat().st_size,
        "period_month": month[:7], "extract_kind": extract_kind, "source_type": source_type,
        "original_name": Path(path).name, "original_location": original_location, "page": page,
    }
    seen = {(r["sha256"], r["original_location"], r["original_name"]) for r in read_index(month, root)}
    if (sha256, original_location, record["original_name"]) not in seen:
        index = index_path(month, root)
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


def archived_months(root: Path | None = None) -> list[str]:
    root = root or raw_archive_dir()
    return sorted(p.stem for p in (root / "index").glob("*.jsonl"))


def restore_month(month: str, data_root: Path, root: Path | None = None) -> dict:
    """Put the archived inputs of `month` back where the pipeline reads them, under `data_root`:
    files into `landing/<month>/` (their last version per original name), API pages into
    `archive/portal/<month>/<kind>/` with a complete manifest. Returns counts."""
    root = root or raw_archive_dir()
    latest: dict[tuple, dict] = {}
    for rec in read_index(month, root):
        # the last version of each input wins, as in the loader
        latest[(rec["source_type"], rec["extract_kind"], rec.get("page"), rec["original_name"] if rec["source_type"] == "file" else None)] = rec
    files = pages = 0
    manifests: dict[str, list[dict]] = {}
    for rec in latest.values():
        obj = root / rec["object"]
        if sha256_of(obj) != rec["sha256"]:
            raise ArchiveIntegrityError(f"{obj}: content does not match sha256 {rec['sha256']}")
        if rec["source_type"] == "file":
            target = data_root / "landing" / month[:7] / rec["original_name"]
            files += 1
        else:
            target = data_root / "archive" / "portal" / month[:7] / rec["extract_kind"] / f"page-{rec['page']:05d}.json.gz"
            manifests.setdefault(rec["extract_kind"], []).append(
                {"page": rec["page"], "file": target.name, "url": rec["original_location"], "sha256": rec["sha256"]})
            pages += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj, target)
        os.chmod(target, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    for kind, entries in manifests.items():
        entries.sort(key=lambda e: e["page"])
        folder = data_root / "archive" / "portal" / month[:7] / kind
        (folder / "manifest.json").write_text(json.dumps(
            {"kind": kind, "month": month[:7], "complete": True, "restored_from_raw_archive": True,
             "pages": entries}, indent=2), encoding="utf-8")
    return {"files": files, "pages": pages}
