"""`dxmon`: the one command line for every headless operation.

    dxmon prepare                       parse the dbt project (manifest for Dagster)
    dxmon run --month 2025-10           refresh one month through Dagster
    dxmon run --from 2025-02 --to 2025-08   backfill a range in one run
    dxmon reference [--rebuild]         build the reference data alone (units, methodology, calendar)
    dxmon publish                       publish the marts again (gate applies)
    dxmon status                        per-month gate, rows loaded and rejected
    dxmon quarantine --month 2025-07    rejected rows and files of a month, with reasons
    dxmon demo generate | serve | run   demo data, demo portal, the whole demo end to end
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import PROJECT_ROOT, connect, data_dir, warehouse_path

DEMO_MONTHS = ("2025-02", "2025-08")
DEMO_API_MONTHS = ("2025-07", "2025-08")
DEMO_TOKEN = "dxmon-demo-token"


def _setup_environment() -> None:
    """Defaults every command shares: Dagster home inside the project, the warehouse path."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(data_dir() / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    template = PROJECT_ROOT / "dagster.yaml"
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    os.environ.setdefault("DXMON_WAREHOUSE", str(warehouse_path()))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def dbt_command(*args: str) -> list[str]:
    dbt = Path(sys.executable).parent / "dbt"
    project = PROJECT_ROOT / "dbt_project"
    return [str(dbt) if dbt.exists() else "dbt", *args, "--project-dir", str(project), "--profiles-dir", str(project)]


def dbt_manifest_is_current() -> bool:
    """True when target/manifest.json is newer than every file of the dbt project."""
    project = PROJECT_ROOT / "dbt_project"
    manifest = project / "target" / "manifest.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    for folder in ("models", "seeds", "macros", "tests", "snapshots", "analyses"):
        for path in (project / folder).rglob("*") if (project / folder).exists() else ():
            if path.is_file() and path.stat().st_mtime > built:
                return False
    return all(not (project / f).exists() or (project / f).stat().st_mtime <= built
               for f in ("dbt_project.yml", "profiles.yml"))


def prepare_dbt(force: bool = False) -> None:
    """`dbt parse` writes the manifest the Dagster definitions are built from (STACK.md);
    skipped when the manifest is newer than every file of the project."""
    _setup_environment()
    if force or not dbt_manifest_is_current():
        subprocess.run(dbt_command("parse", "--quiet"), check=True, cwd=PROJECT_ROOT)


def run_months(first: str, last: str) -> bool:
    """Materialize the monthly job for `first`..`last` in one run, in this process."""
    from dagster import DagsterInstance

    from orchestration.partitions import month_key, range_tags

    prepare_dbt()
    from orchestration.definitions import defs

    job = defs.resolve_job_def("monthly_service_index")
    if month_key(first) == month_key(last):
        kwargs = {"partition_key": month_key(first)}
    else:
        kwargs = {"tags": range_tags(first, last)}
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} for {first}..{last}")
    return result.success


def build_reference(rebuild: bool) -> bool:
    """Materialize the reference data alone through Dagster."""
    from dagster import DagsterInstance

    prepare_dbt()
    if rebuild:
        os.environ["DXMON_REBUILD_REFERENCE"] = "1"
    from orchestration.definitions import defs

    job = defs.resolve_job_def("reference_data")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    print(f"run {result.run_id}: reference data {'ready' if result.success else 'FAILED'}")
    return result.success


def print_status() -> None:
    with connect(read_only=False) as con:
        prepare_warehouse(con)
        print(con.sql(
            """
            SELECT strftime(s.period_month, '%Y-%m') AS month, s.is_publishable,
                   coalesce(s.blocking_failures, '') AS blocking_failures,
                   (SELECT sum(row_count) FROM raw.ingested_sources i
                     WHERE i.period_month = s.period_month AND i.superseded_at IS NULL) AS rows_loaded,
                   (SELECT sum(rejected_count) FROM raw.ingested_sources i
                     WHERE i.period_month = s.period_month AND i.superseded_at IS NULL) AS rows_rejected
            FROM meta.period_status s ORDER BY 1
            """
        ))


