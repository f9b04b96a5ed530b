"""`dxmon kpi ...`: KPI tracking from the command line (docs/kpi_tracking.md).

    dxmon kpi templates --level province --period 2025-Q3 [--out DIR]   the agencies' report forms
    dxmon kpi load-statistics FILE [--release NAME] [--publisher NAME] [--release-date YYYY-MM-DD]
    dxmon kpi load-index FILE [--index EGDI] [--source-key KEY]
    dxmon kpi progress --level national|ministry|province [--status off_track] [--kpi DG-06]
    dxmon kpi progress --rebuild [--month 2025-08]    recompute (kpi_tracking job) as of a month, then print

The loaders write the warehouse (the CLI takes its lock: orchestration/warehouse_lock.py), print
what was loaded and rejected, and exit 1 when the file was rejected whole (quarantined or
refused). `progress` reads the published copy (data/published/), like an analyst; with
`--rebuild` it first runs the kpi_tracking job, which writes the warehouse and publishes.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from ingestion.core.warehouse import connect, data_dir
from orchestration.warehouse_lock import WRITE

MAX_SHOWN_REJECTIONS = 20


def print_summary(summary) -> int:
    """Print a loader's summary; the exit status (1 when the file was rejected whole)."""
    if summary.is_rejected_whole:
        print(f"{summary.status}: {summary.source_file} ({summary.rule}): {summary.reason}")
        return 1
    if summary.status == "unchanged":
        print(f"unchanged: {summary.source_file}: {summary.reason}")
        return 0
    values = f", {summary.values_accepted} values" if summary.values_accepted is not None else ""
    print(f"loaded {summary.load_id}: {summary.source_file}: {summary.rows_read} rows read, "
          f"{summary.rows_accepted} accepted{values}, {summary.rows_rejected} rejected")
    for reason in summary.rejections[:MAX_SHOWN_REJECTIONS]:
        print(f"  rejected: {reason}")
    if (summary.rows_rejected or 0) > len(summary.rejections):
        print("  ... the rejected rows are kept with their rule and reason in the raw tables")
    return 0


def load_statistics(path: Path, release: str | None, publisher: str | None, release_date: str | None) -> int:
    from ingestion.kpi.statistics import load_statistics as load

    with connect() as con:
        try:
            summary = load(con, path, release=release, publisher=publisher, release_date=release_date)
        except ValueError as exc:  # an argument that cannot be used (the release date)
            print(f"dxmon kpi load-statistics: {exc}")
            return 2
    return print_summary(summary)


def load_index(path: Path, index_code: str | None, source_key: str | None) -> int:
    from ingestion.kpi.international import load_index_file

    with connect() as con:
        return print_summary(load_index_file(con, path, index_code=index_code, source_key=source_key))


def add_loader_commands(kpi_sub) -> None:
    """The `load-statistics` and `load-index` subcommands, added to the `dxmon kpi` subparsers."""
    p = kpi_sub.add_parser("load-statistics", help="load one national-statistics release (CSV)",
                           description="Load a CSV of published KPI values (kpi_code, measure, level, unit_code, "
                                       "period, value, release, publisher, release_date, source_key, note). A "
                                       "release never overwrites another; the same file again is a no-op.")
    p.add_argument("file", type=Path)
    p.add_argument("--release", help="the release or vintage of rows that name none")
    p.add_argument("--publisher", help="the publisher of rows that name none (GSO, MIC, ...)")
    p.add_argument("--release-date", help="the release date of rows that name none (YYYY-MM-DD or dd/mm/yyyy)")
    p.set_defaults(handler=lambda a: load_statistics(a.file, a.release, a.publisher, a.release_date))

    p = kpi_sub.add_parser("load-index", help="load one international-index file (UN EGDI CSV or long CSV)",
                           description="Load the UN E-Government Survey CSV (one edition) or a long CSV "
                                       "(index_code, edition, country_code or country_name, component, value, "
                                       "source_key, note). The same file again is a no-op.")
    p.add_argument("file", type=Path)
    p.add_argument("--index", dest="index_code", help="the index of a UN file (default EGDI) or of long rows "
                                                      "that name none")
    p.add_argument("--source-key", help="the publication of the whole file (kpi_sources seed key)")
    p.set_defaults(handler=lambda a: load_index(a.file, a.index_code, a.source_key))


