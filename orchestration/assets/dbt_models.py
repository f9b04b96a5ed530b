"""dbt models as Dagster assets: the reference data (seeds, units, calendar; unpartitioned) and
the service index (monthly partitions; a range of months is one dbt invocation)."""


import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from expectations.validation_history import record_dbt_invocation
from orchestration.dbt_project import dxmon_dbt_project
from orchestration.partitions import dbt_period_vars, monthly_partitions
from orchestration.resources import WarehouseResource

REFERENCE_SELECTION = "tag:reference"
# The DTI (tag dti) and the audit marts (tag audit) are built by their own assets.
SERVICE_INDEX_EXCLUDED = "tag:reference tag:dti tag:audit"


class DxmonDbtTranslator(DagsterDbtTranslator):
    """Asset keys are the dbt node names; groups follow the dbt layer folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key in _sources.yml
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference_data"
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "models"
        return f"dbt_{layer}"


translator = DxmonDbtTranslator()


@dbt_assets(
    manifest=dxmon_dbt_project.manifest_path,
    select=REFERENCE_SELECTION,
    dagster_dbt_translator=translator,
    name="reference_dbt_models",
)
def reference_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Seeds (unit registry, methodology, calendar) and the unit/calendar models they feed."""
    with warehouse.connection():
        pass  # creates the warehouse file and the ingestion schemas before dbt's first run
    # cautious: tests that also read period models (relationships from the marts) run with those
    yield from dbt.cli(["build", "--indirect-selection", "cautious"], context=context).stream()


@dbt_assets(
    manifest=dxmon_dbt_project.manifest_path,
    select="fqn:*",
    exclude=SERVICE_INDEX_EXCLUDED,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    name="service_index_dbt_models",
)
def service_index_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging -> intermediate -> marts for every month in the run's partition range."""
    period_vars = dbt_period_vars(context.partition_keys)
    context.log.info(f"dbt build for {period_vars}")
    invocation = dbt.cli(["build", "--vars", json.dumps(period_vars)], context=context, raise_on_error=False)
    yield from invocation.stream()
    # audit (docs/audit.md): every dbt test of the run into meta.dbt_test_results, failed or not
    record_dbt_invocation(invocation, context.run_id, context.partition_keys)
    if not invocation.is_successful():
        raise invocation.get_error()
