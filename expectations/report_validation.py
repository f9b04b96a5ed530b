"""What the validations of agency reports share (expectations/dti_validation.py for the DTI's
reports, expectations/kpi_validation.py for the KPI reports): the expectations' meta, the GX
checkpoint over an in-memory frame, and the gate's reading of the outcomes (a report that
currently counts failing a blocking expectation holds its period back; a superseded version's
failures stay visible but do not)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import great_expectations as gx
import pandas as pd

from expectations.month_validation import ExpectationOutcome

GX_RULE_PREFIX = "gx_"  # the rule of a row flagged by a blocking expectation (cleared and recomputed every run)
DETAIL_LIMIT = 50       # failure messages kept in an outcome's details
SAMPLE_ROW_LIMIT = 5    # sample offending row ids kept per failed expectation


def frame_row_location(row) -> str:
    """Where a failing frame row comes from, as the KPI and task messages name it: "file 'x.xlsx',
    sheet 'S', row 12", "file 'x.csv', line 12", or "file 'x.csv'" (a file-level row)."""
    file = Path(row["inbox_path"]).name
    if isinstance(row.get("sheet"), str):
        return f"file '{file}', sheet '{row['sheet']}', row {int(row['source_row'])}"
    if pd.notna(row.get("source_row")):
        return f"file '{file}', line {int(row['source_row'])}"
    return f"file '{file}'"


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


def run_report_suites(context, data_source: str, suites: dict[str, Callable[[], gx.ExpectationSuite]],
                      frames: dict[str, pd.DataFrame], run_name: str, result, extract_kind: str,
                      message: Callable, row_id: Callable, flag_key: Callable,
                      details: dict | None = None) -> tuple[dict, list[tuple]]:
    """Validate each frame with its suite and read the results into `result` (a report
    validation: outcomes, blocking / warning messages per submission, sample row ids).
    `message(check, row)` gives (field, message) of a failing row, `row_id(row)` its sample id,
    `flag_key(row)` the key of the value row to flag (after submission_id). Returns the GX result
    ids per suite (for Data Docs) and the flags: (submission_id, *key, rule, field, reason) of
    every failing row of a blocking expectation that has a value row."""
    flags: list[tuple] = []
    result_ids: dict = {}
    for name, frame in frames.items():
        frame = frame.reset_index(drop=True)
        run = dataframe_checkpoint(context, data_source, suites[name]()).run(
            batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name))
        if run.run_results:
            result_ids[name] = next(iter(run.run_results))
        for suite_result in run.run_results.values():
            for r in suite_result.results:
                cfg, res = r.expectation_config, (r.result or {})
                meta = cfg.meta or {}
                blocking, check = bool(meta.get("blocking", True)), meta.get("check", cfg.type)
                failing = frame.loc[res.get("unexpected_index_list") or []] if not r.success else frame.iloc[0:0]
                messages = []
                for _, row in failing.iterrows():
                    fld, text = message(check, row)
                    messages.append(text)
                    sid = row.get("submission_id")
                    if isinstance(sid, str):
                        target = result.blocking_by_submission if blocking else result.warnings_by_submission
                        target.setdefault(sid, []).append(text)
                        if blocking and row.get("has_row"):
                            flags.append((sid, *flag_key(row), GX_RULE_PREFIX + check, fld, text))
                column = cfg.kwargs.get("column") or cfg.kwargs.get("column_A")
                if len(failing):
                    result.sample_row_ids[(name, cfg.type, column)] = \
                        [row_id(row) for _, row in failing.head(SAMPLE_ROW_LIMIT).iterrows()]
                outcome_details = {"why": meta.get("why"), "check": check, **(details or {})}
                if messages:
                    outcome_details["failures"] = messages[:DETAIL_LIMIT]
                if r.exception_info and r.exception_info.get("raised_exception"):
                    outcome_details["exception"] = r.exception_info.get("exception_message")
                result.outcomes.append(ExpectationOutcome(
                    suite_name=name, extract_kind=extract_kind, expectation=cfg.type, column=column,
                    is_blocking=blocking, success=bool(r.success), observed_value=json_text(res.get("observed_value")),
                    unexpected_count=res.get("unexpected_count"), element_count=res.get("element_count"),
                    details=json_text(outcome_details)))
    return result_ids, flags


def apply_flags(con, table: str, key_columns: tuple[str, ...], flags: list[tuple]) -> int:
    """Flag the value rows of `table` that failed a blocking expectation (the first failure per
    row; a row already rejected at intake keeps its rule). Returns the rows flagged."""
    if not flags:
        return 0
    frame = pd.DataFrame(flags, columns=["submission_id", *key_columns, "rule", "field", "reason"], dtype=object)
    frame = frame.drop_duplicates(["submission_id", *key_columns])
    con.register("report_gx_flags", frame)
    try:
        matches = " AND ".join(f"v.{c} = f.{c}" for c in ("submission_id", *key_columns))
        con.execute(f"""UPDATE {table} v SET rejection_rule = f.rule, rejection_reason = f.reason,
                               rejection_field = f.field
                        FROM report_gx_flags f
                        WHERE {matches} AND v.rejection_rule IS NULL""")
    finally:
        con.unregister("report_gx_flags")
    return len(frame)


def record_sample_rows(con, run_id: str, period, suite_prefix: str, sample_row_ids: dict) -> None:
    """The validation history's sample offending rows (expectations/validation_history.py) of
    the suites named `<suite_prefix>*`, replacing the run's earlier rows for the period."""
    con.execute("DELETE FROM meta.validation_sample_rows WHERE run_id = ? AND period_month = ? "
                "AND suite_name LIKE ?", [run_id, period, suite_prefix + "%"])
    rows = [[run_id, period, suite, expectation, column, json.dumps(ids)]
            for (suite, expectation, column), ids in sorted(sample_row_ids.items(), key=str) if ids]
    if rows:
        con.executemany("INSERT INTO meta.validation_sample_rows VALUES (?, ?, ?, ?, ?, ?)", rows)
