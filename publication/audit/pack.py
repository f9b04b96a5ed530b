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

    data/audit_packs/dti-<YYYY>/           the DTI's pack of a year (build_dti_audit_pack): the same
                                           layout for the year's final and provisional rankings,
                                           the agencies' scorecard, the report files and cells

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

from ingestion.core.files import sha256_of
from ingestion.core.warehouse import PROJECT_ROOT, connect, data_dir, table_exists
from publication.audit.provenance import code_version
from publication.publish import gate_basis
from publication.spreadsheet_cells import write_csv

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


def _csv(con, sql: str, params: list, target: Path) -> None:
    """Rows of `sql` (its `?` bound to `params`), sorted, as CSV whose every cell is inert
    (publication/spreadsheet_cells.py: evidence, file names and reasons come from senders)."""
    write_csv(con, sql, target, params)


def _copy_data_docs(run_name_prefix: str, target: Path) -> int:
    """The Data Docs site's index, static files, suites and the validation pages of the runs whose
    name starts with `run_name_prefix` (a month's runs: 'YYYY-MM-'; a DTI year's: 'dti-YYYY-')."""
    site = data_docs_site()
    if not site.is_dir():
        return 0
    copied = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(site)
        if rel.parts[0] == "validations" and not (len(rel.parts) > 2 and rel.parts[2].startswith(run_name_prefix)):
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
    staging = _new_staging(out_root, month)
    try:
        with connect(warehouse, read_only=True) as con:
            if not table_exists(con, "marts.rpt_service_ranking_monthly"):
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
            basis = gate_basis(status[0], status[1], overrides[-1][1] if overrides else None, con=con)
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
                if table_exists(con, table):
                    _csv(con, f"SELECT * FROM {table} WHERE period_month = CAST(? AS DATE)", p, staging / rel)
            archive_join = ("LEFT JOIN meta.raw_archive a USING (sha256)" if table_exists(con, "meta.raw_archive")
                            else "LEFT JOIN (SELECT NULL AS sha256, NULL AS archived_path) a USING (sha256)")
            _csv(con, f"SELECT s.*, a.archived_path FROM raw.ingested_sources s {archive_join} "
                      "WHERE s.period_month = CAST(? AS DATE)", p, staging / "lineage" / "inputs.csv")
            methodology = _methodology_files(con, month_date)
        for f in methodology:
            (staging / "methodology").mkdir(exist_ok=True)
            shutil.copyfile(f, staging / "methodology" / f.name)
        _copy_data_docs(month + "-", staging / "quality" / "data_docs")
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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _finish_pack(staging, month, out_root, {
        "period": month, "index_name": "service_index", "publication_basis": basis,
        "input_hash": provenance[2] if provenance else None})


def _new_staging(out_root: Path, name: str) -> Path:
    """An empty folder beside the packs where a pack is written before it is moved into place."""
    out_root.mkdir(parents=True, exist_ok=True)
    staging = out_root / f".{name}-staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _finish_pack(staging: Path, name: str, out_root: Path, fields: dict) -> AuditPack:
    """Hash every file of a staged pack into manifest.json and SHA256SUMS, move the folder into
    place as `out_root/name` and zip it beside (both replaced atomically)."""
    try:
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        hashes = {str(f.relative_to(staging)): {"sha256": sha256_of(f), "bytes": f.stat().st_size} for f in files}
        manifest = {**fields, "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
                    "code_version": code_version(), "files": hashes}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        (staging / CHECKSUMS).write_text(
            "".join(f"{h['sha256']}  {rel}\n" for rel, h in hashes.items())
            + f"{sha256_of(staging / MANIFEST)}  {MANIFEST}\n", encoding="utf-8")
        final = out_root / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    zip_path = out_root / f"{name}.zip"
    tmp_zip = out_root / f".{name}.zip.tmp"
    with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(final.rglob("*")):
            if f.is_file():
                zf.write(f, f"{name}/{f.relative_to(final)}")
    os.replace(tmp_zip, zip_path)
    return AuditPack(fields["period"], final, zip_path, len(hashes) + 2)


# ---------------------------------------------------------------------------------------------
# The DTI: one pack per year, data/audit_packs/dti-<year>/ (and dti-<year>.zip)

DTI_SEEDS_DIR = SEEDS_DIR / "methodology" / "dti"


def dti_pack_name(year: int | str) -> str:
    return f"dti-{int(year)}"


