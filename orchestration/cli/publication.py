"""`dxmon publish [--override ...]`: the analysts' copy, behind the publication gate; an override
publishes a period whose blocking checks failed and records who, when, why and which checks."""

from __future__ import annotations

import sys


def register(sub) -> None:
    publish = sub.add_parser("publish", help="publish the marts to data/published/ (months and DTI years failing "
                                          "blocking checks are withheld, unless overridden)")
    publish.add_argument("--override", action="store_true",
                         help="publish --month (or, with --index dti, --year) although its blocking checks "
                              "failed (needs --reason)")
    publish.add_argument("--index", default="service_index", choices=["service_index", "dti", "kpi_reports", "tasks"],
                         help="the index whose period is overridden (default %(default)s; kpi_reports: the "
                              "agencies' KPI reports of --period; tasks: the task lists and status reports "
                              "of --month)")
    publish.add_argument("--month", help="YYYY-MM: the service-index month (or, with --index tasks, the task "
                                         "tracking month) to override")
    publish.add_argument("--year", help="YYYY: the DTI year to override (with --index dti)")
    publish.add_argument("--period", help="YYYY-Qn, YYYY-MM or YYYY: the KPI report period (with --index kpi_reports)")
    publish.add_argument("--reason", help="why the failed checks do not invalidate the month (recorded)")
    publish.add_argument("--by", help="who decides (default: DXMON_USER or the OS user)")
    publish.set_defaults(handler=publish_handler)


def publish_handler(args) -> int:
    from ingestion.core.warehouse import connect
    from publication.publish import OverrideError, publish, record_override

    period = {"dti": args.year, "kpi_reports": args.period}.get(args.index, args.month)
    if args.override:
        if not period or not args.reason:
            need = {"dti": "--index dti --year YYYY", "kpi_reports": "--index kpi_reports --period YYYY-Qn"}.get(
                args.index, "--month YYYY-MM")
            print(f"dxmon publish --override needs {need} and --reason TEXT", file=sys.stderr)
            return 2
        try:
            with connect() as con:
                record = record_override(con, period, args.reason, by=args.by, index_name=args.index)
        except OverrideError as exc:
            print(f"override refused: {exc}", file=sys.stderr)
            return 2
        print(f"override {record['override_id']} recorded by {record['overridden_by']} for {args.index} "
              f"{record['period_month']}: checks overridden: {record['overridden_checks']}")
        if args.index == "kpi_reports":
            print("the KPI marts read the gate when they are built: `dxmon kpi progress --rebuild` applies it")
        if args.index == "tasks":
            print("the task marts read the gate when they are built: "
                  f"`dxmon tasks status --rebuild --month {record['period_month']}` applies it")
    elif args.month or args.year or args.period or args.reason:
        print("--month, --year, --period and --reason go with --override", file=sys.stderr)
        return 2
    result = publish()
    print(f"published {', '.join(result.published_months)} to {result.directory}")
    for month, why in result.withheld_months.items():
        print(f"withheld {month}: {why}")
    for month, o in (result.overridden_months or {}).items():
        print(f"published on override {month}: {o['override_id']} by {o['overridden_by']}: {o['reason']}")
    if result.dti_published_years or result.dti_withheld_years:
        print(f"DTI years published: {', '.join(map(str, result.dti_published_years)) or 'none'}")
    for year, why in result.dti_withheld_years.items():
        print(f"DTI {year} withheld: {why}")
    for year, o in result.dti_overridden_years.items():
        print(f"DTI {year} published on override {o['override_id']} by {o['overridden_by']}: {o['reason']}")
    return 0
