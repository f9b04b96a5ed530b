"""DTI scoring in dbt, for real: a temporary DuckDB warehouse with a few hand-made reports,
`dbt build` of the reference data and everything tagged dti, then the scores, ranks and
reports checked against values computed by hand (docs/dti_design.md, docs/methodology_dti.md).

The service index is not rebuilt here: intermediate.int_service_index_scored (built by the
service-index asset in the pipeline) is a small hand-made table with the columns DTI reads.

Province 01, DTI 2023 (922_2022), report v1 dated 2023-03-15 (points per sub-indicator):
  1: 1.1 yes 30, 1.2 no 0, 1.3 8/10 x 40 = 32                      -> 62 / 100
  2: 2.1 yes 30, 2.2 3 of 4 items x 40 = 30, 2.3 0.7 % band 0.5 x 30 = 15 -> 75
  3: 0.9 x 50 + 1.0 x 50 = 95;  4: 0.5 x 50 + 2.5 staff (band 1) 50 = 75
  5: 0.6 x 50 + 4 of 4 x 50 = 80;  6 (0 points): 1 of 2 -> value 0.5
  7: 7.1 automatic 40/100 = 0.4, target 0.8 -> 0.5 x 60 = 30 (self-report 0.9 diverges)
     7.2 automatic 90/100 x 50 = 45; 7.3 no measurement: self 0.25 / 0.5 x 40 = 20;
     7.4 missing 0                                                  -> 95 / 200
  8: 12 % band 0.5 x 50 = 25, 0.3 x 50, 0.2 x 50 -> 50 / 150; 9: 40 + 30 + 25 = 95 / 150
  total 627 points -> DTI 0.627
July 2023: v2 (dated 2023-07-10) adds 7.4 = 0.5 (+25); 3.0 year to date (40+60)/(100+100)
  = 0.5 -> 0.625 x 60 = 37.5 (+7.5): 659.5 -> 0.6595.
Provinces 02 and 04 tie at 0.16 (rank 2, 2), 08 has 0.03 (rank 4).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingestion.core.schema import prepare_warehouse
from tests.dbt.dbt_runner import DbtTestWarehouse

WINDOW_2023 = {"period_start": "2023-06-01", "period_end": "2023-08-01"}
# (the DTI lineage also reads the audit staging views of the run's provenance and checks; the KPI
# models below the DTI's marts are KPI tracking's, tested in tests/dbt/test_kpi_models.py)
SELECT = ["--select", "tag:reference", "tag:dti+", "stg_audit_meta__period_status", "stg_audit_meta__run_provenance",
          "stg_audit_meta__validation_results", "--exclude", "tag:kpi", "--indirect-selection", "cautious"]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    prepare_warehouse(con)
    # the service-index scores DTI reads (built by the service-index asset in the pipeline)
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute(
        "CREATE TABLE IF NOT EXISTS intermediate.int_service_index_scored (period_month DATE, "
        "unit_code VARCHAR, unit_level VARCHAR, is_backcast BOOLEAN, indicator_code VARCHAR, "
        "numerator DOUBLE, denominator DOUBLE)")


class DtiWarehouse(DbtTestWarehouse):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        with duckdb.connect(str(self.path)) as con:
            ensure_tables(con)

    def build(self, variables: dict, *select: str) -> str:
        return self.dbt("build", *(select or SELECT), "--vars", json.dumps(variables))

    # ---- fixture data -------------------------------------------------------------------------
    def submit(self, year: int, level: str, unit: str, version: int, report_date: str,
               values: dict[str, float | tuple[float, float]], status: str = "accepted",
               evidence: str | None = "QĐ 123/QĐ-UBND") -> str:
        submission_id = f"dti:{year}:{unit}:{version:016d}"
        with duckdb.connect(str(self.path)) as con:
            con.execute(
                "insert into raw.dti_submissions (submission_id, year, folder_unit_code, unit_code, level, "
                "report_year, report_date, version, received_at, inbox_path, archived_path, sha256, size_bytes, "
                "file_format, status, methodology_version) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [submission_id, year, unit, unit, level, year, report_date, version, f"{report_date} 08:00:00",
                 f"inbox/{year}/{unit}/v{version}.xlsx", f"archive/{submission_id}.xlsx", f"{version:064d}", 100,
                 "xlsx", status, None])
            for row, (code, value) in enumerate(values.items(), start=5):
                numerator, denominator, plain = (value[0], value[1], None) if isinstance(value, tuple) else (None, None, value)
                con.execute(
                    "insert into raw.dti_report_values (submission_id, year, level, unit_code, indicator_code, value, "
                    "numerator, denominator, evidence, raw_value, sheet, source_row) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [submission_id, year, level, unit, code, plain, numerator, denominator, evidence, str(value),
                     "DTI", row])
        return submission_id

    def measure(self, month: str, unit: str, level: str, indicator: str, numerator: float, denominator: float,
                backcast: bool = False) -> None:
        self.execute("insert into intermediate.int_service_index_scored values (?, ?, ?, ?, ?, ?, ?)",
                     month, unit, level, backcast, indicator, numerator, denominator)

    def supplement(self, version: str, level: str, points: dict[str, float], source: str) -> None:
        for code, value in points.items():
            self.execute("insert into raw.dti_weight_supplements values (?, ?, ?, ?, ?, current_timestamp)",
                         version, level, code, value, source)


PROVINCE_01_2023 = {
    "1.1": 1, "1.2": 0, "1.3": (8, 10),
    "2.1": 1, "2.2": 3, "2.3": 0.7,
    "3.1": 0.9, "3.2": 1.0,
    "4.1": 0.5, "4.2": 2.5,
    "5.1": 0.6, "5.2": 4,
    "6.1": 1, "6.2": 0,
    "7.1": 0.9, "7.3": 0.25,
    "8.1": 12, "8.2": 0.3, "8.3": 0.2,
    "9.1": 0.8, "9.2": 0.6, "9.3": 0.5,
}
MINISTRY_POINTS_DEMO = {"1": 100, "2": 100, "3": 200, "4": 150, "5": 150, "6": 300}
PROVINCE_405_POINTS_DEMO = {"1": 100, "2": 100, "3": 100, "4": 100, "5": 100, "6": 200, "7": 150, "8": 150}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> DtiWarehouse:
    wh = DtiWarehouse(tmp_path_factory.mktemp("dti_warehouse"))
    # provinces, 2023: 01 (two versions, v2 dated after June), a tie between 02 and 04, 08 last;
    # a rejected newer file of 02 is ignored
    wh.submit(2023, "province", "01", 1, "2023-03-15", PROVINCE_01_2023)
    wh.submit(2023, "province", "01", 2, "2023-07-10", {**PROVINCE_01_2023, "7.4": 0.5})
    tie = {"1.1": 1, "1.2": 1, "3.1": 1.0, "3.2": 1.0}
    wh.submit(2023, "province", "02", 1, "2023-04-01", tie)
    wh.submit(2023, "province", "02", 2, "2023-05-01", {"1.1": 1}, status="rejected")
    wh.submit(2023, "province", "04", 1, "2023-04-02", tie)
    wh.submit(2023, "province", "08", 1, "2023-04-03", {"1.1": 1})
    wh.measure("2023-03-01", "01", "province", "3.0", 40, 100)
    wh.measure("2023-03-01", "01", "province", "2.1", 90, 100)
    wh.measure("2023-07-01", "01", "province", "3.0", 60, 100)
    wh.measure("2022-12-01", "01", "province", "3.0", 0, 1000)  # another year: not counted
    # ministries, 2023 (points supplemented as a demo assumption): two groups
    wh.supplement("922_2022", "ministry", MINISTRY_POINTS_DEMO, "demo assumption")
    wh.submit(2023, "ministry", "BTC", 1, "2023-04-01", {"1.1": 1, "1.2": 1})
    wh.submit(2023, "ministry", "BTP", 1, "2023-04-01", {"1.1": 1})
    wh.submit(2023, "ministry", "VTV", 1, "2023-04-01", {"1.1": 1})
    # history 2023: 01 all main values 0.5 -> 0.5 (published right); 02 all 0.4 -> 0.4 but
    # published 0.41 (planted discrepancy); 04 published without values
    for unit, value in (("01", 0.5), ("02", 0.4)):
        for code in "123456789":
            wh.execute("insert into raw.dti_history_values values (2023, 'province', ?, ?, ?, 'dti2023.xlsx', 1, current_timestamp)",
                       unit, code, value)
    for unit, value, rank in (("01", 0.5, 1), ("02", 0.41, 2), ("04", 0.3, 3)):
        wh.execute("insert into raw.dti_history_published values (2023, 'province', ?, ?, ?, 'dti2023_published.xlsx', 1, current_timestamp)",
                   unit, value, rank)
    wh.first_build = wh.build(WINDOW_2023)
    return wh


def score(wh, month, level, unit):
    return wh.rows(
        "select dti_value, dti_value_4dp, total_points, weights_basis, completeness, missing_sub_indicator_codes "
        "from marts.fct_dti_scores where period_month = ? and level = ? and unit_code = ?", month, level, unit)[0]


def test_unit_tests_ran(warehouse):
    assert "unit_test" in warehouse.first_build


def test_province_scores_by_hand(warehouse):
    dti, dti_4dp, total, basis, completeness, missing = score(warehouse, "2023-06-01", "province", "01")
    assert total == pytest.approx(627)
    assert dti == pytest.approx(0.627) and dti_4dp == pytest.approx(0.627)
    assert basis == "official"
    assert missing == "7.4"
    assert completeness == pytest.approx(23 / 24)  # 24 representative subs, 7.4 missing
    # July: version 2 (dated 2023-07-10) and the service index through July
    assert score(warehouse, "2023-07-01", "province", "01")[0] == pytest.approx(0.6595)


def test_main_indicator_values_and_sources(warehouse):
    values = dict(warehouse.rows(
        "select indicator_code, value from marts.fct_dti_main_indicator_values "
        "where period_month = '2023-06-01' and unit_code = '01'"))
    assert values == pytest.approx({"1": 0.62, "2": 0.75, "3": 0.95, "4": 0.75, "5": 0.8, "6": 0.5,
                                    "7": 0.475, "8": 1 / 3, "9": 95 / 150})
    points = dict(warehouse.rows(
        "select indicator_code, points from marts.fct_dti_main_indicator_values "
        "where period_month = '2023-06-01' and unit_code = '01'"))
    assert points["6"] == 0 and points["7"] == 200


def test_divergence_recorded(warehouse):
    rows = warehouse.rows(
        "select period_month, indicator_code, self_reported_ratio, automatic_ratio, is_divergent "
        "from marts.fct_dti_indicator_divergence where unit_code = '01' order by all")
    assert [(str(m), c) for m, c, *_ in rows] == [("2023-06-01", "7.1"), ("2023-07-01", "7.1")]
    assert rows[0][2:] == pytest.approx((0.9, 0.4, True))


def test_competition_ranks_and_ministry_groups(warehouse):
    ranks = dict(warehouse.rows(
        "select unit_code, rank from marts.rpt_dti_ranking where period_month = '2023-06-01' and level = 'province'"))
    assert ranks == {"01": 1, "02": 2, "04": 2, "08": 4}
    ministries = warehouse.rows(
        "select unit_group, unit_code, rank, weights_basis from marts.rpt_dti_ranking "
        "where period_month = '2023-06-01' and level = 'ministry' order by all")
    assert ministries == [("dvc", "BTC", 1, "supplemented: demo assumption"),
                          ("dvc", "BTP", 2, "supplemented: demo assumption"),
                          ("non_dvc", "VTV", 1, "supplemented: demo assumption")]
    # previous year's rank falls back to nothing (no 2022 final or published rank)
    assert warehouse.scalar("select count(previous_rank) from marts.rpt_dti_ranking where year = 2023") == 0


def test_history_discrepancies(warehouse):
    rows = warehouse.rows(
        "select unit_code, kind, published, recomputed, difference from marts.rpt_dti_history_discrepancies order by all")
    assert [(u, k) for u, k, *_ in rows] == [("02", "dti_value"), ("04", "published_without_values")]
    assert rows[0][2:] == pytest.approx((0.41, 0.4, -0.01))


def test_final_year_merged_provinces_freeze_and_previous_rank(warehouse):
    # DTI 2024 (405_2025; points supplemented as a demo assumption) is ranked on the 34 new
    # provinces while reports came from the old ones: new 15 = mean of old 10 and old 15.
    warehouse.supplement("405_2025", "province", PROVINCE_405_POINTS_DEMO, "demo assumption")
    warehouse.submit(2024, "province", "10", 1, "2025-03-01", {"1.1": 1, "3.1": 0.8})
    warehouse.submit(2024, "province", "15", 1, "2025-03-01", {"1.1": 0, "3.1": 0.4})
    warehouse.submit(2024, "province", "01", 1, "2025-03-01", {"1.1": 1, "3.1": 1.0})
    # the close-year invocation (docs/dti_design.md): no provisional month, only the final year
    warehouse.build({"dti_final_year": 2024, "period_start": "2024-12-01", "period_end": "2024-12-01"},
                    "--select", "tag:dti,+int_dti_final_scores")
    final = {r[0]: r[1:] for r in warehouse.rows(
        "select unit_code, dti_value, is_merged_average, reporting_unit_count, period_month, is_provisional, unit_key "
        "from intermediate.int_dti_final_scores")}
    assert final["15"][:3] == (pytest.approx(0.11), True, 2)  # (0.5 x 100 + 0.6 x 100) / 1000
    assert final["15"][3:] == (None, False, "province-15-2025-07-01")
    assert final["01"][:3] == (pytest.approx(0.2), False, 1)
    # freeze (what `dxmon dti close-year` does) and run a 2025 month
    warehouse.execute("insert into meta.dti_frozen_scores select * from intermediate.int_dti_final_scores")
    warehouse.submit(2025, "province", "15", 1, "2025-09-01", {"1.1": 1})
    warehouse.measure("2025-03-01", "15", "province", "3.0", 30, 100, backcast=True)
    warehouse.measure("2025-03-01", "15", "province", "3.0", 100, 100, backcast=False)  # Yên Bái: not this unit
    warehouse.measure("2025-08-01", "15", "province", "3.0", 50, 100, backcast=False)
    for _ in range(2):  # frozen rows are replaced, not duplicated
        warehouse.build({"period_start": "2025-09-01", "period_end": "2025-10-01"})
    assert warehouse.scalar("select count(*) from marts.fct_dti_scores where not is_provisional") == 2
    # 6.1: (30 + 50) / 200 = 0.4, target 0.8 -> half of 6.1 -> main 6 = 0.25 x 200 = 50; 1.1 -> 100
    assert score(warehouse, "2025-09-01", "province", "15")[0] == pytest.approx(0.15)
    ranking = warehouse.rows(
        "select rank, previous_rank, rank_change, previous_rank_source from marts.rpt_dti_ranking "
        "where period_month = '2025-09-01' and unit_code = '15'")
    assert ranking == [(1, 2, 1, "final")]
    final_ranks = dict(warehouse.rows(
        "select unit_code, rank from marts.rpt_dti_ranking where year = 2024 and period_month is null"))
    assert final_ranks == {"01": 1, "15": 2}
    # the 2023 provisional months are still there
    assert warehouse.scalar("select count(*) from marts.fct_dti_scores where period_month = '2023-06-01'") == 7


def test_unset_points_refuse_to_score(tmp_path):
    wh = DtiWarehouse(tmp_path)
    wh.submit(2023, "ministry", "BTC", 1, "2023-04-01", {"1.1": 1})
    result = wh.run_dbt("build", *SELECT, "--vars", json.dumps(WINDOW_2023))
    assert result.returncode != 0
    assert ("DTI scoring refused (scoring DTI reports): main-indicator points are unset for "
            "methodology_version 922_2022, level ministry: main indicators 1, 2, 3, 4, 5, 6") in result.stdout
    with duckdb.connect(str(wh.path), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables where table_name = 'fct_dti_scores'").fetchone()[0] == 0
