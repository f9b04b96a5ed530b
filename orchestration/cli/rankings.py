"""`dxmon ranking`: the published 766 rankings as a person reads them, from the published database
(read-only, safe while a run writes the warehouse):

    dxmon ranking --period 2025-08 [--level province|ministry]      a month
    dxmon ranking --period 2025-Q3 | 2025 | 2025-08-YTD [--level]   a quarter, a year, a year to date
    dxmon ranking --period 2025-08 --parent 01 [--agency-level commune]   the agencies of a unit
    ... [--backcast] (today's units) [--limit N] [--bottom] (the lowest first)
"""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.cli.text_tables import table as _table
from publication.audit.explain_service_grains import period_kind

AGENCY_LEVELS = ("ministry", "ministry_branch", "province", "department", "district", "commune")


def _published_rows(sql: str, params: list, table: str, database: Path | None = None) -> list[dict]:
    import duckdb

    from publication.publish import PUBLISHED_DB_NAME, published_dir

    database = database or published_dir() / PUBLISHED_DB_NAME
    if not database.is_file():
        raise FileNotFoundError(f"{database}: nothing published yet; run `make run` or `dxmon run --month YYYY-MM`")
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if table not in tables:
            raise FileNotFoundError(f"{database}: {table} is not published; run `dxmon run` for the months first")
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def _change(value) -> str:
    if value is None:
        return "new"
    return "=" if value == 0 else (f"▲{value}" if value > 0 else f"▼{-value}")