def build_dti_audit_pack(year: int | str, out_root: Path | None = None, warehouse: Path | None = None) -> AuditPack:
    """The audit pack of a DTI year: its gate and overrides, the final index (closed year) and every
    provisional month, the agencies' scorecard, the validation history and Data Docs of the year's
    reports, the lineage of every ranked score to the report cells, every report file received
    (sha256, archived copy), the catalogue and the weight supplements used; manifest of hashes."""
    year = int(year)
    name = dti_pack_name(year)
    out_root = out_root or audit_packs_dir()
    staging = _new_staging(out_root, name)
    try:
        with connect(warehouse, read_only=True) as con:
            if not table_exists(con, "marts.rpt_dti_ranking"):
                raise RuntimeError("no DTI ranking in the warehouse yet; run `dxmon dti run` first")
            if not con.execute("SELECT count(*) FROM marts.rpt_dti_ranking WHERE year = ?", [year]).fetchone()[0]:
                raise RuntimeError(f"no DTI score for {year}; run `dxmon dti run --month {year}-12` first")
            status = con.execute(
                "SELECT is_publishable, blocking_failures, CAST(checked_at AS VARCHAR), run_id FROM meta.dti_year_status "
                "WHERE year = ?", [year]).fetchone() if table_exists(con, "meta.dti_year_status") else None
            overrides = con.execute(
                "SELECT override_id, overridden_checks, reason, overridden_by, CAST(overridden_at AS VARCHAR), "
                "validation_run_id, code_version FROM meta.publication_overrides WHERE index_name = 'dti' "
                "AND period_month = make_date(?, 1, 1) ORDER BY overridden_at", [year]).fetchall()
            closure_columns = {r[0] for r in con.execute("DESCRIBE meta.dti_year_closures").fetchall()} \
                if table_exists(con, "meta.dti_year_closures") else set()
            closure = con.execute(
                "SELECT methodology_version, input_hash, CAST(closed_at AS VARCHAR), closed_by, run_id, "
                f"{'code_version' if 'code_version' in closure_columns else 'NULL'} "
                "FROM meta.dti_year_closures WHERE year = ?", [year]).fetchone() if closure_columns else None
            provisional = con.execute(
                "SELECT CAST(period_month AS VARCHAR), run_id, code_version, input_hash, methodology_version "
                "FROM meta.run_provenance WHERE index_name = 'dti' AND year(period_month) = ? "
                "QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY recorded_at DESC, run_id) = 1 "
                "ORDER BY 1", [year]).fetchall()
            basis = gate_basis(status[0] if status else None, status[1] if status else None,
                               overrides[-1][1] if overrides else None, con=con)
            versions = [r[0] for r in con.execute(
                "SELECT DISTINCT methodology_version FROM marts.fct_dti_scores WHERE year = ? ORDER BY 1", [year]
            ).fetchall() if r[0]]
            publication = {
                "period": str(year), "index_name": "dti", "publication_basis": basis,
                "is_publishable": status[0] if status else None,
                "blocking_failures": status[1] if status else "not validated",
                "checked_at": status[2] if status else None, "validation_run_id": status[3] if status else None,
                "overrides": [dict(zip(("override_id", "overridden_checks", "reason", "overridden_by", "overridden_at",
                                        "validation_run_id", "code_version"), o)) for o in overrides],
                "methodology_versions": versions,
                "final": dict(zip(("methodology_version", "input_hash", "closed_at", "closed_by", "run_id",
                                   "code_version"), closure)) if closure else None,
                "provisional_months": [dict(zip(("period_month", "run_id", "code_version", "input_hash",
                                                 "methodology_version"), p)) for p in provisional],
            }
            (staging / "publication.json").write_text(json.dumps(publication, indent=2, ensure_ascii=False),
                                                      encoding="utf-8")
            by_year = {
                "rankings/ranking.csv": "marts.rpt_dti_ranking",
                "rankings/scores.csv": "marts.fct_dti_scores",
                "rankings/main_indicator_values.csv": "marts.fct_dti_main_indicator_values",
                "quality/scorecard.csv": "marts.rpt_dti_agency_quality_scorecard",
                "quality/divergence.csv": "marts.fct_dti_indicator_divergence",
                "quality/rejections.csv": "quarantine.dti_rejections",
                "lineage/score_lineage.csv": "marts.rpt_dti_score_lineage",
            }
            for rel, table in by_year.items():
                if table_exists(con, table):
                    _csv_where(con, table, "year = ?", year, staging / rel)
            if table_exists(con, "marts.fct_validation_history"):
                _csv_where(con, "marts.fct_validation_history", "index_name = 'dti' AND year(period_month) = ?", year,
                           staging / "quality" / "validation_history.csv")
            _csv_where(con, "raw.dti_submissions", "year = ?", year, staging / "lineage" / "inputs.csv")
            if table_exists(con, "raw.dti_weight_supplements"):
                _csv_where(con, "raw.dti_weight_supplements", "methodology_version IN (SELECT methodology_version "
                           "FROM marts.fct_dti_scores WHERE year = ?)", year,
                           staging / "methodology" / "weight_supplements.csv")
        for f in sorted(DTI_SEEDS_DIR.glob("*.csv")):
            (staging / "methodology").mkdir(exist_ok=True)
            shutil.copyfile(f, staging / "methodology" / f.name)
        _copy_data_docs(f"dti-{year}-", staging / "quality" / "data_docs")
        (staging / "README.txt").write_text(
            f"Audit pack of the Digital Transformation Index (DTI), {year}.\n\n"
            "publication.json says whether the year's reports passed their blocking checks or the year was\n"
            "published on a recorded override; the final index's closure (run, code version, input hash)\n"
            "and the run of every provisional month. rankings/ holds the final and provisional rankings,\n"
            "scores and main-indicator values; lineage/score_lineage.csv ties every sub-indicator's points\n"
            "to the report file (sha256, sheet, row, the cell as typed) or the service-index measurement\n"
            "it came from; lineage/inputs.csv lists every report file received, accepted or rejected, with\n"
            "its archived copy. quality/ holds the agencies' scorecard, the rejections, the self-reported vs\n"
            "measured divergence, the validation history and the GX Data Docs\n"
            "(open quality/data_docs/index.html). methodology/ holds the catalogue (every version; the\n"
            "year's is in publication.json) and the weight supplements the scores used.\n\n"
            "Verify: `sha256sum -c SHA256SUMS` in this folder, or `dxmon audit-pack --verify <folder or zip>`.\n",
            encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _finish_pack(staging, name, out_root, {
        "period": str(year), "index_name": "dti", "publication_basis": basis,
        "input_hash": closure[1] if closure else (provisional[-1][3] if provisional else None)})


def _csv_where(con, table: str, condition: str, year: int, target: Path) -> None:
    """Rows of `table` matching `condition` (its one `?` is the year), sorted, as inert CSV."""
    _csv(con, f"SELECT * FROM {table} WHERE {condition}", [int(year)], target)


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
