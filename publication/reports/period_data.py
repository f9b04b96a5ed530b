"""The tables of one period, read from the published database: what the period report shows and
the workbook and CSV exports contain (one definition, so the report and the workbook of a period
hold the same rows).

A period is a service-index month (`YYYY-MM`): its month, the quarter and the year to date that
end with it (and the year, when published), the DTI year (`dti_year`, by default the latest
published year not after the month's), the KPI progress as of the month's last day (the latest
as-of date not after it) and the task tracking of the month.

Every table is a `TableSpec`: a key (the sheet and CSV name), a title, its columns with a kind
(how a number is formatted, how a column sorts) and a query over the published database. A mart
that is not published (yet) gives an empty table whose `missing` says so; the report says it in
its section instead of failing. Reads the published copy read-only: safe while a run writes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# Column kinds: how the report formats and sorts a column and which number format the workbook sets
# PERCENT: a share 0-1 (shown 12.34 %); a rate the marts publish as 0-100 is a SCORE with "(%)" in its label
TEXT, INT, SCORE, VALUE, PERCENT, DATE, BOOL, CHANGE = "text", "int", "score", "value", "percent", "date", "bool", "change"
YEAR = "year"  # an integer shown without a thousands separator
NUMERIC = (INT, YEAR, SCORE, VALUE, PERCENT, CHANGE)
# The statistical audit (issue 15) will publish a rank interval beside each rank; the ranking
# tables show these columns when the mart has them, an empty "rank interval" column until then.
RANK_INTERVAL_COLUMNS = ("rank_interval_low", "rank_interval_high")
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A period that cannot be reported; the message says why and what to do."""


@dataclass(frozen=True)
class Column:
    name: str     # the query's column
    label: str    # the header a reader sees
    kind: str = TEXT


@dataclass
class TableSpec:
    key: str                  # sheet and CSV file name (<= 31 characters)
    title: str
    columns: list[Column]
    sql: str = ""             # over the published database; `?` parameters
    params: list = field(default_factory=list)
    source: str = ""          # the published mart it reads
    note: str = ""            # what a reader should know (shown under the table)
    missing: str = ""         # set when the mart is not published: why the table is empty
    rows: list[tuple] = field(default_factory=list)

    def dicts(self) -> list[dict]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, r)) for r in self.rows]

    def column(self, name: str) -> list:
        i = [c.name for c in self.columns].index(name)
        return [r[i] for r in self.rows]


@dataclass
class Period:
    month: str                # YYYY-MM
    month_start: dt.date
    month_end: dt.date        # the last day
    quarter: str              # 2025-Q3
    year_to_date: str         # 2025-08-YTD
    year: str                 # 2025
    dti_year: int | None
    kpi_as_of: dt.date | None


@dataclass
class PeriodData:
    period: Period
    database: Path
    tables: dict[str, TableSpec]
    provenance: list[tuple[str, object]]   # (what, value): the methodology, run, code version, input hash...
    published_at: str | None
    audit_pack: Path | None                # the month's audit pack folder, when it exists

    def __getitem__(self, key: str) -> TableSpec:
        return self.tables[key]


def parse_month(month: str) -> tuple[dt.date, dt.date]:
    text = str(month).strip()
    if not MONTH_PATTERN.match(text):
        raise PeriodError(f"a report period is a month YYYY-MM, not {month!r}")
    start = dt.date.fromisoformat(f"{text}-01")
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _tables_of(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}


def _rank_interval_select(present: set[str]) -> str:
    if all(c in present for c in RANK_INTERVAL_COLUMNS):
        low, high = RANK_INTERVAL_COLUMNS
        return f"CASE WHEN {low} IS NULL THEN NULL ELSE CAST({low} AS VARCHAR) || '–' || CAST({high} AS VARCHAR) END"
    return "CAST(NULL AS VARCHAR)"