def _score(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def unit_ranking(period: str, level: str = "province", backcast: bool = False, database: Path | None = None) -> list[dict]:
    """The ranked units of a month or a period, best first."""
    kind = period_kind(period)
    if kind is None:
        return _published_rows(
            "SELECT rank, rank_change, unit_code, unit_name, total_score, band, NULL AS completeness "
            "FROM rpt_service_ranking_monthly WHERE period_month = CAST(? AS DATE) AND unit_level = ? "
            "AND is_backcast = ? ORDER BY rank, unit_code", [f"{period[:7]}-01", level, backcast],
            "rpt_service_ranking_monthly", database)
    return _published_rows(
        "SELECT rank, rank_change, unit_code, unit_name, total_score, band, "
        "CASE WHEN is_complete THEN 'complete' ELSE 'incomplete: ' || coalesce(months_missing, '') || ' missing' END "
        "AS completeness FROM rpt_service_ranking_period WHERE period = ? AND unit_level = ? AND is_backcast = ? "
        "ORDER BY rank, unit_code", [period.upper(), level, backcast], "rpt_service_ranking_period", database)


def agency_ranking(month: str, parent: str, agency_level: str | None = None, database: Path | None = None) -> list[dict]:
    """The ranked handling agencies of one unit in a month, best first, per rank group (the
    departments with the provincial People's Committee's office; districts; communes; a ministry's
    offices; its branches: seed units_agency_levels)."""
    return _published_rows(
        "SELECT rank_group, agency_level, rank, ranked_agency_count, rank_change, agency_code, agency_name, "
        "total_score, score_percent_of_applicable, band "
        "FROM rpt_agency_ranking_monthly WHERE period_month = CAST(? AS DATE) AND parent_unit_code = ? "
        + ("AND agency_level = ? " if agency_level else "") + "ORDER BY rank_group, rank, agency_code",
        [f"{month[:7]}-01", parent] + ([agency_level] if agency_level else []), "rpt_agency_ranking_monthly", database)


def format_unit_ranking(rows: list[dict], limit: int | None = None, bottom: bool = False) -> str:
    shown = list(reversed(rows)) if bottom else rows
    shown = shown[:limit] if limit else shown
    body = _table(("rank", "change", "unit", "score", "band"),
                  [(r["rank"], _change(r["rank_change"]), f"{r['unit_code']} {r['unit_name'] or ''}",
                    _score(r["total_score"]), r["band"] or "") for r in shown])
    notes = {r["completeness"] for r in rows if r.get("completeness")}
    more = len(rows) - len(shown)
    return body + (f"\n... {more} more rows (--limit 0 prints all)" if more > 0 else "") \
        + "".join(f"\n({n})" for n in sorted(notes) if n != "complete")


def format_agency_ranking(rows: list[dict], limit: int | None = None, bottom: bool = False) -> str:
    out = []
    for group in dict.fromkeys(r["rank_group"] for r in rows):
        of_group = [r for r in rows if r["rank_group"] == group]
        shown = list(reversed(of_group)) if bottom else of_group
        shown = shown[:limit] if limit else shown
        out.append(f"{group.replace('_', ' ')}: {len(of_group)} ranked" + (" (lowest first)" if bottom else ""))
        out.append(_table(("rank", "change", "agency", "level", "points", "% of applicable", "band"),
                          [(f"{r['rank']}/{r['ranked_agency_count']}", _change(r["rank_change"]),
                            f"{r['agency_code']} {r['agency_name'] or ''}", r["agency_level"], _score(r["total_score"]),
                            _score(r["score_percent_of_applicable"]), r["band"] or "") for r in shown]))
    return "\n".join(out) if out else "no ranked agency"


def ranking_handler(args) -> int:
    limit = None if args.limit == 0 else args.limit
    try:
        if args.parent:
            if period_kind(args.period):
                print("dxmon ranking --parent takes a month (YYYY-MM): agencies are ranked per month", file=sys.stderr)
                return 2
            rows = agency_ranking(args.period, args.parent, args.agency_level)
            print(f"766 service index {args.period[:7]}: the handling agencies of {args.parent}, "
                  "ranked within the unit and level")
            print(format_agency_ranking(rows, limit, args.bottom))
            return 0
        rows = unit_ranking(args.period, args.level, args.backcast)
    except FileNotFoundError as exc:
        print(f"dxmon ranking: {exc}", file=sys.stderr)
        return 1
    if not rows:
        print(f"dxmon ranking: no published ranking of {args.level}s for {args.period}", file=sys.stderr)
        return 1
    print(f"766 service index {args.period} ({period_kind(args.period) or 'month'}), {args.level}s"
          + (", back-cast to today's units" if args.backcast else ""))
    print(format_unit_ranking(rows, limit, args.bottom))
    return 0


def register(sub) -> None:
    p = sub.add_parser("ranking", help="a published 766 ranking: a month, quarter, year or year to date, "
                                       "or the handling agencies of one unit")
    p.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-YTD")
    p.add_argument("--level", default="province", choices=["province", "ministry"])
    p.add_argument("--backcast", action="store_true", help="today's units (earlier months summed onto them)")
    p.add_argument("--parent", help="a unit code: rank its handling agencies (with a month)")
    p.add_argument("--agency-level", choices=AGENCY_LEVELS, help="with --parent: one level only")
    p.add_argument("--limit", type=int, default=20, help="rows per table (0 = all; default %(default)s)")
    p.add_argument("--bottom", action="store_true", help="the lowest ranked first")
    p.set_defaults(handler=ranking_handler)


def print_grain_outputs(database: Path | None = None, top: int = 5, drill_unit: str = "01") -> None:
    """What `make run` prints of the periods and the agencies: every published period with the
    months it lacks, the top of the latest complete quarter and of the latest year to date, and
    the lowest departments and communes of one unit in the latest month (who pulls it down)."""
    try:
        periods = _published_rows(
            "SELECT period_kind, period, any_value(is_complete) AS is_complete, any_value(months_missing) AS missing, "
            "count(*) FILTER (WHERE NOT is_backcast) AS ranked FROM rpt_service_ranking_period "
            "GROUP BY 1, 2 ORDER BY min(period_start_month), max(period_end_month), 1", [],
            "rpt_service_ranking_period", database)
    except FileNotFoundError as exc:
        print(f"  periods: {exc}")
        periods = []
    if periods:
        print("  periods published (summed over the period's dossiers, each counted once; never a mean of months):")
        for kind, label in (("quarter", "quarters"), ("year", "years"), ("year_to_date", "years to date")):
            of_kind = [p for p in periods if p["period_kind"] == kind]
            if of_kind:
                print(f"    {label}: " + "; ".join(
                    f"{p['period']} " + ("complete" if p["is_complete"] else f"incomplete ({p['missing']} missing)")
                    for p in sorted(of_kind, key=lambda p: p["period"])))
        complete_quarters = [p["period"] for p in periods if p["period_kind"] == "quarter" and p["is_complete"]]
        ytd = [p["period"] for p in periods if p["period_kind"] == "year_to_date"]
        for period in [*complete_quarters[-1:], *ytd[-1:]]:
            print(f"  top {top} provinces, {period}:")
            print("    " + format_unit_ranking(unit_ranking(period, "province", database=database), top).replace("\n", "\n    "))
        print("    .venv/bin/dxmon ranking --period 2025-Q3; .venv/bin/dxmon explain --unit 01 --period 2025-Q3")
    try:
        months = _published_rows("SELECT max(strftime(period_month, '%Y-%m')) AS m FROM rpt_agency_ranking_monthly",
                                 [], "rpt_agency_ranking_monthly", database)
    except FileNotFoundError as exc:
        print(f"  agencies: {exc}")
        return
    month = months[0]["m"] if months else None
    if not month:
        return
    rows = agency_ranking(month, drill_unit, database=database)
    counts = _published_rows("SELECT count(DISTINCT agency_code) AS n, count(DISTINCT parent_unit_code) AS units "
                             "FROM rpt_agency_ranking_monthly WHERE period_month = CAST(? AS DATE)",
                             [f"{month}-01"], "rpt_agency_ranking_monthly", database)[0]
    print(f"  handling agencies ranked in {month}: {counts['n']} in {counts['units']} units; the lowest of {drill_unit}:")
    print("    " + format_agency_ranking(rows, 3, bottom=True).replace("\n", "\n    "))
    print(f"    .venv/bin/dxmon ranking --period {month} --parent {drill_unit}; "
          f".venv/bin/dxmon explain --agency {rows[-1]['agency_code'] if rows else drill_unit + '.S01'} --period {month}")
