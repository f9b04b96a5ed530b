"""The 766 index at the handling agency's grain, for real: the agency fixture
(tests/dbt/agency_fixture.py) in a DuckDB warehouse of its own, `dbt build` of the agency marts
and everything they read (with their data tests), then assertions on the marts. Also the demo
generator's agencies around the 2025 reorganisation (a small demo)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from demo.extracts import generate_demo
from ingestion.core.schema import prepare_warehouse
from tests.dbt.agency_fixture import build_agency_fixture
from tests.dbt.dbt_runner import DbtTestWarehouse

JUNE, JULY = dt.date(2025, 6, 1), dt.date(2025, 7, 1)
INDICATORS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "methodology" / \
    "service_index_indicators_766_2022.csv"
# counted from procedures or complaints, which carry no handling agency
NOT_AT_AGENCY_GRAIN = {"1.1", "1.2", "1.3", "3.1", "3.2", "3.5a", "3.5b", "4.5a", "5.1", "5.2", "5.3"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> DbtTestWarehouse:
    wh = DbtTestWarehouse(tmp_path_factory.mktemp("agency_warehouse"))
    with duckdb.connect(str(wh.path)) as con:
        prepare_warehouse(con)
        build_agency_fixture(con)
    wh.build_output = wh.dbt("build", "--select", "+rpt_agency_ranking_monthly")
    return wh


def _ranks(wh: DbtTestWarehouse, month: dt.date, parent: str, rank_group: str) -> dict[str, tuple]:
    return {code: (rank, count) for code, rank, count in wh.rows(
        "select agency_code, rank, ranked_agency_count from marts.rpt_agency_ranking_monthly "
        "where period_month = ? and parent_unit_code = ? and rank_group = ?", month, parent, rank_group)}


def test_ties_within_a_parent_get_competition_ranks(warehouse):
    # the province office ranks with the departments (rank group provincial_agencies);
    # 01.S02 and 01.S03 have identical dossiers
    assert _ranks(warehouse, JUNE, "01", "provincial_agencies") == {
        "01.S01": (1, 4), "01.S02": (2, 4), "01.S03": (2, 4), "01.UBND": (4, 4)}
    s02, s03 = (warehouse.scalar("select total_score from marts.fct_service_index_agency_monthly "
                                 "where period_month = ? and agency_code = ?", JUNE, code) for code in ("01.S02", "01.S03"))
    assert s02 == s03 and s02 is not None


def test_ranks_are_within_parent_and_rank_group(warehouse):
    # Hồ Chí Minh City's departments rank among themselves, whatever Hà Nội's scores
    assert _ranks(warehouse, JUNE, "79", "provincial_agencies") == {"79.S02": (1, 2), "79.S01": (2, 2)}
    # Hà Nội's districts and communes rank apart from its departments
    assert _ranks(warehouse, JUNE, "01", "districts") == {"01.H01": (1, 2), "01.H02": (2, 2)}
    assert _ranks(warehouse, JUNE, "01", "communes") == {"01.X0002": (1, 2), "01.X0001": (2, 2)}
    # a ministry's own offices and its branches too
    assert _ranks(warehouse, JUNE, "BTC", "ministry_offices") == {"BTC.BO": (1, 2), "BTC.CUC01": (2, 2)}
    assert _ranks(warehouse, JUNE, "BTC", "ministry_branches") == {"BTC.ND01": (1, 1)}
    assert warehouse.scalar("select count(*) from marts.rpt_agency_ranking_monthly where period_month = ?",
                            JUNE) == 13


def test_rank_change_within_an_unchanged_parent_and_none_across_the_reorganisation(warehouse):
    rows = {code: (prev, rank, change) for code, prev, rank, change in warehouse.rows(
        "select agency_code, previous_rank, rank, rank_change from marts.rpt_agency_ranking_monthly "
        "where period_month = ?", JULY)}
    # the ministry is the same unit in both months: 1st then 2nd, and the reverse
    assert rows["BTC.BO"] == (1, 2, -1) and rows["BTC.CUC01"] == (2, 1, 1)
    # every province valid from 2025-07-01 is a new unit: no previous rank within it; the merged
    # commune has a new code (a new unit)
    assert rows["01.S01"] == (None, 2, None) and rows["01.S02"] == (None, 1, None)
    assert rows["01.XM001"] == (None, 1, None)


def test_a_district_is_ranked_before_the_reorganisation_and_not_after(warehouse):
    rows = {month: (ranked, reason, level) for month, ranked, reason, level in warehouse.rows(
        "select period_month, is_ranked, not_ranked_reason, agency_level from marts.fct_service_index_agency_monthly "
        "where agency_code = '01.H01'")}
    assert rows[JUNE] == (True, None, "district")
    # still shown with its scores in July, not ranked
    assert rows[JULY] == (False, "level_not_valid_in_month", "district")
    assert warehouse.scalar("select total_score from marts.fct_service_index_agency_monthly "
                            "where agency_code = '01.H01' and period_month = ?", JULY) is not None
    assert warehouse.scalar("select count(*) from marts.rpt_agency_ranking_monthly "
                            "where agency_level = 'district' and period_month = ?", JULY) == 0
    # and the build warns (a dbt test of severity warn: the Dagster asset check warns)
    warned = [line for line in warehouse.build_output.splitlines()
              if "WARN" in line and "int_service_agencies_by_month_is_level_valid_in_month" in line]
    assert warned, "no warning for the district's dossiers after 2025-06-30"


def test_only_dossier_indicators_are_defined_at_the_grain_and_follow_the_formula(warehouse):
    applicable = dict(warehouse.rows(
        "select distinct indicator_code, is_applicable_at_grain from intermediate.int_service_index_agency_scored"))
    assert {code for code, ok in applicable.items() if not ok} == NOT_AT_AGENCY_GRAIN
    assert warehouse.scalar(
        "select count(*) from intermediate.int_service_index_agency_scored where not is_applicable_at_grain "
        "and (numerator is not null or denominator is not null or ratio is not null or points is not null)") == 0
    wide = warehouse.rows(
        "select i1_1_numerator, i1_1_ratio, i1_1_points, i3_5a_points, i5_1_points, i5_2_ratio, i5_3_points,"
        " i2_1_ratio, i2_1_points, i5_4_ratio, i5_4_points, applicable_max_points, total_score_unrounded "
        "from marts.fct_service_index_agency_monthly where period_month = ? and agency_code = '01.S02'", JUNE)[0]
    assert wide[:7] == (None,) * 7
    # 01.S02 in June: 10 dossiers, 8 handled well (on time, liked), 2 overdue and disliked
    with open(INDICATORS, encoding="utf-8") as fh:
        seed = {r["indicator_code"]: r for r in csv.DictReader(fh)}

    def points(code: str, ratio: float) -> float:
        rule, top = seed[code]["rule"], float(seed[code]["max_points"])
        return top * min(1.0, ratio if rule == "linear" else ratio / float(seed[code]["target_ratio"]))

    ratio_21 = 8 / 10  # on time / handled
    ratio_54 = max(0, 10 - 2 - 2) / 10  # (handled - overdue - complained or disliked) / handled
    assert wide[7] == pytest.approx(ratio_21) and wide[8] == pytest.approx(points("2.1", ratio_21))
    assert wide[9] == pytest.approx(ratio_54) and wide[10] == pytest.approx(points("5.4", ratio_54))
    # the total and the reachable points count only the applicable indicators
    scored = warehouse.rows(
        "select sum(points), sum(max_points) from intermediate.int_service_index_agency_scored "
        "where period_month = ? and agency_code = '01.S02' and points is not null", JUNE)[0]
    assert float(wide[12]) == pytest.approx(scored[0]) and float(wide[11]) == pytest.approx(scored[1])
    assert float(wide[11]) < 100


def test_agency_names_and_parents(warehouse):
    rows = {(month, code): (name, parent, parent_name) for month, code, name, parent, parent_name in warehouse.rows(
        "select period_month, agency_code, agency_name, parent_unit_code, parent_unit_name "
        "from marts.fct_service_index_agency_monthly")}
    # the latest name reported; a month without one keeps the earlier name; never named: null
    assert rows[(JULY, "01.S01")][0] == "Sở Tư pháp thành phố Hà Nội"
    assert rows[(JUNE, "01.S01")][0] == "Sở Tư pháp Hà Nội"
    assert rows[(JULY, "01.S02")][0] == "Sở Tài chính"
    assert rows[(JUNE, "01.S03")][0] is None
    assert rows[(JUNE, "BTC.ND01")][1] == "BTC" and rows[(JUNE, "79.S01")][2]


def test_rebuilding_july_alone_gives_the_same_marts(warehouse):
    # an incremental one-month build: names of earlier months come from the recorded registry
    marts = ("marts.fct_service_index_agency_monthly", "marts.rpt_agency_ranking_monthly")
    before = {t: warehouse.rows(f"select * from {t} order by all") for t in marts}
    warehouse.dbt("build", "--select", "int_service_agencies_by_month+",
                  env={"DXMON_PERIOD_START": "2025-07-01", "DXMON_PERIOD_END": "2025-08-01"})
    assert {t: warehouse.rows(f"select * from {t} order by all") for t in marts} == before
    assert warehouse.scalar("select agency_name from marts.fct_service_index_agency_monthly "
                            "where period_month = ? and agency_code = '01.S02'", JULY) == "Sở Tài chính"


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("agency_demo")
    summary = generate_demo(out, ["2025-06", "2025-07"], 20_000, file_format="parquet", defects=False)
    return out, summary.manifest


def test_demo_agencies_follow_the_reorganisation(small_demo):
    root, manifest = small_demo
    con = duckdb.connect()
    counts = {}
    for f in manifest["files"]:
        if f["kind"] != "dossiers":
            continue
        rel = f"read_parquet('{root / f['path']}')"
        counts[f["month"]] = dict(con.sql(
            f"select handling_agency_level, count(distinct handling_agency_code) from {rel} group by 1").fetchall())
        unnamed = con.sql(f"select count(*) from {rel} where handling_agency_name is null").fetchone()[0]
        assert unnamed == 0, f["month"]
        if f["month"] == "2025-07":
            # new communes: codes of the post-merger block only
            old = con.sql(f"select count(*) from {rel} where handling_agency_level = 'commune' "
                          "and split_part(handling_agency_code, '.', 2) not like 'XM%'").fetchone()[0]
            assert old == 0
    # districts before July 2025 only; tens of departments and communes per province
    assert counts["2025-06"]["district"] > 63 * 5 and "district" not in counts["2025-07"]
    assert counts["2025-06"]["department"] > 63 * 10 and counts["2025-07"]["commune"] > 34 * 20
