"""The KPI tracking models in dbt, for real (docs/kpi_methodology.md): one temporary DuckDB
warehouse seeded by tests/dbt/kpi_fixture.py (raw KPI tables, the gate's status tables and the
two upstream marts as small hand-made tables), one `dbt build` of everything tagged kpi (seeds,
models and their data tests) at the as-of date 2025-06-30, then the values, trends, statuses and
the international comparison checked against numbers computed by hand here."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

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
    with __import__("duckdb").connect(str(wh.path), read_only=True) as con:
        cursor = con.execute(sql + " order by target_year, source_document, target_value", [kpi, measure, *where.values()])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_platform_roll_ups_sum_numerators_and_denominators(warehouse):
    rows = dict(((level, unit), (value, numerator, denominator)) for level, unit, value, numerator, denominator in warehouse.rows(
        "select level, unit_code, value, numerator, denominator from marts.fct_kpi_values "
        "where kpi_code = 'SI-02' and period = '2025-06'"))
    assert rows[("province", "01")][0] == pytest.approx(90.0)
    assert rows[("province", "02")][0] == pytest.approx(10.0)
    # all provinces: 19 / 110, not the mean of the ratios (50 %)
    assert rows[("province", None)] == pytest.approx((100 * 19 / 110, 19, 110))
    assert rows[("national", None)] == pytest.approx((40.0, 64, 160))
    assert ("province", "99") not in rows  # the back-cast rows are not KPI values
    assert warehouse.scalar("select count(*) from marts.fct_kpi_values where kpi_code = 'SI-02' and level = 'province' "
                            "and unit_code is null and not is_aggregate") == 0
