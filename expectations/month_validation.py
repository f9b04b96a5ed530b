"""Validate one month of loaded extracts: cross-row rules, GX suites, results and the gate.

Results land in `meta.validation_results` (one row per expectation) and the month's publish
gate in `meta.period_status`; GX Data Docs are rebuilt under `data/quality/`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402

from expectations.data_docs_offline import DataDocsAssetsError, make_site_offline  # noqa: E402
from expectations.row_rules import UNIT_ATTRIBUTION_TABLE, apply_cross_row_rules  # noqa: E402
from expectations.suites import SAMPLE_ROWS, SuiteSpec, all_suites  # noqa: E402
from expectations.validation_history import record_gx_samples  # noqa: E402
from ingestion.core.extract_contract import EXTRACT_KINDS, PROVENANCE_COLUMNS  # noqa: E402
from ingestion.core.schema import prepare_warehouse  # noqa: E402
from ingestion.core.warehouse import data_dir  # noqa: E402

log = logging.getLogger(__name__)

RANKED_UNITS_TABLE = "marts.dim_units"


def quality_dir() -> Path:
    return data_dir() / "quality"


@dataclass
class ExpectationOutcome:
    suite_name: str
    extract_kind: str
    expectation: str
    column: str | None
    is_blocking: bool
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    element_count: int | None
    details: str | None


@dataclass
class MonthValidation:
    period_month: str
    run_id: str
    cross_row_rejections: dict[str, int]
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_index: str | None = None
    # suite name -> URL of this month's validation result page in the Data Docs site
    docs_pages: dict[str, str] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.is_blocking and not o.success]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.is_blocking and not o.success]

    @property
    def is_publishable(self) -> bool:
        return not self.blocking_failures

    def by_suite(self) -> dict[str, list[ExpectationOutcome]]:
        out: dict[str, list[ExpectationOutcome]] = {}
        for o in self.outcomes:
            out.setdefault(o.suite_name, []).append(o)
        return out


# --------------------------------------------------------------------------------------------
# Profiles: small frames DuckDB computes from the month's rows.

def valid_rows_sample(con, kind_name: str, month: str) -> pd.DataFrame:
    # the contract's column order, not the table's: a column added by a migration
    # (ingestion/core/schema.py MIGRATIONS) sits last in a warehouse created before it
    kind = EXTRACT_KINDS[kind_name]
    columns = ", ".join(f'"{c}"' for c in kind.field_names + [name for name, _ in PROVENANCE_COLUMNS])
    return con.execute(
        f"SELECT {columns} FROM raw.{kind_name} WHERE period_month = ? AND rejection_rule IS NULL "
        f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (766)",
        [month],
    ).df()


def rejection_profile(con, kind_name: str, month: str) -> pd.DataFrame:
    df = con.execute(
        f"""
        WITH batch AS (SELECT rejection_rule FROM raw.{kind_name} WHERE period_month = ?),
        total AS (SELECT count(*) AS n FROM batch)
        SELECT b.rejection_rule AS rule, count(*) AS rejected_rows,
               count(*) / max(t.n) AS rejected_share
        FROM batch b, total t WHERE b.rejection_rule IS NOT NULL
        GROUP BY b.rejection_rule ORDER BY rule
        """,
        [month],
    ).df()
    if df.empty:  # a clean batch still gets one row so every expectation is evaluated
        df = pd.DataFrame({"rule": ["(none)"], "rejected_rows": [0], "rejected_share": [0.0]})
    return df


def volume_profile(con, kind_name: str, month: str) -> pd.DataFrame:
    return con.execute(
        f"SELECT count(*) FILTER (WHERE rejection_rule IS NULL) AS valid_rows, count(*) AS loaded_rows "
        f"FROM raw.{kind_name} WHERE period_month = ?",
        [month],
    ).df()


def unit_completeness_profile(con, month: str) -> pd.DataFrame:
    """Dossiers per ranked unit this month against its mean over the 3 previous months."""
    return con.execute(
        f"""
        WITH ranked_units AS (
          SELECT unit_code, unit_level FROM {RANKED_UNITS_TABLE}
          WHERE is_ranked_in_service_index
            AND valid_from <= CAST(? AS DATE) AND (valid_to IS NULL OR valid_to >= CAST(? AS DATE))
        ),
        counts AS (
          SELECT a.backcast_unit_code AS current_unit, a.unit_code, d.period_month, count(*) AS n
          FROM raw.dossiers d
          JOIN {UNIT_ATTRIBUTION_TABLE} a
            ON a.reported_unit_code = d.parent_unit_code AND a.period_month = d.period_month
          WHERE d.rejection_rule IS NULL
            AND d.period_month BETWEEN CAST(? AS DATE) - INTERVAL 3 MONTH AND CAST(? AS DATE)
          GROUP BY ALL
        ),
        this_month AS (SELECT unit_code, sum(n) AS n FROM counts WHERE period_month = CAST(? AS DATE) GROUP BY ALL),
        -- previous months compared on today's units, so a merged province is compared with the
        -- sum of its predecessors
        previous AS (
          SELECT current_unit, sum(n) / count(DISTINCT period_month) AS mean_n
          FROM counts WHERE period_month < CAST(? AS DATE) GROUP BY ALL
        )
        SELECT u.unit_code, u.unit_level, coalesce(t.n, 0) AS dossier_count,
               p.mean_n AS previous_months_mean,
               CASE WHEN p.mean_n > 0 THEN coalesce(t.n, 0) / p.mean_n END AS ratio_to_previous_months
        FROM ranked_units u
        LEFT JOIN this_month t USING (unit_code)
        LEFT JOIN (SELECT DISTINCT unit_code, backcast_unit_code FROM {UNIT_ATTRIBUTION_TABLE}
                   WHERE period_month = CAST(? AS DATE)) b USING (unit_code)
        LEFT JOIN previous p ON p.current_unit = b.backcast_unit_code
        ORDER BY u.unit_level, u.unit_code
        """,
        [month] * 7,
    ).df()


# --------------------------------------------------------------------------------------------
# Great Expectations plumbing

@lru_cache(maxsize=4)
def gx_context(root: str):
    context = gx.get_context(mode="file", project_root_dir=root)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    context.variables.save()
    return context


def _checkpoint_for(context, spec: SuiteSpec):
    """Register (or refresh) the suite, its validation definition and checkpoint in the GX
    file context, so Data Docs show the suite exactly as it ran."""
    try:
        source = context.data_sources.get("dxmon_batch_profiles")
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas("dxmon_batch_profiles")
    try:
        asset = source.get_asset(spec.name)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(spec.name)
    try:
        batch_definition = asset.get_batch_definition("whole_profile")
    except (LookupError, KeyError, ValueError):
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_profile")
    suite = context.suites.add_or_update(spec.build())
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=spec.name, data=batch_definition, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"checkpoint_{spec.name}",
            validation_definitions=[definition],
            actions=[],  # results are stored by the run; Data Docs are built once per month
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )


def _json(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False)


def run_suite(context, spec: SuiteSpec, frame: pd.DataFrame, run_name: str,
              result_ids: dict | None = None) -> list[ExpectationOutcome]:
    """Run one suite; its outcomes. `result_ids` (suite name -> GX ValidationResultIdentifier)
    receives the stored result's identifier, which names its Data Docs page (docs_page_urls)."""
    checkpoint = _checkpoint_for(context, spec)
    result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name))
    if result_ids is not None and result.run_results:
        result_ids[spec.name] = next(iter(result.run_results))
    outcomes = []
    for suite_result in result.run_results.values():
        for r in suite_result.results:
            cfg = r.expectation_config
            res = r.result or {}
            meta = cfg.meta or {}
            details = {"why": meta.get("why")}
            if res.get("partial_unexpected_list"):
                details["sample_unexpected"] = res["partial_unexpected_list"][:5]
            if r.exception_info and r.exception_info.get("raised_exception"):
                details["exception"] = r.exception_info.get("exception_message")
            if spec.name.endswith("_rejections") and not r.success:
                details["rules_over_threshold"] = frame.loc[
                    frame["rejected_share"] > (cfg.kwargs.get("max_value") or 0), ["rule", "rejected_share"]
                ].to_dict("records")
            if spec.name == "dossiers_unit_completeness" and not r.success:
                column = cfg.kwargs.get("column")
                low = cfg.kwargs.get("min_value")
                flagged = frame.loc[frame[column].notna() & (frame[column] < low), ["unit_code", column]]
                details["flagged_units"] = flagged.to_dict("records")
            outcomes.append(ExpectationOutcome(
                suite_name=spec.name,
                extract_kind=spec.extract_kind,
                expectation=cfg.type,
                column=cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
                is_blocking=bool(meta.get("blocking", True)),
                success=bool(r.success),
                observed_value=_json(res.get("observed_value")),
                unexpected_count=res.get("unexpected_count"),
                element_count=res.get("element_count"),
                details=_json(details),
            ))
    return outcomes


