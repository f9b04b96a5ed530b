"""Validation history: every GX expectation and every dbt test of every run, kept in the warehouse.

* GX: `meta.validation_results` (written by expectations/month_validation.py, one row per
  expectation per month per run) plus, for failed expectations, the ids of sample offending rows
  in `meta.validation_sample_rows` (`<source_id>#<source_row>`, or `unit:<code>` for unit checks).
* dbt: `meta.dbt_test_results`, one row per data or unit test per month of the invocation's
  window, from `target/run_results.json` right after `dbt build`. A failed test's sample rows
  come from re-running its compiled query (5 rows), so no `--store-failures` tables are needed.

The marts `rpt_data_quality_runs` and `rpt_data_quality_by_unit` (dbt, tag audit) read both.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

import duckdb

from ingestion.core.schema import prepare_warehouse

log = logging.getLogger(__name__)

SAMPLE_ROW_LIMIT = 5
# Columns that identify an offending row, in order of preference.
ROW_ID_COLUMNS = (("source_id", "source_row"), ("dossier_id",), ("complaint_id",), ("procedure_code",),
                  ("unit_code",), ("submission_id",), ("indicator_code",))


# ---------------------------------------------------------------------------------------------
# GX: sample offending rows of failed expectations

def _row_ids(con, sql: str, params: list) -> list[str]:
    try:
        return [r[0] for r in con.execute(sql, params).fetchall()]
    except duckdb.Error as exc:  # a sample is a help, never a reason to fail the validation
        log.warning("could not sample offending rows: %s", exc)
        return []


def offending_row_ids(con: duckdb.DuckDBPyConnection, outcome, period: str) -> list[str]:
    """Up to SAMPLE_ROW_LIMIT ids of rows behind a failed expectation."""
    details = json.loads(outcome.details) if outcome.details else {}
    table = f"raw.{outcome.extract_kind}"
    ident = "source_id || '#' || source_row"
    if outcome.suite_name.endswith("_rejections"):
        rules = [r["rule"] for r in details.get("rules_over_threshold") or []]
        rule_filter = "rejection_rule IN (SELECT unnest(?))" if rules else "rejection_rule IS NOT NULL"
        return _row_ids(
            con,
            f"SELECT {ident} FROM {table} WHERE period_month = CAST(? AS DATE) AND {rule_filter} "
            f"ORDER BY source_id, source_row LIMIT {SAMPLE_ROW_LIMIT}",
            [period, rules] if rules else [period],
        )
    if outcome.suite_name.endswith("_unit_completeness") or "flagged_units" in details:
        return [f"unit:{u['unit_code']}" for u in details.get("flagged_units", [])][:50]
    if outcome.suite_name.endswith("_valid_rows") and outcome.column:
        column = '"' + outcome.column.replace('"', '""') + '"'
        values = details.get("sample_unexpected")
        if values:
            cond = f"CAST({column} AS VARCHAR) IN (SELECT CAST(unnest(?) AS VARCHAR))"
            params = [period, [str(v) for v in values]]
        else:
            cond, params = f"{column} IS NULL", [period]
        return _row_ids(
            con,
            f"SELECT {ident} FROM {table} WHERE period_month = CAST(? AS DATE) AND rejection_rule IS NULL "
            f"AND {cond} ORDER BY source_id, source_row LIMIT {SAMPLE_ROW_LIMIT}",
            params,
        )
    return []


def record_gx_samples(con: duckdb.DuckDBPyConnection, validation) -> int:
    """Sample offending rows of every failed expectation of a MonthValidation."""
    period = validation.period_month
    con.execute("DELETE FROM meta.validation_sample_rows WHERE run_id = ? AND period_month = CAST(? AS DATE)",
                [validation.run_id, period])
    rows = []
    for o in validation.outcomes:
        if o.success:
            continue
        ids = offending_row_ids(con, o, period)
        if ids:
            rows.append([validation.run_id, period, o.suite_name, o.expectation, o.column, json.dumps(ids)])
    if rows:
        con.executemany("INSERT INTO meta.validation_sample_rows VALUES (?, CAST(? AS DATE), ?, ?, ?, ?)", rows)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# dbt: run_results.json -> meta.dbt_test_results

def _test_identity(unique_id: str, manifest: dict | None) -> tuple[str, str | None, str | None, str]:
    """(test name, model tested, column, severity) from the manifest, or from the id."""
    node = None
    if manifest:
        node = manifest.get("nodes", {}).get(unique_id) or manifest.get("unit_tests", {}).get(unique_id)
    parts = unique_id.split(".")
    if node is None:
        return (parts[2] if len(parts) > 2 else unique_id), None, None, "error"
    meta = node.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    model = node.get("attached_node") or node.get("model") or next(
        (d for d in (node.get("depends_on") or {}).get("nodes", []) if d.startswith("model.")), None)
    model_name = model.split(".")[-1] if model else None
    severity = str((node.get("config") or {}).get("severity", "error")).lower()
    return node.get("name", parts[-1]), model_name, kwargs.get("column_name") or node.get("column_name"), severity


def _sample_failed_rows(con: duckdb.DuckDBPyConnection, compiled_sql: str | None) -> list[str]:
    if not compiled_sql:
        return []
    try:
        rel = con.sql(f"SELECT * FROM ({compiled_sql}) AS failing LIMIT {SAMPLE_ROW_LIMIT}")
        cols = rel.columns
        rows = rel.fetchall()
    except duckdb.Error as exc:
        log.warning("could not sample a failed dbt test's rows: %s", exc)
        return []
    for id_cols in ROW_ID_COLUMNS:
        if all(c in cols for c in id_cols):
            idx = [cols.index(c) for c in id_cols]
            return ["#".join(str(r[i]) for i in idx) for r in rows]
    return [json.dumps(dict(zip(cols, r)), default=str, ensure_ascii=False) for r in rows]


def record_dbt_results(con: duckdb.DuckDBPyConnection, run_results: dict[str, Any], run_id: str,
                       periods: Iterable[str], manifest: dict | None = None) -> int:
    """Record every test of one dbt invocation, once per month of its window."""
    prepare_warehouse(con)
    periods = sorted({p[:7] + "-01" for p in periods}) or [None]
    invocation_id = (run_results.get("metadata") or {}).get("invocation_id")
    executed_at = (run_results.get("metadata") or {}).get("generated_at")
    try:
        executed = dt.datetime.fromisoformat(executed_at.replace("Z", "+00:00")).replace(tzinfo=None)
    except (AttributeError, ValueError):
        executed = dt.datetime.now()
    rows = []
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        status = str(result.get("status", "")).lower()
        name, model, column, severity = _test_identity(unique_id, manifest)
        success = status in ("pass", "success")
        samples = _sample_failed_rows(con, result.get("compiled_code")) if status in ("fail", "warn") and \
            unique_id.startswith("test.") else []
        for period in periods:
            rows.append([run_id, invocation_id, period, unique_id, name, model, column, status, success,
                         severity == "error" and status != "warn", result.get("failures"),
                         result.get("message"), json.dumps(samples) if samples else None, executed])
    if invocation_id:
        con.execute("DELETE FROM meta.dbt_test_results WHERE invocation_id = ?", [invocation_id])
    if rows:
        con.executemany(
            "INSERT INTO meta.dbt_test_results VALUES (?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def record_dbt_invocation(invocation, run_id: str, periods: Iterable[str], warehouse=None) -> int:
    """After `dbt build` through dagster-dbt: read the invocation's run_results.json and record
    its tests. Never raises (history must not turn a good build into a failed one)."""
    from ingestion.core.warehouse import connect

    try:
        run_results = invocation.get_artifact("run_results.json")
        manifest = getattr(invocation, "manifest", None)
        with connect(warehouse) as con:
            return record_dbt_results(con, run_results, run_id, periods, manifest)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        log.warning("dbt test results not recorded for run %s: %s", run_id, exc)
        return 0
