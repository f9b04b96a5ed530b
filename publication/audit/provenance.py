"""What produced a number: the code version, the inputs' hash and the run, per index and period.

* code version: `git rev-parse HEAD` plus `-dirty` when tracked files differ from it; outside a
  git checkout, the installed package version (`dxmon==0.1.0`).
* input hash of a period: sha256 over the sorted sha256 of the period's active inputs (files and
  API pages in `raw.ingested_sources` not superseded). The same inputs give the same hash.
* `meta.run_provenance`: one row per run, index and period, written when the period is built.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import subprocess
from functools import lru_cache

import duckdb

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import PROJECT_ROOT

SERVICE_INDEX = "service_index"
DTI = "dti"
KPI_REPORTS = "kpi_reports"  # the agencies' KPI reports: their gate (meta.kpi_period_status), their overrides
KPI = "kpi"  # KPI tracking (docs/kpi_tracking.md): one provenance row per build, at its as-of month
TASKS = "tasks"  # task tracking (docs/task_tracking.md): its gate, overrides and builds (one per as-of month)


@lru_cache(maxsize=1)
def code_version() -> str:
    env = os.environ.get("DXMON_CODE_VERSION")
    if env:
        return env
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"dxmon=={version('dxmon')}"
        except PackageNotFoundError:
            return "unknown"


def current_user() -> str:
    """Who is acting: `DXMON_USER` when set (service accounts), else the OS user."""
    try:
        return os.environ.get("DXMON_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def hash_of_hashes(hashes: list[str]) -> str:
    digest = hashlib.sha256()
    for h in sorted(hashes):
        digest.update(h.encode("ascii") + b"\n")
    return digest.hexdigest()


def period_input_hash(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """sha256 over the active inputs of the service index's month `period` (YYYY-MM[-01])."""
    rows = con.execute(
        "SELECT sha256 FROM raw.ingested_sources WHERE period_month = CAST(? AS DATE) AND superseded_at IS NULL",
        [period[:7] + "-01"],
    ).fetchall()
    return hash_of_hashes([r[0] for r in rows])


def dti_input_hash(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """sha256 over the accepted DTI reports of year(period) dated on or before the month's end
    (what the provisional index of that month can see)."""
    try:
        rows = con.execute(
            "SELECT sha256 FROM raw.dti_submissions WHERE status = 'accepted' AND year = ? "
            "AND report_date <= last_day(CAST(? AS DATE))",
            [int(period[:4]), period[:7] + "-01"],
        ).fetchall()
    except duckdb.CatalogException:  # intake never ran
        rows = []
    return hash_of_hashes([r[0] for r in rows])


def kpi_input_hash(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """sha256 over what the KPI marts of a build as of month `period` read: the accepted agency
    KPI reports, statistics files and index files loaded so far, and the input hashes of the
    service-index months and DTI periods they compute from (their latest provenance rows)."""
    month = period[:7] + "-01"
    hashes = []
    for sql, params in (
            ("SELECT sha256 FROM raw.kpi_submissions WHERE status = 'accepted' "
             "AND period_start <= last_day(CAST(? AS DATE))", [month]),
            ("SELECT sha256 FROM raw.kpi_statistics_releases WHERE status = 'accepted'", []),
            ("SELECT sha256 FROM raw.international_index_loads WHERE status = 'accepted'", []),
            (f"""SELECT input_hash FROM meta.run_provenance
                 WHERE index_name IN ('{SERVICE_INDEX}', '{DTI}') AND period_month <= CAST(? AS DATE)
                 QUALIFY row_number() OVER (PARTITION BY index_name, period_month ORDER BY recorded_at DESC) = 1""",
             [month])):
        hashes += [r[0] for r in con.execute(sql, params).fetchall()]
    return hash_of_hashes(hashes)


def tasks_input_hash(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """sha256 over what the task marts of a build as of month `period` read: every accepted task
    list and every accepted status report of a month up to `period`."""
    month = period[:7] + "-01"
    hashes = []
    for sql, params in (
            ("SELECT sha256 FROM raw.task_plan_submissions WHERE status = 'accepted'", []),
            ("SELECT sha256 FROM raw.task_report_submissions WHERE status = 'accepted' "
             "AND period_start <= CAST(? AS DATE)", [month])):
        hashes += [r[0] for r in con.execute(sql, params).fetchall()]
    return hash_of_hashes(hashes)


def record_run_provenance(con: duckdb.DuckDBPyConnection, run_id: str, periods: list[str],
                          index_name: str = SERVICE_INDEX, methodology_version: str | None = None) -> None:
    """One `meta.run_provenance` row per period built by `run_id` (replacing a rerun's row)."""
    prepare_warehouse(con)
    now = dt.datetime.now()
    for period in periods:
        month = period[:7] + "-01"
        version = methodology_version or {SERVICE_INDEX: _service_methodology_version,
                                          DTI: _dti_methodology_version}.get(index_name, lambda *_: None)(con, month)
        input_hash = {SERVICE_INDEX: period_input_hash, DTI: dti_input_hash, KPI: kpi_input_hash,
                      TASKS: tasks_input_hash}[index_name](con, month)
        con.execute("DELETE FROM meta.run_provenance WHERE run_id = ? AND index_name = ? AND period_month = CAST(? AS DATE)",
                    [run_id, index_name, month])
        con.execute("INSERT INTO meta.run_provenance VALUES (?, ?, CAST(? AS DATE), ?, ?, ?, ?)",
                    [run_id, index_name, month, code_version(), input_hash, version, now])


def _dti_methodology_version(con: duckdb.DuckDBPyConnection, month: str) -> str | None:
    try:
        row = con.execute("SELECT methodology_version FROM seeds.dti_years WHERE year = ?", [int(month[:4])]).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _service_methodology_version(con: duckdb.DuckDBPyConnection, month: str) -> str | None:
    try:
        row = con.execute(
            "SELECT methodology_version FROM seeds.service_index_methodology_versions "
            "WHERE CAST(applies_from_month AS DATE) <= CAST(? AS DATE) "
            "AND (applies_to_month IS NULL OR CAST(applies_to_month AS DATE) >= CAST(? AS DATE)) "
            "ORDER BY applies_from_month DESC LIMIT 1",
            [month, month],
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None
