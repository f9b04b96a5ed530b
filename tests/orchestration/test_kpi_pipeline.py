"""KPI tracking materialized in process: the demo's agency KPI reports in the KPI inbox, the real
published statistics releases and index files loaded, the kpi_tracking job as of 2025-08 (real
intake, real GX, a real dbt build, real publication), then the gate, the provenance, explain,
a rerun and the inbox sensor checked on what it wrote."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import dagster as dg
import duckdb
import pytest

from demo.kpi import load_demo_sources
from demo.kpi_reports import generate_demo_kpi_reports
from ingestion.core.warehouse import connect
from orchestration.kpi.sensors import kpi_inbox_sensor
from publication.audit.explain_kpi import KpiExplainError, explain_kpi, format_kpi_explanation

AS_OF = "2025-08-01"
DEMO_KPI_PERIODS = ("2025-Q1", "2025-Q2")  # as make run has them: both ended by the as-of month


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory):
    return generate_demo_kpi_reports(tmp_path_factory.mktemp("kpi_demo"), periods=DEMO_KPI_PERIODS)


@pytest.fixture
def tracked(data_root, reference_data, demo_reports, definitions, monkeypatch):
    """A warehouse after one kpi_tracking run as of 2025-08; returns (run the job again, run id)."""
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    shutil.copytree(demo_reports.inbox, data_root / "kpi_inbox", copy_function=shutil.copy2)
    with connect() as con:
        loaded = load_demo_sources(con)
    assert loaded["rejected_files"] == [] and loaded["rows_rejected"] == 0
    job = definitions.resolve_job_def("kpi_tracking")

    def run():
        result = job.execute_in_process(partition_key=AS_OF, raise_on_error=True)
        assert result.success
        return result.run_id

    return run, run()


def rows(path, sql: str, params=()):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_kpi_tracking_as_of_a_month_gated_published_with_provenance_and_reproducible(data_root, tracked):
    rerun, run_id = tracked
    warehouse = data_root / "warehouse" / "dxmon.duckdb"
    published = data_root / "published" / "dxmon_published.duckdb"

    # as of the run's month end, whatever the data hold later (a press figure of 26/10/2025 exists)
    assert rows(warehouse, "SELECT DISTINCT as_of_date FROM marts.rpt_kpi_progress") == [(dt.date(2025, 8, 31),)]
    assert rows(warehouse, "SELECT max(latest_date) FROM marts.rpt_kpi_progress")[0][0].isoformat() <= "2025-08-31"
    assert rows(warehouse, "SELECT count(*) FROM marts.fct_kpi_values WHERE period = '2025-10-26'")[0][0] == 3

    # the demo's 2025-Q2 reports (its defects) fail a blocking check: their values are withheld, counted, not published
    gate = dict(rows(warehouse, "SELECT period_key, publication_basis FROM meta.publication_gate "
                                "WHERE index_name = 'kpi_reports'"))
    assert gate == {"2025-Q1": "checks_passed", "2025-Q2": "withheld"}
    by_basis = dict(rows(warehouse, "SELECT publication_basis, count(*) FROM marts.fct_kpi_values "
                                    "WHERE source_kind = 'agency_report' GROUP BY 1"))
    assert by_basis["withheld"] > 0 and by_basis["checks_passed"] > 0
    assert rows(warehouse, "SELECT sum(values_withheld) FROM marts.rpt_kpi_progress "
                           "WHERE level = 'province'")[0][0] > 0
    assert rows(published, "SELECT count(*) FROM fct_kpi_values WHERE publication_basis = 'withheld'") == [(0,)]
    kept = rows(warehouse, "SELECT count(*) FROM marts.fct_kpi_values WHERE publication_basis <> 'withheld'")[0][0]
    assert rows(published, "SELECT count(*) FROM fct_kpi_values") == [(kept,)]

    # every published KPI row names the build: run, code version, input hash (meta.run_provenance)
    provenance = rows(warehouse, "SELECT run_id, input_hash FROM meta.run_provenance WHERE index_name = 'kpi' "
                                 "AND period_month = ?", [AS_OF])
    assert provenance and provenance[0][0] == run_id and len(provenance[0][1]) == 64
    for mart in ("fct_kpi_values", "rpt_kpi_progress", "rpt_national_scorecard", "rpt_international_comparison"):
        assert rows(published, f"SELECT DISTINCT run_id, input_hash, methodology_version FROM {mart}") == [
            (run_id, provenance[0][1], "kpi_2026_12")], mart
    # every catalogue KPI with a value has a progress row with a status at every level it has values for
    missing = rows(warehouse, """
        SELECT DISTINCT v.kpi_code, v.level FROM marts.fct_kpi_values v
        WHERE v.publication_basis <> 'withheld' AND NOT EXISTS (
            SELECT 1 FROM marts.rpt_kpi_progress p WHERE p.kpi_code = v.kpi_code AND p.level = v.level
            AND p.status_code IS NOT NULL)""")
    assert missing == []

    # explain traces a reported value to its file and cell, a statistic to its release and source
    reported = rows(warehouse, "SELECT kpi_code, measure FROM marts.fct_kpi_values WHERE source_kind = 'agency_report' "
                               "AND unit_code = '79' AND period = '2025-Q1' ORDER BY 1, 2 LIMIT 1")[0]
    e = explain_kpi(reported[0], "79", "2025-Q1", reported[1], warehouse)
    trace = e["values"][0]["trace"]
    assert trace["file"][0]["inbox_path"].endswith(".csv") and trace["file"][0]["sha256"]
    assert trace["row"][0]["source_row"] == e["values"][0]["source_row"] and trace["row"][0]["raw_value"]
    stats = explain_kpi("DE-01", "national", "2023", warehouse=warehouse)
    releases = {(v["series"], v["release"], v["is_current_release"], v["value"]) for v in stats["values"]}
    assert ("GSO", "GSO revised series (2020-2024 release)", True, 12.87) in releases
    assert ("GSO", "GSO earlier vintage (2020-2023 release)", False, 12.33) in releases
    assert all(v["trace"]["sources"] for v in stats["values"])
    text = format_kpi_explanation(stats)
    assert "superseded by a later release" in text and "line " in text and "https://" in text
    with pytest.raises(KpiExplainError, match="periods with values"):
        explain_kpi("DE-01", "national", "2019", warehouse=warehouse)

    # a rerun on the same inputs gives the same marts
    def snapshot():
        return {m: rows(warehouse, f"SELECT * FROM marts.{m} ORDER BY ALL") for m in
                ("fct_kpi_values", "rpt_kpi_progress", "rpt_national_scorecard", "rpt_international_comparison")}

    before = snapshot()
    # a measure that cannot be computed is NULL, never NaN (a one-point series has no slope)
    nans = {m: sum(isinstance(x, float) and math.isnan(x) for r in mart_rows for x in r) for m, mart_rows in before.items()}
    assert nans == dict.fromkeys(before, 0)
    rerun()
    after = snapshot()
    for mart in before:
        for a, b in zip(before[mart], after[mart], strict=True):
            assert a == b, (mart, [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y])


def test_the_kpi_inbox_sensor_asks_only_for_reports_not_in_the_ingestion_log(data_root, tracked, definitions):
    repository = definitions.get_repository_def()
    quiet = kpi_inbox_sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    assert not quiet.run_requests and "every KPI report" in quiet.skip_message
    folder = data_root / "kpi_inbox" / "2025-Q2" / "79"
    (folder / "kpi_2025-Q2_79_resent.csv").write_bytes(next(folder.glob("*.csv")).read_bytes() + b"\n")
    tick = kpi_inbox_sensor.evaluate_tick(dg.build_sensor_context(cursor=quiet.cursor, repository_def=repository))
    assert len(tick.run_requests) == 1
    assert tick.run_requests[0].tags["dxmon/files"] == "2025-Q2/79/kpi_2025-Q2_79_resent.csv"
