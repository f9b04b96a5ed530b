"""The auditors' assets (docs/audit.md): provenance of the run, the audit marts (dbt tag audit)
with their own tests recorded, the audit pack of the run's latest month, and the DTI's audit pack of
the run's latest year."""


import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from expectations.validation_history import record_dbt_invocation
from publication.audit.pack import build_audit_pack, build_dti_audit_pack
from publication.audit.provenance import record_run_provenance
from orchestration.assets.dbt_models import translator
from orchestration.dbt_project import dxmon_dbt_project
from orchestration.partitions import dbt_period_vars, monthly_partitions
from orchestration.resources import WarehouseResource

AUDIT_SELECTION = "tag:audit"
AUDIT_MART_KEYS = [dg.AssetKey(name) for name in (
    "fct_validation_history", "rpt_data_quality_runs", "rpt_data_quality_by_unit",
    "rpt_agency_quality_scorecard", "rpt_score_lineage")]


@dbt_assets(
    manifest=dxmon_dbt_project.manifest_path,
    select=AUDIT_SELECTION,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="audit_dbt_models",
)
def audit_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Validation history, quality scorecards and score lineage for the run's months."""
    with warehouse.connection() as con:
        record_run_provenance(con, context.run_id, context.partition_keys)
    period_vars = dbt_period_vars(context.partition_keys)
    invocation = dbt.cli(["build", "--vars", json.dumps(period_vars)], context=context, raise_on_error=False)
    yield from invocation.stream()
    record_dbt_invocation(invocation, context.run_id, context.partition_keys, warehouse.resolved_path)
    if not invocation.is_successful():
        raise invocation.get_error()


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
