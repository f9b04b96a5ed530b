"""Warehouse tables of the DTI intake side (contract: docs/dti_design.md).

`raw.dti_submissions` and `raw.dti_report_values` (agencies' reports), the history tables, the
weight supplements, the year's publication gate `meta.dti_year_status` (written by
expectations/dti_validation.py) and the `quarantine.dti_rejections` view. `meta.dti_frozen_scores` and
`meta.dti_year_closures` belong to the scoring side and are not created here.
"""

from __future__ import annotations

import duckdb

from ingestion.core.warehouse import ensure_schema

DTI_DDL = [
    """
    CREATE TABLE IF NOT EXISTS raw.dti_submissions (
      submission_id VARCHAR PRIMARY KEY,   -- dti:<year>:<folder unit>:<sha256[:16]>
      year INTEGER NOT NULL,               -- from the folder inbox/<year>/
      folder_unit_code VARCHAR NOT NULL,   -- the folder the file was submitted to
      unit_code VARCHAR,                   -- read inside the file (NULL if unreadable)
      level VARCHAR,                       -- province / ministry
      report_year INTEGER,                 -- read inside the file
      report_date DATE,                    -- read inside the file
      version INTEGER NOT NULL,            -- 1, 2, ... per (year, folder_unit_code), order of receipt
      received_at TIMESTAMP NOT NULL,
      inbox_path VARCHAR NOT NULL,
      archived_path VARCHAR,
      sha256 VARCHAR NOT NULL,
      size_bytes BIGINT NOT NULL,
      file_format VARCHAR,                 -- xlsx / csv
      file_encoding VARCHAR,               -- utf-8, utf-8-sig, utf-16; NULL for xlsx
      status VARCHAR NOT NULL,             -- accepted / rejected
      rejection_reason VARCHAR,
      methodology_version VARCHAR,
      rejection_rule VARCHAR               -- machine name of the file-level rule (added by intake)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.dti_report_values (
      submission_id VARCHAR NOT NULL,
      year INTEGER NOT NULL,
      level VARCHAR,
      unit_code VARCHAR,
      indicator_code VARCHAR,
      value DOUBLE,
      numerator DOUBLE,
      denominator DOUBLE,
      evidence VARCHAR,
      raw_value VARCHAR,
      sheet VARCHAR,                       -- NULL for CSV files
      source_row INTEGER,                  -- spreadsheet row / CSV line (1-based)
      rejection_rule VARCHAR,              -- NULL for good rows
      rejection_reason VARCHAR,
      rejection_field VARCHAR              -- which input the rule is about (added by intake)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.dti_history_values (
      year INTEGER NOT NULL,
      level VARCHAR NOT NULL,
      unit_code VARCHAR NOT NULL,
      indicator_code VARCHAR NOT NULL,
      value DOUBLE NOT NULL,
      source_file VARCHAR NOT NULL,
      source_row INTEGER NOT NULL,
      loaded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.dti_history_published (
      year INTEGER NOT NULL,
      level VARCHAR NOT NULL,
      unit_code VARCHAR NOT NULL,
      dti_value DOUBLE NOT NULL,
      rank INTEGER,
      source_file VARCHAR NOT NULL,
      source_row INTEGER NOT NULL,
      loaded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta.dti_year_status (
      year INTEGER PRIMARY KEY,
      is_publishable BOOLEAN NOT NULL,   -- no latest accepted report fails a blocking expectation
      blocking_failures VARCHAR,         -- '<submission_id>: <message>; ...' (what an override names)
      checked_at TIMESTAMP NOT NULL,
      run_id VARCHAR                     -- the validation run
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.dti_weight_supplements (
      methodology_version VARCHAR NOT NULL,
      level VARCHAR NOT NULL,
      indicator_code VARCHAR NOT NULL,
      max_points DOUBLE NOT NULL,
      source VARCHAR NOT NULL,
      loaded_at TIMESTAMP NOT NULL
    )
    """,
]

# One row per rejected file and per rejected value row, with where to find it.
REJECTIONS_VIEW = """
CREATE OR REPLACE VIEW quarantine.dti_rejections AS
SELECT 'file' AS rejection_level, s.submission_id, s.year, s.folder_unit_code, s.unit_code,
       s.version, s.inbox_path AS file, s.archived_path, NULL::VARCHAR AS sheet,
       NULL::INTEGER AS source_row, NULL::VARCHAR AS indicator_code, NULL::VARCHAR AS field,
       s.rejection_rule AS rule, s.rejection_reason AS reason, NULL::VARCHAR AS raw_value,
       s.received_at
FROM raw.dti_submissions s
WHERE s.status = 'rejected'
UNION ALL
SELECT 'row', v.submission_id, v.year, s.folder_unit_code, v.unit_code, s.version, s.inbox_path,
       s.archived_path, v.sheet, v.source_row, v.indicator_code, v.rejection_field,
       v.rejection_rule, v.rejection_reason, v.raw_value, s.received_at
FROM raw.dti_report_values v
JOIN raw.dti_submissions s USING (submission_id)
WHERE v.rejection_rule IS NOT NULL
"""


def ensure_dti_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the DTI intake tables and the rejections view (idempotent). Also makes sure the
    shared schemas and `meta.validation_results` exist."""
    ensure_schema(con)
    for ddl in DTI_DDL:
        con.execute(ddl)
    con.execute(REJECTIONS_VIEW)
