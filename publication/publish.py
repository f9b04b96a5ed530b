"""Publishing the marts for analysts: a read-only copy that is never half-written.

The live warehouse has one writer (the pipeline), so analysts never open it. After a month
succeeds, every published mart is written to a staging folder beside `data/published/` and then
moved into place with `os.replace` (atomic on one file system): a DuckDB file holding all marts,
one Parquet file per mart, and `manifest.json` last. A reader that opened the previous file keeps
reading it whole; the next open sees the new one.

The gate: rows of a month whose blocking checks failed (`meta.period_status.is_publishable` is
false) are withheld from every period-scoped mart, and the manifest says which months were
withheld and why.

Overrides: publishing a month whose blocking checks failed needs an explicit, recorded decision
(`dxmon publish --override --month M --reason TEXT`, `record_override`). The override names the
failed checks it covers; it stops applying when the month's failures change (a new validation
fails differently), so nobody overrides checks they have not seen. Published months carry
`publication_basis` ('checks_passed' or 'override'), the override's id, author and reason beside
the rankings, and the provenance of every row: methodology version, run id, code version and
the hash of the period's inputs (publication/audit/provenance.py).

The service index over quarters, years and year to date (docs/service_index_periods.md) follows
the gate `period`: each row carries its publication_basis, computed in dbt from its months (a
period with a withheld month is withheld); publication drops the withheld rows and adds the
run_id and code_version of the latest covered month's build and an input_hash over the covered
months' input hashes (`period_provenance`).

The DTI is gated by year the same way: `meta.dti_year_status` (expectations/dti_validation.py)
says whether the reports that currently count pass their blocking checks; a year that does not
(or was never validated) is withheld from the DTI's score marts (ranking, scores, main-indicator
values, divergence, lineage) unless an override names its failures
(`dxmon publish --override --index dti --year 2023 --reason TEXT`). Its rows carry the same
publication columns, and the run, code version and input hash of the provisional month
(`meta.run_provenance`, index 'dti') or of the closure (`meta.dti_year_closures`) that built them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.core.files import sha256_of
from ingestion.core.gate_rule import GATE_BASIS_SQL, STALE_OVERRIDE_SQL
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import PROJECT_ROOT, connect, data_dir, sql_str, table_exists
from publication.audit.provenance import (
    DTI,
    KPI,
    KPI_REPORTS,
    SERVICE_INDEX,
    TASKS,
    code_version,
    current_user,
    hash_of_hashes,
)
from publication.published_marts import DTI_YEAR, MONTH, PERIOD, ROW, published_marts

# The marts published, and the gate each follows (MONTH = the service index's month, DTI_YEAR =
# the DTI's year, None = not gated: reference data and quality reports, which say why a period
# was withheld), are declared once in the marts' dbt YAML (publication/published_marts.py).
# The gate's rule (ingestion/core/gate_rule.py, its one definition) over every period (GATE_SQL);
# gate_basis() runs it through DuckDB on one period's values (explain, audit packs).
GATE_SQL = f"""{GATE_BASIS_SQL} AS publication_basis,
               {STALE_OVERRIDE_SQL} AS stale_override_id"""
DTI_NOT_VALIDATED = "not validated: run the monthly_dti job (dxmon dti run) to check the year's reports"
PROVENANCE_COLUMNS = ("methodology_version", "run_id", "code_version", "input_hash")
PUBLICATION_COLUMNS = ("publication_basis", "override_id", "overridden_by", "override_reason")
PUBLISHED_DB_NAME = "dxmon_published.duckdb"


class OverrideError(ValueError):
    """An override that cannot be recorded; the message says why and what to do."""


def published_dir() -> Path:
    return data_dir() / "published"


@dataclass
class PublicationResult:
    directory: Path
    database: Path
    parquet_files: list[Path]
    published_months: list[str]
    withheld_months: dict[str, str]
    manifest: Path
    overridden_months: dict[str, dict] = None  # month -> the override record it was published on
    dti_published_years: list[int] = field(default_factory=list)
    dti_withheld_years: dict[str, str] = field(default_factory=dict)   # year -> why
    dti_overridden_years: dict[str, dict] = field(default_factory=dict)
    published_periods: list[str] = field(default_factory=list)  # the service index's quarters, years, years to date
    withheld_periods: dict[str, str] = field(default_factory=dict)  # period -> its withheld months


# the gate of each index whose marts are gated row by row: (status table, the command that validates a period)
PERIOD_STATUS_TABLES = {
    KPI_REPORTS: ("meta.kpi_period_status", "dxmon kpi progress --rebuild"),
    TASKS: ("meta.task_period_status", "dxmon tasks status --rebuild --month {period}"),
}

def record_override(con: duckdb.DuckDBPyConnection, period: str, reason: str, by: str | None = None,
                    index_name: str = SERVICE_INDEX) -> dict:
    """Record the decision to publish a period although its blocking checks failed: a month
    (YYYY-MM) of the service index, a year (YYYY) of the DTI, or a report period of the agencies'
    KPI reports (YYYY-Qn, YYYY-MM, YYYY; it applies to the KPI marts at their next build), or a
    month (YYYY-MM) of task tracking (it applies to the task marts at their next build)."""
    prepare_warehouse(con)
    if not reason or len(reason.strip()) < 10:
        raise OverrideError("an override needs a reason of at least 10 characters: say why the failed checks "
                            "do not invalidate the period (--reason TEXT)")
    period = str(period)
    if index_name == DTI:
        if not (len(period) == 4 and period.isdigit()):
            raise OverrideError(f"a DTI override names a year (YYYY), not {period!r}")
        label, period_date = period, f"{period}-01-01"
        status = con.execute("SELECT is_publishable, blocking_failures, run_id FROM meta.dti_year_status WHERE year = ?",
                             [int(period)]).fetchone()
        rerun = f"dxmon dti run --month {period}-12"
    elif index_name == SERVICE_INDEX:
        label, period_date = period[:7], period[:7] + "-01"
        try:
            dt.date.fromisoformat(period_date)
        except ValueError:
            raise OverrideError(f"a service-index override names a month (YYYY-MM), not {period!r}") from None
        status = con.execute(
            "SELECT is_publishable, blocking_failures, run_id FROM meta.period_status WHERE period_month = CAST(? AS DATE)",
            [period_date],
        ).fetchone()
        rerun = f"dxmon run --month {label}"
    elif index_name in PERIOD_STATUS_TABLES:
        # the row-gated indices: a status table keyed by the period's text
        table, rerun = PERIOD_STATUS_TABLES[index_name]
        row = con.execute(f"SELECT period_start, is_publishable, blocking_failures, run_id FROM {table} "
                          "WHERE period = ?", [period]).fetchone()
        label = period
        period_date = row[0].isoformat() if row else None
        status = row[1:] if row else None
        rerun = rerun.format(period=period)
    else:
        raise OverrideError(f"unknown index {index_name!r}: {SERVICE_INDEX}, {DTI}, {KPI_REPORTS} or {TASKS}")
    if status is None:
        raise OverrideError(f"{label} ({index_name}) has not been validated; run `{rerun}` first")
    if status[0]:
        raise OverrideError(f"{label} ({index_name}) passed its blocking checks; it is published without an override")
    now = dt.datetime.now()
    prefix = "ovr-" if index_name == SERVICE_INDEX else f"ovr-{index_name.replace('_', '-')}-"
    override_id = f"{prefix}{label}-{now:%Y%m%dT%H%M%S%f}"
    record = {
        "override_id": override_id, "index_name": index_name, "period_month": label,
        "overridden_checks": status[1] or "", "reason": reason.strip(), "overridden_by": by or current_user(),
        "overridden_at": now.isoformat(timespec="seconds"), "validation_run_id": status[2],
        "code_version": code_version(),
    }
    con.execute(
        "INSERT INTO meta.publication_overrides VALUES (?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?)",
        [override_id, index_name, period_date, record["overridden_checks"], record["reason"], record["overridden_by"],
         now, record["validation_run_id"], record["code_version"]],
    )
    return record


def gate_basis(is_publishable: bool | None, blocking_failures: str | None,
               latest_override_checks: str | None, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """How a period is published: 'checks_passed', 'override' (the latest override names exactly
    the current failures) or 'withheld' (also when it was never validated: None). GATE_BASIS_SQL
    evaluated by DuckDB on these values (on `con` when given: any connection, read-only too)."""
    sql = (f"SELECT {GATE_BASIS_SQL} FROM "
           "(SELECT CAST(? AS BOOLEAN) AS is_publishable, CAST(? AS VARCHAR) AS blocking_failures) AS s, "
           "(SELECT CAST(? AS VARCHAR) AS overridden_checks) AS o")
    params = [is_publishable, blocking_failures, latest_override_checks]
    if con is not None:
        return con.execute(sql, params).fetchone()[0]
    with duckdb.connect() as memory:
        return memory.execute(sql, params).fetchone()[0]


def _dti_publication_years(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP tables of the DTI's gate: dti_publication_years (per year with scores: its status,
    publication basis and override) and dti_publication_contexts (per provisional month, or per
    closed year with period_month NULL: the run, code version and input hash that built it)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dti_publication_years AS
        WITH latest_override AS (
          SELECT * FROM meta.publication_overrides WHERE index_name = '{DTI}'
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY overridden_at DESC) = 1
        ),
        years AS (SELECT DISTINCT year FROM marts.fct_dti_scores)
        SELECT y.year, coalesce(s.is_publishable, false) AS is_publishable,
               CASE WHEN s.year IS NULL THEN ? ELSE s.blocking_failures END AS blocking_failures,
               s.checked_at, s.run_id AS validation_run_id,
               {GATE_SQL},
               o.override_id, o.overridden_by, o.reason AS override_reason, o.overridden_at, o.overridden_checks
        FROM years y
        LEFT JOIN meta.dti_year_status s USING (year)
        LEFT JOIN latest_override o ON o.period_month = make_date(y.year, 1, 1)
        """,
        [DTI_NOT_VALIDATED],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dti_publication_contexts AS
        WITH provisional AS (
          SELECT CAST(extract(year FROM period_month) AS INTEGER) AS year, period_month, run_id, code_version,
                 input_hash
          FROM meta.run_provenance WHERE index_name = '{DTI}'
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY recorded_at DESC, run_id) = 1
        )
        SELECT * FROM provisional
        UNION ALL
        SELECT year, CAST(NULL AS DATE) AS period_month, run_id, code_version, input_hash FROM meta.dti_year_closures
        """
    )


def _publication_periods(con: duckdb.DuckDBPyConnection, index_name: str = SERVICE_INDEX) -> None:
    """TEMP table publication_periods: per validated month, how (and whether) it is published,
    with its override and provenance."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE publication_periods AS
        WITH latest_override AS (
          SELECT * FROM meta.publication_overrides WHERE index_name = ?
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY overridden_at DESC) = 1
        ),
        provenance AS (
          SELECT * FROM meta.run_provenance WHERE index_name = ?
          QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY recorded_at DESC) = 1
        )
        SELECT s.period_month, s.is_publishable, s.blocking_failures, s.checked_at,
               {GATE_SQL},
               o.override_id, o.overridden_by, o.reason AS override_reason, o.overridden_at,
               o.overridden_checks,
               coalesce(p.run_id, s.run_id) AS run_id,
               coalesce(p.code_version, ?) AS code_version,
               p.input_hash
        FROM meta.period_status s
        LEFT JOIN latest_override o USING (period_month)
        LEFT JOIN provenance p USING (period_month)
        """,
        [index_name, index_name, code_version()],
    )
    # months built before provenance was recorded: hash their inputs now
    missing = con.execute("SELECT strftime(period_month, '%Y-%m-%d') FROM publication_periods WHERE input_hash IS NULL").fetchall()
    for (month,) in missing:
        hashes = [r[0] for r in con.execute(
            "SELECT sha256 FROM raw.ingested_sources WHERE period_month = CAST(? AS DATE) AND superseded_at IS NULL",
            [month]).fetchall()]
        con.execute("UPDATE publication_periods SET input_hash = ? WHERE period_month = CAST(? AS DATE)",
                    [hash_of_hashes(hashes), month])


def period_provenance(con: duckdb.DuckDBPyConnection, qualified: str) -> None:
    """TEMP table period_provenance: per distinct months_covered of a period-gated mart
    ('YYYY-MM,YYYY-MM'), the run and code version of the latest covered month's build, the hash of
    the covered months' input hashes in month order (hash_of_hashes), and whether a covered month
    is withheld NOW (its checks changed since dbt computed the row's basis: the row is not
    published until the next build says so). Reads publication_periods (_publication_periods)."""
    by_month = {r[0]: r[1:] for r in con.execute(
        "SELECT strftime(period_month, '%Y-%m'), run_id, code_version, input_hash, publication_basis "
        "FROM publication_periods").fetchall()}
    rows = []
    for (covered,) in con.execute(f"SELECT DISTINCT months_covered FROM {qualified} WHERE months_covered <> ''").fetchall():
        months = covered.split(",")
        known = [m for m in months if m in by_month]
        withheld_now = len(known) < len(months) or any(by_month[m][3] == "withheld" for m in known)
        if not known:
            rows.append((covered, None, None, None, True))
            continue
        latest = max(known)
        rows.append((covered, by_month[latest][0], by_month[latest][1],
                     hash_of_hashes([by_month[m][2] for m in known if by_month[m][2]]), withheld_now))
    con.execute("CREATE OR REPLACE TEMP TABLE period_provenance (months_covered VARCHAR, run_id VARCHAR, "
                "code_version VARCHAR, input_hash VARCHAR, has_withheld_month BOOLEAN)")
    if rows:
        con.executemany("INSERT INTO period_provenance VALUES (?, ?, ?, ?, ?)", rows)


def period_gated_select(con: duckdb.DuckDBPyConnection, qualified: str) -> str:
    """The SELECT publishing a period-gated mart: its rows not withheld (by their publication_basis,
    and none of whose covered months is withheld now), with the provenance of their covered months
    (period_provenance, created here)."""
    period_provenance(con, qualified)
    present = set(_columns(con, qualified))
    extra = [f"v.{c}" for c in PROVENANCE_COLUMNS if c not in present and c != "methodology_version"]
    return (f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m "
            "LEFT JOIN period_provenance v ON v.months_covered = m.months_covered "
            "WHERE m.publication_basis <> 'withheld' AND NOT coalesce(v.has_withheld_month, false)")


def reference_input_hash() -> str:
    """sha256 over the seed files (units, methodology, calendar) that unperiodic marts come from."""
    seeds = PROJECT_ROOT / "dbt_project" / "seeds"
    return hash_of_hashes([sha256_of(p) for p in sorted(seeds.rglob("*.csv"))])


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {qualified}").fetchall()]


def publish(warehouse: Path | None = None, target: Path | None = None, run_id: str = "manual",
            index_name: str = SERVICE_INDEX, require_service_index: bool = True) -> PublicationResult:
    """Publish every mart, withholding months that are not publishable and not overridden.
    `require_service_index=False` (the KPI tracking job): the required marts are required only
    once a service-index month has been validated, so KPI tracking publishes on a warehouse that
    has not run the service index yet."""
    target = target or published_dir()
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".published-staging-{os.getpid()}-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir(parents=True)
    try:
        with connect(warehouse) as con:
            prepare_warehouse(con)
            declared = published_marts()
            required = require_service_index or con.execute("SELECT count(*) FROM meta.period_status").fetchone()[0]
            missing = [m.relation for m in declared if m.required and required and not table_exists(con, m.relation)]
            if missing:
                raise RuntimeError(
                    f"cannot publish: {', '.join(missing)} not built in the warehouse yet; run `dxmon run` first"
                )
            _publication_periods(con, index_name)
            withheld, overridden = _gate_outcomes(con.execute(
                f"SELECT strftime(period_month, '%Y-%m'), {GATE_COLUMNS} FROM publication_periods ORDER BY 1"
            ).fetchall())
            has_dti = table_exists(con, "marts.fct_dti_scores")
            dti_withheld, dti_overridden = {}, {}
            if has_dti:
                _dti_publication_years(con)
                dti_withheld, dti_overridden = _gate_outcomes(con.execute(
                    f"SELECT CAST(year AS VARCHAR), {GATE_COLUMNS} FROM dti_publication_years ORDER BY 1"
                ).fetchall())
            # the latest build of each row-gated index (KPI tracking, task tracking)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE row_build_provenance AS SELECT index_name, run_id, code_version, "
                f"input_hash FROM meta.run_provenance WHERE index_name IN ('{KPI}', '{TASKS}') "
                "QUALIFY row_number() OVER (PARTITION BY index_name ORDER BY recorded_at DESC, run_id) = 1")
            staged_db = staging / PUBLISHED_DB_NAME
            con.execute(f"ATTACH {sql_str(staged_db)} AS published")
            ref_hash = reference_input_hash()
            parquet_files = []
            marts = [m for m in declared if (m.required and required) or table_exists(con, m.relation)]
            for mart in marts:
                qualified, gate = mart.relation, mart.gate
                table = qualified.split(".")[1]
                present = set(_columns(con, qualified))
                if gate == MONTH:
                    extra = [f"p.{c}" for c in PROVENANCE_COLUMNS + PUBLICATION_COLUMNS
                             if c not in present and c != "methodology_version"]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m " \
                             f"JOIN publication_periods p USING (period_month) WHERE p.publication_basis <> 'withheld'"
                elif gate == DTI_YEAR:
                    extra = [f"{'c' if c in PROVENANCE_COLUMNS else 'y'}.{c}" for c in PROVENANCE_COLUMNS + PUBLICATION_COLUMNS
                             if c not in present and c != "methodology_version"]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m " \
                             "JOIN dti_publication_years y ON y.year = m.year " \
                             "LEFT JOIN dti_publication_contexts c ON c.year = m.year " \
                             "AND c.period_month IS NOT DISTINCT FROM m.period_month " \
                             "WHERE y.publication_basis <> 'withheld'"
                elif gate == PERIOD:
                    select = period_gated_select(con, qualified)
                elif gate == ROW:
                    # every row carries its publication_basis (meta.publication_gate, read by dbt);
                    # the run, code version and input hash are the latest build of its index's
                    extra = [f"k.{c}" for c in PROVENANCE_COLUMNS if c not in present and c != "methodology_version"]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m " \
                             f"LEFT JOIN row_build_provenance k ON k.index_name = {sql_str(mart.provenance_index)} " \
                             "WHERE m.publication_basis <> 'withheld'"
                else:
                    extra = [f"{v} AS {c}" for c, v in (
                        ("methodology_version", "CAST(NULL AS VARCHAR)"), ("run_id", sql_str(run_id)),
                        ("code_version", sql_str(code_version())), ("input_hash", sql_str(ref_hash)),
                    ) if c not in present]
                    select = f"SELECT m.*{''.join(', ' + e for e in extra)} FROM {qualified} m"
                con.execute(f"CREATE TABLE published.main.{table} AS {select} ORDER BY ALL")
                parquet = staging / f"{table}.parquet"
                con.execute(f"COPY published.main.{table} TO {sql_str(parquet)} (FORMAT parquet)")
                parquet_files.append(parquet)
            con.execute(
                "CREATE TABLE published.main.publication_status AS "
                "SELECT period_month, is_publishable, blocking_failures, checked_at, publication_basis, "
                "override_id, overridden_by, override_reason, overridden_at, run_id, code_version, input_hash "
                "FROM publication_periods ORDER BY 1"
            )
            if has_dti:
                con.execute(
                    "CREATE TABLE published.main.dti_publication_status AS "
                    "SELECT year, is_publishable, blocking_failures, checked_at, validation_run_id, publication_basis, "
                    "override_id, overridden_by, override_reason, overridden_at FROM dti_publication_years ORDER BY 1"
                )
            con.execute(  # every index's overrides: index_name says which
                "CREATE TABLE published.main.publication_overrides AS "
                "SELECT * FROM meta.publication_overrides ORDER BY index_name, overridden_at"
            )
            dti_published_years = [r[0] for r in con.execute(
                "SELECT DISTINCT year FROM published.main.rpt_dti_ranking ORDER BY 1").fetchall()] \
                if has_dti and table_exists(con, "marts.rpt_dti_ranking") else []
            published_months = [
                r[0] for r in con.execute(
                    "SELECT DISTINCT strftime(period_month, '%Y-%m') FROM published.main.rpt_service_ranking_monthly ORDER BY 1"
                ).fetchall()
            ] if table_exists(con, "marts.rpt_service_ranking_monthly") else []
            published_periods, withheld_periods = [], {}
            if table_exists(con, "marts.fct_service_index_period"):
                published_periods = [r[0] for r in con.execute(
                    "SELECT DISTINCT period FROM published.main.fct_service_index_period ORDER BY 1").fetchall()]
                # period -> its withheld months (those withheld since the build when its row had none)
                now_withheld = {r[0] for r in con.execute("SELECT strftime(period_month, '%Y-%m') FROM publication_periods "
                                                          "WHERE publication_basis = 'withheld'").fetchall()}
                withheld_periods = {period: withheld or ",".join(m for m in covered.split(",") if m in now_withheld)
                                    for period, withheld, covered in con.execute(
                    "SELECT DISTINCT period, months_withheld, months_covered FROM marts.fct_service_index_period "
                    "WHERE period NOT IN (SELECT period FROM published.main.fct_service_index_period) ORDER BY 1"
                ).fetchall()}
            con.execute("DETACH published")
        manifest = {
            "published_at": dt.datetime.now().isoformat(timespec="seconds"),
            "run_id": run_id,
            "code_version": code_version(),
            "published_months": published_months,
            "withheld_months": withheld,
            "overridden_months": overridden,
            "dti_published_years": dti_published_years,
            "dti_withheld_years": dti_withheld,
            "dti_overridden_years": dti_overridden,
            "published_periods": published_periods,
            "withheld_periods": withheld_periods,
            "files": {p.name: sha256_of(p) for p in [staged_db, *parquet_files]},
        }
        final_files = []
        for path in [staged_db, *parquet_files]:
            os.replace(path, target / path.name)
            final_files.append(target / path.name)
        manifest_tmp = staging / "manifest.json"
        manifest_tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(manifest_tmp, target / "manifest.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublicationResult(
        directory=target,
        database=target / PUBLISHED_DB_NAME,
        parquet_files=[f for f in final_files if f.suffix == ".parquet"],
        published_months=published_months,
        withheld_months=withheld,
        manifest=target / "manifest.json",
        overridden_months=overridden,
        dti_published_years=dti_published_years,
        dti_withheld_years=dti_withheld,
        dti_overridden_years=dti_overridden,
        published_periods=published_periods,
        withheld_periods=withheld_periods,
    )


GATE_COLUMNS = ("publication_basis, coalesce(blocking_failures, ''), stale_override_id, override_id, "
                "overridden_by, override_reason, overridden_at, overridden_checks")


def _gate_outcomes(rows: list[tuple]) -> tuple[dict[str, str], dict[str, dict]]:
    """(withheld period -> why, overridden period -> its override) from rows of
    (period, GATE_COLUMNS...)."""
    withheld, overridden = {}, {}
    for period, basis, why, stale, oid, by, reason, at, checks in rows:
        if basis == "withheld":
            withheld[period] = why + (
                f" (override {stale} covers other checks; record a new override)" if stale else "")
        elif basis == "override":
            overridden[period] = {"override_id": oid, "overridden_by": by, "reason": reason,
                                  "overridden_at": at.isoformat(timespec="seconds"), "overridden_checks": checks}
    return withheld, overridden
