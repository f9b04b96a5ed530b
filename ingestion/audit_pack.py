"""The audit pack of one period: what an auditor takes away and can verify offline.

    data/audit_packs/<YYYY-MM>/            (and <YYYY-MM>.zip beside it)
      README.txt                           what is inside and how to verify it
      publication.json                     gate status, publication basis, overrides, provenance
      rankings/rankings.csv                the month's ranking (as-reported and back-cast)
      rankings/scores.csv                  every unit's indicator values and points
      quality/scorecard.csv                rpt_agency_quality_scorecard of the month
      quality/data_quality_by_unit.csv     rows loaded and rejected per unit, why
      quality/data_quality_runs.csv        every validation run of the month (GX and dbt)
      quality/validation_history.csv       every check of every run of the month
      quality/data_docs/                   the GX Data Docs pages of the month's runs
      lineage/score_lineage.csv            rpt_score_lineage: every ranked score to its inputs
      lineage/inputs.csv                   every input of the month: location, sha256, archived copy
      methodology/*.csv                    the methodology catalogue (seed files) the month used
      manifest.json, SHA256SUMS            sha256 of every file above

`verify_audit_pack` recomputes every hash (of the folder or the zip); `sha256sum -c SHA256SUMS`
does the same without this code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.audit_provenance import code_version
from ingestion.warehouse import PROJECT_ROOT, connect, data_dir

SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


def audit_packs_dir() -> Path:
    return data_dir() / "audit_packs"


def data_docs_site() -> Path:
    return data_dir() / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site"


@dataclass
class AuditPack:
    period: str
    folder: Path
    zip_path: Path
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _exists(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def _csv(con, sql: str, params: list, target: Path) -> None:
    """Rows of `sql` (its `?` are dates, inlined: COPY takes no parameters), sorted, as CSV."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for value in params:
        dt.date.fromisoformat(value)  # only ISO dates are ever inlined
        sql = sql.replace("?", f"'{value}'", 1)
    con.execute(f"COPY (SELECT * FROM ({sql}) ORDER BY ALL) TO '{target}' (HEADER, DELIMITER ',')")


def _copy_data_docs(month: str, target: Path) -> int:
    """The Data Docs site's index, static files, suites and the month's validation pages."""
    site = data_docs_site()
    if not site.is_dir():
        return 0
    copied = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(site)
        if rel.parts[0] == "validations" and not (len(rel.parts) > 2 and rel.parts[2].startswith(month)):
            continue
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        copied += 1
    return copied


def _methodology_files(con, month_date: str) -> list[Path]:
    versions = [r[0] for r in con.execute(
        "SELECT DISTINCT methodology_version FROM marts.fct_service_index_monthly WHERE period_month = CAST(? AS DATE)",
        [month_date]).fetchall() if r[0]]
    folder = SEEDS_DIR / "methodology"
    files = [folder / "service_index_methodology_versions.csv", folder / "service_index_bands.csv"]
    for v in versions:
        files += sorted(folder.glob(f"service_index_*_{v}.csv"))
    return [f for f in files if f.exists()]


