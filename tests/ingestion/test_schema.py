"""The warehouse's raw, meta and quarantine tables: declared once, created and migrated by one function."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ingestion.core.schema import MIGRATIONS, SCHEMAS, TABLES, VIEWS, prepare_warehouse, table

ROOT = Path(__file__).resolve().parents[2]


def columns(con, qualified: str) -> list[tuple[str, str]]:
    schema, name = qualified.split(".")
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [schema, name]).fetchall()]


def declared(qualified: str) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in table(qualified).columns]


def test_a_fresh_warehouse_has_every_declared_table_and_view_and_every_migration_recorded():
    con = duckdb.connect()
    assert prepare_warehouse(con) == [m.id for m in MIGRATIONS]
    for t in TABLES:
        assert [n for n, _ in columns(con, t.name)] == t.column_names, t.name
    for v in VIEWS:
        schema, name = v.name.split(".")
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
                           "AND table_type = 'VIEW'", [schema, name]).fetchone()[0] == 1, v.name
    assert columns(con, "meta.dti_year_closures") == declared("meta.dti_year_closures")
    # idempotent: nothing more to apply, the data stays
    con.execute("INSERT INTO meta.reference_build VALUES ('f', now()::TIMESTAMP)")
    assert prepare_warehouse(con) == []
    assert con.execute("SELECT fingerprint FROM meta.reference_build").fetchall() == [("f",)]
    assert [r[0] for r in con.execute("SELECT migration_id FROM meta.schema_migrations ORDER BY 1").fetchall()] == \
        sorted(m.id for m in MIGRATIONS)


def test_an_older_warehouse_is_migrated_in_place_and_ends_with_the_declared_columns():
    con = duckdb.connect()
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA {schema}")
    # the shapes these tables had before the migrations
    con.execute("CREATE TABLE meta.dti_year_closures (year INTEGER, methodology_version VARCHAR, input_hash VARCHAR, "
                "closed_at TIMESTAMP, closed_by VARCHAR, run_id VARCHAR)")
    con.execute("INSERT INTO meta.dti_year_closures VALUES (2022, '922_2022', 'h', now()::TIMESTAMP, 'me', 'r')")
    con.execute("CREATE TABLE quarantine.rejected_files (period_month DATE, location VARCHAR NOT NULL, "
                "original_location VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, reason VARCHAR NOT NULL, "
                "quarantined_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO quarantine.rejected_files VALUES (DATE '2025-07-01', 'q', 'o', 's', 'why', now()::TIMESTAMP)")
    # the registry before per-file reconciliation (migration 0003): no rows_read
    con.execute("CREATE TABLE raw.ingested_sources (source_id VARCHAR PRIMARY KEY, extract_kind VARCHAR NOT NULL, "
                "period_month DATE NOT NULL, source_type VARCHAR NOT NULL, location VARCHAR NOT NULL, "
                "original_location VARCHAR, sha256 VARCHAR NOT NULL, size_bytes BIGINT NOT NULL, row_count BIGINT, "
                "rejected_count BIGINT, loaded_at TIMESTAMP NOT NULL, superseded_at TIMESTAMP)")
    con.execute("INSERT INTO raw.ingested_sources VALUES ('file:1', 'dossiers', DATE '2025-07-01', 'file', 'l', 'l', "
                "'s', 1, 3, 0, now()::TIMESTAMP, NULL)")
    assert prepare_warehouse(con) == [m.id for m in MIGRATIONS]
    assert columns(con, "raw.ingested_sources") == declared("raw.ingested_sources")
    # loaded before the count was kept: unknown, not invented
    assert con.execute("SELECT row_count, rows_read FROM raw.ingested_sources").fetchall() == [(3, None)]
    assert columns(con, "meta.dti_year_closures") == declared("meta.dti_year_closures")
    assert columns(con, "quarantine.rejected_files") == declared("quarantine.rejected_files")
    assert con.execute("SELECT year, code_version FROM meta.dti_year_closures").fetchall() == [(2022, None)]
    assert con.execute("SELECT input_kind, rule FROM quarantine.rejected_files").fetchall() == [("landing", None)]
    assert prepare_warehouse(con) == []


# DDL on the warehouse's own schemas, wherever it is written
DDL = re.compile(r"\b(CREATE|ALTER|DROP)\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW|SCHEMA)\s+"
                 r"(IF\s+(NOT\s+)?EXISTS\s+)?(raw|meta|quarantine)\b", re.IGNORECASE)


def test_no_other_module_writes_ddl_for_raw_meta_or_quarantine():
    offenders = []
    for package in ("ingestion", "expectations", "publication", "orchestration", "demo", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "ingestion" / "core" / "schema.py":
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in DDL.finditer(text)]
    assert offenders == []