RANKING_COLUMNS = [
    Column("rank", "Rank", INT), Column("rank_change", "Change", CHANGE), Column("unit_code", "Code"),
    Column("unit_name", "Unit"), Column("total_score", "Score", SCORE), Column("band", "Band"),
    Column("rank_interval", "Rank interval"),
]


def _specs(con: duckdb.DuckDBPyConnection, period: Period) -> list[TableSpec]:
    """Every table of the period, in the report's order."""
    month = period.month_start.isoformat()
    specs: list[TableSpec] = []
    tables = _tables_of(con)

    def ranking_spec(key, title, source, where, params, extra=(), note=""):
        present = _columns_of(con, source) if source in tables else set()
        cols = RANKING_COLUMNS[:1] + [Column("unit_level", "Level")] + RANKING_COLUMNS[1:] + list(extra)
        extra_sql = "".join(f", {c.name}" for c in extra)
        sql = (f"SELECT rank, unit_level, rank_change, unit_code, unit_name, total_score, band, "
               f"{_rank_interval_select(present)} AS rank_interval{extra_sql} FROM {source} WHERE {where} "
               "ORDER BY unit_level DESC, rank, unit_code")
        return TableSpec(key, title, cols, sql, params, source, note)

    specs.append(ranking_spec(
        "ranking_month", f"766 ranking, {period.month}", "rpt_service_ranking_monthly",
        "period_month = CAST(? AS DATE) AND NOT is_backcast", [month],
        [Column("ranked_unit_count", "Ranked units", INT), Column("publication_basis", "Basis")],
        "As reported: the units valid in the month. Change: previous rank − rank (▲ moved up)."))
    for key, label, name in (("ranking_quarter", "quarter", period.quarter),
                             ("ranking_ytd", "year to date", period.year_to_date),
                             ("ranking_year", "year", period.year)):
        specs.append(ranking_spec(
            key, f"766 ranking, {label} {name}", "rpt_service_ranking_period",
            "period = ? AND NOT is_backcast", [name],
            [Column("is_complete", "Complete", BOOL), Column("months_missing", "Months missing"),
             Column("publication_basis", "Basis")],
            "A period's score is computed over its distinct dossiers, never the mean of its months; "
            "an incomplete period says which months are missing."))
    agency_columns = [
        Column("parent_unit_level", "Unit level"), Column("parent_unit_code", "Unit code"),
        Column("parent_unit_name", "Unit"), Column("unit_rank", "Unit rank", INT), Column("rank_group", "Ranked among"),
        Column("agency_level", "Agency level"), Column("rank", "Rank", INT), Column("ranked_agency_count", "Of", INT),
        Column("agency_code", "Agency code"), Column("agency_name", "Agency"), Column("total_score", "Score", SCORE),
        Column("score_percent_of_applicable", "% of applicable points", SCORE), Column("rank_change", "Change", CHANGE),
        Column("band", "Band")]
    agency_select = """SELECT a.parent_unit_level, a.parent_unit_code, a.parent_unit_name, u.rank AS unit_rank, a.rank_group, a.agency_level,
                  a.rank, a.ranked_agency_count, a.agency_code, a.agency_name, a.total_score,
                  a.score_percent_of_applicable, a.rank_change, a.band
           FROM rpt_agency_ranking_monthly a
           LEFT JOIN rpt_service_ranking_monthly u
             ON u.period_month = a.period_month AND u.unit_code = a.parent_unit_code AND NOT u.is_backcast
           WHERE a.period_month = CAST(? AS DATE) {extra}
           ORDER BY a.parent_unit_level DESC, u.rank NULLS LAST, a.parent_unit_code, a.rank_group, a.rank DESC,
                    a.agency_code"""
    specs.append(TableSpec(
        "agency_drilldown", f"The lowest handling agencies of each unit, {period.month}", agency_columns,
        agency_select.format(extra="AND a.rank > a.ranked_agency_count - 3"), [month], "rpt_agency_ranking_monthly",
        "The three lowest ranked departments, districts, communes or offices of each unit and rank group: what pulls "
        "a province or a ministry down. At this grain only the dossier-based indicators are defined (at most 70 "
        "points): the band is read on the share of the applicable points, and a unit's score is not comparable."))
    specs.append(TableSpec(
        "agency_ranking", f"Every ranked handling agency, {period.month}", agency_columns,
        agency_select.format(extra=""), [month], "rpt_agency_ranking_monthly"))
    groups = _groups(con, tables)
    specs.append(TableSpec(
        "service_history", f"766 scores by month through {period.month}",
        [Column("period_month", "Month", DATE), Column("unit_code", "Code"), Column("unit_name", "Unit"),
         Column("unit_level", "Level"), Column("is_backcast", "Back-cast", BOOL),
         Column("unit_valid_from", "Unit valid from", DATE), Column("total_score", "Score", SCORE), *[Column(f"{g}_points", g.upper(), SCORE) for g in groups]],
        f"""SELECT period_month, unit_code, unit_name, unit_level, is_backcast, unit_valid_from, total_score
                   {''.join(f', {g}_points' for g in groups)}
            FROM fct_service_index_monthly
            WHERE period_month <= CAST(? AS DATE) AND total_score IS NOT NULL
            ORDER BY unit_level DESC, unit_code, is_backcast, period_month""",
        [month], "fct_service_index_monthly",
        "Back-cast rows re-attribute months before the 2025 reorganisation to today's units."))
    dti_note = "Final scores of a closed year; provisional ones (as of a month) otherwise."
    specs.append(TableSpec(
        "dti_ranking", f"DTI ranking, {period.dti_year or 'no published year'}",
        [Column("rank", "Rank", INT), Column("level", "Level"), Column("rank_change", "Change", CHANGE),
         Column("unit_code", "Code"), Column("unit_name", "Unit"), Column("dti_value", "DTI", VALUE),
         Column("completeness", "Completeness", PERCENT), Column("is_provisional", "Provisional", BOOL),
         Column("as_of_date", "As of", DATE), Column("rank_interval", "Rank interval"),
         Column("publication_basis", "Basis")],
        f"""WITH candidates AS (
              SELECT *, row_number() OVER (PARTITION BY level ORDER BY period_month IS NULL DESC,
                                                                       period_month DESC) AS pick
              FROM (SELECT DISTINCT level, period_month FROM rpt_dti_ranking
                    WHERE year = ? AND (period_month IS NULL OR period_month <= CAST(? AS DATE)))
            )
            SELECT r.rank, r.level, r.rank_change, r.unit_code, r.unit_name, r.dti_value_4dp AS dti_value,
                   r.completeness, r.is_provisional, r.as_of_date,
                   {_rank_interval_select(_columns_of(con, 'rpt_dti_ranking') if 'rpt_dti_ranking' in tables else set())}
                     AS rank_interval, r.publication_basis
            FROM rpt_dti_ranking r JOIN candidates c
              ON c.level = r.level AND c.period_month IS NOT DISTINCT FROM r.period_month AND c.pick = 1
            WHERE r.year = ? ORDER BY r.level DESC, r.rank, r.unit_code""",
        [period.dti_year, month, period.dti_year], "rpt_dti_ranking", dti_note))
    specs.append(TableSpec(
        "dti_history", "DTI values by year",
        [Column("year", "Year", YEAR), Column("level", "Level"), Column("unit_code", "Code"),
         Column("unit_name", "Unit"), Column("dti_value", "DTI", VALUE)],
        """SELECT year, level, unit_code, unit_name, dti_value_4dp AS dti_value FROM fct_dti_scores
           WHERE period_month IS NULL AND year <= ? ORDER BY level DESC, unit_code, year""",
        [period.dti_year], "fct_dti_scores", "Final (closed-year) values only."))
    kpi_columns = [
        Column("kpi_code", "KPI"), Column("name_vi", "Indicator"), Column("level", "Level"),
        Column("unit_code", "Unit"), Column("series", "Series"), Column("target_year", "Target year", YEAR),
        Column("comparator", "Target rule"), Column("target_value", "Target", VALUE),
        Column("latest_value", "Latest", VALUE), Column("latest_period", "Latest period"),
        Column("projection", "Projection", VALUE), Column("gap_to_target", "Gap", VALUE),
        Column("status_code", "Status code"), Column("status_name_vi", "Status"),
        Column("source_document", "Target set by"), Column("projection_note", "Note"),
    ]
    kpi_select = ", ".join(c.name for c in kpi_columns)
    specs.append(TableSpec(
        "national_scorecard", f"National scorecard as of {period.kpi_as_of or '—'}",
        [*kpi_columns, Column("normalised_gap", "Gap ÷ target", PERCENT), Column("target_order", "Target order", INT),
         Column("off_track_rank", "Off-track rank", INT)],
        f"""SELECT {kpi_select}, normalised_gap, target_order, off_track_rank FROM rpt_national_scorecard
            WHERE as_of_date = CAST(? AS DATE)
            ORDER BY target_order, off_track_rank NULLS LAST, kpi_code, series, target_year, target_id""",
        [period.kpi_as_of], "rpt_national_scorecard",
        "The national KPIs against their targets: the nearest targets (target order 1) first, most off-track first; "
        "a KPI measured by several publishers has a row per series."))
    specs.append(TableSpec(
        "kpi_progress", f"KPI progress against targets as of {period.kpi_as_of or '—'}", kpi_columns,
        f"""SELECT {kpi_select} FROM rpt_kpi_progress WHERE as_of_date = CAST(? AS DATE) AND target_id IS NOT NULL
            ORDER BY status_order DESC, level, unit_code, kpi_code, series, target_year, target_id""",
        [period.kpi_as_of], "rpt_kpi_progress",
        "Every KPI with a target, per ministry and province; the projection is the trend at the target year."))
    specs.append(TableSpec(
        "international", "International comparison",
        [Column("index_code", "Index"), Column("edition", "Edition", YEAR), Column("country_code", "Country code"),
         Column("country_name", "Country"), Column("is_home_country", "Viet Nam", BOOL),
         Column("score", "Score", VALUE), Column("world_rank", "World rank", INT), Column("peer_rank", "Peer rank", INT),
         Column("rank_change", "Rank change", VALUE), Column("target_rank", "Target rank", INT),
         Column("gap_to_target_rank", "Gap to target", VALUE)],
        """SELECT index_code, edition, country_code, country_name, is_home_country, score, world_rank, peer_rank,
                  rank_change, target_rank, gap_to_target_rank FROM rpt_international_comparison
           WHERE edition <= ? ORDER BY index_code, edition DESC, peer_rank, country_code""",
        [period.month_start.year], "rpt_international_comparison"))
    specs.append(TableSpec(
        "task_status", f"Task completion per agency, {period.month}",
        [Column("unit_code", "Code"), Column("group_name", "Agency"), Column("assigned_tasks", "Assigned", INT),
         Column("due_tasks", "Due", INT), Column("completed_on_time", "On time", INT),
         Column("completed_late", "Late", INT), Column("in_progress_within_deadline", "In progress", INT),
         Column("overdue_not_completed", "Overdue", INT), Column("completion_rate_of_due_tasks", "Completed of due (%)", SCORE),
         Column("overdue_share_of_assigned", "Overdue of assigned (%)", SCORE), Column("key_tasks_overdue", "Key tasks overdue", INT),
         Column("publication_basis", "Basis")],
        """SELECT unit_code, group_name, assigned_tasks, due_tasks, completed_on_time, completed_late,
                  in_progress_within_deadline, overdue_not_completed, completion_rate_of_due_tasks,
                  overdue_share_of_assigned, key_tasks_overdue, publication_basis
           FROM rpt_task_status_by_agency WHERE period = ? AND grouping = 'agency'
           ORDER BY completion_rate_of_due_tasks NULLS LAST, unit_code""",
        [period.month], "rpt_task_status_by_agency", "Rates are percentages (0–100)."))
    specs.append(TableSpec(
        "task_warnings", f"Task warnings, {period.month}",
        [Column("warning_kind", "Warning"), Column("unit_code", "Code"), Column("unit_name", "Agency"),
         Column("task_code", "Task"), Column("document_number", "Document"),
         Column("measured_value", "Measured", VALUE), Column("message", "Message")],
        """SELECT warning_kind, unit_code, unit_name, task_code, document_number, measured_value, message
           FROM rpt_task_warnings WHERE period = ? ORDER BY warning_kind, unit_code, task_code NULLS FIRST""",
        [period.month], "rpt_task_warnings"))
    specs.append(TableSpec(
        "quality_by_rule", f"Rows rejected by rule, {period.month}",
        [Column("extract_kind", "Extract"), Column("rule", "Rule"), Column("rows_rejected", "Rows rejected", INT)],
        """WITH parts AS (
             SELECT extract_kind, unnest(string_split(rejections_by_rule, '; ')) AS part
             FROM rpt_data_quality_by_unit
             WHERE period_month = CAST(? AS DATE) AND index_name = 'service_index' AND rows_rejected > 0)
           SELECT extract_kind, split_part(part, ': ', 1) AS rule,
                  CAST(sum(CAST(split_part(part, ': ', 2) AS BIGINT)) AS BIGINT) AS rows_rejected
           FROM parts WHERE part <> '' GROUP BY ALL ORDER BY rows_rejected DESC, extract_kind, rule""",
        [month], "rpt_data_quality_by_unit"))
    specs.append(TableSpec(
        "quality_by_unit", f"Rows loaded and rejected per reporting unit, {period.month}",
        [Column("reported_unit_code", "Reported unit"), Column("extracts_submitted", "Extracts", INT),
         Column("submitted_on_time", "On time", BOOL), Column("rows_loaded", "Rows loaded", INT),
         Column("rows_rejected", "Rows rejected", INT), Column("rejected_share", "Rejected share", PERCENT),
         Column("rejections_by_rule", "Rejections by rule"), Column("flagged_by_checks", "Flagged by checks")],
        """SELECT reported_unit_code, extracts_submitted, submitted_on_time, CAST(rows_loaded AS BIGINT) AS rows_loaded,
                  CAST(rows_rejected AS BIGINT) AS rows_rejected, rejected_share, rejections_by_rule, flagged_by_checks
           FROM rpt_agency_quality_scorecard WHERE period_month = CAST(? AS DATE) AND index_name = 'service_index'
           ORDER BY rows_rejected DESC, reported_unit_code""",
        [month], "rpt_agency_quality_scorecard", "Rejected share: rejected rows ÷ rows loaded."))
    specs.append(TableSpec(
        "quality_checks", f"Validation runs, {period.month}",
        [Column("check_source", "Checks"), Column("checks", "Checks run", INT), Column("checks_passed", "Passed", INT),
         Column("checks_failed", "Failed", INT), Column("blocking_checks_failed", "Blocking failed", INT),
         Column("warnings", "Warnings", INT), Column("failed_checks", "Failed checks"),
         Column("last_checked_at", "Checked at", DATE), Column("run_id", "Run")],
        """SELECT check_source, checks, checks_passed, checks_failed, blocking_checks_failed, warnings, failed_checks,
                  last_checked_at, run_id FROM rpt_data_quality_runs
           WHERE period_month = CAST(? AS DATE) AND is_latest_run ORDER BY check_source, run_id""",
        [month], "rpt_data_quality_runs"))
    specs.append(TableSpec(
        "overrides", "Publication overrides",
        [Column("override_id", "Override"), Column("index_name", "Index"), Column("period_month", "Period", DATE),
         Column("overridden_checks", "Checks overridden"), Column("reason", "Reason"),
         Column("overridden_by", "By"), Column("overridden_at", "At", DATE)],
        """SELECT override_id, index_name, period_month, overridden_checks, reason, overridden_by, overridden_at
           FROM publication_overrides WHERE period_month <= CAST(? AS DATE) ORDER BY overridden_at, override_id""",
        [month], "publication_overrides"))
    # the DTI's gate is published once the DTI has scores: its years join when the table is there
    dti_gate = "dti_publication_status" in tables
    specs.append(TableSpec(
        "withheld", "Periods withheld or published on an override",
        [Column("index_name", "Index"), Column("period", "Period"), Column("publication_basis", "Basis"),
         Column("blocking_failures", "Blocking failures"), Column("override_id", "Override")],
        """SELECT 'service_index' AS index_name, strftime(period_month, '%Y-%m') AS period, publication_basis,
                  blocking_failures, override_id
           FROM publication_status WHERE publication_basis <> 'checks_passed' AND period_month <= CAST(? AS DATE)"""
        + ("""
           UNION ALL
           SELECT 'dti', CAST(year AS VARCHAR), publication_basis, blocking_failures, override_id
           FROM dti_publication_status WHERE publication_basis <> 'checks_passed' AND year <= ?""" if dti_gate else "")
        + " ORDER BY 1, 2",
        [month, period.month_start.year] if dti_gate else [month], "publication_status"))
    return specs


