"""Partition keys and dbt vars: pure functions."""

import datetime as dt

import pytest

from orchestration.partitions import dbt_period_vars, month_key, months_between, previous_month_key, range_tags


def test_dbt_vars_cover_one_month_or_a_range_end_exclusive():
    assert dbt_period_vars(["2025-07-01"]) == {"period_start": "2025-07-01", "period_end": "2025-08-01"}
    assert dbt_period_vars(["2025-12-01", "2025-11-01"]) == {"period_start": "2025-11-01", "period_end": "2026-01-01"}
    with pytest.raises(ValueError):
        dbt_period_vars([])


def test_months_between_and_keys():
    assert months_between("2025-11", "2026-02") == ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"]
    assert month_key("2025-07") == "2025-07-01"
    with pytest.raises(ValueError):
        months_between("2025-05", "2025-04")
    assert range_tags("2025-05", "2025-06") == {
        "dagster/asset_partition_range_start": "2025-05-01",
        "dagster/asset_partition_range_end": "2025-06-01",
    }


def test_previous_month_crosses_year_boundary():
    assert previous_month_key(dt.datetime(2026, 1, 2, 3, 0)) == "2025-12-01"
    assert previous_month_key(dt.datetime(2025, 8, 2, 3, 0)) == "2025-07-01"
