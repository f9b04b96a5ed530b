"""The DuckDB warehouse: where it is, how to open it, and the tables ingestion owns.

Connections are short-lived and there is one writer at a time (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, PROVENANCE_COLUMNS, ExtractKind

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Root of everything the pipeline writes; `DXMON_DATA_DIR` overrides `<project>/data`."""
    return Path(os.environ.get("DXMON_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("DXMON_WAREHOUSE", data_dir() / "warehouse" / "dxmon.duckdb")).resolve()


# DuckDB settings for every connection: bounded memory (spills to disk beyond it) so a 100 M-row
# month fits the machine and the whole process stays under 2 GB at 10 M rows (1200MB for DuckDB
# plus Python, Dagster and GX), and a temp folder beside the warehouse.
DEFAULT_MEMORY_LIMIT = os.environ.get("DXMON_DUCKDB_MEMORY_LIMIT", "1200MB")


@contextlib.contextmanager
def connect(path: Path | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path) if path else warehouse_path()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute(f"SET memory_limit = '{DEFAULT_MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{path.parent / 'duckdb_tmp'}'")
        con.execute("SET preserve_insertion_order = false")
        yield con
    finally:
        con.close()


def raw_table_ddl(kind: ExtractKind) -> str:
    cols = [f"{f.name} {f.sql_type}" for f in kind.fields]
    cols += [f"{name} {sql_type}" for name, sql_type in PROVENANCE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{kind.name} (\n  " + ",\n  ".join(cols) + "\n)"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and tables that ingestion and validation write (idempotent)."""
    for schema in ("raw", "quarantine", "meta"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for kind in EXTRACT_KINDS.values():
        con.execute(raw_table_ddl(kind))
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS raw.ingested_sources (
          source_id VARCHAR PRIMARY KEY,
          extract_kind VARCHAR NOT NULL,
          period_month DATE NOT NULL,
          source_type VARCHAR NOT NULL,      -- 'file' or 'api_page'
          location VARCHAR NOT NULL,         -- landing path or archived page path
          original_location VARCHAR,         -- where the file was found / the page URL
          sha256 VARCHAR NOT NULL,
          size_bytes BIGINT NOT NULL,
          row_count BIGINT,
          rejected_count BIGINT,
          loaded_at TIMESTAMP NOT NULL,
          superseded_at TIMESTAMP            -- set when a newer version of the same file replaced it
        )
        """
    )
    # Rejected rows stay in their raw table (flagged, with the original text in raw_record);
    # the quarantine is a view over them joined to where they came from, so it can never drift.
    selects = [
        f"""SELECT '{kind.name}' AS extract_kind, r.period_month, r.source_id, s.location,
               s.source_type, r.source_row, r.rejection_rule AS rule, r.rejection_reason AS reason,
               r.raw_record, r.loaded_at AS quarantined_at
            FROM raw.{kind.name} r LEFT JOIN raw.ingested_sources s USING (source_id)
            WHERE r.rejection_rule IS NOT NULL"""
        for kind in EXTRACT_KINDS.values()
    ]
    con.execute("CREATE OR REPLACE VIEW quarantine.rejected_rows AS\n" + "\nUNION ALL\n".join(selects))
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS quarantine.rejected_files (
          period_month DATE,
          location VARCHAR NOT NULL,
          original_location VARCHAR NOT NULL,
          sha256 VARCHAR NOT NULL,
          reason VARCHAR NOT NULL,
          quarantined_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS meta.validation_results (
          run_id VARCHAR,
          period_month DATE NOT NULL,
          extract_kind VARCHAR NOT NULL,
          suite_name VARCHAR NOT NULL,
          expectation VARCHAR NOT NULL,
          column_name VARCHAR,
          is_blocking BOOLEAN NOT NULL,
          success BOOLEAN NOT NULL,
          observed_value VARCHAR,
          unexpected_count BIGINT,
          element_count BIGINT,
          details VARCHAR,
          validated_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS meta.period_status (
          period_month DATE PRIMARY KEY,
          is_publishable BOOLEAN NOT NULL,
          blocking_failures VARCHAR,
          checked_at TIMESTAMP NOT NULL,
          run_id VARCHAR
        )
        """
    )
    ensure_audit_tables(con)


# The auditors' tables (docs/audit.md). Keyed by `index_name` where a row belongs to one index
# ('service_index', 'dti'), so the DTI's runs land in the same tables.
AUDIT_TABLES_DDL = (
    """
    CREATE TABLE IF NOT EXISTS meta.publication_overrides (
      override_id VARCHAR PRIMARY KEY,
      index_name VARCHAR NOT NULL,
      period_month DATE NOT NULL,
      overridden_checks VARCHAR NOT NULL,  -- meta.period_status.blocking_failures when overridden
      reason VARCHAR NOT NULL,
      overridden_by VARCHAR NOT NULL,
      overridden_at TIMESTAMP NOT NULL,
      validation_run_id VARCHAR,           -- the run whose failed checks were overridden
      code_version VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.dbt_test_results (
      run_id VARCHAR,
      invocation_id VARCHAR,
      period_month DATE,                   -- one row per month of the invocation's window
      test_unique_id VARCHAR NOT NULL,
      test_name VARCHAR NOT NULL,
      model_name VARCHAR,
      column_name VARCHAR,
      status VARCHAR NOT NULL,             -- pass / fail / warn / error / skipped
      success BOOLEAN NOT NULL,
      is_blocking BOOLEAN NOT NULL,        -- severity error
      failures BIGINT,
      message VARCHAR,
      sample_row_ids VARCHAR,              -- JSON list of ids of offending rows (failed tests)
      executed_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.validation_sample_rows (
      run_id VARCHAR,
      period_month DATE NOT NULL,
      suite_name VARCHAR NOT NULL,
      expectation VARCHAR NOT NULL,
      column_name VARCHAR,
      sample_row_ids VARCHAR NOT NULL      -- JSON list of '<source_id>#<source_row>'
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.raw_archive (
      sha256 VARCHAR PRIMARY KEY,
      size_bytes BIGINT NOT NULL,
      archived_path VARCHAR NOT NULL,      -- read-only, content-addressed copy
      first_archived_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.run_provenance (
      run_id VARCHAR NOT NULL,
      index_name VARCHAR NOT NULL,
      period_month DATE NOT NULL,
      code_version VARCHAR NOT NULL,
      input_hash VARCHAR NOT NULL,         -- sha256 over the sha256 of the period's active inputs
      methodology_version VARCHAR,
      recorded_at TIMESTAMP NOT NULL
    )
    """,
)


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    for ddl in AUDIT_TABLES_DDL:
        con.execute(ddl)