def print_quarantine(month: str) -> None:
    with connect() as con:
        prepare_warehouse(con)
        print(con.sql(
            "SELECT extract_kind, rule, count(*) AS rows, min(location) AS example_file, "
            "min(source_row) AS example_row, min(reason) AS example_reason "
            "FROM quarantine.rejected_rows WHERE strftime(period_month, '%Y-%m') = ? GROUP BY ALL ORDER BY 1, 2",
            params=[month],
        ))
        print(con.sql(
            "SELECT location, reason FROM quarantine.rejected_files WHERE strftime(period_month, '%Y-%m') = ?",
            params=[month],
        ))


def print_audit_outputs(published: Path, latest: str | None) -> None:
    """Where the auditors' answers are: scorecards, audit packs, the raw archive, explain."""
    from publication.audit.pack import audit_packs_dir
    from ingestion.core.raw_archive import raw_archive_dir

    print(f"  quality scorecard: table rpt_agency_quality_scorecard (and rpt_data_quality_runs, "
          f"rpt_data_quality_by_unit) in {published / 'dxmon_published.duckdb'}")
    packs = audit_packs_dir()
    # the service index's packs are named by month (the DTI's, dti-<year>, are printed with the DTI)
    built = sorted(p.name for p in packs.iterdir() if p.is_dir() and p.name[:1].isdigit()) if packs.is_dir() else []
    if built:
        print(f"  audit pack: {packs / built[-1]} (and {packs / (built[-1] + '.zip')}); "
              f"verify: dxmon audit-pack --verify {packs / (built[-1] + '.zip')}")
    print(f"  raw archive (content-addressed, read-only): {raw_archive_dir()}")
    if latest:
        print(f"  explain a score: .venv/bin/dxmon explain --unit 01 --period {latest}")


def print_outputs() -> None:
    from ingestion.core.quarantine import quarantine_root
    from publication.publish import published_dir

    published = published_dir()
    manifest = published / "manifest.json"
    print("\nOutputs")
    print(f"  published marts (DuckDB): {published / 'dxmon_published.duckdb'}")
    print(f"  published marts (Parquet): {published}/*.parquet")
    print(f"  publication manifest:     {manifest}")
    print(f"  data quality (GX Data Docs): {data_dir() / 'quality' / 'gx' / 'uncommitted' / 'data_docs' / 'local_site' / 'index.html'}")
    print(f"  quarantine: table quarantine.rejected_rows in {warehouse_path()}, files in {quarantine_root()}")
    latest = None
    if manifest.exists():
        info = json.loads(manifest.read_text(encoding="utf-8"))
        print(f"  months published: {', '.join(info['published_months'])}")
        for month, why in info.get("withheld_months", {}).items():
            print(f"  month withheld: {month}: {why}")
        if info.get("dti_published_years") or info.get("dti_withheld_years"):
            print(f"  DTI years published: {', '.join(map(str, info.get('dti_published_years', []))) or 'none'}")
        for year, why in info.get("dti_withheld_years", {}).items():
            print(f"  DTI year withheld: {year}: {why[:300]}")
        latest = max(info["published_months"], default=None)
    print_audit_outputs(published, latest)
    print("  query it (read-only, safe while the pipeline runs):\n"
          f"    .venv/bin/python -c \"import duckdb; print(duckdb.connect('{published / 'dxmon_published.duckdb'}', "
          "read_only=True).sql('select period_month, unit_level, rank, unit_name, total_score, band "
          "from rpt_service_ranking_monthly where not is_backcast and rank <= 3 order by 1, 2, 3'))\"")


# ------------------------------------------------------------------------------------------
# demo

