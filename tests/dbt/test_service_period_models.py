"""The 766 service index over quarters, years and year to date, for real: a hand-made warehouse
(tests/dbt/period_fixture.py, 2025-04 .. 2025-08 around the province merger, the gate of each
month), `dbt build` of the service index, then assertions on the period marts: the quarter is
the formulas over the summed quarter (not the mean of its months), a carried-over dossier counts
once, the year to date, the gate of each period, the units valid at the period's end, and a
one-month rebuild giving the same rows."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.core.schema import prepare_warehouse
from tests.dbt import period_fixture as fx
from tests.dbt.dbt_runner import DbtTestWarehouse

SELECT = ("--select", "+fct_service_index_period+", "+rpt_service_ranking_period", "+fct_service_index_monthly", "+dim_units",
          "--exclude", "tag:dti", "tag:kpi", "tag:tasks", "tag:audit", "--indirect-selection", "cautious")
PERIOD_TABLES = ("intermediate.int_service_measure_deltas_monthly", "intermediate.int_service_measures_period",
                 "marts.fct_service_index_period", "marts.rpt_service_ranking_period")


def snapshot(wh: DbtTestWarehouse) -> dict[str, list[tuple]]:
    return {table: wh.rows(f"select * from {table} order by all") for table in PERIOD_TABLES}


def records(wh: DbtTestWarehouse, sql: str, *params) -> list[dict]:
    with duckdb.connect(str(wh.path), read_only=True) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> DbtTestWarehouse:
    wh = DbtTestWarehouse(tmp_path_factory.mktemp("period_warehouse"))
    with duckdb.connect(str(wh.path)) as con:
        prepare_warehouse(con)
        fx.build_period_fixture(con)
    wh.dbt("build", *SELECT)  # the data tests of the period models run (and must pass) here
    wh.first_build = snapshot(wh)
    return wh


def period_row(wh, period: str, unit: str, is_backcast: bool = False) -> dict:
    (row,) = records(wh, "select * from marts.fct_service_index_period where period = ? and unit_code = ? "
                         "and is_backcast = ?", period, unit, is_backcast)
    return row


def test_a_quarter_is_the_formulas_over_the_summed_quarter_not_the_mean_of_its_months(warehouse):
    q2 = period_row(warehouse, "2025-Q2", "01")
    # 2.1 over the quarter's 17 distinct dossiers, 7 on time (period_fixture.py, by hand)
    assert (q2["i2_1_numerator"], q2["i2_1_denominator"]) == (7, 17)
    assert q2["i2_1_ratio"] == pytest.approx(7 / 17)
    assert q2["i2_1_points"] == pytest.approx(20 * 7 / 17)  # linear, 20 points
    monthly = warehouse.rows(
        "select period_month, i2_1_ratio, total_score from marts.fct_service_index_monthly "
        "where unit_code = '01' and not is_backcast and period_month between '2025-04-01' and '2025-06-01' order by 1")
    assert [r[1] for r in monthly] == pytest.approx([3 / 3, 2 / 11, 3 / 5])
    mean_of_months = sum(r[2] for r in monthly) / 3
    # the two differ: the quarter weighs every dossier once, the mean weighs every month once
    assert q2["total_score"] == pytest.approx(77.98, abs=1e-9)
    assert mean_of_months == pytest.approx(82.6167, abs=1e-3)
    assert abs(q2["total_score"] - mean_of_months) > 4
    # the ratio of the mean of monthly ratios is not the quarter's either
    assert sum(r[1] for r in monthly) / 3 != pytest.approx(q2["i2_1_ratio"])


def test_a_carried_over_dossier_counts_once_judged_at_its_latest_state(warehouse):
    # in the April, May and June extracts; on time at April's end, late at May's and June's
    months = warehouse.rows("select period_month, is_handled_in_period, is_on_time from intermediate.int_dossiers_timed "
                            "where dossier_id = ? order by 1", fx.CARRY_ID)
    assert [(m.month, h, t) for m, h, t in months] == [(4, True, True), (5, True, False), (6, True, False)]
    # the months' 2.1 populations count it three times (3 + 11 + 5), the quarter once
    monthly = warehouse.rows(
        "select sum(i2_1_denominator), sum(i2_1_numerator) from marts.fct_service_index_monthly "
        "where unit_code = '01' and not is_backcast and period_month between '2025-04-01' and '2025-06-01'")
    assert monthly == [(19, 8)]
    q2 = period_row(warehouse, "2025-Q2", "01")
    assert (q2["i2_1_denominator"], q2["i2_1_numerator"]) == (17, 7)  # once, and late (its June state)
    # across the merger: received under 10 in June, under 15 in July: once in 15's year
    year = period_row(warehouse, "2025", "15")
    assert year["dossier_count"] == sum(c for u in ("10", "15") for c, _ in fx.OTHERS[u].values()) + 1 == 31
    assert period_row(warehouse, "2025-Q3", "15")["dossier_count"] == 2 + 2 + 4 + 4 + 1


def test_year_to_date_through_june_is_the_quarter_when_the_year_starts_in_april(warehouse):
    columns = [r[0] for r in warehouse.rows(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_service_index_period' and (column_name like 'i%_numerator' "
        "or column_name like 'i%_denominator' or column_name like '%_points' or column_name = 'total_score')")]
    assert len(columns) > 60
    for unit in ("01", "10", "15", "BTC"):
        ytd, q2 = period_row(warehouse, "2025-06-YTD", unit), period_row(warehouse, "2025-Q2", unit)
        assert {c: ytd[c] for c in columns} == pytest.approx({c: q2[c] for c in columns}), unit
    ytd = period_row(warehouse, "2025-06-YTD", "01")
    assert (ytd["period_kind"], ytd["period_start_month"].isoformat(), ytd["period_end_month"].isoformat()) == \
        ("year_to_date", "2025-01-01", "2025-06-01")
    assert (ytd["months_expected"], ytd["months_missing"], ytd["is_complete"]) == \
        (6, "2025-01,2025-02,2025-03", False)
    # the year to date through April is April alone; through August adds July and August
    assert period_row(warehouse, "2025-04-YTD", "01")["i2_1_denominator"] == 3
    assert period_row(warehouse, "2025-08-YTD", "01")["i2_1_denominator"] == 17 + 10


def test_each_period_says_which_months_it_covers_and_follows_the_withheld_rule(warehouse):
    status = {r["period"]: r for r in records(warehouse, "select * from intermediate.int_service_periods")}
    assert set(status) == {"2025-Q2", "2025-Q3", "2025", *(f"2025-0{m}-YTD" for m in range(4, 9))}
    # May failed its checks and was overridden: its periods are published on 'override'
    q2 = status["2025-Q2"]
    assert (q2["months_covered"], q2["months_withheld"], q2["months_missing"], q2["is_complete"],
            q2["publication_basis"], q2["override_ids"]) == \
        ("2025-04,2025-05,2025-06", "", "", True, "override", fx.OVERRIDE_ID)
    assert status["2025-04-YTD"]["publication_basis"] == "checks_passed"
    assert [status[f"2025-0{m}-YTD"]["publication_basis"] for m in (5, 6, 7)] == ["override"] * 3
    # August failed and is not overridden: its quarter, its year to date and the year are withheld
    q3 = status["2025-Q3"]
    assert (q3["months_expected"], q3["months_covered"], q3["months_withheld"], q3["months_missing"],
            q3["covered_month_count"], q3["is_complete"], q3["publication_basis"]) == \
        (3, "2025-07", "2025-08", "2025-09", 1, False, "withheld")
    assert status["2025-08-YTD"]["publication_basis"] == status["2025"]["publication_basis"] == "withheld"
    year = status["2025"]
    assert (year["months_expected"], year["covered_month_count"], year["months_missing"]) == \
        (12, 4, "2025-01,2025-02,2025-03,2025-09,2025-10,2025-11,2025-12")
    # the marts carry the same status on every row of the period
    assert warehouse.rows("select distinct publication_basis, months_withheld, is_complete from "
                          "marts.rpt_service_ranking_period where period = '2025-Q3'") == [("withheld", "2025-08", False)]
    # previous periods: quarter, year to date through the previous month
    assert (q3["previous_period"], status["2025-05-YTD"]["previous_period"]) == ("2025-Q2", "2025-04-YTD")


def test_a_quarter_ranks_the_units_valid_at_its_end(warehouse):
    ranked = warehouse.rows("select period, unit_level, count(*) from marts.fct_service_index_period "
                            "where not is_backcast and is_ranked_in_service_index group by 1, 2 order by 1, 2")
    counts = {(p, level): n for p, level, n in ranked}
    assert counts[("2025-Q2", "province")] == 63 and counts[("2025-Q3", "province")] == 34  # 2025-09: no data
    assert counts[("2025-06-YTD", "province")] == 63 and counts[("2025-07-YTD", "province")] == 34
    assert counts[("2025", "province")] == 34
    ranking = {(p, u): (r, n) for p, u, r, n in warehouse.rows(
        "select period, unit_code, rank, ranked_unit_count from marts.rpt_service_ranking_period "
        "where not is_backcast and unit_level = 'province'")}
    assert {u for p, u in ranking if p == "2025-Q2"} == {"01", "10", "15"}
    assert {u for p, u in ranking if p == "2025-Q3"} == {"01", "15"}
    # 15 in 2025-Q3 is the merged unit: its predecessor 10's dossiers (reported under 10) are in it
    assert period_row(warehouse, "2025-Q3", "15")["i2_1_denominator"] == 13
    # the new unit's previous rank is its back-cast rank of 2025-Q2
    (prev,) = warehouse.rows("select previous_period, previous_rank from marts.rpt_service_ranking_period "
                             "where period = '2025-Q3' and unit_code = '15' and not is_backcast")
    backcast_q2 = warehouse.scalar("select rank from marts.rpt_service_ranking_period "
                                   "where period = '2025-Q2' and unit_code = '15' and is_backcast")
    assert prev == ("2025-Q2", backcast_q2)


def test_rebuilding_one_month_gives_identical_period_rows(warehouse):
    # rows of the periods overlapping 2025-07 (2025-Q3, the years to date through 07 and 08, the
    # year) go stale or missing; the rebuild of July alone must restore them from every month of
    # their spans, and leave the other periods as they were
    warehouse.execute("delete from marts.fct_service_index_period where period in ('2025-Q3', '2025')")
    warehouse.execute("update marts.rpt_service_ranking_period set rank = 99 where period = '2025-07-YTD'")
    warehouse.execute("delete from intermediate.int_service_measure_deltas_monthly where period_month = '2025-07-01'")
    assert snapshot(warehouse) != warehouse.first_build
    warehouse.dbt("build", *SELECT, env={"DXMON_PERIOD_START": "2025-07-01", "DXMON_PERIOD_END": "2025-08-01"})
    assert snapshot(warehouse) == warehouse.first_build


def test_a_procedure_counts_once_in_a_period_even_across_the_merger(warehouse):
    def measure(period, unit, code):
        return warehouse.scalar("select measure_value from intermediate.int_service_measures_period where period = ? "
                                "and unit_code = ? and measure_code = ? and unit_basis = 'as_reported_period'",
                                period, unit, code)

    # P1 and P2 are in every month's catalogue, announced again each month (period_fixture.py):
    # the months count them three times in the quarter, the quarter once, on their June rows
    months = warehouse.scalar("select sum(i1_1_denominator) from marts.fct_service_index_monthly where unit_code = '01' "
                              "and not is_backcast and period_month between '2025-04-01' and '2025-06-01'")
    assert months == 6
    assert measure("2025-Q2", "01", "procedures_announced") == measure("2025-Q2", "01", "procedures_in_catalogue") == 2
    # 10's catalogue (P1, P2 until June) and 15's (P1, P2) fold into the merged 15 from July: the
    # same two procedures once, the successor's latest rows
    assert measure("2025-07-YTD", "15", "procedures_in_catalogue") == 2
    assert measure("2025-06-YTD", "10", "procedures_in_catalogue") == 2
    # one dossier procedure (P1) received online dossiers in the period: 3.2 counts it once
    assert measure("2025-Q2", "01", "procedures_online_with_online_dossiers") == 1
