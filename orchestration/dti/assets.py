"""The DTI as Dagster assets: intake of the agencies' reports from the inbox (validated with
Great Expectations, results as asset checks) and the dbt models that score them (tag `dti`),
monthly partitions = the provisional index of the partition's year as of its month end.

Plain Python lives in ingestion/reports/ and expectations/dti_validation.py; this module only
wires it (docs/dti_design.md)."""

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.dti_validation import validate_dti_reports
from ingestion.reports.intake import ingest_inbox
from orchestration.dbt import selections
from orchestration.dbt.build import build_partitions, monthly_dbt_assets
from orchestration.resources import WarehouseResource
from publication.audit.provenance import DTI, record_run_provenance

DTI_SUBMISSIONS_KEY = dg.AssetKey("raw_dti_submissions")
DTI_REPORT_VALUES_KEY = dg.AssetKey("raw_dti_report_values")
DTI_REPORTS_CHECK = "dti_reports_valid"


def validation_check_result(validations: list) -> dg.AssetCheckResult:
    """One check over the years validated in the run: ERROR when a report that currently counts
    (the latest accepted version of its unit) fails a blocking expectation, WARN when only
    superseded versions or warnings fail."""
    per_year, blocking_in_latest, any_failed = {}, False, False
    for v in validations:
        failed = [o for o in v.outcomes if not o.success]
        any_failed |= bool(failed)
        blocking_in_latest |= bool(v.blocking_in_latest)
        per_year[str(v.year)] = {
            **v.as_metadata(),
            "latest_reports_failing": {k: msgs[:5] for k, msgs in sorted(v.blocking_in_latest.items())[:50]},
            "failed_expectations": [
                {"suite": o.suite_name, "expectation": o.expectation, "column": o.column,
                 "blocking": o.is_blocking, "unexpected_count": o.unexpected_count}
                for o in failed[:50]
            ],
        }
    return dg.AssetCheckResult(
        asset_key=DTI_REPORT_VALUES_KEY,
        check_name=DTI_REPORTS_CHECK,
        passed=not any_failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking_in_latest else dg.AssetCheckSeverity.WARN,
        metadata={"years": dg.MetadataValue.json(per_year), **dti_data_docs_metadata(validations)},
    )


def dti_data_docs_metadata(validations: list) -> dict:
    """Links of the check to Data Docs: `data_docs` = the validation page of the latest year's
    first failing suite (its first suite when all passed; the site index when no page is known),
    `data_docs_pages` = every year's page per suite, `data_docs_index` = the site."""
    pages = {str(v.year): v.docs_pages for v in validations if v.docs_pages}
    index = next((v.docs_index for v in validations if v.docs_index), None)
    metadata = {}
    if pages:
        latest = max(validations, key=lambda v: (bool(v.docs_pages), v.year))
        failing = [o.suite_name for o in latest.outcomes if not o.success and o.suite_name in latest.docs_pages]
        suite = failing[0] if failing else next(iter(latest.docs_pages))
        metadata["data_docs"] = dg.MetadataValue.url(latest.docs_pages[suite])
        metadata["data_docs_pages"] = dg.MetadataValue.json(pages)
    elif index:
        metadata["data_docs"] = dg.MetadataValue.url(index)
    if index:
        metadata["data_docs_index"] = dg.MetadataValue.url(index)
    return metadata


@dg.multi_asset(
    specs=[
        dg.AssetSpec(DTI_SUBMISSIONS_KEY, group_name="dti_reports",
                     deps=[dg.AssetKey("dim_units")],
                     description="raw.dti_submissions: every report file received, all versions, accepted or not"),
        dg.AssetSpec(DTI_REPORT_VALUES_KEY, group_name="dti_reports",
                     description="raw.dti_report_values: one row per indicator row of a report, rejected rows flagged"),
    ],
    check_specs=[dg.AssetCheckSpec(
        name=DTI_REPORTS_CHECK, asset=DTI_REPORT_VALUES_KEY,
        description="Great Expectations on the DTI reports: required indicators, ranges, "
                    "numerator <= denominator, evidence, plausibility against the previous year",
    )],
    can_subset=False,
    name="dti_reports",
)
def dti_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Take every new file of the inbox (data/inbox/<year>/<unit_code>/), then validate every
    year that has reports."""
    with warehouse.connection() as con:
        summary = ingest_inbox(con)
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT year FROM raw.dti_submissions WHERE status = 'accepted' ORDER BY 1").fetchall()]
        validations = [validate_dti_reports(con, year, run_id=context.run_id) for year in years]
    for outcome in summary.files:
        if outcome.action == "rejected":
            context.log.warning(f"DTI report rejected: {outcome.reason}")
    for v in validations:
        for submission_id, messages in sorted(v.blocking_in_latest.items()):
            context.log.error(f"DTI {v.year} {submission_id}: {'; '.join(messages[:3])}")
    metadata = {"intake": dg.MetadataValue.json(summary.as_metadata()),
                "validation": dg.MetadataValue.json({str(v.year): v.as_metadata() for v in validations})}
    yield dg.MaterializeResult(asset_key=DTI_SUBMISSIONS_KEY, metadata=metadata)
    yield dg.MaterializeResult(asset_key=DTI_REPORT_VALUES_KEY, metadata=metadata)
    yield validation_check_result(validations)


@monthly_dbt_assets(selections.DTI, name="dti_dbt_models")
def dti_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """DTI seeds -> staging -> scoring -> marts for the provisional index of every month in the
    run's range; final rows of closed years are re-read from meta.dti_frozen_scores. A version
    and level whose main-indicator points are unset refuses to score (the dbt error names them).
    The run's provenance (index 'dti') is recorded first: rpt_dti_score_lineage names it."""
    with warehouse.connection() as con:
        record_run_provenance(con, context.run_id, context.partition_keys, index_name=DTI)
    # the validation history keeps every DTI dbt test too (expectations/validation_history.py)
    yield from build_partitions(context, dbt, warehouse.resolved_path)
