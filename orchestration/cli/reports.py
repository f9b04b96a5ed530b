"""`dxmon report` and `dxmon export`: what officials and auditors open, from the published
database (read-only; the live warehouse is not opened, so they take no lock):

    dxmon report --month 2025-08 [--dti-year 2023] [--out report.html]   one self-contained HTML file
    dxmon export --format xlsx --month 2025-08 [--dti-year] [--out book.xlsx]   the Excel workbook
    dxmon export --format csv --month 2025-08 [--out folder/]             one CSV per table

docs/reports.md says what they contain and how to open and print them."""

from __future__ import annotations

import sys
from pathlib import Path


def _run(build, args) -> int:
    from publication.reports.period_data import PeriodError

    try:
        path = build(args.month, args.dti_year, Path(args.out) if args.out else None)
    except (PeriodError, FileNotFoundError) as exc:
        print(f"dxmon {args.command}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def report_handler(args) -> int:
    from publication.reports import build_period_report

    return _run(build_period_report, args)


def export_handler(args) -> int:
    from publication.exports import export_csv, export_workbook

    return _run(export_workbook if args.format == "xlsx" else export_csv, args)


def write_demo_outputs(month: str, dti_year: int | None = None) -> tuple[Path, Path]:
    """The demo's period report and workbook at their default paths (data/reports/,
    data/exports/), printing nothing: (report, workbook)."""
    from publication.exports import export_workbook
    from publication.reports import build_period_report

    return build_period_report(month, dti_year), export_workbook(month, dti_year)


def _period_arguments(p) -> None:
    p.add_argument("--month", required=True, help="the service-index month YYYY-MM (its quarter and year to date too)")
    p.add_argument("--dti-year", type=int, help="the DTI year (default: the latest published year up to the month's)")
    p.set_defaults(warehouse_access=None)  # reads the published copy only


def register(sub) -> None:
    p = sub.add_parser("report", help="the period report: one self-contained HTML file (rankings, charts, KPI, "
                                      "tasks, data quality) that opens offline")
    _period_arguments(p)
    p.add_argument("--out", help="the HTML file (default data/reports/report-<month>.html)")
    p.set_defaults(handler=report_handler)
    e = sub.add_parser("export", help="the period's tables as an Excel workbook (xlsx) or CSV files")
    e.add_argument("--format", required=True, choices=["xlsx", "csv"])
    _period_arguments(e)
    e.add_argument("--out", help="the workbook file (default data/exports/dxmon-<month>.xlsx) or, for csv, "
                                 "the folder (default data/exports/dxmon-<month>/)")
    e.set_defaults(handler=export_handler)