# what `dxmon kpi progress` prints per row (rpt_kpi_progress columns)
PROGRESS_COLUMNS = ("kpi_code", "measure", "level", "unit_code", "series", "target_year", "comparator", "target_value",
                    "source_document", "latest_value", "latest_period", "projection", "gap_to_target",
                    "required_pace_per_year", "observed_pace_per_year", "status_code", "is_stale")


def run_kpi_tracking(month: str) -> bool:
    """The kpi_tracking job as of `month` (YYYY-MM): the KPI inbox, the KPI models, publication."""
    from orchestration.cli.environment import execute_job, partition_kwargs

    return execute_job("kpi_tracking", f"KPI tracking as of {month[:7]}", **partition_kwargs(month, month)).success


def _published_db() -> Path:
    from publication.publish import PUBLISHED_DB_NAME, published_dir

    return published_dir() / PUBLISHED_DB_NAME


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"
    return str(value)


def progress_rows(level: str | None = None, status: str | None = None, kpi: str | None = None,
                  database: Path | None = None) -> list[dict]:
    """Rows of the published rpt_kpi_progress, most off track first (read-only)."""
    import duckdb

    database = database or _published_db()
    if not database.is_file():
        raise FileNotFoundError(f"{database}: nothing published yet; run `make run` or `dxmon kpi progress --rebuild`")
    where, params = [], []
    for column, value in (("level", level), ("status_code", status), ("kpi_code", kpi)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = (f"SELECT {', '.join(PROGRESS_COLUMNS)} FROM rpt_kpi_progress "
           f"{'WHERE ' + ' AND '.join(where) if where else ''} "
           "ORDER BY off_track_severity DESC NULLS LAST, status_order, kpi_code, measure, level, "
           "unit_code NULLS FIRST, series, target_year, source_document")
    with duckdb.connect(str(database), read_only=True) as con:
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def format_progress(rows: list[dict], limit: int | None = None) -> str:
    shown = rows[:limit] if limit else rows
    header = ("KPI", "measure", "level", "unit", "series", "target", "latest", "projection", "gap", "pace req/obs",
              "status")
    lines = [header]
    for r in shown:
        target = f"{r['comparator']} {_fmt(r['target_value'])} by {r['target_year']} ({r['source_document']})" \
            if r["target_year"] is not None else "no target"
        lines.append((r["kpi_code"], r["measure"], r["level"], r["unit_code"] or "all", r["series"], target,
                      f"{_fmt(r['latest_value'])} ({r['latest_period']})", _fmt(r["projection"]),
                      _fmt(r["gap_to_target"]),
                      f"{_fmt(r['required_pace_per_year'])} / {_fmt(r['observed_pace_per_year'])}",
                      r["status_code"] + (" (stale)" if r["is_stale"] else "")))
    widths = [min(max(len(str(line[i])) for line in lines), 60) for i in range(len(header))]
    out = ["  ".join(str(c)[:w].ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    if limit and len(rows) > limit:
        out.append(f"... {len(rows) - limit} more rows (--limit 0 prints all)")
    return "\n".join(out)


def progress_handler(args) -> int:
    if args.rebuild:
        month = args.month or _default_month()
        if not run_kpi_tracking(month):
            return 1
    try:
        rows = progress_rows(args.level, args.status, args.kpi)
    except FileNotFoundError as exc:
        print(f"dxmon kpi progress: {exc}")
        return 1
    print(format_progress(rows, args.limit or None) if rows else "no progress row matches")
    return 0


def _default_month() -> str:
    """The last complete month (what the monthly schedule would build)."""
    first = dt.date.today().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def templates_handler(args) -> int:
    from ingestion.kpi.reports.templates import write_templates

    out = Path(args.out or data_dir() / "kpi_templates")
    for path in write_templates(args.level, args.period, out):
        print(path)
    return 0


def print_kpi_outputs(database: Path | None = None) -> None:
    """Where the KPI tables are, and the three national KPIs furthest off track."""
    import duckdb

    database = database or _published_db()
    print(f"  KPI progress: table rpt_kpi_progress in {database} ({database.parent / 'rpt_kpi_progress.parquet'}); "
          "national scorecard: rpt_national_scorecard; values: fct_kpi_values; "
          "international comparison: rpt_international_comparison")
    print("    .venv/bin/dxmon kpi progress --level province --status off_track")
    if not database.is_file():
        return
    with duckdb.connect(str(database), read_only=True) as con:
        worst = con.execute(
            "SELECT kpi_code, measure, name_en, series, latest_value, latest_period, comparator, target_value, "
            "target_year, source_document, projection, status_code FROM rpt_national_scorecard "
            "WHERE off_track_rank IS NOT NULL "
            # three KPIs: each by its row furthest off track (a KPI may have several series and targets)
            "QUALIFY row_number() OVER (PARTITION BY kpi_code ORDER BY off_track_rank) = 1 "
            "ORDER BY off_track_rank LIMIT 3").fetchall()
    if worst:
        print("  national scorecard: the three KPIs furthest off track")
    for i, (code, measure, name, series, latest, period, comp, target, year, doc, projection, status) in \
            enumerate(worst, start=1):
        print(f"    {i}. {code} {name}" + (f" [{measure}]" if measure != "main" else "") +
              f": {_fmt(latest)} ({period}, {series}), target {comp} {_fmt(target)} by {year} ({doc}), "
              f"projected {_fmt(projection)}: {status}")
    print("  explain a KPI value: .venv/bin/dxmon explain --index kpi --kpi DG-06 --unit 01 --period 2025-08")


def register(sub) -> None:
    kpi = sub.add_parser("kpi", help="KPI tracking: report forms, published statistics, international indices, progress",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kpi_sub = kpi.add_subparsers(dest="kpi_command", required=True)
    p = kpi_sub.add_parser("templates", help="the agencies' KPI report forms (XLSX and CSV) from the catalogue")
    p.add_argument("--level", required=True, choices=["province", "ministry"])
    p.add_argument("--period", required=True, help="the report period: YYYY-Qn (quarterly), YYYY-MM or YYYY")
    p.add_argument("--out", help="folder (default data/kpi_templates)")
    p.set_defaults(handler=templates_handler, warehouse_access=None)
    add_loader_commands(kpi_sub)
    p = kpi_sub.add_parser("progress", help="KPI progress against targets (the published rpt_kpi_progress)")
    p.add_argument("--level", choices=["national", "ministry", "province"])
    from ingestion.kpi.catalogue import status_codes

    p.add_argument("--status", choices=status_codes(), help="one status class (seed kpi_status_classes)")
    p.add_argument("--kpi", help="one KPI code, e.g. DG-06")
    p.add_argument("--limit", type=int, default=40, help="rows to print (0: all; default %(default)s)")
    p.add_argument("--rebuild", action="store_true", help="first run the kpi_tracking job (writes and publishes)")
    p.add_argument("--month", help="with --rebuild: as of this month (YYYY-MM; default the last complete month)")
    p.set_defaults(handler=progress_handler, warehouse_access=lambda a: WRITE if a.rebuild else None)
    global kpi_commands
    kpi_commands = kpi_sub


kpi_commands = None  # the `dxmon kpi` subcommands, once registered (more are added by other modules)
