"""The auditors' assets (docs/audit.md): provenance of the run, the audit marts (dbt tag audit)
with their own tests recorded, the audit pack of the run's latest month, and the DTI's audit pack of
the run's latest year."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt import selections
from orchestration.dbt.build import build_partitions, monthly_dbt_assets
from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource
from publication.audit.pack import build_audit_pack, build_dti_audit_pack
from publication.audit.provenance import record_run_provenance

AUDIT_MART_KEYS = [dg.AssetKey(name) for name in (
    "fct_validation_history", "rpt_data_quality_runs", "rpt_data_quality_by_unit",
    "rpt_agency_quality_scorecard", "rpt_score_lineage")]


@monthly_dbt_assets(selections.AUDIT, name="audit_dbt_models")
def audit_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Validation history, quality scorecards and score lineage for the run's months."""
    with warehouse.connection() as con:
        record_run_provenance(con, context.run_id, context.partition_keys)
    yield from build_partitions(context, dbt, warehouse.resolved_path)


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetKey("published_service_index"), *AUDIT_MART_KEYS],
    group_name="audit",
)
def audit_pack(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The audit pack (folder and zip, with a manifest of hashes) of the run's latest month."""
    month = max(context.partition_keys)[:7]
    pack = build_audit_pack(month, warehouse=warehouse.resolved_path)
    context.log.info(f"audit pack of {month}: {pack.folder} ({pack.zip_path})")
    return dg.MaterializeResult(metadata={
        "period": month,
        "folder": dg.MetadataValue.path(str(pack.folder)),
        "zip": dg.MetadataValue.path(str(pack.zip_path)),
        "files": pack.files,
    })


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetKey("published_dti"), dg.AssetKey("rpt_dti_score_lineage"),
          dg.AssetKey("rpt_dti_agency_quality_scorecard")],
    group_name="audit",
)
def dti_audit_pack(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The DTI's audit pack (folder and zip, with a manifest of hashes) of the run's latest year."""
    year = int(max(context.partition_keys)[:4])
    pack = build_dti_audit_pack(year, warehouse=warehouse.resolved_path)
    context.log.info(f"DTI audit pack of {year}: {pack.folder} ({pack.zip_path})")
    return dg.MaterializeResult(metadata={
        "period": str(year),
        "folder": dg.MetadataValue.path(str(pack.folder)),
        "zip": dg.MetadataValue.path(str(pack.zip_path)),
        "files": pack.files,
    })
