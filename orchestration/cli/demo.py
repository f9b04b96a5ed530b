"""`dxmon demo generate | serve | run`: the demo data, the demo portal, and the whole demo end to
end (the service index from files and the demo portal, then the DTI from demo reports, then KPI
tracking from the platform's marts, demo agency KPI reports and the real published figures, and task
tracking from a demo task plan and the agencies' monthly status reports)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ingestion.core.warehouse import connect, data_dir
from orchestration.cli.kpi import print_kpi_outputs, run_kpi_tracking
from orchestration.cli.service_index import print_outputs, run_months
from orchestration.cli.tasks import print_task_outputs
from orchestration.warehouse_lock import WRITE

DEMO_MONTHS = ("2025-02", "2025-08")
DEMO_API_MONTHS = ("2025-07", "2025-08")
DEMO_TOKEN = "dxmon-demo-token"
DEMO_DTI_YEARS = (2022, 2023)
DEMO_KPI_PERIODS = ("2025-Q1", "2025-Q2")  # agency KPI reports: quarters over by the last demo month


def demo_generate(args) -> Path:
    from demo.extracts import generate_demo
    from ingestion.landing.loading import landing_dir
    from orchestration.partitions import months_between

    months = [m[:7] for m in months_between(args.first, args.last)]
    api_months = [m for m in months if m in set(args.api_months.split(","))] if args.api_months else []
    out = Path(args.out)
    generate_demo(
        out, months, rows_per_month=args.rows, seed=args.seed,
        file_months=[m for m in months if m not in api_months], api_months=api_months,
        file_format=args.format,
    )
    # Agencies "drop" the files into the landing folder.
    landing = landing_dir()
    for month in months:
        source = out / "landing" / month
        if source.is_dir():
            (landing / month).mkdir(parents=True, exist_ok=True)
            for f in sorted(source.iterdir()):
                target = landing / month / f.name
                if not target.exists() or target.stat().st_size != f.stat().st_size:
                    shutil.copy2(f, target)
    print(f"demo data for {months[0]}..{months[-1]} in {out} (files: {landing}, API months: {', '.join(api_months) or 'none'})")
    return out / "portal_store"


def demo_run(args) -> int:
    from demo.portal_server import DemoPortalServer

    store = demo_generate(args)
    if not args.skip_kpi:
        prepare_kpi_demo()  # before the monthly run: its KPI assets take the reports in
    if not args.skip_tasks:
        prepare_task_demo(args.first, args.last, seed=args.seed)  # likewise, its task assets
    with DemoPortalServer(store, token=DEMO_TOKEN) as server:
        os.environ["DXMON_PORTAL_URL"] = server.url
        os.environ["DXMON_PORTAL_TOKEN"] = DEMO_TOKEN
        print(f"demo portal serving {store} at {server.url}")
        started = time.time()
        ok = run_months(args.first, args.last)
    print(f"service index pipeline took {time.time() - started:.1f} s")
    dti_ok = True
    if not args.skip_dti:
        started = time.time()
        dti_ok = run_dti_demo()
        print(f"DTI pipeline took {time.time() - started:.1f} s")
    kpi_ok = True
    if not args.skip_kpi:
        # once more as of the last demo month, now that the DTI years are closed (each unit's DTI
        # is a KPI); the monthly run already took the KPI reports in
        started = time.time()
        kpi_ok = run_kpi_tracking(args.last)
        print(f"KPI tracking took {time.time() - started:.1f} s")
    print_outputs()
    if not args.skip_dti:
        print_dti_outputs()
    if not args.skip_kpi:
        print_kpi_outputs()
    if not args.skip_tasks:
        print_task_outputs(args.last[:7])
    if ok:
        from orchestration.cli.reports import write_demo_outputs

        report, workbook = write_demo_outputs(args.last[:7], None if args.skip_dti else max(DEMO_DTI_YEARS))
        print(f"\nReport of {args.last[:7]} (opens offline; print it to PDF from the browser): {report}")
        print(f"Workbook of {args.last[:7]} (every table, typed, with its provenance sheet): {workbook}")
    return 0 if ok and dti_ok and kpi_ok else 1


def prepare_kpi_demo(out: Path | None = None) -> None:
    """The KPI part of the demo's inputs: the agencies' KPI reports of 2025-Q1 and 2025-Q2 (both over
    by the last demo month; the planted defects in 2025-Q2) dropped into the KPI inbox, and the real published statistics releases and
    international index files (demo/kpi/) loaded as a person would with `dxmon kpi load-*`."""
    from demo.kpi import load_demo_sources
    from demo.kpi_reports import generate_demo_kpi_reports
    from ingestion.kpi.reports.intake import default_inbox_dir as default_kpi_inbox_dir

    out = Path(out or data_dir() / "demo" / "kpi")
    reports = generate_demo_kpi_reports(out, periods=DEMO_KPI_PERIODS)
    inbox = default_kpi_inbox_dir()
    copy_into_inbox(reports.inbox, inbox)
    print(f"KPI demo reports: {json.dumps(reports.as_metadata(), ensure_ascii=False)[:600]} -> {inbox}")
    with connect() as con:
        loaded = load_demo_sources(con)
    print(f"KPI demo sources: {loaded['files']} files ({loaded['loaded']} loaded, {loaded['unchanged']} unchanged, "
          f"{loaded['rows_rejected']} rows rejected, files rejected: {loaded['rejected_files'] or 'none'})")


def copy_into_inbox(source: Path, inbox: Path) -> int:
    """Drop every file below `source` into `inbox` at the same relative place, as an agency would
    (keeping the file's time: its report date is its receipt order); unchanged files stay."""
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = inbox / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.stat().st_size != path.stat().st_size:
                shutil.copy2(path, target)
                copied += 1
    return copied


def prepare_task_demo(first: str, last: str, seed: int = 766, out: Path | None = None) -> None:
    """The task part of the demo's inputs: a demo task plan (task lists of three assigning documents,
    hundreds of tasks over ministries and provinces, across the July 2025 merger) and the agencies'
    monthly status reports of the demo months, with planted contradictions and intake defects,
    dropped into the two task inboxes."""
    from demo.task_plans import generate_demo_task_files
    from ingestion.tasks.plan_intake import default_plans_dir
    from ingestion.tasks.report_intake import default_reports_dir
    from orchestration.partitions import months_between

    out = Path(out or data_dir() / "demo" / "tasks")
    months = tuple(m[:7] for m in months_between(first, last))
    summary = generate_demo_task_files(out, months=months, seed=seed)
    plans = copy_into_inbox(out / "task_plans", default_plans_dir())
    reports = copy_into_inbox(out / "task_reports", default_reports_dir())
    print(f"task demo: {json.dumps(summary.as_metadata(), ensure_ascii=False)[:600]} -> {plans} task lists and "
          f"{reports} status reports dropped into {default_plans_dir()} and {default_reports_dir()}")


def demo_serve(args) -> int:
    from demo.portal_server import DemoPortalServer

    with DemoPortalServer(Path(args.store), token=args.token, port=args.port) as server:
        print(f"demo portal at {server.url} (token {args.token}); Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def run_dti_demo(out: Path | None = None) -> bool:
    """The DTI part of `dxmon demo run`: reports for 2022 and 2023 into the inbox, the published
    history of 2020-2021, the demo's ministry weights; provisional months of 2023; 2022 and 2023
    closed; discrepancies printed."""
    from demo.dti_reports import (
        DEMO_WEIGHTS_SOURCE,
        generate_demo_reports,
        write_demo_history,
        write_demo_weight_supplement,
    )
    from ingestion.reports.intake import default_inbox_dir
    from orchestration.cli.dti import close_year, load_weights, print_discrepancies, run_dti_months

    out = Path(out or data_dir() / "demo" / "dti")
    reports = generate_demo_reports(out, years=DEMO_DTI_YEARS)
    inbox = default_inbox_dir()
    copy_into_inbox(out / "inbox", inbox)
    print(f"DTI demo reports: {json.dumps(reports.as_metadata(), ensure_ascii=False)[:400]} -> {inbox}")
    values, published = write_demo_history(out)
    load_weights(write_demo_weight_supplement(out), DEMO_WEIGHTS_SOURCE)
    with connect() as con:
        from ingestion.reports.dti.history import import_history as load

        load(con, values, published)
    ok = run_dti_months("2023-01", "2023-12")
    if not ok:
        return False
    for year in DEMO_DTI_YEARS:
        if close_year(year, force=True) != 0:
            return False
    print_discrepancies()
    from publication.audit.pack import build_dti_audit_pack
    from publication.publish import publish

    publish()  # the final index of the closed years beside the provisional months
    pack = build_dti_audit_pack(max(DEMO_DTI_YEARS))  # after the close: the final index is in it
    print(f"DTI audit pack of {pack.period}: {pack.folder}")
    return True


def print_dti_outputs() -> None:
    from publication.audit.pack import audit_packs_dir, dti_pack_name
    from publication.publish import published_dir

    published = published_dir()

    print(f"  DTI rankings: {published / 'rpt_dti_ranking.parquet'} (table rpt_dti_ranking in "
          f"{published / 'dxmon_published.duckdb'}); history discrepancies: rpt_dti_history_discrepancies")
    print("    .venv/bin/dxmon dti ranking --year 2023 --level province")
    print(f"  DTI publication gate per year: table dti_publication_status in {published / 'dxmon_published.duckdb'}")
    print("  DTI quality scorecard: table rpt_dti_agency_quality_scorecard; lineage: rpt_dti_score_lineage")
    for year in DEMO_DTI_YEARS:
        pack = audit_packs_dir() / f"{dti_pack_name(year)}.zip"
        if pack.exists():
            print(f"  DTI audit pack {year}: {pack.with_suffix('')} (and {pack}); "
                  f"verify: .venv/bin/dxmon audit-pack --verify {pack}")
    print("  explain a DTI score: .venv/bin/dxmon explain --index dti --unit 01 --period 2023")


def _demo(args) -> int:
    if args.demo_command == "generate":
        demo_generate(args)
        return 0
    if args.demo_command == "run":
        return demo_run(args)
    return demo_serve(args)


def register(sub) -> None:
    demo = sub.add_parser("demo", help="demo data and the demo portal")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    for name, help_text in (("generate", "write demo extracts: landing files and the demo portal's store"),
                            ("run", "generate, serve the API months, run every demo month, publish, print outputs")):
        p = demo_sub.add_parser(name, help=help_text)
        p.add_argument("--from", dest="first", default=DEMO_MONTHS[0], help="first demo month (default %(default)s)")
        p.add_argument("--to", dest="last", default=DEMO_MONTHS[1], help="last demo month (default %(default)s)")
        p.add_argument("--api-months", default=",".join(DEMO_API_MONTHS),
                       help="months served by the demo portal instead of files (default %(default)s)")
        p.add_argument("--rows", type=int, default=40_000, help="dossiers per month (default %(default)s)")
        p.add_argument("--seed", type=int, default=766, help="random seed (default %(default)s)")
        p.add_argument("--format", default="csv.gz", choices=["csv", "csv.gz", "parquet"], help="landing file format")
        p.add_argument("--out", default=str(data_dir() / "demo"), help="output folder (default %(default)s)")
        if name == "run":
            p.add_argument("--skip-dti", action="store_true", help="the service index only, no DTI demo")
            p.add_argument("--skip-kpi", action="store_true", help="no KPI tracking demo")
            p.add_argument("--skip-tasks", action="store_true", help="no task tracking demo")
    serve = demo_sub.add_parser("serve", help="serve a demo portal store over HTTP on 127.0.0.1")
    serve.add_argument("--store", default=str(data_dir() / "demo" / "portal_store"))
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--token", default=DEMO_TOKEN)
    demo.set_defaults(handler=_demo, warehouse_access=lambda a: WRITE if a.demo_command == "run" else None)

    from orchestration.cli import dti

    p = dti.dti_commands.add_parser("demo", help="the demo's DTI part alone: reports, history, provisional 2023, closes")
    p.set_defaults(handler=lambda a: 0 if run_dti_demo() else 1)
