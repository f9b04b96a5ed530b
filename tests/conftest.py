"""Shared fixtures: every test gets its own data folder and warehouse file; what is expensive and
only read (the parsed dbt project, the reference data) is built once per session and copied."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

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


@pytest.fixture(scope="session")
def definitions(tmp_path_factory):
    """The one Definitions object, after a single `dbt parse` for the whole session."""
    from orchestration.cli.environment import prepare_dbt

    home = tmp_path_factory.mktemp("prepare")
    with pytest.MonkeyPatch.context() as mp:  # prepare_dbt sets defaults: keep them out of os.environ
        mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        mp.setenv("DXMON_WAREHOUSE", str(home / "warehouse" / "dxmon.duckdb"))
        # pytest-xdist workers start together: one parses, the others wait and find it current
        lock_path = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / ".parse.lock"
        lock_path.parent.mkdir(exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            prepare_dbt()
        from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="session")
def reference_warehouse(tmp_path_factory, definitions) -> Path:
    """A warehouse file holding the reference data (seeds, units, calendar, and the fingerprint
    of what was built), built once per session by the real `reference_data` job."""
    root = tmp_path_factory.mktemp("reference_warehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root))
        mp.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()
        result = definitions.resolve_job_def("reference_data").execute_in_process()
        assert result.success
    path = root / "warehouse" / "dxmon.duckdb"
    assert path.is_file() and not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture
def reference_data(data_root, reference_warehouse) -> Path:
    """The test's warehouse starts as a copy of the session's reference warehouse, so a monthly
    run finds the reference data built (same fingerprint) and does not rebuild it."""
    target = data_root / "warehouse" / "dxmon.duckdb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(reference_warehouse, target)
    return target


@pytest.fixture
def dti_catalogue(tmp_path, monkeypatch):
    """A small DTI catalogue with the real one's columns (tests/ingestion/test_dti_fixtures.py) as
    `DXMON_DTI_CATALOGUE`; the year -> version table is the real seed."""
    from ingestion.reports.dti import catalogue
    from tests.ingestion.test_dti_fixtures import write_fixture_catalogue

    path = write_fixture_catalogue(tmp_path / "catalogue" / "dti_indicators.csv")
    monkeypatch.setenv("DXMON_DTI_CATALOGUE", str(path))
    monkeypatch.delenv("DXMON_DTI_YEARS", raising=False)
    assert catalogue.years_path().is_file()
    return path
