"""The monthly refresh of the service index: one partition, or a range of months in one run."""

from __future__ import annotations

import dagster as dg

from orchestration.audit.assets import audit_dbt_models, audit_pack
from orchestration.kpi.assets import kpi_dbt_models, kpi_reports
from orchestration.partitions import monthly_partitions
from orchestration.publication.assets import published_service_index
from orchestration.reference.assets import reference_dbt_models
from orchestration.service_index.assets import raw_extracts, service_index_dbt_models
from orchestration.tasks.assets import task_dbt_models, task_inputs

monthly_service_index_job = dg.define_asset_job(
    name="monthly_service_index",
    selection=dg.AssetSelection.assets(reference_dbt_models, raw_extracts, service_index_dbt_models,
                                       audit_dbt_models, kpi_reports, kpi_dbt_models, task_inputs,
                                       task_dbt_models, published_service_index, audit_pack),
    partitions_def=monthly_partitions,
    description="Load, validate, score, rank and publish the 766 service index for the run's months, then "
                "KPI tracking and task tracking as of the last of them (agency KPI reports, values, trends, "
                "progress; task lists, status reports, classes, counts, warnings).",
    # One process, one step at a time: the DuckDB warehouse has a single writer.
    executor_def=dg.in_process_executor,
)
