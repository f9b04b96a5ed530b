"""dbt models as Dagster assets: the reference data (seeds, units, calendar; unpartitioned) and
the service index (monthly partitions; a range of months is one dbt invocation)."""


import graphlib
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from expectations.validation_history import record_dbt_invocation
from ingestion.core.warehouse import table_exists
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
    """Seeds (unit registry, methodology, calendar) and the unit/calendar models they feed.

    Rebuilt only when their definition changed: the fingerprint of the reference nodes (dbt's
    checksums of every seed, model and test, plus the dbt version) is kept in the warehouse, and
    a monthly refresh with unchanged reference data reuses the built tables (about 15 s saved per
    run). `dxmon run --rebuild-reference` or a changed seed forces the build."""
    fingerprint = reference_fingerprint(dxmon_dbt_project.manifest_path)
    force = os.environ.get("DXMON_REBUILD_REFERENCE", "") == "1"
    with warehouse.connection() as con:  # also creates the warehouse and the ingestion schemas
        built = built_reference_fingerprint(con)
    if built == fingerprint and not force and context.selected_asset_keys == set(context.assets_def.keys):
        context.log.info(f"reference data unchanged (fingerprint {fingerprint[:12]}): not rebuilt")
        for key in topological_order(context.assets_def):
            yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(key),
                            metadata={"rebuilt": False, "reference_fingerprint": fingerprint})
        return
    # cautious: tests that also read period models (relationships from the marts) run with those
    yield from dbt.cli(["build", "--indirect-selection", "cautious"], context=context).stream()
    with warehouse.connection() as con:
        record_reference_fingerprint(con, fingerprint)


def topological_order(assets_def: dg.AssetsDefinition) -> list[dg.AssetKey]:
    """The asset keys of a multi-asset, upstream first (Dagster wants outputs in that order)."""
    keys = set(assets_def.keys)
    graph = {key: {dep for dep in assets_def.asset_deps.get(key, set()) if dep in keys} for key in keys}
    return list(graphlib.TopologicalSorter(graph).static_order())


def reference_fingerprint(manifest_path) -> str:
    """sha256 over the checksums of every node tagged `reference` and the dbt version."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    parts = [manifest.get("metadata", {}).get("dbt_version", "")]
    for unique_id, node in sorted(manifest.get("nodes", {}).items()):
        if "reference" in node.get("tags", []) or unique_id.startswith("test.") and any(
            "reference" in manifest["nodes"].get(dep, {}).get("tags", [])
            for dep in node.get("depends_on", {}).get("nodes", [])
        ):
            checksum = node.get("checksum", {}).get("checksum", "")
            config = json.dumps(node.get("config", {}), sort_keys=True, default=str)
            parts.append(f"{unique_id}:{checksum}:{hashlib.sha256(config.encode()).hexdigest()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def built_reference_fingerprint(con) -> str | None:
    tables_exist = table_exists(con, "marts.dim_units")  # meta.reference_build: ingestion/core/schema.py
    row = con.execute("SELECT fingerprint FROM meta.reference_build ORDER BY built_at DESC LIMIT 1").fetchone()
    return row[0] if row and tables_exist else None


def record_reference_fingerprint(con, fingerprint: str) -> None:
    con.execute("DELETE FROM meta.reference_build")
    con.execute("INSERT INTO meta.reference_build VALUES (?, now()::TIMESTAMP)", [fingerprint])


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