def _groups(con: duckdb.DuckDBPyConnection, tables: set[str]) -> list[str]:
    """The portal groups of the wide mart's `<group>_points` columns, in the methodology's order
    (the indicators mart says each indicator's group)."""
    if "fct_service_index_monthly" not in tables:
        return []
    present = _columns_of(con, "fct_service_index_monthly")
    order: list[str] = []
    if "fct_service_index_indicators_monthly" in tables:
        order = [r[0].lower() for r in con.execute(
            "SELECT group_code FROM fct_service_index_indicators_monthly GROUP BY group_code "
            "ORDER BY min(indicator_order), group_code").fetchall()]
    if not order:
        order = sorted(c[: -len("_points")] for c in present
                       if re.match(r"^[a-z]+_points$", c) and c not in ("applicable_max_points",))
    return [g for g in order if f"{g}_points" in present]


def _check_sources(spec: TableSpec, tables: set[str]) -> None:
    # the tables the query reads (a qualified column after FROM, as in IS NOT DISTINCT FROM r.x, is not one)
    needed = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b(?!\.)", spec.sql)) - {"candidates", "parts"}
    absent = sorted(t for t in needed if t not in tables)
    if absent:
        spec.missing = f"{', '.join(absent)} not published yet"


def resolve_period(con: duckdb.DuckDBPyConnection, month: str, dti_year: int | None = None) -> Period:
    start, end = parse_month(month)
    tables = _tables_of(con)
    if dti_year is None and "rpt_dti_ranking" in tables:
        dti_year = con.execute("SELECT max(year) FROM rpt_dti_ranking WHERE year <= ?", [start.year]).fetchone()[0]
    kpi_as_of = None
    if "rpt_kpi_progress" in tables:
        kpi_as_of = con.execute("SELECT max(as_of_date) FROM rpt_kpi_progress WHERE as_of_date <= CAST(? AS DATE)",
                                [end.isoformat()]).fetchone()[0]
    return Period(month=start.strftime("%Y-%m"), month_start=start, month_end=end,
                  quarter=f"{start.year}-Q{(start.month - 1) // 3 + 1}", year_to_date=f"{start:%Y-%m}-YTD",
                  year=str(start.year), dti_year=dti_year, kpi_as_of=kpi_as_of)


