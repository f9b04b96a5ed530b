"""`dxmon`: the one command line for every headless operation. Each module of this package
registers its commands; each command calls library functions or runs a Dagster job.

    dxmon prepare                       parse the dbt project (manifest for Dagster)
    dxmon run --month 2025-10           refresh one month through Dagster
    dxmon run --from 2025-02 --to 2025-08   backfill a range in one run
    dxmon reference [--rebuild]         build the reference data alone (units, methodology, calendar)
    dxmon publish [--override ...]      publish the marts again (gate applies; overrides recorded)
    dxmon status                        per-month gate, rows loaded and rejected
    dxmon quarantine --month 2025-07    rejected rows and files of a month, with reasons
                                        (tables fit the terminal; --format csv|json for scripts)
    dxmon ranking --period 2025-Q3      a published 766 ranking (month, quarter, year, YTD; --parent: agencies)
    dxmon report --month 2025-08        the period report: one self-contained HTML file that opens offline
    dxmon export --format xlsx|csv --month 2025-08   the period's tables as an Excel workbook or CSV files
    dxmon explain | audit-pack | audit-archive   the auditors' commands
    dxmon dti ...                       the DTI: templates, intake, scoring, closing a year
    dxmon kpi ...                       KPI tracking: report forms, statistics and index files, progress
    dxmon tasks ...                     task tracking: task-list and status-report forms, status, overdue, warnings
    dxmon demo generate | serve | run   demo data, demo portal, the whole demo end to end

Every command that runs a Dagster job prints one line per step (months, step, rows, seconds,
ok/WARN/FAILED), warnings in plain words and progress; the full Dagster, dbt and Python log goes
to data/logs/<time>-<command>.log, whose path is printed first and last (orchestration/cli/
console.py). `dxmon -v ...` shows the full stream on the console too.

One writer at a time: a command that writes the warehouse takes its lock first
(orchestration/warehouse_lock.py); while another command or run holds it, the command is
refused with a message naming the holder (run id, command, PID, start time) and exits with
75 (EX_TEMPFAIL: try again when it ends). Commands that only read the live warehouse take it
shared; commands that do not open it take nothing.
"""

from __future__ import annotations

import argparse
import sys

from orchestration.cli import audit, demo, dti, kpi, publication, rankings, reports, service_index, tasks
from orchestration.cli.console import command_session, command_slug
from orchestration.cli.environment import setup_environment
from orchestration.warehouse_lock import EXIT_BUSY, WRITE, WarehouseBusy, warehouse_lock

COMMAND_MODULES = (service_index, rankings, reports, publication, audit, dti, kpi, tasks, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dxmon", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="the full Dagster, dbt and Python log stream on the console (it is always in the "
                             "command's log file, data/logs/)")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    setup_environment()
    # the console: step lines and warnings; everything else in data/logs/<time>-<command>.log
    # (orchestration/cli/console.py); -v: the full stream on the console too
    with command_session(command_slug(argv), args.verbose):
        return _dispatch(args, argv)


def _dispatch(args, argv: list[str]) -> int:
    # what the command does to the warehouse: each command declares `warehouse_access`
    # (READ, or None when it does not open it; a callable decides from the arguments);
    # undeclared commands write, so a new command is a writer until it says otherwise
    access = getattr(args, "warehouse_access", WRITE)
    if callable(access):
        access = access(args)
    if not access:
        return args.handler(args)
    command = " ".join(["dxmon", *argv])[:300]
    try:
        with warehouse_lock(access, command=command):
            return args.handler(args)
    except WarehouseBusy as exc:
        print(f"dxmon: {exc} (exit {EXIT_BUSY})", file=sys.stderr)
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
