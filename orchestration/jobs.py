"""Jobs: the monthly refresh of the service index and of the provisional DTI (one partition, or a
range in one run), and the reference data alone."""

from __future__ import annotations

import dagster as dg

from orchestration.partitions import monthly_partitions

def dti_selection() -> dg.AssetSelection:
    """The DTI's own assets (its job below); everything else is the service index's refresh."""
    from orchestration.assets.audit import dti_audit_pack
    from orchestration.assets.dti import dti_dbt_models, dti_reports
    from orchestration.assets.publication import published_dti

    return dg.AssetSelection.assets(dti_reports, dti_dbt_models, published_dti, dti_audit_pack)


monthly_service_index_job = dg.define_asset_job(
    name="monthly_service_index",
    selection=dg.AssetSelection.all() - dti_selection(),
    partitions_def=monthly_partitions,
    description="Load, validate, score, rank and publish the 766 service index for the run's months.",
    # One process, one step at a time: the DuckDB warehouse has a single writer.
    executor_def=dg.in_process_executor,
)


def reference_data_job_def() -> dg.UnresolvedAssetJobDefinition:
    """The reference data alone (seeds, units, calendar): after editing a seed, or to set up a
    new warehouse before the first month."""
    from orchestration.assets.dbt_models import reference_dbt_models

    return dg.define_asset_job(
        name="reference_data",
        selection=dg.AssetSelection.assets(reference_dbt_models),
        description="Build the unit registry, methodology seeds and working-day calendar.",
        executor_def=dg.in_process_executor,
    )


monthly_dti_job = dg.define_asset_job(
    name="monthly_dti",
    selection=dti_selection(),
    partitions_def=monthly_partitions,
    description="Take the DTI reports from the inbox, validate them, score the provisional DTI "
                "of each month's year as of its month end (closed years keep their frozen scores), "
                "publish (years failing blocking checks withheld) and write the year's audit pack.",
    executor_def=dg.in_process_executor,
)
