"""The reference data as Dagster assets (unpartitioned): seeds (unit registry, methodology,
calendar) and the unit and calendar models they feed; and the job that builds them alone."""

import graphlib
import hashlib
import json
import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ingestion.core.warehouse import table_exists
from orchestration.dbt import selections
from orchestration.dbt.project import dxmon_dbt_project
from orchestration.dbt.translator import translator
from orchestration.resources import WarehouseResource


@dbt_assets(
    manifest=dxmon_dbt_project.manifest_path,
    **selections.REFERENCE,
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


reference_data_job = dg.define_asset_job(
    name="reference_data",
    selection=dg.AssetSelection.assets(reference_dbt_models),
    description="Build the unit registry, methodology seeds and working-day calendar: after editing a seed, "
                "or to set up a new warehouse before the first month.",
    executor_def=dg.in_process_executor,
)
