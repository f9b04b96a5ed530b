"""Monthly periods: the partitions every service-index asset shares, and how a partition range
becomes the `period_start`/`period_end` vars of one dbt invocation."""

from __future__ import annotations

import datetime as dt

import dagster as dg

TIMEZONE = "Asia/Ho_Chi_Minh"
FIRST_MONTH = "2023-01-01"

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, timezone=TIMEZONE)


def month_key(month: str) -> str:
    """'2025-07' or '2025-07-01' -> the partition key '2025-07-01'."""
    return dt.date.fromisoformat(month[:7] + "-01").isoformat()


def months_between(first: str, last: str) -> list[str]:
    """Partition keys from `first` to `last`, both included."""
    start, end = dt.date.fromisoformat(month_key(first)), dt.date.fromisoformat(month_key(last))
    if end < start:
        raise ValueError(f"--to {last} is before --from {first}")
    keys, current = [], start
    while current <= end:
        keys.append(current.isoformat())
        current = (current.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return keys


def previous_month_key(moment: dt.datetime) -> str:
    """The last complete month before `moment`: what a tick on the 2nd requests."""
    first_of_month = moment.date().replace(day=1)
    return (first_of_month - dt.timedelta(days=1)).replace(day=1).isoformat()


def dbt_period_vars(partition_keys: list[str]) -> dict[str, str]:
    """dbt vars covering every partition in `partition_keys` (end exclusive)."""
    if not partition_keys:
        raise ValueError("no partition to run")
    ordered = sorted(month_key(k) for k in partition_keys)
    last = dt.date.fromisoformat(ordered[-1])
    end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return {"period_start": ordered[0], "period_end": end.isoformat()}


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover a range of partitions (a single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": month_key(first),
        "dagster/asset_partition_range_end": month_key(last),
    }