def docs_page_urls(context, result_ids: dict) -> dict[str, str]:
    """Suite name -> URL of its validation result page in the (already built) Data Docs site.
    GX names the page after the result's identifier (suite / run name / run time / batch); only
    pages that exist are returned."""
    pages = {}
    for suite_name, identifier in result_ids.items():
        try:
            sites = context.get_docs_sites_urls(resource_identifier=identifier)
        except Exception as exc:  # noqa: BLE001 - a missing link must not fail the validation
            log.warning("no Data Docs page for %s: %s", suite_name, exc)
            continue
        url = next((s.get("site_url") for s in sites if s.get("site_url")), None)
        if url:
            pages[suite_name] = url
    return pages


def build_data_docs(context, result_ids: dict) -> tuple[str | None, dict[str, str]]:
    """Build the Data Docs site once, make it render offline (its CDN styles and scripts pointed
    at local copies: expectations/data_docs_offline.py), then look each result's page up (not
    built again): (the site's index URL, suite name -> its validation result page)."""
    context.build_data_docs()
    sites = context.get_docs_sites_urls()
    index = sites[0]["site_url"] if sites else None
    offline_data_docs(index)
    return index, docs_page_urls(context, result_ids)


def offline_data_docs(index_url: str | None) -> None:
    """The local site of `index_url` (a file:// URL) made to render offline; a failure is logged,
    never raised: the validation's results stand without the site's styles."""
    if not index_url or not index_url.startswith("file:"):
        return
    site = Path(unquote(urlparse(index_url).path)).parent
    try:
        make_site_offline(site)
    except (DataDocsAssetsError, OSError) as exc:
        log.warning("Data Docs at %s still load their styles and scripts from CDNs: %s", site, exc)


