"""`dxmon tasks ...`: task tracking from the command line (docs/task_tracking.md).

    dxmon tasks templates --plan [--issuer UBQGCDS] [--out DIR]        a blank task list (XLSX and CSV)
    dxmon tasks templates --unit 08 --month 2025-08 | --all-units --month 2025-08
                                                                       status reports pre-filled with the unit's tasks
    dxmon tasks status [--agency 08] [--month 2025-08] [--by agency|document|national]
    dxmon tasks overdue [--agency 08] [--month 2025-08] [--key]
    dxmon tasks warnings [--agency 08] [--month 2025-08] [--kind key_task_overdue]
    ... --rebuild [--month 2025-08]      first run the task_tracking job as of the month (writes and publishes)

The three reports read the published copy (data/published/), like an analyst: only months that
passed the gate (or were overridden) are there. Each prints the month it is as of.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingestion.core.warehouse import connect, data_dir
from orchestration.cli.text_tables import table as _table
from orchestration.warehouse_lock import READ, WRITE

BY_CHOICES = ("agency", "document", "national")


def run_task_tracking(month: str) -> bool:
    """The task_tracking job as of `month` (YYYY-MM): both task inboxes, the task models, publication."""
    from orchestration.cli.environment import execute_job, partition_kwargs

    return execute_job("task_tracking", f"task tracking as of {month[:7]}", **partition_kwargs(month, month)).success


def _published_db() -> Path:
    from publication.publish import PUBLISHED_DB_NAME, published_dir

    return published_dir() / PUBLISHED_DB_NAME


def published_rows(sql: str, params: list, database: Path | None = None) -> list[dict]:
    """Rows of a query over the published database (read-only)."""
    import duckdb

    database = database or _published_db()
    if not database.is_file():
        raise FileNotFoundError(f"{database}: nothing published yet; run `make run` or `dxmon tasks status --rebuild`")
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in ("rpt_task_status_by_agency", "rpt_overdue_tasks", "rpt_task_warnings") if t not in tables]
        if missing:
            raise FileNotFoundError(f"{database}: {', '.join(missing)} not published; run `dxmon tasks status --rebuild`")
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def latest_month(month: str | None, database: Path | None = None) -> str | None:
    """The month asked for, else the latest published month of the task marts."""
    if month:
        return month[:7]
    rows = published_rows("SELECT max(period) AS m FROM rpt_task_status_by_agency", [], database)
    return rows[0]["m"] if rows else None


def _pct(value) -> str:
    """A rate of the task marts (a percentage 0-100, unrounded), as printed."""
    return "—" if value is None else f"{value:.2f} %"


def status_rows(month: str, agency: str | None = None, by: str = "agency", database: Path | None = None) -> list[dict]:
    where, params = ["period = ?", "grouping = ?"], [month, by]
    if agency:
        where.append("group_code = ?")
        params.append(agency)
    return published_rows(
        f"SELECT * FROM rpt_task_status_by_agency WHERE {' AND '.join(where)} "
        "ORDER BY overdue_share_of_assigned DESC NULLS LAST, assigned_tasks DESC, group_code", params, database)


def format_status(rows: list[dict], limit: int | None = None) -> str:
    header = ("unit / document", "assigned", "on time", "late", "within", "overdue", "recurring", "closed",
              "completed/due", "completed/assigned", "overdue/assigned", "Δ overdue pts")
    shown = rows[:limit] if limit else rows
    lines = []
    for r in shown:
        who = f"{r['group_code']} {r.get('group_name') or ''}".strip() if r["grouping"] != "national" else "national"
        change = r.get("overdue_share_of_assigned_change_points")
        lines.append((who, r["assigned_tasks"], r["completed_on_time"], r["completed_late"],
                      r["in_progress_within_deadline"], r["overdue_not_completed"],
                      r["recurring_met"] + r["recurring_missed"] + r["recurring_not_due"],
                      r["closed_without_completion"], _pct(r["completion_rate_of_due_tasks"]),
                      _pct(r["completion_rate_of_assigned"]), _pct(r["overdue_share_of_assigned"]),
                      "—" if change is None else f"{change:+.2f}"))
    out = _table(header, lines)
    if limit and len(rows) > limit:
        out += f"\n... {len(rows) - limit} more rows (--limit 0 prints all)"
    return out


def overdue_rows(month: str, agency: str | None = None, key_only: bool = False,
                 database: Path | None = None) -> list[dict]:
    where, params = ["period = ?"], [month]
    if agency:
        where.append("lead_unit_code = ?")
        params.append(agency)
    if key_only:
        where.append("is_key_task")
    return published_rows(f"SELECT * FROM rpt_overdue_tasks WHERE {' AND '.join(where)} "
                          "ORDER BY days_overdue DESC, task_code", params, database)


def format_overdue(rows: list[dict], limit: int | None = None) -> str:
    header = ("task", "key", "lead unit", "deadline in force", "days overdue", "ageing", "title")
    shown = rows[:limit] if limit else rows
    out = _table(header, [(r["task_code"], "key" if r["is_key_task"] else "", r["lead_unit_code"],
                           r["deadline_in_force"], r["days_overdue"], r["ageing_bucket_label_en"], r["task_title"])
                          for r in shown])
    if limit and len(rows) > limit:
        out += f"\n... {len(rows) - limit} more rows (--limit 0 prints all)"
    return out


def warning_rows(month: str, agency: str | None = None, kind: str | None = None,
                 database: Path | None = None) -> list[dict]:
    where, params = ["period = ?"], [month]
    if agency:
        where.append("unit_code = ?")
        params.append(agency)
    if kind:
        where.append("warning_kind = ?")
        params.append(kind)
    return published_rows(f"SELECT * FROM rpt_task_warnings WHERE {' AND '.join(where)} "
                          "ORDER BY warning_kind, unit_code NULLS FIRST, task_code NULLS FIRST", params, database)


def format_warnings(rows: list[dict], limit: int | None = None) -> str:
    shown = rows[:limit] if limit else rows
    out = "\n".join(f"  {r['warning_kind']}: {r['message']}" for r in shown)
    if limit and len(rows) > limit:
        out += f"\n  ... {len(rows) - limit} more warnings (--limit 0 prints all)"
    return out


def _report(args, fetch, fmt, what: str) -> int:
    if args.rebuild:
        from orchestration.cli.kpi import _default_month

        if not run_task_tracking(args.month or _default_month()):
            return 1
    try:
        month = latest_month(args.month)
        if month is None:
            print(f"dxmon tasks {what}: no task month is published yet")
            return 1
        rows = fetch(month)
    except FileNotFoundError as exc:
        print(f"dxmon tasks {what}: {exc}")
        return 1
    print(f"{what} as of the end of {month} ({len(rows)} rows, published copy {_published_db()})")
    print(fmt(rows, args.limit or None) if rows else f"no {what} row matches")
    return 0


def templates_handler(args) -> int:
    from ingestion.tasks.templates import write_plan_template, write_report_template

    out = Path(args.out or data_dir() / "task_templates")
    formats = ("xlsx", "csv") if args.format == "both" else (args.format,)
    written = []
    if args.plan:
        for fmt in formats:
            name = f"task_list_{args.issuer or 'template'}.{fmt}"
            written.append(write_plan_template(out / name, fmt, issuer_code=args.issuer))
    else:
        if not args.month:
            print("dxmon tasks templates --unit/--all-units needs --month YYYY-MM", flush=True)
            return 2
        from ingestion.tasks.registry import lead_units_of_month

        with connect(read_only=True) as con:
            units = lead_units_of_month(con, args.month) if args.all_units else [args.unit]
            for unit in units:
                for fmt in formats:
                    path = out / args.month / f"task_report_{unit}_{args.month}.{fmt}"
                    written.append(write_report_template(con, unit, args.month, path, fmt))
    for path in written:
        print(path)
    return 0


def print_task_outputs(month: str | None = None, database: Path | None = None, top: int = 8) -> None:
    """Where the task tables are; the month's national figures, the agencies furthest behind and the
    warnings (what `make run` ends with)."""
    database = database or _published_db()
    print(f"  task tracking: rpt_task_status_by_agency, rpt_overdue_tasks, rpt_task_warnings, fct_tasks, "
          f"fct_task_status_reports in {database}")
    try:
        month = latest_month(month, database)
        if month is None:
            return
        national = status_rows(month, by="national", database=database)
        agencies = status_rows(month, by="agency", database=database)
        warnings = warning_rows(month, database=database)
    except FileNotFoundError as exc:
        print(f"  task tracking: {exc}")
        return
    for r in national:
        print(f"  tasks as of {r['as_of_date']}: {r['assigned_tasks']} assigned, "
              f"{r['completed_on_time'] + r['completed_late']} completed ({r['completed_late']} late), "
              f"{r['in_progress_within_deadline']} within deadline, {r['overdue_not_completed']} overdue; "
              f"completed ÷ due {_pct(r['completion_rate_of_due_tasks'])}, completed ÷ assigned "
              f"{_pct(r['completion_rate_of_assigned'])}, overdue ÷ assigned {_pct(r['overdue_share_of_assigned'])}")
    print(f"  the {min(top, len(agencies))} agencies with the highest overdue share in {month}:")
    for line in format_status(agencies, top).splitlines():
        print(f"    {line}")
    kinds: dict[str, int] = {}
    for w in warnings:
        kinds[w["warning_kind"]] = kinds.get(w["warning_kind"], 0) + 1
    print(f"  warnings {month}: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"))
    for line in format_warnings(warnings, top).splitlines():
        print(f"  {line}")
    print(f"    .venv/bin/dxmon tasks status --agency 08 --month {month}; .venv/bin/dxmon tasks overdue --key; "
          f".venv/bin/dxmon tasks warnings")
    print("  explain a task's class: .venv/bin/dxmon explain --index tasks --task CODE --period " + month)


def register(sub) -> None:
    tasks = sub.add_parser("tasks", help="task tracking: task lists and status report forms, status, overdue, warnings",
                           description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    tasks_sub = tasks.add_subparsers(dest="tasks_command", required=True)

    p = tasks_sub.add_parser("templates", help="task-list and status-report forms (XLSX and CSV)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--plan", action="store_true", help="a blank task list of an assigning document")
    which.add_argument("--unit", help="a status report of this unit, pre-filled with its tasks of --month")
    which.add_argument("--all-units", action="store_true", help="a status report of every lead unit of --month")
    p.add_argument("--issuer", help="with --plan: the issuer's code written in the header (task_issuers or a unit)")
    p.add_argument("--month", help="with --unit / --all-units: the report month YYYY-MM")
    p.add_argument("--format", choices=["xlsx", "csv", "both"], default="both")
    p.add_argument("--out", help="folder (default data/task_templates)")
    p.set_defaults(handler=templates_handler, warehouse_access=lambda a: None if a.plan else READ)

    def common(parser) -> None:
        parser.add_argument("--month", help="the month (YYYY-MM; default the latest published)")
        parser.add_argument("--limit", type=int, default=40, help="rows to print (0: all; default %(default)s)")
        parser.add_argument("--rebuild", action="store_true", help="first run the task_tracking job (writes and publishes)")
        parser.set_defaults(warehouse_access=lambda a: WRITE if a.rebuild else None)

    p = tasks_sub.add_parser("status", help="counts per class and both rates, per agency, document or nationally")
    p.add_argument("--agency", help="one lead unit (or, with --by document, one document number)")
    p.add_argument("--by", choices=BY_CHOICES, default="agency")
    common(p)
    p.set_defaults(handler=lambda a: _report(a, lambda m: status_rows(m, a.agency, a.by), format_status, "status"))

    p = tasks_sub.add_parser("overdue", help="overdue tasks with days past the deadline and their ageing bucket")
    p.add_argument("--agency", help="one lead unit")
    p.add_argument("--key", action="store_true", help="key tasks only")
    common(p)
    p.set_defaults(handler=lambda a: _report(a, lambda m: overdue_rows(m, a.agency, a.key), format_overdue, "overdue"))

    p = tasks_sub.add_parser("warnings", help="early warnings: due soon without progress, key tasks overdue, "
                                              "overdue share rising, missing reports")
    p.add_argument("--agency", help="one lead unit")
    p.add_argument("--kind", help="one warning kind")
    common(p)
    p.set_defaults(handler=lambda a: _report(a, lambda m: warning_rows(m, a.agency, a.kind), format_warnings,
                                             "warnings"))
