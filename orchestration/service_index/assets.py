"""The service index's assets: a month's raw extracts (landing files and portal API pages,
loaded and validated) and the dbt models that score and rank them.

The raw extracts are one multi-asset so a month's four extracts are loaded, cross-checked
(status history against dossiers) and validated together; its asset checks are the Great
Expectations suites. The dbt models are the `service_index` selection, monthly partitions, a
range of months in one dbt invocation."""

import json
import time

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.month_validation import MonthValidation, validate_month
from expectations.suites import all_suites
from ingestion.core.extract_contract import EXTRACT_KINDS
from ingestion.landing.loading import ingest_landing_month
from ingestion.portal.loading import load_archived_month, portal_archive_dir
from orchestration.dbt import selections
from orchestration.dbt.build import build_partitions, monthly_dbt_assets
from orchestration.partitions import monthly_partitions
from orchestration.resources import PortalResource, WarehouseResource

RAW_ASSET_KEYS = {name: dg.AssetKey(f"raw_{name}") for name in EXTRACT_KINDS}
INGESTED_SOURCES_KEY = dg.AssetKey("raw_ingested_sources")
SUITES = all_suites()
# The unit registry must be built before unit codes can be checked.
UNIT_REGISTRY_KEYS = [dg.AssetKey("int_unit_codes_attributed"), dg.AssetKey("dim_units")]
# A run tagged so downloads its months from the portal again (`dxmon run --refetch`).
REFETCH_TAG = "dxmon/refetch_portal"


def fetch_portal_month(portal: PortalResource, month: str, log, refetch: bool = False) -> dict:
    """Fetch and archive every kind of one month from the portal API, if one is configured, within
    one deadline for the month (DXMON_PORTAL_MONTH_DEADLINE_S); `refetch` downloads a complete
    month again. A failure raises the client's error, whose message carries no credential."""
    url = portal.configured_url()
    if not url:
        return {"portal": "not configured"}
    from ingestion.portal.client import PortalClient, settings_from_env

    pages = {}
    with PortalClient(url, portal.token(), **settings_from_env()) as client:
        deadline = time.monotonic() + client.month_deadline_s
        for kind in EXTRACT_KINDS.values():
            result = client.fetch_month(kind.name, month, portal_archive_dir(), refresh=refetch, deadline=deadline)
            pages[kind.name] = len(result.pages)
            log.info(f"portal {kind.name} {month}: {len(result.pages)} pages archived "
                     f"({result.fetched_pages} fetched now{', refetch requested' if refetch else ''})")
    return pages


def data_docs_metadata(suite_name: str, validations: list[MonthValidation]) -> dict:
    """Links of a check to Data Docs: `data_docs` = the suite's validation result page of the
    run's latest month (the site index when the page is unknown), `data_docs_index` = the site,
    `data_docs_pages` = every month's page when the run validated several."""
    pages = {v.period_month[:7]: v.docs_pages[suite_name]
             for v in validations if suite_name in (v.docs_pages or {})}
    index = next((v.docs_index for v in validations if v.docs_index), None)
    metadata = {}
    if pages:
        metadata["data_docs"] = dg.MetadataValue.url(pages[max(pages)])
        if len(pages) > 1:
            metadata["data_docs_pages"] = dg.MetadataValue.json(pages)
    elif index:
        metadata["data_docs"] = dg.MetadataValue.url(index)
    if index:
        metadata["data_docs_index"] = dg.MetadataValue.url(index)
    return metadata


def check_results(validations: list[MonthValidation]) -> list[dg.AssetCheckResult]:
    """One result per suite for the run, across its months: failed if any month failed;
    ERROR when a blocking expectation failed, WARN otherwise."""
    results = []
    for spec in SUITES:
        per_month, passed, blocking_failed = {}, True, False
        for v in validations:
            outcomes = v.by_suite().get(spec.name, [])
            failed = [o for o in outcomes if not o.success]
            passed &= not failed
            blocking_failed |= any(o.is_blocking for o in failed)
            per_month[v.period_month[:7]] = {
                "expectations": len(outcomes),
                "failed": [
                    {"expectation": o.expectation, "column": o.column, "blocking": o.is_blocking,
                     "unexpected_count": o.unexpected_count, "observed": o.observed_value,
                     "details": json.loads(o.details) if o.details else None}
                    for o in failed
                ],
            }
        metadata = {"months": dg.MetadataValue.json(per_month)}
        metadata.update(data_docs_metadata(spec.name, validations))
        results.append(dg.AssetCheckResult(
            asset_key=RAW_ASSET_KEYS[spec.extract_kind],
            check_name=spec.name,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR if blocking_failed else dg.AssetCheckSeverity.WARN,
            metadata=metadata,
        ))
    return results


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key, group_name="raw_extracts", deps=UNIT_REGISTRY_KEYS,
            description=f"raw.{name}: {EXTRACT_KINDS[name].description}",
        )
        for name, key in RAW_ASSET_KEYS.items()
    ] + [
        dg.AssetSpec(INGESTED_SOURCES_KEY, group_name="raw_extracts",
                     description="raw.ingested_sources: every landed file version and archived API page, "
                                 "with sha256, size, row and rejected counts"),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            name=spec.name, asset=RAW_ASSET_KEYS[spec.extract_kind],
            description=f"Great Expectations suite {spec.name}",
        )
        for spec in SUITES
    ],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
    name="raw_extracts",
)
def raw_extracts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, portal: PortalResource):
    """Load every landing file and portal page of each month in the run, then validate it."""
    validations, per_month = [], {}
    refetch = context.run.tags.get(REFETCH_TAG) == "true"
    for key in context.partition_keys:
        month = key[:7]
        fetched = fetch_portal_month(portal, month, context.log, refetch=refetch)
        with warehouse.connection() as con:
            files = ingest_landing_month(con, month)
            pages = load_archived_month(con, month)
            validation = validate_month(con, key, run_id=context.run_id)
        validations.append(validation)
        per_month[month] = {
            "files": files.as_metadata(),
            "portal_pages": pages.as_metadata(),
            "portal_fetch": fetched,
            "cross_row_rejections": {k: v for k, v in validation.cross_row_rejections.items() if v},
            "publishable": validation.is_publishable,
            "blocking_failures": [f"{o.suite_name}:{o.expectation}" for o in validation.blocking_failures],
        }
        for f in files.files:
            if f.action == "quarantined":
                context.log.warning(f"quarantined file {f.path}: {f.reason}")
        if not validation.is_publishable:
            context.log.error(
                f"{month} will not be published: blocking checks failed: "
                + "; ".join(f"{o.suite_name} {o.expectation} {o.column or ''}" for o in validation.blocking_failures)
            )
    for key in [*RAW_ASSET_KEYS.values(), INGESTED_SOURCES_KEY]:
        yield dg.MaterializeResult(asset_key=key, metadata={"months": dg.MetadataValue.json(per_month)})
    yield from check_results(validations)


@monthly_dbt_assets(selections.SERVICE_INDEX, name="service_index_dbt_models")
def service_index_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Staging -> intermediate -> marts for every month in the run's partition range; every dbt
    test of the run goes to meta.dbt_test_results, failed or not (docs/audit.md)."""
    yield from build_partitions(context, dbt, warehouse.resolved_path)