def build_audit_pack(period: str, out_root: Path | None = None, warehouse: Path | None = None) -> AuditPack:
    month = period[:7]
    month_date = month + "-01"
    out_root = out_root or audit_packs_dir()
    out_root.mkdir(parents=True, exist_ok=True)
    staging = out_root / f".{month}-staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        with connect(warehouse, read_only=True) as con:
            if not _exists(con, "marts.rpt_service_ranking_monthly"):
                raise RuntimeError("no ranking in the warehouse yet; run `dxmon run` first")
            status = con.execute(
                "SELECT is_publishable, blocking_failures, checked_at, run_id FROM meta.period_status "
                "WHERE period_month = CAST(? AS DATE)", [month_date]).fetchone()
            if status is None:
                raise RuntimeError(f"{month} has not been validated; run `dxmon run --month {month}` first")
            overrides = con.execute(
                "SELECT override_id, overridden_checks, reason, overridden_by, CAST(overridden_at AS VARCHAR), "
                "validation_run_id FROM meta.publication_overrides WHERE period_month = CAST(? AS DATE) "
                "ORDER BY overridden_at", [month_date]).fetchall()
            provenance = con.execute(
                "SELECT run_id, code_version, input_hash, methodology_version, CAST(recorded_at AS VARCHAR) "
                "FROM meta.run_provenance WHERE period_month = CAST(? AS DATE) AND index_name = 'service_index' "
                "ORDER BY recorded_at DESC LIMIT 1", [month_date]).fetchone()
            latest_override = overrides[-1] if overrides else None
            basis = "checks_passed" if status[0] else (
                "override" if latest_override and latest_override[1] == (status[1] or "") else "withheld")
            publication = {
                "period": month,
                "index_name": "service_index",
                "publication_basis": basis,
                "is_publishable": status[0],
                "blocking_failures": status[1],
                "checked_at": str(status[2]),
                "validation_run_id": status[3],
                "overrides": [dict(zip(("override_id", "overridden_checks", "reason", "overridden_by",
                                        "overridden_at", "validation_run_id"), o)) for o in overrides],
                "provenance": dict(zip(("run_id", "code_version", "input_hash", "methodology_version",
                                        "recorded_at"), provenance)) if provenance else None,
            }
            (staging / "publication.json").write_text(json.dumps(publication, indent=2, ensure_ascii=False),
                                                      encoding="utf-8")
            p = [month_date]
            _csv(con, "SELECT * FROM marts.rpt_service_ranking_monthly WHERE period_month = CAST(? AS DATE)",
                 p, staging / "rankings" / "rankings.csv")
            _csv(con, "SELECT * FROM marts.fct_service_index_indicators_monthly WHERE period_month = CAST(? AS DATE)",
                 p, staging / "rankings" / "scores.csv")
            optional = {
                "quality/scorecard.csv": "marts.rpt_agency_quality_scorecard",
                "quality/data_quality_by_unit.csv": "marts.rpt_data_quality_by_unit",
                "quality/data_quality_runs.csv": "marts.rpt_data_quality_runs",
                "quality/validation_history.csv": "marts.fct_validation_history",
                "lineage/score_lineage.csv": "marts.rpt_score_lineage",
            }
            for rel, table in optional.items():
                if _exists(con, table):
                    _csv(con, f"SELECT * FROM {table} WHERE period_month = CAST(? AS DATE)", p, staging / rel)
            archive_join = ("LEFT JOIN meta.raw_archive a USING (sha256)" if _exists(con, "meta.raw_archive")
                            else "LEFT JOIN (SELECT NULL AS sha256, NULL AS archived_path) a USING (sha256)")
            _csv(con, f"SELECT s.*, a.archived_path FROM raw.ingested_sources s {archive_join} "
                      "WHERE s.period_month = CAST(? AS DATE)", p, staging / "lineage" / "inputs.csv")
            methodology = _methodology_files(con, month_date)
        for f in methodology:
            (staging / "methodology").mkdir(exist_ok=True)
            shutil.copyfile(f, staging / "methodology" / f.name)
        _copy_data_docs(month, staging / "quality" / "data_docs")
        (staging / "README.txt").write_text(
            f"Audit pack of the 766 service index, {month}.\n\n"
            "publication.json says whether the month passed its blocking checks or was published on a\n"
            "recorded override, and which run, code version and inputs built it. lineage/score_lineage.csv\n"
            "ties every score to the input files or API pages (sha256) and rows it counted;\n"
            "lineage/inputs.csv lists every input and its archived copy. quality/ holds the scorecard,\n"
            "the validation history and the GX Data Docs (open quality/data_docs/index.html).\n"
            "methodology/ holds the catalogue the scores were computed with.\n\n"
            "Verify: `sha256sum -c SHA256SUMS` in this folder, or `dxmon audit-pack --verify <folder or zip>`.\n",
            encoding="utf-8")
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        hashes = {str(f.relative_to(staging)): {"sha256": _sha256(f), "bytes": f.stat().st_size} for f in files}
        manifest = {
            "period": month,
            "index_name": "service_index",
            "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
            "code_version": code_version(),
            "publication_basis": basis,
            "input_hash": provenance[2] if provenance else None,
            "files": hashes,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        (staging / CHECKSUMS).write_text(
            "".join(f"{h['sha256']}  {rel}\n" for rel, h in hashes.items())
            + f"{_sha256(staging / MANIFEST)}  {MANIFEST}\n", encoding="utf-8")
        final = out_root / month
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    zip_path = out_root / f"{month}.zip"
    tmp_zip = out_root / f".{month}.zip.tmp"
    with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(final.rglob("*")):
            if f.is_file():
                zf.write(f, f"{month}/{f.relative_to(final)}")
    os.replace(tmp_zip, zip_path)
    return AuditPack(month, final, zip_path, len(hashes) + 2)


def verify_audit_pack(path: Path) -> list[str]:
    """Problems found in a pack folder or zip: files missing, altered or not in the manifest."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            prefix = names[0].split("/")[0] + "/" if names else ""
            read = lambda rel: zf.read(prefix + rel)  # noqa: E731
            present = {n[len(prefix):] for n in names}
            return _verify(read, present)
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}
    return _verify(lambda rel: (path / rel).read_bytes(), present)


def _verify(read, present: set[str]) -> list[str]:
    if MANIFEST not in present:
        return [f"{MANIFEST} is missing"]
    manifest = json.loads(read(MANIFEST))
    problems = []
    for rel, expected in manifest["files"].items():
        if rel not in present:
            problems.append(f"{rel}: listed in the manifest but missing")
        elif hashlib.sha256(read(rel)).hexdigest() != expected["sha256"]:
            problems.append(f"{rel}: sha256 differs from the manifest (altered)")
    for rel in sorted(present - set(manifest["files"]) - {MANIFEST, CHECKSUMS}):
        problems.append(f"{rel}: not listed in the manifest")
    if CHECKSUMS in present:
        sums = dict(reversed(line.split("  ", 1)) for line in read(CHECKSUMS).decode().splitlines() if line)
        if sums.get(MANIFEST) != hashlib.sha256(read(MANIFEST)).hexdigest():
            problems.append(f"{MANIFEST}: sha256 differs from {CHECKSUMS} (altered)")
    return problems
