"""The auditors' commands (docs/audit.md):

    dxmon explain --unit 01 --period 2025-07 [--indicator 2.1]  where a score comes from
    dxmon explain --unit 01 --period 2025-Q3 | 2025 | 2025-08-YTD [--backcast]   a period's score
    dxmon explain --agency 01.S05 --period 2025-08               a handling agency's score and rank
    dxmon explain --index dti --unit 01 --period 2023 [--indicator 7.3]   the DTI (year = final, YYYY-MM = provisional)
    dxmon explain --index tasks --task CODE --period 2025-08   a task's class, to the rows that decided it
    dxmon audit-pack --period 2025-07 | --verify PATH            write / verify an audit pack
    dxmon audit-pack --index dti --period 2023                   the DTI's pack of a year
    dxmon audit-archive verify | rebuild --period 2025-07 --out DIR
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from orchestration.warehouse_lock import READ


def register(sub) -> None:
    explain = sub.add_parser("explain", help="a score's value, rule, methodology, inputs (file, sha256, row), checks and run")
    explain.add_argument("--unit", help="unit code, e.g. 01 or BTC; with --index kpi also national, "
                                        "ministries or provinces (the aggregates); not with --index tasks")
    explain.add_argument("--period", required=True,
                         help="YYYY-MM, or a period of the service index: YYYY-Qn, YYYY, YYYY-MM-YTD; for --index dti YYYY (the final index of a closed year); for --index kpi "
                              "the period as published (2025-08, 2025-Q3, 2024)")
    explain.add_argument("--index", default="service_index", choices=["service_index", "dti", "kpi", "tasks"],
                         help="index name (default %(default)s); kpi: a KPI value (needs --kpi); tasks: a task's "
                              "class in a month (needs --task)")
    explain.add_argument("--agency", help="a handling agency's code (with a month): its score, rank within its "
                                          "parent unit and level, and the dossier rows it came from")
    explain.add_argument("--backcast", action="store_true",
                         help="with a quarter, year or year to date: today's units instead of those valid at its end")
    explain.add_argument("--task", help="with --index tasks: the task code, e.g. UBQG-2025-01")
    explain.add_argument("--kpi", help="with --index kpi: the KPI code, e.g. DG-06")
    explain.add_argument("--measure", help="with --index kpi: one measure (default: every measure of the KPI)")
    explain.add_argument("--indicator", help="one indicator code, e.g. 2.1 (prints the exact input rows); "
                                             "DTI: a main (7) or sub-indicator (7.3)")
    explain.add_argument("--rows", type=int, default=5, help="input rows to print per measure (default %(default)s)")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.set_defaults(handler=explain_handler, warehouse_access=READ)

    pack = sub.add_parser("audit-pack", help="write a period's audit pack (folder + zip with a manifest of hashes), or verify one")
    pack.add_argument("--period", help="YYYY-MM; with --index dti a year, YYYY")
    pack.add_argument("--index", default="service_index", choices=["service_index", "dti"],
                      help="index name (default %(default)s)")
    pack.add_argument("--out", help="folder for packs (default data/audit_packs)")
    pack.add_argument("--verify", help="a pack folder or zip to verify instead")
    pack.set_defaults(handler=audit_pack_handler, warehouse_access=lambda a: None if a.verify else READ)

    archive = sub.add_parser("audit-archive", help="the immutable raw archive: verify it, or rebuild a period from it alone")
    archive.add_argument("action", choices=["verify", "rebuild"])
    archive.add_argument("--period", help="YYYY-MM: rebuild every archived month up to this one")
    archive.add_argument("--out", help="a new, empty data folder for the rebuild")
    # verify reads the archive only; rebuild fills a new data folder (its run locks that warehouse)
    archive.set_defaults(handler=audit_archive_handler, warehouse_access=None)


def explain_handler(args) -> int:
    from publication.audit.explain import ExplainError, explain, format_explanation, is_locked
    from publication.audit.explain_kpi import KpiExplainError, explain_kpi, format_kpi_explanation
    from publication.audit.explain_service_grains import (
        explain_agency,
        explain_period,
        format_agency_explanation,
        format_period_explanation,
        period_kind,
    )
    from publication.audit.explain_tasks import TaskExplainError, explain_task, format_task_explanation

    if args.index == "kpi" and not args.kpi:
        print("dxmon explain --index kpi needs --kpi CODE (e.g. DG-06)", file=sys.stderr)
        return 2
    if args.index == "tasks" and not args.task:
        print("dxmon explain --index tasks needs --task CODE and --period YYYY-MM", file=sys.stderr)
        return 2
    if args.index != "tasks" and not args.unit and not args.agency:
        print(f"dxmon explain --index {args.index} needs --unit CODE", file=sys.stderr)
        return 2
    try:
        if args.index == "tasks":
            result = explain_task(args.task, args.period)
            print(json.dumps(result, default=str, indent=2, ensure_ascii=False) if args.json
                  else format_task_explanation(result))
            return 0
        if args.index == "kpi":
            result = explain_kpi(args.kpi, args.unit, args.period, args.measure)
            print(json.dumps(result, default=str, indent=2, ensure_ascii=False) if args.json
                  else format_kpi_explanation(result))
            return 0
        if args.index == "service_index" and (args.agency or period_kind(args.period)):
            if args.agency:
                result = explain_agency(args.agency, args.period, args.rows)
                text = format_agency_explanation
            else:
                result = explain_period(args.unit, args.period, args.backcast)
                text = format_period_explanation
            print(json.dumps(result, default=str, indent=2, ensure_ascii=False) if args.json else text(result))
            return 0
        result = explain(args.unit, args.period, args.index, args.indicator, args.rows)
    except (ExplainError, KpiExplainError, TaskExplainError) as exc:
        print(f"dxmon explain: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001
        if is_locked(exc):
            print("dxmon explain: the warehouse is being written by a run; try again when it ends", file=sys.stderr)
            return 1
        raise
    print(json.dumps(result, default=str, indent=2, ensure_ascii=False) if args.json else format_explanation(result))
    return 0


def audit_pack_handler(args) -> int:
    from publication.audit.pack import build_audit_pack, build_dti_audit_pack, verify_audit_pack

    if args.verify:
        problems = verify_audit_pack(Path(args.verify))
        for p in problems:
            print(f"  {p}")
        print(f"{args.verify}: {'VERIFIED' if not problems else f'{len(problems)} problem(s)'}")
        return 0 if not problems else 1
    if not args.period:
        print("dxmon audit-pack: give --period YYYY-MM (--index dti: YYYY), or --verify PATH", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    try:
        if args.index == "dti":
            if not (len(args.period) == 4 and args.period.isdigit()):
                print(f"dxmon audit-pack --index dti: --period is a year (YYYY), not {args.period!r}", file=sys.stderr)
                return 2
            pack = build_dti_audit_pack(int(args.period), out)
        else:
            pack = build_audit_pack(args.period, out)
    except RuntimeError as exc:
        print(f"dxmon audit-pack: {exc}", file=sys.stderr)
        return 1
    print(f"audit pack of {pack.period}: {pack.folder}\n  zip: {pack.zip_path}\n  verify: dxmon audit-pack --verify {pack.zip_path}")
    return 0


def audit_archive_handler(args) -> int:
    from ingestion.core.raw_archive import raw_archive_dir, verify_archive

    if args.action == "verify":
        problems = verify_archive()
        for p in problems:
            print(f"  {p}")
        print(f"{raw_archive_dir()}: {'VERIFIED' if not problems else f'{len(problems)} problem(s)'}")
        return 0 if not problems else 1
    if not args.period or not args.out:
        print("dxmon audit-archive rebuild needs --period YYYY-MM and --out DIR (a new data folder)", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty; give a new folder", file=sys.stderr)
        return 2
    months = rebuild_inputs(args.period, out)
    os.environ["DXMON_DATA_DIR"] = str(out)
    os.environ["DXMON_WAREHOUSE"] = str(out / "warehouse" / "dxmon.duckdb")
    os.environ["DAGSTER_HOME"] = str(out / "dagster_home")
    os.environ.pop("DXMON_PORTAL_URL", None)
    (out / "dagster_home").mkdir(parents=True, exist_ok=True)
    from orchestration.cli.service_index import run_months

    ok = run_months(months[0], months[-1])
    print(f"rebuilt {months[0]}..{months[-1]} from the archive alone into {out}")
    return 0 if ok else 1


def rebuild_inputs(period: str, out: Path, archive: Path | None = None) -> list[str]:
    """Restore every archived month up to `period` into the data folder `out`; the months."""
    from ingestion.core.raw_archive import archived_months, raw_archive_dir, restore_month

    archive = archive or raw_archive_dir()
    months = [m for m in archived_months(archive) if m <= period[:7]]
    if not months:
        raise SystemExit(f"no archived month up to {period[:7]} in {archive}")
    for m in months:
        restore_month(m, out, archive)
    return months
