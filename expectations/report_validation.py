"""What the validations of agency reports share (expectations/dti_validation.py for the DTI's
reports, expectations/kpi_validation.py for the KPI reports): the expectations' meta, the GX
checkpoint over an in-memory frame, and the gate's reading of the outcomes (a report that
currently counts failing a blocking expectation holds its period back; a superseded version's
failures stay visible but do not)."""

from __future__ import annotations

import json

import great_expectations as gx


def expectation_meta(blocking: bool, why: str, check: str) -> dict:
    """An expectation's meta: whether it blocks publication, why it exists, the check it names."""
    return {"blocking": blocking, "why": why, "check": check}


def dataframe_checkpoint(context, data_source: str, suite: gx.ExpectationSuite) -> gx.Checkpoint:
    """The checkpoint validating one suite over a whole pandas frame (asset and batch definition
    named after the suite, created once per GX context). COMPLETE results: the row indices of
    every failure, to flag the rows and name the reports."""
    try:
        source = context.data_sources.get(data_source)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(data_source)
    try:
        asset = source.get_asset(suite.name)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(suite.name)
    try:
        batch_definition = asset.get_batch_definition("whole_frame")
    except (LookupError, KeyError, ValueError):
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite))
    return context.checkpoints.add_or_update(gx.Checkpoint(
        name=f"checkpoint_{suite.name}", validation_definitions=[definition], actions=[],
        result_format={"result_format": "COMPLETE"}))


def json_text(value) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


class ReportGate:
    """The gate's reading of a report validation's outcomes. Mixed into a dataclass with
    `outcomes` (ExpectationOutcome), `blocking_by_submission` (submission_id -> messages) and
    `latest_submission_ids` (the latest accepted version of each unit)."""

    @property
    def blocking_in_latest(self) -> dict[str, list[str]]:
        """Blocking failures of the reports that currently count (a superseded version's
        failures stay visible in `blocking_by_submission`)."""
        return {k: v for k, v in self.blocking_by_submission.items() if k in self.latest_submission_ids}

    @property
    def is_publishable(self) -> bool:
        """The period's gate (publication/publish.py): no report that currently counts fails a
        blocking expectation."""
        return not self.blocking_in_latest

    @property
    def blocking_failures_text(self) -> str | None:
        """The gate's failures as one deterministic text: an override names exactly these."""
        return "; ".join(f"{sid}: {message}" for sid, messages in sorted(self.blocking_in_latest.items())
                         for message in messages) or None

    @property
    def blocking_failures(self) -> list:
        return [o for o in self.outcomes if o.is_blocking and not o.success]

    @property
    def warnings(self) -> list:
        return [o for o in self.outcomes if not o.is_blocking and not o.success]
