"""The DTI's jobs: the monthly provisional index (one partition, or a range in one run), and
closing a year (its final scores frozen), so a closure is a Dagster run like every other."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.audit.assets import dti_audit_pack
from orchestration.dbt.build import run_dbt_build
from orchestration.dti.assets import dti_dbt_models, dti_reports
from orchestration.partitions import monthly_partitions
from orchestration.publication.assets import published_dti
from orchestration.resources import WarehouseResource
from publication.dti_closure import (
    NothingToClose,
    empty_window,
    existing_closure,
    final_scores_window,
    freeze_final_scores,
)

monthly_dti_job = dg.define_asset_job(
    name="monthly_dti",
    selection=dg.AssetSelection.assets(dti_reports, dti_dbt_models, published_dti, dti_audit_pack),
    partitions_def=monthly_partitions,
    description="Take the DTI reports from the inbox, validate them, score the provisional DTI "
                "of each month's year as of its month end (closed years keep their frozen scores), "
                "publish (years failing blocking checks withheld) and write the year's audit pack.",
    executor_def=dg.in_process_executor,
)


class CloseYearConfig(dg.Config):
    year: int
    force: bool = False  # close again a year already closed, with the current reports


@dg.op(description="Freeze a DTI year's final scores with their methodology version and input hash, "
                   "then rebuild its lineage and the DTI marts on the frozen rows.")
def close_dti_year_op(context: dg.OpExecutionContext, config: CloseYearConfig, dbt: DbtCliResource,
                      warehouse: WarehouseResource) -> dict:
    year = config.year
    with warehouse.connection() as con:
        closed = existing_closure(con, year)
    if closed and not config.force:
        raise dg.Failure(description=f"DTI {year} was closed at {closed[0]} (input hash {closed[1][:16]}); "
                                     "give --force to close it again with the current reports")
    # the final scores and everything their lineage reads (the sub-indicators are not frozen: the
    # auditors' rows are kept by rpt_dti_score_lineage under context final:<year>, built once the
    # closure is recorded, so they name this close's run, code version and input hash)
    run_dbt_build(dbt, "tag:dti,+int_dti_final_scores tag:dti,+rpt_dti_score_lineage", final_scores_window(year),
                  exclude="rpt_dti_score_lineage", log=context.log)
    try:
        with warehouse.connection() as con:
            closure = freeze_final_scores(con, year, context.run_id)
    except NothingToClose as exc:
        raise dg.Failure(description=str(exc)) from exc
    run_dbt_build(dbt, "rpt_dti_score_lineage", final_scores_window(year), log=context.log)
    # fct_dti_scores and the rankings re-read the frozen rows
    run_dbt_build(dbt, "tag:dti", empty_window(year), exclude="tag:reference", log=context.log)
    context.log.info(f"DTI {year} closed under {closure.methodology_version}: {closure.units} units frozen, "
                     f"{closure.reports} reports, input hash {closure.input_hash[:16]}")
    return {"year": year, "methodology_version": closure.methodology_version, "units": closure.units,
            "reports": closure.reports, "input_hash": closure.input_hash}


@dg.job(description="Close a DTI year: freeze its final scores (run config: ops.close_dti_year_op.config.year).",
        executor_def=dg.in_process_executor)
def close_dti_year():
    close_dti_year_op()
