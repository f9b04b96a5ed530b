"""Publishing the marts to data/published/ after the month's models are built: by the service
index's job (its months gated) and by the DTI's job (its years gated), each a full, atomic
publication of every mart built (publication/publish.py)."""

import dagster as dg

from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource
from publication.publish import publish


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetKey("rpt_service_ranking_monthly"), dg.AssetKey("fct_service_index_monthly"),
          dg.AssetKey("fct_service_index_indicators_monthly"), dg.AssetKey("dim_units"),
          # the auditors' marts are published beside the scores they explain
          dg.AssetKey("rpt_score_lineage"), dg.AssetKey("rpt_agency_quality_scorecard"),
          dg.AssetKey("rpt_data_quality_runs"), dg.AssetKey("rpt_data_quality_by_unit"),
          dg.AssetKey("fct_validation_history")],
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


DTI_PUBLISHED_MART_KEYS = [dg.AssetKey(name) for name in (
    "rpt_dti_ranking", "fct_dti_scores", "fct_dti_main_indicator_values", "fct_dti_indicator_divergence",
    "rpt_dti_score_lineage", "rpt_dti_agency_quality_scorecard", "rpt_dti_history_discrepancies")]


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=DTI_PUBLISHED_MART_KEYS,
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
