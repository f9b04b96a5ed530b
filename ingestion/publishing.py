"""Publishing the marts for analysts: a read-only copy that is never half-written.

The live warehouse has one writer (the pipeline), so analysts never open it. After a month
succeeds, every published mart is written to a staging folder beside `data/published/` and then
moved into place with `os.replace` (atomic on one file system): a DuckDB file holding all marts,
one Parquet file per mart, and `manifest.json` last. A reader that opened the previous file keeps
reading it whole; the next open sees the new one.

The gate: rows of a month whose blocking checks failed (`meta.period_status.is_publishable` is
false) are withheld from every period-scoped mart, and the manifest says which months were
withheld and why.
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

from ingestion.warehouse import connect, data_dir

# (schema.table in the warehouse, is it period-scoped by period_month)
PUBLISHED_MARTS: tuple[tuple[str, bool], ...] = (
    ("marts.rpt_service_ranking_monthly", True),
    ("marts.fct_service_index_monthly", True),
    ("marts.fct_service_index_indicators_monthly", True),
    ("marts.dim_units", False),
)
PUBLISHED_DB_NAME = "dxmon_published.duckdb"


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


def publish(warehouse: Path | None = None, target: Path | None = None, run_id: str = "manual") -> PublicationResult:
    """Publish every mart, withholding months that are not publishable."""
    target = target or published_dir()
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".published-staging-{os.getpid()}-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir(parents=True)
    try:
        with connect(warehouse) as con:
            status = con.execute(
                "SELECT strftime(period_month, '%Y-%m'), is_publishable, coalesce(blocking_failures, '') "
                "FROM meta.period_status ORDER BY 1"
            ).fetchall()
            withheld = {m: why for m, ok, why in status if not ok}
            missing = [name for name, _ in PUBLISHED_MARTS if not _existing(con, name)]
            if missing:
                raise RuntimeError(
                    f"cannot publish: {', '.join(missing)} not built in the warehouse yet; run `dxmon run` first"
                )
            staged_db = staging / PUBLISHED_DB_NAME
            con.execute(f"ATTACH '{staged_db}' AS published")
            parquet_files = []
            for qualified, is_periodic in PUBLISHED_MARTS:
                table = qualified.split(".")[1]
                where = (
                    "WHERE period_month NOT IN (SELECT period_month FROM meta.period_status WHERE NOT is_publishable)"
                    if is_periodic else ""
                )
                order = "ORDER BY ALL"
                con.execute(f"CREATE TABLE published.main.{table} AS SELECT * FROM {qualified} {where} {order}")
                parquet = staging / f"{table}.parquet"
                con.execute(f"COPY published.main.{table} TO '{parquet}' (FORMAT parquet)")
                parquet_files.append(parquet)
            con.execute(
                "CREATE TABLE published.main.publication_status AS "
                "SELECT period_month, is_publishable, blocking_failures, checked_at FROM meta.period_status ORDER BY 1"
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
            "published_months": published_months,
            "withheld_months": withheld,
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
    )
