"""Publishing the marts to data/published/ after the month's models are built: by the service
index's job (its months gated), by the DTI's job (its years gated) and by the KPI tracking job
(each row gated by its input's period) and by the task tracking job (each row gated by its
month), each a full, atomic publication of every mart built
(publication/publish.py)."""

import dagster as dg

from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource
from publication.publish import publish
from publication.published_marts import published_mart_names

# What each publication follows: the published marts (declared once, in the marts' dbt YAML) that
# its job builds: the service index's and the auditors' marts, or the DTI's.
# The KPI marts (tag kpi): the monthly job rebuilds them after the service index's marts (as of
# its last month) and publishes them with everything else; the kpi_tracking job on their own.
KPI_PUBLISHED_KEYS = [dg.AssetKey(name) for name in published_mart_names("kpi")]
# The task marts (tag tasks) likewise: rebuilt by the monthly job, alone by the task_tracking job.
TASK_PUBLISHED_KEYS = [dg.AssetKey(name) for name in published_mart_names("tasks")]
SERVICE_INDEX_PUBLISHED_KEYS = [dg.AssetKey(name) for tag in ("reference", "service_index", "audit")
                                for name in published_mart_names(tag)] + KPI_PUBLISHED_KEYS + TASK_PUBLISHED_KEYS
DTI_PUBLISHED_KEYS = [dg.AssetKey(name) for name in published_mart_names("dti")]


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=SERVICE_INDEX_PUBLISHED_KEYS,  # the auditors' marts are published beside the scores they explain
    group_name="publication",
)
def published_service_index(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The analysts' copy: a DuckDB file and one Parquet file per mart, replaced atomically.
    Months whose blocking checks failed are withheld, with the reason in the manifest."""
    result = publish(warehouse.resolved_path, run_id=context.run_id)
    run_months = {k[:7] for k in context.partition_keys}
    withheld_now = {m: why for m, why in result.withheld_months.items() if m in run_months}
    for month, why in withheld_now.items():
        context.log.error(f"{month} withheld from publication: {why}")
    return dg.MaterializeResult(metadata={
        "directory": dg.MetadataValue.path(str(result.directory)),
        "database": dg.MetadataValue.path(str(result.database)),
        "published_months": dg.MetadataValue.json(result.published_months),
        "withheld_months_in_run": dg.MetadataValue.json(withheld_now),
    })


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=DTI_PUBLISHED_KEYS,
    group_name="publication",
)
def published_dti(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The analysts' copy after the DTI's models: DTI years whose current reports fail blocking
    checks are withheld (unless overridden), with the reason in the manifest."""
    result = publish(warehouse.resolved_path, run_id=context.run_id)
    run_years = {k[:4] for k in context.partition_keys}
    withheld_now = {y: why for y, why in result.dti_withheld_years.items() if y in run_years}
    for year, why in withheld_now.items():
        context.log.error(f"DTI {year} withheld from publication: {why[:2000]}")
    return dg.MaterializeResult(metadata={
        "directory": dg.MetadataValue.path(str(result.directory)),
        "dti_published_years": dg.MetadataValue.json(result.dti_published_years),
        "dti_withheld_years_in_run": dg.MetadataValue.json(withheld_now),
        "dti_overridden_years": dg.MetadataValue.json(result.dti_overridden_years),
    })


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=KPI_PUBLISHED_KEYS,
    group_name="publication",
)
def published_kpi(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The analysts' copy after the KPI models alone (the KPI inbox sensor's runs): values from
    withheld periods are left out of the KPI marts, the other marts are published as they are."""
    result = publish(warehouse.resolved_path, run_id=context.run_id, require_service_index=False)
    return dg.MaterializeResult(metadata={
        "directory": dg.MetadataValue.path(str(result.directory)),
        "published_months": dg.MetadataValue.json(result.published_months),
        "dti_published_years": dg.MetadataValue.json(result.dti_published_years),
    })


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=TASK_PUBLISHED_KEYS,
    group_name="publication",
)
def published_tasks(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The analysts' copy after the task models alone (the task inbox sensor's runs): rows of
    withheld months are left out of the task marts, the other marts are published as they are."""
    result = publish(warehouse.resolved_path, run_id=context.run_id, require_service_index=False)
    return dg.MaterializeResult(metadata={
        "directory": dg.MetadataValue.path(str(result.directory)),
        "published_months": dg.MetadataValue.json(result.published_months),
    })
