"""Jobs: the monthly refresh of the service index (one partition, or a range in one run)."""

from __future__ import annotations

import dagster as dg

from orchestration.partitions import monthly_partitions

monthly_service_index_job = dg.define_asset_job(
    name="monthly_service_index",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    description="Load, validate, score, rank and publish the 766 service index for the run's months.",
    # One process, one step at a time: the DuckDB warehouse has a single writer.
    executor_def=dg.in_process_executor,
)
