"""KPI tracking as Dagster assets (docs/kpi_tracking.md): the agencies' KPI reports taken in from
the KPI inbox and validated with Great Expectations (results as an asset check), and the dbt
models (tag `kpi`) that turn every source of values (the platform's own marts, the agencies'
reports, national statistics releases, international indices) into progress against the targets,
as of the run's last month.

Plain Python lives in ingestion/kpi/ and expectations/kpi_validation.py; this module only wires
it. Statistics and index files are loaded by command (`dxmon kpi load-statistics | load-index`):
they arrive a few times a year, from a person who checks what was loaded."""

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.kpi_validation import validate_kpi_reports
from ingestion.kpi.reports.intake import ingest_kpi_inbox
from orchestration.dbt import selections
from orchestration.dbt.build import build_partitions, monthly_dbt_assets
from orchestration.report_checks import report_validation_check
from orchestration.resources import WarehouseResource
from publication.audit.provenance import KPI, record_run_provenance

KPI_SUBMISSIONS_KEY = dg.AssetKey("raw_kpi_submissions")
KPI_REPORT_VALUES_KEY = dg.AssetKey("raw_kpi_report_values")
KPI_REPORTS_CHECK = "kpi_reports_valid"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(KPI_SUBMISSIONS_KEY, group_name="kpi_reports", deps=[dg.AssetKey("dim_units")],
                     description="raw.kpi_submissions: every agency KPI report file received, all versions"),
        dg.AssetSpec(KPI_REPORT_VALUES_KEY, group_name="kpi_reports",
                     description="raw.kpi_report_values: one row per KPI row of a report, rejected rows flagged"),
    ],
    check_specs=[dg.AssetCheckSpec(
        name=KPI_REPORTS_CHECK, asset=KPI_REPORT_VALUES_KEY,
        description="Great Expectations on the KPI reports: required KPIs, ranges, units, plausibility "
                    "against the previous period",
    )],
    can_subset=False,
    name="kpi_reports",
)
def kpi_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Take every new file of the KPI inbox (data/kpi_inbox/<period>/<unit_code>/), then validate
    every period that has reports."""
    with warehouse.connection() as con:
        summary = ingest_kpi_inbox(con)
        periods = [r[0] for r in con.execute(
            "SELECT DISTINCT period FROM raw.kpi_submissions WHERE status = 'accepted' ORDER BY 1").fetchall()]
        validations = [validate_kpi_reports(con, period, run_id=context.run_id) for period in periods]
    for outcome in summary.files:
        if outcome.action == "rejected":
            context.log.warning(f"KPI report rejected: {outcome.reason}")
    for v in validations:
        for submission_id, messages in sorted(v.blocking_in_latest.items()):
            context.log.error(f"KPI reports {v.period} {submission_id}: {'; '.join(messages[:3])}")
    metadata = {"intake": dg.MetadataValue.json(summary.as_metadata()),
                "validation": dg.MetadataValue.json({v.period: v.as_metadata() for v in validations})}
    yield dg.MaterializeResult(asset_key=KPI_SUBMISSIONS_KEY, metadata=metadata)
    yield dg.MaterializeResult(asset_key=KPI_REPORT_VALUES_KEY, metadata=metadata)
    yield report_validation_check(KPI_REPORT_VALUES_KEY, KPI_REPORTS_CHECK, validations,
                                  periods_key="periods", failing_key="latest_reports_failing")


@monthly_dbt_assets(selections.KPI, name="kpi_dbt_models")
def kpi_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """KPI seeds -> staging -> values, trends and progress as of the end of the run's last month
    (the period window's end: a rerun gives the same result). The build's provenance (index 'kpi',
    at that month) is recorded first: publication puts its run, code version and input hash on
    every KPI row."""
    with warehouse.connection() as con:
        record_run_provenance(con, context.run_id, [max(context.partition_keys)], index_name=KPI)
    yield from build_partitions(context, dbt, warehouse.resolved_path)
