"""The publication gate `period` (the service index over quarters, years and year to date): each
row carries its publication_basis, computed in dbt from its months; publish() drops the withheld
rows and adds the run and code version of the latest covered month's build and the hash of the
covered months' input hashes. A real warehouse file (prepare_warehouse), the months' gate and
provenance, and the period marts as dbt leaves them (their columns that publication reads);
the monthly marts publication requires are present (one row each)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from ingestion.core.schema import prepare_warehouse
from publication.audit.provenance import hash_of_hashes
from publication.publish import publish
from publication.published_marts import PERIOD, published_marts

MONTHS = [dt.date(2025, m, 1) for m in range(4, 9)]
# period, months_covered, months_withheld, publication_basis
PERIODS = [
    ("2025-04-YTD", "2025-04", "", "checks_passed"),
    ("2025-Q2", "2025-04,2025-05,2025-06", "", "override"),
    ("2025-Q3", "2025-07", "2025-08", "withheld"),
    ("2025", "2025-04,2025-05,2025-06,2025-07", "2025-08", "withheld"),
]


def _warehouse(path) -> None:
    now = dt.datetime(2025, 9, 2, 3)
    with duckdb.connect(str(path)) as con:
        prepare_warehouse(con)
        for month in MONTHS:
            passed = month.month not in (5, 8)
            con.execute("INSERT INTO meta.period_status VALUES (?, ?, ?, ?, ?)",
                        [month, passed, None if passed else "dossiers_volume: failed", now, f"validate-{month:%m}"])
            con.execute("INSERT INTO meta.run_provenance VALUES (?, 'service_index', ?, ?, ?, '766_2022', ?)",
                        [f"run-{month:%m}", month, f"code-{month:%m}", f"hash-{month:%m}", now])
        con.execute("INSERT INTO meta.publication_overrides (override_id, index_name, period_month, overridden_checks, "
                    "reason, overridden_by, overridden_at) VALUES ('ovr-05', 'service_index', '2025-05-01', "
                    "'dossiers_volume: failed', 'explained by the agency', 'tester', ?)", [now])
        con.execute("CREATE SCHEMA marts")
        for table in ("fct_service_index_monthly", "fct_service_index_indicators_monthly", "rpt_service_ranking_monthly"):
            con.execute(f"CREATE TABLE marts.{table} AS SELECT DATE '2025-04-01' AS period_month, '01' AS unit_code")
        con.execute("CREATE TABLE marts.dim_units AS SELECT '01' AS unit_code")
        for table in ("fct_service_index_period", "rpt_service_ranking_period"):
            con.execute(f"CREATE TABLE marts.{table} (period VARCHAR, unit_code VARCHAR, months_covered VARCHAR, "
                        "months_withheld VARCHAR, publication_basis VARCHAR, methodology_version VARCHAR, "
                        "total_score DOUBLE)")
            for period, covered, withheld, basis in PERIODS:
                con.execute(f"INSERT INTO marts.{table} VALUES (?, '01', ?, ?, ?, '766_2022', 80.0)",
                            [period, covered, withheld, basis])


def test_the_period_marts_are_declared_behind_the_period_gate(definitions):
    marts = {m.name: m for m in published_marts()}
    assert {n for n, m in marts.items() if m.gate == PERIOD} == {"fct_service_index_period", "rpt_service_ranking_period"}
    assert not marts["fct_service_index_period"].required and "service_index" in marts["fct_service_index_period"].tags


def test_publication_drops_the_withheld_periods_and_adds_the_covered_months_provenance(definitions, tmp_path):
    warehouse = tmp_path / "dxmon.duckdb"
    _warehouse(warehouse)
    result = publish(warehouse=warehouse, target=tmp_path / "published", run_id="publish-run")
    assert result.withheld_months == {"2025-08": "dossiers_volume: failed"}
    with duckdb.connect(str(result.database), read_only=True) as con:
        for table in ("fct_service_index_period", "rpt_service_ranking_period"):
            rows = {r[0]: r[1:] for r in con.execute(
                f"SELECT period, publication_basis, run_id, code_version, input_hash FROM {table}").fetchall()}
            # the withheld periods (a withheld month: 2025-Q3, the year) are not published
            assert set(rows) == {"2025-04-YTD", "2025-Q2"}, table
            # the run and code version of the latest covered month; the hash of all covered months'
            assert rows["2025-Q2"] == ("override", "run-06", "code-06", hash_of_hashes(["hash-04", "hash-05", "hash-06"]))
            assert rows["2025-04-YTD"] == ("checks_passed", "run-04", "code-04", hash_of_hashes(["hash-04"]))
            assert rows["2025-Q2"][3] != rows["2025-04-YTD"][3]
        # the mart's own columns pass through (methodology_version is not replaced)
        assert con.execute("SELECT DISTINCT methodology_version FROM fct_service_index_period").fetchall() == [("766_2022",)]
    assert (tmp_path / "published" / "fct_service_index_period.parquet").exists()
    # the manifest says which periods were published and which withheld, with their withheld months
    assert (result.published_periods, result.withheld_periods) == (
        ["2025-04-YTD", "2025-Q2"], {"2025": "2025-08", "2025-Q3": "2025-08"})
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["withheld_periods"] == result.withheld_periods


def test_a_month_withheld_after_the_build_withholds_its_periods_at_publication(definitions, tmp_path):
    """The basis is computed in dbt; a covered month that fails its checks since (re-validated,
    its override no longer covering the failures) keeps the period's rows out until the next build."""
    warehouse = tmp_path / "dxmon.duckdb"
    _warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE meta.period_status SET is_publishable = false, blocking_failures = 'x: failed' "
                    "WHERE period_month = '2025-06-01'")
    result = publish(warehouse=warehouse, target=tmp_path / "published", run_id="publish-run")
    with duckdb.connect(str(result.database), read_only=True) as con:
        assert con.execute("SELECT period FROM fct_service_index_period").fetchall() == [("2025-04-YTD",)]
    # withheld at publication although its row says 'override': its month 2025-06 is withheld now
    assert result.withheld_periods["2025-Q2"] == "2025-06"