def profile_for(con, spec: SuiteSpec, month: str) -> pd.DataFrame:
    if spec.name.endswith("_valid_rows"):
        return valid_rows_sample(con, spec.extract_kind, month)
    if spec.name.endswith("_rejections"):
        return rejection_profile(con, spec.extract_kind, month)
    if spec.name.endswith("_volume"):
        return volume_profile(con, spec.extract_kind, month)
    if spec.name == "dossiers_unit_completeness":
        return unit_completeness_profile(con, month)
    raise ValueError(f"no profile for suite {spec.name}")


def recompute_cross_row_rules(con: duckdb.DuckDBPyConnection, period: str) -> dict[str, int]:
    """The month's cross-row rules recomputed over its current sources (expectations/row_rules.py:
    a replaced file leaves no stale flag), then each source's rejected count made true again;
    one transaction, so a crash leaves the month as it was before. Rows rejected per rule."""
    con.execute("BEGIN TRANSACTION")
    try:
        rejections = apply_cross_row_rules(con, period)
        for kind in EXTRACT_KINDS.values():
            con.execute(
                f"""UPDATE raw.ingested_sources s SET rejected_count = c.rejected
                    FROM (SELECT source_id, count(rejection_rule) AS rejected FROM raw.{kind.name}
                          WHERE period_month = CAST(? AS DATE) GROUP BY source_id) c
                    WHERE s.source_id = c.source_id AND s.rejected_count IS DISTINCT FROM c.rejected""",
                [period],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rejections


def validate_month(con: duckdb.DuckDBPyConnection, month: str, run_id: str = "manual",
                   root: Path | None = None) -> MonthValidation:
    """Apply cross-row rules, run every suite on the month's profiles, record the results."""
    prepare_warehouse(con)
    period = month + "-01" if len(month) == 7 else month
    rejections = recompute_cross_row_rules(con, period)
    root = root or quality_dir()
    root.mkdir(parents=True, exist_ok=True)
    context = gx_context(str(root))
    result = MonthValidation(period_month=period, run_id=run_id, cross_row_rejections=rejections)
    run_name = f"{period[:7]}-{run_id}"
    result_ids: dict = {}
    for spec in all_suites():
        result.outcomes.extend(run_suite(context, spec, profile_for(con, spec, period), run_name, result_ids))
    now = dt.datetime.now()
    con.execute("DELETE FROM meta.validation_results WHERE period_month = CAST(? AS DATE) AND run_id = ? "
                "AND extract_kind IN (SELECT unnest(?))",
                [period, run_id, sorted({o.extract_kind for o in result.outcomes}) or [""]])
    con.executemany(
        "INSERT INTO meta.validation_results VALUES (?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, period, o.extract_kind, o.suite_name, o.expectation, o.column, o.is_blocking, o.success,
          o.observed_value, o.unexpected_count, o.element_count, o.details, now] for o in result.outcomes],
    )
    failures = "; ".join(
        f"{o.suite_name}: {o.expectation}" + (f" on {o.column}" if o.column else "")
        + (f" ({json.loads(o.details).get('why')})" if o.details else "")
        for o in result.blocking_failures
    ) or None
    con.execute(
        "INSERT OR REPLACE INTO meta.period_status VALUES (CAST(? AS DATE), ?, ?, ?, ?)",
        [period, result.is_publishable, failures, now, run_id],
    )
    # audit: ids of sample offending rows of every failed expectation (expectations/validation_history.py)
    record_gx_samples(con, result)
    result.docs_index, result.docs_pages = build_data_docs(context, result_ids)  # once per month
    log.info("validated %s: %d expectations, %d blocking failures, %d warnings",
             period[:7], len(result.outcomes), len(result.blocking_failures), len(result.warnings))
    return result
