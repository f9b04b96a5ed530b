"""Publishing the marts for analysts: a read-only copy that is never half-written.

The live warehouse has one writer (the pipeline), so analysts never open it. After a month
succeeds, every published mart is written to a staging folder beside `data/published/` and then
moved into place with `os.replace` (atomic on one file system): a DuckDB file holding all marts,
one Parquet file per mart, and `manifest.json` last. A reader that opened the previous file keeps
reading it whole; the next open sees the new one.

The gate: rows of a month whose blocking checks failed (`meta.period_status.is_publishable` is
false) are withheld from every period-scoped mart, and the manifest says which months were
withheld and why.

Overrides: publishing a month whose blocking checks failed needs an explicit, recorded decision
(`dxmon publish --override --month M --reason TEXT`, `record_override`). The override names the
failed checks it covers; it stops applying when the month's failures change (a new validation
fails differently), so nobody overrides checks they have not seen. Published months carry
`publication_basis` ('checks_passed' or 'override'), the override's id, author and reason beside
the rankings, and the provenance of every row: methodology version, run id, code version and
the hash of the period's inputs (ingestion/audit_provenance.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.audit_provenance import SERVICE_INDEX, code_version, current_user, hash_of_hashes
from ingestion.warehouse import PROJECT_ROOT, connect, data_dir, ensure_audit_tables, ensure_schema

# (schema.table in the warehouse, is it period-scoped by period_month)
PUBLISHED_MARTS: tuple[tuple[str, bool], ...] = (
    ("marts.rpt_service_ranking_monthly", True),
    ("marts.fct_service_index_monthly", True),
    ("marts.fct_service_index_indicators_monthly", True),
    ("marts.dim_units", False),
)
# Published when built (the auditors' marts, tag audit): quality reports are never withheld,
# they say why a month was; the score lineage follows the gate like the scores.
OPTIONAL_PUBLISHED_MARTS: tuple[tuple[str, bool], ...] = (
    ("marts.rpt_score_lineage", True),
    ("marts.rpt_data_quality_runs", False),
    ("marts.rpt_data_quality_by_unit", False),
    ("marts.rpt_agency_quality_scorecard", False),
    # The DTI (yearly; provisional rows by month): not gated by the service index's months.
    ("marts.rpt_dti_ranking", False),
    ("marts.fct_dti_scores", False),
    ("marts.fct_dti_main_indicator_values", False),
    ("marts.fct_dti_indicator_divergence", False),
    ("marts.rpt_dti_history_discrepancies", False),
    ("marts.rpt_dti_agency_quality_scorecard", False),
    ("marts.rpt_dti_score_lineage", False),
)
PROVENANCE_COLUMNS = ("methodology_version", "run_id", "code_version", "input_hash")
PUBLICATION_COLUMNS = ("publication_basis", "override_id", "overridden_by", "override_reason")
PUBLISHED_DB_NAME = "dxmon_published.duckdb"


class OverrideError(ValueError):
    """An override that cannot be recorded; the message says why and what to do."""


def published_dir() -> Path:
    return data_dir() / "published"


@dataclass
class PublicationResult:
    directory: Path
    database: Path
    parquet_files: list[Path]
    published_months: list[str]
    withheld_months: dict[str, str]
    manifest: Path
    overridden_months: dict[str, dict] = None  # month -> the override record it was published on


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _existing(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0])


def record_override(con: duckdb.DuckDBPyConnection, month: str, reason: str, by: str | None = None,
                    index_name: str = SERVICE_INDEX) -> dict:
    """Record the decision to publish `month` although its blocking checks failed."""
    ensure_schema(con)
    if not reason or len(reason.strip()) < 10:
        raise OverrideError("an override needs a reason of at least 10 characters: say why the failed checks "
                            "do not invalidate the month (--reason TEXT)")
    period = month[:7] + "-01"
    status = con.execute(
        "SELECT is_publishable, blocking_failures, run_id FROM meta.period_status WHERE period_month = CAST(? AS DATE)",
        [period],
    ).fetchone()
    if status is None:
        raise OverrideError(f"{month[:7]} has not been validated; run `dxmon run --month {month[:7]}` first")
    if status[0]:
        raise OverrideError(f"{month[:7]} passed its blocking checks; it is published without an override")
    now = dt.datetime.now()
    override_id = f"ovr-{month[:7]}-{now:%Y%m%dT%H%M%S%f}"
    record = {
        "override_id": override_id, "index_name": index_name, "period_month": month[:7],
        "overridden_checks": status[1] or "", "reason": reason.strip(), "overridden_by": by or current_user(),
        "overridden_at": now.isoformat(timespec="seconds"), "validation_run_id": status[2],
        "code_version": code_version(),
    }
    con.execute(
        "INSERT INTO meta.publication_overrides VALUES (?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?)",
        [override_id, index_name, period, record["overridden_checks"], record["reason"], record["overridden_by"],
         now, record["validation_run_id"], record["code_version"]],
    )
    return record


def _publication_periods(con: duckdb.DuckDBPyConnection, index_name: str = SERVICE_INDEX) -> None:
    """TEMP table publication_periods: per validated month, how (and whether) it is published,
    with its override and provenance."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE publication_periods AS
        WITH latest_override AS (
          SELECT * FROM meta.publication_overrides WHERE index_name = ?
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY overridden_at DESC) = 1
        ),
        provenance AS (
          SELECT * FROM meta.run_provenance WHERE index_name = ?
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY recorded_at DESC) = 1
        )
        SELECT s.period_month, s.is_publishable, s.blocking_failures, s.checked_at,
               CASE WHEN s.is_publishable THEN 'checks_passed'
                    WHEN o.overridden_checks = coalesce(s.blocking_failures, '') THEN 'override'
                    ELSE 'withheld' END AS publication_basis,
               CASE WHEN NOT s.is_publishable AND o.override_id IS NOT NULL
                         AND o.overridden_checks <> coalesce(s.blocking_failures, '')
                    THEN o.override_id END AS stale_override_id,
               o.override_id, o.overridden_by, o.reason AS override_reason, o.overridden_at,
               o.overridden_checks,
               coalesce(p.run_id, s.run_id) AS run_id,
               coalesce(p.code_version, ?) AS code_version,
               p.input_hash
        FROM meta.period_status s
        LEFT JOIN latest_override o USING (period_month)
        LEFT JOIN provenance p USING (period_month)
        """,
        [index_name, index_name, code_version()],
    )
    # months built before provenance was recorded: hash their inputs now
    missing = con.execute("SELECT strftime(period_month, '%Y-%m-%d') FROM publication_periods WHERE input_hash IS NULL").fetchall()
    for (month,) in missing:
        hashes = [r[0] for r in con.execute(
            "SELECT sha256 FROM raw.ingested_sources WHERE period_month = CAST(? AS DATE) AND superseded_at IS NULL",
            [month]).fetchall()]
        con.execute("UPDATE publication_periods SET input_hash = ? WHERE period_month = CAST(? AS DATE)",
                    [hash_of_hashes(hashes), month])


def reference_input_hash() -> str:
    """sha256 over the seed files (units, methodology, calendar) that unperiodic marts come from."""
    seeds = PROJECT_ROOT / "dbt_project" / "seeds"
    return hash_of_hashes([_sha256(p) for p in sorted(seeds.rglob("*.csv"))])


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {qualified}").fetchall()]


def publish(warehouse: Path | None = None, target: Path | None = None, run_id: str = "manual",
            index_name: str = SERVICE_INDEX) -> PublicationResult:
    """Publish every mart, withholding months that are not publishable and not overridden."""
    target = target or published_dir()
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".published-staging-{os.getpid()}-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir(parents=True)
    try:
        with connect(warehouse) as con:
            ensure_audit_tables(con)
            missing = [name for name, _ in PUBLISHED_MARTS if not _existing(con, name)]
            if missing:
                raise RuntimeError(
                    f"cannot publish: {', '.join(missing)} not built in the warehouse yet; run `dxmon run` first"
                )
            _publication_periods(con, index_name)
            periods = con.execute(
                "SELECT strftime(period_month, '%Y-%m'), publication_basis, coalesce(blocking_failures, ''), "
                "stale_override_id, override_id, overridden_by, override_reason, overridden_at, overridden_checks "
                "FROM publication_periods ORDER BY 1"
            ).fetchall()
            withheld, overridden = {}, {}
            for month, basis, why, stale, oid, by, reason, at, checks in periods:
                if basis == "withheld":
                    withheld[month] = why + (
                        f" (override {stale} covers other checks; record a new override)" if stale else "")
                elif basis == "override":
                    overridden[month] = {"override_id": oid, "overridden_by": by, "reason": reason,
                                         "overridden_at": at.isoformat(timespec="seconds"), "overridden_checks": checks}
            staged_db = staging / PUBLISHED_DB_NAME
            con.execute(f"ATTACH '{staged_db}' AS published")
            ref_hash = reference_input_hash()
            parquet_files = []
            marts = list(PUBLISHED_MARTS) + [(n, p) for n, p in OPTIONAL_PUBLISHED_MARTS if _existing(con, n)]
            for qualified, is_periodic in marts:
                table = qualified.split(".")[1]
                present = set(_columns(con, qualified))
                if is_periodic:
                    extra = [f"p.{c}" for c in PROVENANCE_COLUMNS + PUBLICATION_COLUMNS
                             if c not in present and c != "methodology_version"]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m " \
                             f"JOIN publication_periods p USING (period_month) WHERE p.publication_basis <> 'withheld'"
                else:
                    extra = [f"{v} AS {c}" for c, v in (
                        ("methodology_version", "CAST(NULL AS VARCHAR)"), ("run_id", f"'{run_id}'"),
                        ("code_version", f"'{code_version()}'"), ("input_hash", f"'{ref_hash}'"),
                    ) if c not in present]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m"
                con.execute(f"CREATE TABLE published.main.{table} AS {select} ORDER BY ALL")
                parquet = staging / f"{table}.parquet"
                con.execute(f"COPY published.main.{table} TO '{parquet}' (FORMAT parquet)")
                parquet_files.append(parquet)
            con.execute(
                "CREATE TABLE published.main.publication_status AS "
                "SELECT period_month, is_publishable, blocking_failures, checked_at, publication_basis, "
                "override_id, overridden_by, override_reason, overridden_at, run_id, code_version, input_hash "
                "FROM publication_periods ORDER BY 1"
            )
            con.execute(
                "CREATE TABLE published.main.publication_overrides AS "
                "SELECT * FROM meta.publication_overrides WHERE index_name = ? ORDER BY overridden_at",
                [index_name],
            )
            published_months = [
                r[0] for r in con.execute(
                    "SELECT DISTINCT strftime(period_month, '%Y-%m') FROM published.main.rpt_service_ranking_monthly ORDER BY 1"
                ).fetchall()
            ]
            con.execute("DETACH published")
        manifest = {
            "published_at": dt.datetime.now().isoformat(timespec="seconds"),
            "run_id": run_id,
            "code_version": code_version(),
            "published_months": published_months,
            "withheld_months": withheld,
            "overridden_months": overridden,
            "files": {p.name: _sha256(p) for p in [staged_db, *parquet_files]},
        }
        final_files = []
        for path in [staged_db, *parquet_files]:
            os.replace(path, target / path.name)
            final_files.append(target / path.name)
        manifest_tmp = staging / "manifest.json"
        manifest_tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(manifest_tmp, target / "manifest.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublicationResult(
        directory=target,
        database=target / PUBLISHED_DB_NAME,
        parquet_files=[f for f in final_files if f.suffix == ".parquet"],
        published_months=published_months,
        withheld_months=withheld,
        manifest=target / "manifest.json",
        overridden_months=overridden,
    )
