"""The asset check of a report form's validation over its periods (KPI report periods, task
tracking months): ERROR when an input that currently counts fails a blocking expectation (its
period is withheld), WARN when only warnings fail. The DTI's check (orchestration/dti/assets.py)
also lists the failed expectations and the Data Docs pages of each year."""

import dagster as dg


def report_validation_check(asset_key: dg.AssetKey, check_name: str, validations: list, periods_key: str,
                            failing_key: str) -> dg.AssetCheckResult:
    """One check over `validations` (each with period, outcomes, blocking_in_latest, as_metadata());
    metadata: each period's validation under `periods_key`, the failing inputs (first 50 per
    period) under `failing_key`."""
    blocking = {v.period: dict(sorted(v.blocking_in_latest.items())[:50]) for v in validations if v.blocking_in_latest}
    failed = any(not o.success for v in validations for o in v.outcomes)
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={periods_key: dg.MetadataValue.json({v.period: v.as_metadata() for v in validations}),
                  failing_key: dg.MetadataValue.json(blocking)},
    )
