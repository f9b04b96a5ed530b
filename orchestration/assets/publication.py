"""Publishing the marts to data/published/ after the month's models are built."""


import dagster as dg

from ingestion.publishing import publish
from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource


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