def _provenance(con: duckdb.DuckDBPyConnection, period: Period, tables: set[str], manifest: dict) -> list[tuple]:
    rows: list[tuple[str, object]] = [("Report period (month)", period.month), ("Quarter", period.quarter),
                                      ("Year to date", period.year_to_date), ("DTI year", period.dti_year),
                                      ("KPI and task tracking as of", period.kpi_as_of)]
    if "publication_status" in tables:
        status = con.execute(
            "SELECT publication_basis, run_id, code_version, input_hash, checked_at, override_id, overridden_by, "
            "override_reason, blocking_failures FROM publication_status WHERE period_month = CAST(? AS DATE)",
            [period.month_start.isoformat()]).fetchone()
        if status:
            rows += [("Publication basis of the month", status[0]), ("Run", status[1]), ("Code version", status[2]),
                     ("Input hash (sha256 of the month's inputs)", status[3]), ("Validated at", status[4]),
                     ("Blocking failures", status[8]), ("Override", status[5]), ("Overridden by", status[6]),
                     ("Override reason", status[7])]
        else:
            rows.append(("Publication basis of the month", "not published (withheld or never validated)"))
    if "rpt_service_ranking_monthly" in tables:
        version = con.execute("SELECT string_agg(DISTINCT methodology_version, ', ' ORDER BY methodology_version) "
                              "FROM rpt_service_ranking_monthly WHERE period_month = CAST(? AS DATE)",
                              [period.month_start.isoformat()]).fetchone()[0]
        rows.append(("766 methodology version", version))
    if "rpt_dti_ranking" in tables and period.dti_year:
        version = con.execute("SELECT string_agg(DISTINCT methodology_version, ', ' ORDER BY methodology_version) "
                              "FROM rpt_dti_ranking WHERE year = ?", [period.dti_year]).fetchone()[0]
        rows.append(("DTI methodology version", version))
    rows += [("Published at", manifest.get("published_at")), ("Publication run", manifest.get("run_id")),
             ("Publication code version", manifest.get("code_version"))]
    return rows


