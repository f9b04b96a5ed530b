"""Shared fixtures: every test gets its own data folder and warehouse file."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A fresh `DXMON_DATA_DIR` with its own warehouse, landing and quality folders."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DXMON_DATA_DIR", str(root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    return root
