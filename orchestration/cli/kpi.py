"""`dxmon kpi ...`: KPI tracking from the command line (docs/kpi_sources.md).

    dxmon kpi load-statistics FILE [--release NAME] [--publisher NAME] [--release-date YYYY-MM-DD]
    dxmon kpi load-index FILE [--index EGDI] [--source-key KEY]

Both write the warehouse (the CLI takes its lock: orchestration/warehouse_lock.py), print what was
loaded and rejected, and exit 1 when the file was rejected whole (quarantined or refused).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingestion.core.warehouse import connect

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


def register(sub) -> None:
    kpi = sub.add_parser("kpi", help="KPI tracking: published statistics and international indices",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kpi_sub = kpi.add_subparsers(dest="kpi_command", required=True)
    add_loader_commands(kpi_sub)
    global kpi_commands
    kpi_commands = kpi_sub


kpi_commands = None  # the `dxmon kpi` subcommands, once registered (more are added by other modules)
