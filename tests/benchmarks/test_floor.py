"""The benchmark floor (one hand-written DuckDB statement, benchmarks/floor_service_index.sql)
gives the same scores as the real pipeline (Dagster: load, row rules, GX, dbt build) on the same
landing files: every as-reported unit of the month, total_score_unrounded and the group points
within 1e-9, and the same set of scored units.

Months: 2025-08 (34 merged provinces, carry-over from a month the warehouse never saw) and
2025-06 (63 provinces, before the merger) from Parquet files, and 2025-08 from csv.gz (every
value read as text: unreadable timestamps and the text parsing of the row rules)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from benchmarks.floor import run_floor
from ingestion.demo_data import generate_demo
from orchestration.cli import prepare_dbt

ROWS = 20_000
TOLERANCE = 1e-9
SCORE_COLUMNS = (
    "ckmb_points", "tdgq_points", "clgq_points", "tttt_points", "mdsh_points", "mdhl_points",
    "group_1_points", "group_2_points", "group_3_points", "group_4_points", "group_5_points",
    "applicable_max_points", "total_score_unrounded",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One generation per format: 2025-06 and 2025-08 with the generator's planted defects."""
    out = {}
    for fmt in ("parquet", "csv.gz"):
        target = tmp_path_factory.mktemp(f"floor-demo-{fmt.replace('.', '-')}")
        generate_demo(target, ["2025-06", "2025-08"], rows_per_month=ROWS, seed=766,
                      file_format=fmt, defects=True)
        out[fmt] = target
    return out


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    home = tmp_path_factory.mktemp("floor-prepare")
    with pytest.MonkeyPatch.context() as mp:  # prepare_dbt sets defaults: keep them out of os.environ
        mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        mp.setenv("DXMON_WAREHOUSE", str(home / "warehouse" / "dxmon.duckdb"))
        prepare_dbt()
        from orchestration.definitions import defs

        return defs.resolve_job_def("monthly_service_index")


def pipeline_scores(data_root, month: str) -> tuple[dict, dict]:
    """Scored and unscored as-reported units of the month in marts.fct_service_index_monthly."""
    cols = ", ".join(SCORE_COLUMNS)
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        rows = con.execute(
            f"SELECT unit_code, unit_level, {cols} FROM marts.fct_service_index_monthly "
            f"WHERE NOT is_backcast AND period_month = DATE '{month}-01'"
        ).fetchall()
    scored = {r[0]: r[1:] for r in rows if r[-1] is not None}
    unscored = {r[0]: r[1] for r in rows if r[-1] is None}
    return scored, unscored


def floor_scores(path) -> dict:
    cols = ", ".join(SCORE_COLUMNS)
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT unit_code, unit_level, {cols} FROM read_parquet('{path}')").fetchall()
    return {r[0]: r[1:] for r in rows}


def differences(pipeline: dict, floor: dict) -> list[str]:
    out = []
    for unit in sorted(pipeline.keys() & floor.keys()):
        p, f = pipeline[unit], floor[unit]
        if p[0] != f[0]:
            out.append(f"{unit}: unit_level {p[0]} != {f[0]}")
        for name, a, b in zip(SCORE_COLUMNS, p[1:], f[1:]):
            if (a is None) != (b is None) or (a is not None and abs(a - b) > TOLERANCE):
                out.append(f"{unit}: {name} pipeline {a} floor {b}")
    return out


@pytest.mark.parametrize(
    ("month", "fmt", "provinces"),
    [("2025-08", "parquet", 34), ("2025-06", "parquet", 63), ("2025-08", "csv.gz", 34)],
)
def test_floor_gives_the_pipeline_scores(month, fmt, provinces, demo, job, tmp_path, monkeypatch):
    data_root = tmp_path / "data"
    monkeypatch.setenv("DXMON_DATA_DIR", str(data_root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(data_root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    (data_root / "dagster_home").mkdir(parents=True)
    (data_root / "warehouse").mkdir()
    landing = demo[fmt] / "landing" / month
    shutil.copytree(landing, data_root / "landing" / month)

    result = job.execute_in_process(partition_key=f"{month}-01", raise_on_error=True)
    assert result.success
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        rejected = con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone()[0]
    assert rejected > 0  # the planted defects are in play

    floor_path = tmp_path / "floor.parquet"
    run = run_floor(landing, month, floor_path)
    assert run["notes"] == []

    pipeline, unscored = pipeline_scores(data_root, month)
    floor = floor_scores(floor_path)
    # the month's registry: 63 provinces before the merger, 34 after (the generator's anomaly
    # month leaves one without dossiers, hence unscored)
    levels = [v[0] for v in pipeline.values()] + list(unscored.values())
    assert levels.count("province") == provinces
    assert sum(1 for v in pipeline.values() if v[0] == "province") >= provinces - 1
    assert set(floor) == set(pipeline), (
        f"only in pipeline: {sorted(set(pipeline) - set(floor))}; only in floor: {sorted(set(floor) - set(pipeline))}"
    )
    assert not (set(floor) & set(unscored))
    assert differences(pipeline, floor) == []