def published_database(database: Path | None = None) -> Path:
    from publication.publish import PUBLISHED_DB_NAME, published_dir

    database = Path(database) if database else published_dir() / PUBLISHED_DB_NAME
    if not database.is_file():
        raise FileNotFoundError(f"{database}: nothing published yet; run `dxmon run --month YYYY-MM` first")
    return database


def period_specs(con: duckdb.DuckDBPyConnection, month: str, dti_year: int | None = None
                 ) -> tuple[Period, list[TableSpec]]:
    """The period and its tables' specs on an open connection to the published database, each
    marked `missing` when a mart it reads is not published (rows not fetched)."""
    period = resolve_period(con, month, dti_year)
    tables = _tables_of(con)
    specs = _specs(con, period)
    for spec in specs:
        _check_sources(spec, tables)
    return period, specs


def load_period(month: str, dti_year: int | None = None, database: Path | None = None) -> PeriodData:
    """Every table of the period from the published database (`database`: the published DuckDB
    file; the platform's published copy by default)."""
    from publication.audit.pack import audit_packs_dir

    database = published_database(database)
    manifest_path = database.with_name("manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    with duckdb.connect(str(database), read_only=True) as con:
        period, specs = period_specs(con, month, dti_year)
        for spec in specs:
            if spec.missing:
                continue
            try:
                spec.rows = con.execute(spec.sql, spec.params).fetchall()
            except duckdb.BinderException as exc:
                # a publication written by another version of the marts (a column renamed or not yet
                # there): the table says so, the rest of the period is still reported
                spec.missing = f"{spec.source} of this publication lacks a column the report reads ({str(exc).splitlines()[0]})"
        provenance = _provenance(con, period, _tables_of(con), manifest)
    pack = audit_packs_dir() / period.month
    return PeriodData(period=period, database=database, tables={s.key: s for s in specs}, provenance=provenance,
                      published_at=manifest.get("published_at"), audit_pack=pack if pack.is_dir() else None)
