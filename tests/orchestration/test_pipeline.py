"""The whole monthly pipeline materialized in process: real landing files and a real demo portal
on loopback, real GX, real dbt builds into a temporary DuckDB file, real publication."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from demo.extracts import generate_demo
from demo.portal_server import DemoPortalServer
from orchestration.partitions import range_tags

TOKEN = "test-token"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Small demo extracts for June–August 2025: June and July as files, August via the API."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, ["2025-06", "2025-07", "2025-08"], rows_per_month=3000, seed=7,
                  file_months=["2025-06", "2025-07"], api_months=["2025-08"], file_format="csv.gz")
    return out


@pytest.fixture
def pipeline(data_root, reference_data, demo, definitions, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    shutil.copytree(demo / "landing", data_root / "landing")
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    job = definitions.resolve_job_def("monthly_service_index")

    def run(**kwargs):
        result = job.execute_in_process(raise_on_error=True, **kwargs)
        assert result.success
        return result

    return run


def mart(data_root, sql: str):
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def published(data_root, sql: str):
    with duckdb.connect(str(data_root / "published" / "dxmon_published.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow  # whole monthly job in process, more runs (make test keeps the backfill)
def test_one_month_then_rerun_gives_identical_marts(data_root, pipeline):
    pipeline(partition_key="2025-07-01")
    ranking_sql = ("SELECT period_month, unit_level, unit_code, total_score, rank, previous_rank, band "
                   "FROM marts.rpt_service_ranking_monthly WHERE NOT is_backcast ORDER BY ALL")
    first = mart(data_root, ranking_sql)
    levels = {(r[1]) for r in first}
    assert levels == {"province", "ministry"}
    provinces = [r for r in first if r[1] == "province"]
    assert len(provinces) == 34  # July 2025: the merged provinces
    assert all(0 <= r[3] <= 100 for r in first if r[3] is not None)
    # the warehouse's mart carries no run id (publication adds the provenance): the whole row compares
    fct_sql = "SELECT * FROM marts.fct_service_index_monthly ORDER BY ALL"
    fct_first = mart(data_root, fct_sql)

    pipeline(partition_key="2025-07-01")
    assert mart(data_root, ranking_sql) == first
    assert mart(data_root, fct_sql) == fct_first
    assert published(data_root, "SELECT count(*) FROM rpt_service_ranking_monthly")[0][0] == len(
        mart(data_root, "SELECT * FROM marts.rpt_service_ranking_monthly"))
    quarantined = mart(data_root, "SELECT count(*) FROM quarantine.rejected_rows")[0][0]
    assert quarantined > 0  # the generator's planted defects


def test_two_month_backfill_in_one_run_ranks_63_then_34_with_its_periods_and_agencies(data_root, demo, pipeline):
    result = pipeline(tags=range_tags("2025-06", "2025-07"))
    dbt_steps = [e for e in result.all_events if e.event_type_value == "STEP_START" and "service_index_dbt_models" in (e.step_key or "")]
    assert len(dbt_steps) == 1  # one dbt invocation for the range
    counts = dict(mart(data_root, "SELECT strftime(period_month, '%Y-%m'), count(*) FROM marts.rpt_service_ranking_monthly "
                                  "WHERE unit_level = 'province' AND NOT is_backcast GROUP BY 1"))
    # the demo plants one province that sends nothing in June: it is flagged and not ranked
    missing = json.loads((demo / "manifest.json").read_text())["anomalies"]["missing_unit"]
    assert missing["month"] == "2025-06"
    assert counts == {"2025-06": 62, "2025-07": 34}
    flagged = mart(data_root, "SELECT details FROM meta.validation_results WHERE suite_name = 'dossiers_unit_completeness' "
                              "AND NOT success AND period_month = DATE '2025-06-01'")
    assert any(missing["unit_code"] in d for (d,) in flagged)
    backcast = mart(data_root, "SELECT count(*) FROM marts.rpt_service_ranking_monthly WHERE is_backcast "
                               "AND unit_level = 'province' AND period_month = DATE '2025-06-01'")[0][0]
    assert backcast == 34
    # July's previous rank comes from June's back-cast ranking of the same 34 units
    assert mart(data_root, "SELECT count(previous_rank) FROM marts.rpt_service_ranking_monthly WHERE NOT is_backcast "
                           "AND unit_level = 'province' AND period_month = DATE '2025-07-01'")[0][0] == 34
    assert_periods_and_agencies_published(data_root)


def assert_periods_and_agencies_published(data_root):
    """The same backfill publishes the periods and the agency grain, and explain and ranking read them."""
    from orchestration.cli.rankings import agency_ranking, format_agency_ranking, format_unit_ranking, unit_ranking
    from publication.audit.explain_service_grains import (
        explain_agency,
        explain_period,
        format_agency_explanation,
        format_period_explanation,
    )

    periods = dict(published(data_root, "SELECT period, bool_and(is_complete) FROM rpt_service_ranking_period "
                                        "WHERE NOT is_backcast GROUP BY 1"))
    # June and July only: every period lacks months (none is complete)
    assert periods == {"2025-Q2": False, "2025-Q3": False, "2025": False, "2025-06-YTD": False, "2025-07-YTD": False}
    counts = dict(published(data_root, "SELECT period, count(*) FROM rpt_service_ranking_period WHERE NOT is_backcast "
                                       "AND unit_level = 'province' AND period IN ('2025-Q2', '2025-Q3') GROUP BY 1"))
    assert counts == {"2025-Q2": 62, "2025-Q3": 34}  # the units valid at each period's end
    # a period of one covered month is that month: Q3 (July only) equals July's scores, unit by unit
    differences = published(data_root, """
        SELECT count(*) FROM rpt_service_ranking_period p
        JOIN rpt_service_ranking_monthly m ON m.unit_code = p.unit_code AND m.is_backcast = p.is_backcast
             AND m.period_month = DATE '2025-07-01'
        WHERE p.period = '2025-Q3' AND (p.total_score <> m.total_score OR p.rank <> m.rank)""")[0][0]
    assert differences == 0
    assert published(data_root, "SELECT count(DISTINCT run_id), count(*) FILTER (WHERE input_hash IS NULL) "
                                "FROM rpt_service_ranking_period")[0] == (1, 0)

    agencies = dict(published(data_root, "SELECT strftime(period_month, '%Y-%m') || ' ' || agency_level, count(*) "
                                         "FROM rpt_agency_ranking_monthly GROUP BY 1"))
    assert agencies["2025-06 district"] > 0 and "2025-07 district" not in agencies  # abolished 2025-07-01
    assert agencies["2025-06 commune"] > 0 and agencies["2025-07 department"] > 0

    quarter = explain_period("01", "2025-Q3")
    assert quarter["months_covered"] == ["2025-07"] and quarter["months_missing"] == ["2025-08", "2025-09"]
    assert not quarter["is_complete"] and quarter["rank"]["rank"] >= 1 and quarter["sources"]
    text = format_period_explanation(quarter)
    assert "MISSING 2025-08, 2025-09" in text and "indicator 2.1" in text
    ranked = agency_ranking("2025-07", "01")
    assert ranked and {r["rank_group"] for r in ranked} >= {"provincial_agencies", "communes"}
    agency = explain_agency(ranked[-1]["agency_code"], "2025-07")
    assert agency["rank"]["rank"] == ranked[-1]["rank"] and sum(i["dossier_rows"] for i in agency["inputs"]) > 0
    assert "not applicable at the agency grain" in format_agency_explanation(agency)
    assert "Hà Nội" in format_unit_ranking(unit_ranking("2025-Q3"))
    assert "communes:" in format_agency_ranking(ranked, 3, bottom=True)


@pytest.mark.slow  # whole monthly job in process, more runs (make test keeps the backfill)
def test_api_month_is_fetched_archived_and_ranked(data_root, demo, pipeline, monkeypatch):
    with DemoPortalServer(demo / "portal_store", token=TOKEN) as server:
        monkeypatch.setenv("DXMON_PORTAL_URL", server.url)
        monkeypatch.setenv("DXMON_PORTAL_TOKEN", TOKEN)
        pipeline(partition_key="2025-08-01")
    pages = mart(data_root, "SELECT count(*), sum(row_count) FROM raw.ingested_sources WHERE source_type = 'api_page' "
                            "AND period_month = DATE '2025-08-01'")[0]
    assert pages[0] >= 4 and pages[1] > 3000
    assert list((data_root / "archive" / "portal" / "2025-08" / "dossiers").glob("page-*.json.gz"))
    assert published(data_root, "SELECT count(*) FROM rpt_service_ranking_monthly WHERE period_month = DATE '2025-08-01' "
                                "AND NOT is_backcast AND unit_level = 'province'")[0][0] == 34


@pytest.mark.slow  # whole monthly job in process, more runs (make test keeps the backfill)
def test_blocking_failure_withholds_the_month_from_publication(data_root, pipeline):
    # July's dossier file replaced by one whose channel column is garbage in every row
    july = data_root / "landing" / "2025-07"
    dossiers = next(july.glob("dossiers_*"))
    bad = july / "dossiers_2025-07.csv"
    duckdb.sql(f"COPY (SELECT * REPLACE ('web' AS channel) FROM read_csv('{dossiers}', all_varchar=true)) "
               f"TO '{bad}' (HEADER)")
    dossiers.unlink()
    pipeline(tags=range_tags("2025-06", "2025-07"))
    status = dict(mart(data_root, "SELECT strftime(period_month, '%Y-%m'), is_publishable FROM meta.period_status"))
    assert status == {"2025-06": True, "2025-07": False}
    months = published(data_root, "SELECT DISTINCT strftime(period_month, '%Y-%m') FROM rpt_service_ranking_monthly")
    assert months == [("2025-06",)]
    why = published(data_root, "SELECT blocking_failures FROM publication_status WHERE NOT is_publishable")[0][0]
    assert "dossiers_rejections" in why
