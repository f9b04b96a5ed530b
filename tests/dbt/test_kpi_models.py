"""The KPI tracking models in dbt, for real (docs/kpi_methodology.md): one temporary DuckDB
warehouse seeded by tests/dbt/kpi_fixture.py (raw KPI tables, the gate's status tables and the
two upstream marts as small hand-made tables), one `dbt build` of everything tagged kpi (seeds,
models and their data tests) at the as-of date 2025-06-30, then the values, trends, statuses and
the international comparison checked against numbers computed by hand here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt import kpi_fixture
from tests.dbt.dbt_runner import DbtTestWarehouse

AS_OF = dt.date(2025, 6, 30)
ORIGIN = dt.date(2000, 1, 1)


def years(day: dt.date) -> float:
    return (day - ORIGIN).days / 365.25  # kpi_trend_parameters: days_per_year


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> DbtTestWarehouse:
    wh = DbtTestWarehouse(Path(tmp_path_factory.mktemp("kpi_warehouse")))
    kpi_fixture.seed(wh.path)
    wh.dbt("build", "--selector", "kpi", "--vars", json.dumps({"kpi_as_of": AS_OF.isoformat()}))
    return wh


def progress(wh, kpi: str, measure: str = "main", **where) -> list[dict]:
    conditions = " and ".join(f"{column} = ?" for column in where)
    sql = f"select * from marts.rpt_kpi_progress where kpi_code = ? and measure = ?{' and ' + conditions if where else ''}"
    with duckdb.connect(str(wh.path), read_only=True) as con:
        cursor = con.execute(sql + " order by target_year, source_document, target_value", [kpi, measure, *where.values()])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_platform_roll_ups_sum_numerators_and_denominators(warehouse):
    rows = {(level, unit): (value, numerator, denominator) for level, unit, value, numerator, denominator in warehouse.rows(
        "select level, unit_code, value, numerator, denominator from marts.fct_kpi_values "
        "where kpi_code = 'SI-02' and period = '2025-06'")}
    assert rows[("province", "01")][0] == pytest.approx(90.0)
    assert rows[("province", "02")][0] == pytest.approx(10.0)
    # all provinces: 19 / 110, not the mean of the ratios (50 %)
    assert rows[("province", None)] == pytest.approx((100 * 19 / 110, 19, 110))
    assert rows[("national", None)] == pytest.approx((40.0, 64, 160))
    assert ("province", "99") not in rows  # the back-cast rows are not KPI values
    assert warehouse.scalar("select count(*) from marts.fct_kpi_values where kpi_code = 'SI-02' and level = 'province' "
                            "and unit_code is null and not is_aggregate") == 0


def test_withheld_values_are_excluded_from_the_trend_and_counted(warehouse):
    bases = dict(warehouse.rows("select period, publication_basis from marts.fct_kpi_values "
                                "where kpi_code = 'SI-02' and level = 'national'"))
    assert bases == {"2025-04": "checks_passed", "2025-05": "withheld", "2025-06": "checks_passed"}
    (row,) = progress(warehouse, "SI-02", level="national")
    assert (row["values_used"], row["values_withheld"]) == (2, 1)
    assert row["status_code"] == "no_target" and row["publication_basis"] == "checks_passed"
    # change = June - April (May is left out): 40 - 88/160
    assert row["change"] == pytest.approx(40.0 - 100 * 58 / 160)
    # DTI-UNIT: 2023 not validated (withheld), 2024 passed
    dti = dict(warehouse.rows("select period, publication_basis from marts.fct_kpi_values "
                              "where kpi_code = 'DTI-UNIT' and measure = 'main'"))
    assert dti == {"2023": "withheld", "2024": "checks_passed"}


def test_agency_reports_count_the_latest_accepted_version_only(warehouse):
    rows = warehouse.rows("select value, release, source_ref, source_row, publication_basis, period_kind, period_end "
                          "from marts.fct_kpi_values where source_kind = 'agency_report'")
    assert rows == [(60.0, "report v2", "kpi:2025-Q1:01:0000000000000002", 5, "checks_passed", "quarter",
                     dt.date(2025, 3, 31))]


def test_a_revised_release_stays_beside_the_first_and_supersedes_it(warehouse):
    rows = warehouse.rows("select release, value, is_current_release from marts.fct_kpi_values "
                          "where kpi_code = 'DE-01' and period = '2023' order by release")
    assert rows == [("GSO 2024-01", 12.0, False), ("GSO revised 2024-06", 12.1, True)]
    assert warehouse.scalar("select count(*) from marts.fct_kpi_values where kpi_code = 'DS-10'") == 3  # rejected row out


def test_constant_growth_projection_cagr_and_conflicting_targets(warehouse):
    rows = progress(warehouse, "DE-01", series="GSO")
    t21, t23 = years(year_end(2021)), years(year_end(2023))
    growth = (12.1 / 10.0) ** (1 / (t23 - t21)) - 1
    by_target = {(r["target_year"], r["source_document"], r["target_value"]): r for r in rows}
    # 2025: three documents say 20, QĐ 1437 says 20.5: four rows, each with its source
    assert sorted(k for k in by_target if k[0] == 2025) == [
        (2025, "NQ 52-NQ/TW", 20.0), (2025, "QĐ 1437/QĐ-TTg", 20.5), (2025, "QĐ 411/QĐ-TTg", 20.0),
        (2025, "QĐ 749/QĐ-TTg", 20.0)]
    row = by_target[(2025, "QĐ 1437/QĐ-TTg", 20.5)]
    assert row["source_key"] == "T28" and row["source_url"].startswith("https://vneconomy.vn/")
    assert row["latest_value"] == 12.1 and row["previous_value"] == 11.0
    assert row["change"] == pytest.approx(1.1)
    assert row["year_on_year_change"] == pytest.approx(1.1)
    assert row["cagr"] == pytest.approx(growth)
    years_left = years(year_end(2025)) - t23
    assert row["projection"] == pytest.approx(12.1 * (1 + growth) ** years_left)
    assert row["required_pace_per_year"] == pytest.approx((20.5 - 12.1) / years_left)
    assert row["gap_to_target"] == pytest.approx(20.5 - 12.1)
    assert row["status_code"] == "off_track" and row["ministry_class"] == "cần tập trung nỗ lực để đạt"
    # a target year that has ended unmet: off track, no projection
    ended = by_target[(2023, "QĐ 17/QĐ-UBQGCĐS", 16.0)]
    assert ended["status_code"] == "off_track" and ended["projection"] is None
    assert "ended" in ended["projection_note"]


def least_squares(points: list[tuple[float, float]]) -> tuple[float, float]:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return slope, mean_y - slope * mean_x


def test_linear_projection_and_pace_give_on_track_and_at_risk(warehouse):
    (on_track,) = progress(warehouse, "DS-10")
    slope, intercept = least_squares([(years(year_end(y)), v) for y, v in ((2021, 70), (2022, 73), (2023, 76))])
    assert on_track["trend_points_used"] == 3
    assert on_track["observed_pace_per_year"] == pytest.approx(slope)
    assert on_track["projection"] == pytest.approx(slope * years(year_end(2025)) + intercept)
    assert on_track["status_code"] == "on_track" and on_track["ministry_class"] == "có khả năng đạt"
    assert on_track["is_stale"] is False
    # DS-02: +2 a year against the +4 a year still needed for 80 in 2025: pace ratio just above 0.5
    rows = {r["target_year"]: r for r in progress(warehouse, "DS-02")}
    at_risk = rows[2025]
    required = (80 - 72) / (years(year_end(2025)) - years(year_end(2023)))
    assert at_risk["required_pace_per_year"] == pytest.approx(required)
    assert at_risk["pace_ratio"] == pytest.approx(at_risk["observed_pace_per_year"] / required)
    assert 0.5 <= at_risk["pace_ratio"] < 1
    assert at_risk["projection"] < 80
    assert at_risk["status_code"] == "at_risk"
    # DS-04: just under the boundary -> off track, for both documents' 2025 targets
    below = [r for r in progress(warehouse, "DS-04") if r["target_year"] == 2025]
    assert [(r["source_document"], r["comparator"]) for r in below] == [("QĐ 1437/QĐ-TTg", "="), ("QĐ 411/QĐ-TTg", ">=")]
    slope, _ = least_squares([(years(year_end(2022)), 40.0), (years(year_end(2023)), 41.9)])
    ratio = slope / ((50 - 41.9) / (years(year_end(2025)) - years(year_end(2023))))
    assert 0.45 < ratio < 0.5
    for row in below:
        assert row["pace_ratio"] == pytest.approx(ratio)
        assert row["status_code"] == "off_track" and row["ministry_class"] == "cần tập trung nỗ lực để đạt"


def test_achieved_insufficient_data_and_stale(warehouse):
    (achieved,) = progress(warehouse, "DS-02", "smartphone_share_of_mobile_subscriptions")
    assert achieved["status_code"] == "achieved" and achieved["ministry_class"] == "đã đạt"
    assert achieved["values_used"] == 1
    (single,) = progress(warehouse, "DS-05")
    assert single["status_code"] == "insufficient_data" and single["projection"] is None
    assert single["projection_note"].startswith("insufficient data: 1 value(s)")
    # 2022-06-30 is more than 550 days (frequency unknown) before the as-of date: stale, flagged
    assert single["is_stale"] is True and "stale" in single["projection_note"]
    assert single["as_of_date"] == AS_OF


def test_targets_at_level_all_apply_to_units_and_the_rank_direction(warehouse):
    # DG-02 targets are per level (province 90 in 2025, 100 in 2030; QĐ 749 and QĐ 942 both set 2025)
    rows = progress(warehouse, "DG-02", level="province", unit_code="01")
    assert [(r["target_year"], r["source_document"], r["target_value"]) for r in rows] == [
        (2025, "QĐ 749/QĐ-TTg", 90.0), (2025, "QĐ 942/QĐ-TTg", 90.0), (2030, "QĐ 749/QĐ-TTg", 100.0)]
    assert {r["status_code"] for r in rows} == {"insufficient_data"}
    # DG-05 asean_rank: 6 in 2022 (the file's own: 6 of the 10 members only in the file), 5 in 2024
    # (computed: all 10 in the file); top 4 of ASEAN (2025): a rank, lower is better
    (asean,) = [r for r in progress(warehouse, "DG-05", "asean_rank") if r["target_year"] == 2025]
    assert asean["latest_value"] == 5 and asean["previous_value"] == 6
    assert asean["gap_to_target"] == pytest.approx(1.0)
    assert asean["status_code"] == "off_track"  # half a place a year, one place needed in one year
    world = {(r["target_year"], r["target_value"]): r for r in progress(warehouse, "DG-05")}
    slope, intercept = least_squares([(years(year_end(2022)), 86), (years(year_end(2024)), 71)])
    assert world[(2025, 70.0)]["projection"] == pytest.approx(slope * years(year_end(2025)) + intercept)
    assert world[(2025, 70.0)]["status_code"] == "on_track"  # 86 -> 71 in two editions: 63.5 by 2025
    assert world[(2025, 50.0)]["status_code"] == "off_track"  # 7.5 places a year, 21 needed in one
    assert world[(2025, 50.0)]["pace_ratio"] == pytest.approx(slope / ((50 - 71) / 1.0), rel=1e-2)
    assert world[(2030, 30.0)]["status_code"] == "on_track"


def test_international_comparison_peer_rank_leader_target_and_driver(warehouse):
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        cursor = con.execute("select * from marts.rpt_international_comparison where index_code = 'EGDI' "
                             "order by edition, country_code")
        names = [d[0] for d in cursor.description]
        rows = {(r["edition"], r["country_code"]): r for r in (dict(zip(names, row, strict=True)) for row in cursor.fetchall())}
    assert {country for _, country in rows} == {"VNM", "SGP", "MYS", "THA", "IDN", "PHL", "BRN", "KHM", "LAO",
                                                "MMR"}  # KOR is not a peer
    vnm = rows[(2024, "VNM")]
    assert (vnm["world_rank"], vnm["peer_rank"], vnm["leader_country_code"]) == (71, 5, "SGP")
    assert vnm["is_peer_group_complete"] and not rows[(2022, "VNM")]["is_peer_group_complete"]
    assert vnm["gap_to_leader_score"] == pytest.approx(0.9691 - 0.7709)
    assert vnm["gap_to_leader_rank"] == 68
    # nearest target year at or after 2024 for the EGDI world rank: 2025, the latest document (QĐ 942, top 50)
    assert (vnm["target_kpi_code"], vnm["target_year"], vnm["target_rank"], vnm["target_source_document"]) == (
        "DG-05", 2025, 50, "QĐ 942/QĐ-TTg")
    assert vnm["gap_to_target_rank"] == 21
    assert vnm["rank_change"] == 15 and vnm["score_change"] == pytest.approx(0.7709 - 0.6787)
    # EGDI = mean(OSI, HCI, TII): OSI moved it most (+0.14 / 3)
    assert vnm["osi_contribution"] == pytest.approx((0.7884 - 0.6484) / 3)
    assert vnm["egdi_driver_component"] == "osi"
    assert rows[(2022, "VNM")]["previous_edition"] is None and rows[(2022, "VNM")]["peer_rank"] == 5
    assert rows[(2024, "SGP")]["target_rank"] is None  # the national target is Viet Nam's


def test_national_scorecard_ranks_the_furthest_off_track(warehouse):
    rows = warehouse.rows("select kpi_code, measure, series, target_year, target_value, status_code, normalised_gap, "
                          "off_track_rank from marts.rpt_national_scorecard where off_track_rank is not null "
                          "order by off_track_rank")
    assert [r[-1] for r in rows] == list(range(1, len(rows) + 1))
    first = rows[0]
    assert first[5] == "off_track"
    # the nearest target at or after 2025 of DE-01 (GSO) is 2025; its latest document is QĐ 1437 (20.5)
    de01 = [r for r in rows if r[0] == "DE-01" and r[2] == "GSO"]
    assert [(r[3], r[4]) for r in de01] == [(2025, 20.5)]
    assert de01[0][6] == pytest.approx((20.5 - 12.1) / 20.5)
    assert warehouse.scalar("select count(*) from marts.rpt_national_scorecard where level <> 'national'") == 0
    # every row of the marts names the catalogue version and a publication basis
    for mart in ("fct_kpi_values", "rpt_kpi_progress", "rpt_international_comparison", "rpt_national_scorecard"):
        assert warehouse.scalar(f"select count(*) from marts.{mart} where methodology_version is null "
                                f"or publication_basis is null") == 0