def demo_generate(args) -> Path:
    from ingestion.landing.loading import landing_dir
    from demo.extracts import generate_demo
    from orchestration.partitions import months_between

    months = [m[:7] for m in months_between(args.first, args.last)]
    api_months = [m for m in months if m in set(args.api_months.split(","))] if args.api_months else []
    out = Path(args.out)
    summary = generate_demo(
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
    with DemoPortalServer(store, token=DEMO_TOKEN) as server:
        os.environ["DXMON_PORTAL_URL"] = server.url
        os.environ["DXMON_PORTAL_TOKEN"] = DEMO_TOKEN
        print(f"demo portal serving {store} at {server.url}")
        started = time.time()
        ok = run_months(args.first, args.last)
    print(f"service index pipeline took {time.time() - started:.1f} s")
    dti_ok = True
    if not args.skip_dti:
        from orchestration.cli_dti import print_dti_outputs, run_dti_demo

        started = time.time()
        dti_ok = run_dti_demo()
        print(f"DTI pipeline took {time.time() - started:.1f} s")
    print_outputs()
    if not args.skip_dti:
        print_dti_outputs()
    return 0 if ok and dti_ok else 1


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


# ------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dxmon", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("prepare", help="parse the dbt project so Dagster can load it")

    run = sub.add_parser("run", help="refresh one month, or backfill a range in one run, through Dagster")
    run.add_argument("--month", help="one month, YYYY-MM")
    run.add_argument("--from", dest="first", help="first month of a backfill, YYYY-MM")
    run.add_argument("--to", dest="last", help="last month of a backfill (included), YYYY-MM")
    run.add_argument("--rebuild-reference", action="store_true",
                     help="rebuild the reference data (seeds, units, calendar) even if unchanged")

    reference = sub.add_parser("reference", help="build the reference data (units, methodology, calendar) only")
    reference.add_argument("--rebuild", action="store_true", help="rebuild even if unchanged")

    sub.add_parser("publish", help="publish the marts to data/published/ (months and DTI years failing blocking "
                                   "checks are withheld)")
    sub.add_parser("status", help="per month: publishable or not and why, rows loaded and rejected")
    quarantine = sub.add_parser("quarantine", help="rejected rows and files of a month, by rule, with an example")
    quarantine.add_argument("--month", required=True, help="YYYY-MM")

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
    serve = demo_sub.add_parser("serve", help="serve a demo portal store over HTTP on 127.0.0.1")
    serve.add_argument("--store", default=str(data_dir() / "demo" / "portal_store"))
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--token", default=DEMO_TOKEN)

    # Commands of the other indexes and of the audit tools live in their own modules; each
    # module's register(sub) adds its subparsers with set_defaults(handler=fn(args) -> int).
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def _command_modules() -> list:
    import importlib

    modules = []
    for name in ("orchestration.cli_dti", "orchestration.cli_audit"):
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but something it imports does not
                raise
    return modules


_COMMAND_MODULES = _command_modules()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _setup_environment()
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    if args.command == "prepare":
        prepare_dbt(force=True)
        with connect() as con:
            prepare_warehouse(con)
        return 0
    if args.command == "run":
        if args.month and (args.first or args.last):
            raise SystemExit("dxmon run: give either --month or --from/--to, not both")
        first = args.month or args.first
        last = args.month or args.last or args.first
        if not first:
            raise SystemExit("dxmon run: give --month YYYY-MM or --from YYYY-MM --to YYYY-MM")
        if args.rebuild_reference:
            os.environ["DXMON_REBUILD_REFERENCE"] = "1"
        ok = run_months(first, last)
        print_outputs()
        return 0 if ok else 1
    if args.command == "reference":
        return 0 if build_reference(args.rebuild) else 1
    if args.command == "publish":
        from publication.publish import publish

        result = publish()
        print(f"published {', '.join(result.published_months)} to {result.directory}")
        for month, why in result.withheld_months.items():
            print(f"withheld {month}: {why}")
        return 0
    if args.command == "status":
        print_status()
        return 0
    if args.command == "quarantine":
        print_quarantine(args.month)
        return 0
    if args.command == "demo":
        if args.demo_command == "generate":
            demo_generate(args)
            return 0
        if args.demo_command == "run":
            return demo_run(args)
        return demo_serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
