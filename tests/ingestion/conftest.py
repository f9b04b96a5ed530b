"""Fixtures for the portal tests: a small parquet store and the demo portal serving it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from demo.portal_server import DemoPortalServer
from ingestion.core.extract_contract import EXTRACT_KINDS

TOKEN = "test-token"


def _value_sql(field, i: str) -> str:
    """A deterministic value for row `i` of a contract field (unique for text fields)."""
    t = field.sql_type
    if field.allowed_values:
        values = ", ".join(f"'{v}'" for v in field.allowed_values)
        expr = f"([{values}])[1 + {i} % {len(field.allowed_values)}]"
        return f"CAST({expr} AS {t})" if t != "VARCHAR" else expr
    if t == "VARCHAR":
        return f"'{field.name}-' || lpad(CAST({i} AS VARCHAR), 6, '0')"
    if t == "TIMESTAMP":
        return f"TIMESTAMP '2025-07-01 08:00:00' + {i} * INTERVAL 37 MINUTE"
    if t == "DATE":
        return f"DATE '2025-01-01' + CAST({i} AS INTEGER)"
    if t == "BOOLEAN":
        return f"{i} % 2 = 0"
    if t.startswith("DECIMAL"):
        return f"CAST({i} * 1000.5 AS {t})"
    return f"CAST({i} AS {t})"


def write_store_file(store: Path, month: str, kind_name: str, rows: int) -> Path:
    """<store>/<month>/<kind>.parquet with `rows` rows of the contract's fields, shuffled so the
    server has to sort by key."""
    kind = EXTRACT_KINDS[kind_name]
    path = store / month / f"{kind.name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    select = ", ".join(f"{_value_sql(f, 'i')} AS {f.name}" for f in kind.fields)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT {select} FROM range({rows}) t(i) ORDER BY hash(i)) TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    write_store_file(store, "2025-07", "dossiers", 23)
    write_store_file(store, "2025-07", "procedures", 7)
    (store / "2025-08").mkdir(parents=True)  # a month without data
    return store


@pytest.fixture
def portal(store: Path):
    with DemoPortalServer(store, token=TOKEN) as server:
        yield server
