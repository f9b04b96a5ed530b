"""Task tracking as Dagster assets (docs/task_tracking.md): the task lists of the assigning
documents and the agencies' monthly status reports taken in from their inboxes and validated with
Great Expectations (results as an asset check), and the dbt models (tag `tasks`) that classify
every task in every month from its dates, flag the contradictions and count per agency, per
assigning document and nationally, as of the run's last month. The early warnings of that month
are a dbt test of severity warn on rpt_task_warnings: a Dagster asset check that warns.

Plain Python lives in ingestion/tasks/ and expectations/task_validation.py; this module only wires
it."""

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.task_validation import validate_task_period
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.report_intake import ingest_task_reports
from orchestration.dbt import selections
from orchestration.dbt.build import build_partitions, monthly_dbt_assets
from orchestration.partitions import months_between
from orchestration.report_checks import report_validation_check
from orchestration.resources import WarehouseResource
from publication.audit.provenance import TASKS, record_run_provenance

TASK_PLAN_SUBMISSIONS_KEY = dg.AssetKey("raw_task_plan_submissions")
TASK_PLAN_ROWS_KEY = dg.AssetKey("raw_task_plan_rows")
TASK_REPORT_SUBMISSIONS_KEY = dg.AssetKey("raw_task_report_submissions")
TASK_REPORT_ROWS_KEY = dg.AssetKey("raw_task_report_rows")
TASK_INPUTS_CHECK = "task_inputs_valid"


def months_to_validate(report_months: list[str], last_month: str) -> list[str]:
    """Every month from the first month with an accepted status report to the run's last month
    (and any later report month): each month the task marts classify needs its gate row."""
    if not report_months:
        return []
    return [m[:7] for m in months_between(min(report_months), max(last_month[:7], max(report_months)))]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(TASK_PLAN_SUBMISSIONS_KEY, group_name="task_inputs", deps=[dg.AssetKey("dim_units")],
                     description="raw.task_plan_submissions: every task-list file received, all versions"),
        dg.AssetSpec(TASK_PLAN_ROWS_KEY, group_name="task_inputs",
                     description="raw.task_plan_rows: one row per task of a task list, rejected rows flagged"),
        dg.AssetSpec(TASK_REPORT_SUBMISSIONS_KEY, group_name="task_inputs", deps=[dg.AssetKey("dim_units")],
                     description="raw.task_report_submissions: every status report file received, all versions"),
        dg.AssetSpec(TASK_REPORT_ROWS_KEY, group_name="task_inputs",
                     description="raw.task_report_rows: one row per task of a status report, rejected rows flagged"),
    ],
    check_specs=[dg.AssetCheckSpec(
        name=TASK_INPUTS_CHECK, asset=TASK_REPORT_ROWS_KEY,
        description="Great Expectations on the task lists in effect and each month's status reports: one lead "
                    "unit and a deadline per task, unique task codes, statuses and progress in range",
    )],
    can_subset=False,
    name="task_inputs",
)
def task_inputs(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Take every new file of the task-list inbox (data/task_plans/<year>/<issuer>/) and of the
    status-report inbox (data/task_reports/<YYYY-MM>/<unit>/), then validate every month from the
    first reported one to the run's last."""
    last_month = max(context.partition_keys)[:7]
    with warehouse.connection() as con:
        plans = ingest_task_plans(con)
        reports = ingest_task_reports(con)
        report_months = [r[0] for r in con.execute(
            "SELECT DISTINCT period FROM raw.task_report_submissions WHERE status = 'accepted' ORDER BY 1").fetchall()]
        validations = [validate_task_period(con, month, run_id=context.run_id)
                       for month in months_to_validate(report_months, last_month)]
    for summary, what in ((plans, "task list"), (reports, "status report")):
        for outcome in summary.files:
            if outcome.action in ("rejected", "refused"):
                context.log.warning(f"{what} {outcome.action}: {outcome.reason}")
    for v in validations:
        for submission_id, messages in sorted(v.blocking_in_latest.items()):
            context.log.error(f"task tracking {v.period} {submission_id}: {'; '.join(messages[:3])}")
    metadata = {"task_lists": dg.MetadataValue.json(plans.as_metadata()),
                "status_reports": dg.MetadataValue.json(reports.as_metadata()),
                "validation": dg.MetadataValue.json({v.period: v.as_metadata() for v in validations})}
    for key in (TASK_PLAN_SUBMISSIONS_KEY, TASK_PLAN_ROWS_KEY, TASK_REPORT_SUBMISSIONS_KEY, TASK_REPORT_ROWS_KEY):
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield report_validation_check(TASK_REPORT_ROWS_KEY, TASK_INPUTS_CHECK, validations,
                                  periods_key="months", failing_key="inputs_failing")


@monthly_dbt_assets(selections.TASKS, name="task_dbt_models")
def task_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Task seeds -> staging -> each task's deadline history, class and contradictions in every
    month up to the end of the run's last month (the period window's end: a rerun gives the same
    result) -> the task marts. The build's provenance (index 'tasks', at that month) is recorded
    first: publication puts its run, code version and input hash on every task row."""
    with warehouse.connection() as con:
        record_run_provenance(con, context.run_id, [max(context.partition_keys)], index_name=TASKS)
    yield from build_partitions(context, dbt, warehouse.resolved_path)
