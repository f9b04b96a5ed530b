"""`dxmon prepare | run | reference | publish | status | quarantine`: the monthly service index."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect, data_dir, warehouse_path
from orchestration.cli.environment import execute_job, partition_kwargs, prepare_dbt
from orchestration.cli.text_tables import add_format_argument


def run_months(first: str, last: str, refetch: bool = False) -> bool:
    """Materialize the monthly job for `first`..`last` in one run, in this process; `refetch`
    downloads the months from the portal again (a run tag the raw extracts read)."""
    kwargs = partition_kwargs(first, last)
    if refetch:
        from orchestration.service_index.assets import REFETCH_TAG

        kwargs["tags"] = {**kwargs.get("tags", {}), REFETCH_TAG: "true"}
    result = execute_job("monthly_service_index", f"for {first}..{last}", **kwargs)
    return result.success


def build_reference(rebuild: bool) -> bool:
    """Materialize the reference data alone through Dagster."""
    if rebuild:
        os.environ["DXMON_REBUILD_REFERENCE"] = "1"
    return execute_job("reference_data", "reference data").success


def status_columns():
    from orchestration.cli.text_tables import Column

    return [Column("month", "month", 0, keep=True),
            Column("publishable", lambda r: "yes" if r["is_publishable"] else "NO", 0, keep=True),
            Column("rows loaded", "rows_loaded", 1, align="right"),
            Column("rejected", "rows_rejected", 1, align="right"),
            Column("blocking failures", lambda r: r["blocking_failures"] or "", 2, min_width=12)]


def print_status(fmt: str = "table") -> None:
    """Per month: publishable or not and why, rows loaded and rejected."""
    from orchestration.cli.text_tables import relation_rows, render
    from publication.summaries import month_status

    with connect() as con:
        prepare_warehouse(con)
        relation = month_status(con)
        fields, rows = relation.columns, relation_rows(relation)
    if fmt == "table" and not rows:
        print("no month loaded yet")
        return
    print(render(status_columns(), rows, fmt, fields=fields))


def quarantine_columns(files: bool = False):
    from orchestration.cli.text_tables import Column

    if files:
        return [Column("rule", "rule", 0, keep=True),
                Column("file", "original_location", 1, min_width=20),
                Column("reason", "reason", 2, min_width=20),
                Column("kind", "input_kind", 3)]
    return [Column("rule", "rule", 0, keep=True),
            Column("rows", "rows", 0, keep=True, align="right"),
            Column("example", "example_reason", 1, min_width=24),
            Column("file:row", lambda r: f"{Path(r['example_file'] or '?').name}:{r['example_row']}", 1,
                   min_width=16),
            Column("extract", "extract_kind", 3)]


QUARANTINE_FIELDS = ("what", "extract_kind", "rule", "rows", "example_file", "example_row", "example_reason",
                     "quarantine_copy")


def quarantine_records(rows: list[dict], files: list[dict]) -> list[dict]:
    """A month's rejected rows (per extract and rule) and files as one list for scripts."""
    return ([{"what": "rows", "extract_kind": r["extract_kind"], "rule": r["rule"], "rows": r["rows"],
              "example_file": r["example_file"], "example_row": r["example_row"],
              "example_reason": r["example_reason"], "quarantine_copy": None} for r in rows]
            + [{"what": "file", "extract_kind": f["input_kind"], "rule": f["rule"], "rows": None,
                "example_file": f["original_location"], "example_row": None, "example_reason": f["reason"],
                "quarantine_copy": f["location"]} for f in files])


def print_quarantine(month: str, fmt: str = "table") -> None:
    """A month's rejected rows by rule (count, an example) and its unreadable files."""
    from orchestration.cli.text_tables import fit_table, relation_rows, render
    from publication.summaries import quarantined_files, quarantined_rows

    with connect() as con:
        prepare_warehouse(con)
        rows = relation_rows(quarantined_rows(con, month))
        files = relation_rows(quarantined_files(con, month))
    if fmt != "table":
        print(render([], quarantine_records(rows, files), fmt, fields=QUARANTINE_FIELDS))
        return
    print(f"rejected rows of {month}: {sum(r['rows'] for r in rows)} by rule" if rows
          else f"rejected rows of {month}: none")
    if rows:
        print(fit_table(quarantine_columns(), rows))
    print(f"unreadable files of {month}: {len(files)}" if files else f"unreadable files of {month}: none")
    if files:
        print(fit_table(quarantine_columns(files=True), files))


def print_audit_outputs(published: Path, latest: str | None) -> None:
    """Where the auditors' answers are: scorecards, audit packs, the raw archive, explain."""
    from ingestion.core.raw_archive import raw_archive_dir
    from publication.audit.pack import audit_packs_dir

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
    from publication.publish import published_dir

    published = published_dir()
    manifest = published / "manifest.json"
    print("\nOutputs")
    print(f"  published marts (DuckDB): {published / 'dxmon_published.duckdb'}")
    print(f"  published marts (Parquet): {published}/*.parquet")
    print(f"  publication manifest:     {manifest}")
    print(f"  data quality (GX Data Docs): {data_dir() / 'quality' / 'gx' / 'uncommitted' / 'data_docs' / 'local_site' / 'index.html'}")
    from ingestion.core.quarantine import quarantine_root

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
    from orchestration.cli.rankings import print_grain_outputs

    print_grain_outputs()
    print("  query it (read-only, safe while the pipeline runs):\n"
          f"    .venv/bin/python -c \"import duckdb; print(duckdb.connect('{published / 'dxmon_published.duckdb'}', "
          "read_only=True).sql('select period_month, unit_level, rank, unit_name, total_score, band "
          "from rpt_service_ranking_monthly where not is_backcast and rank <= 3 order by 1, 2, 3'))\"")


def _prepare(args) -> int:
    """The dbt manifest, and the warehouse's raw, meta and quarantine tables (created and migrated)."""
    prepare_dbt(force=True)
    with connect() as con:
        prepare_warehouse(con)
    return 0


def _run(args) -> int:
    if args.month and (args.first or args.last):
        raise SystemExit("dxmon run: give either --month or --from/--to, not both")
    first = args.month or args.first
    last = args.month or args.last or args.first
    if not first:
        raise SystemExit("dxmon run: give --month YYYY-MM or --from YYYY-MM --to YYYY-MM")
    if args.rebuild_reference:
        os.environ["DXMON_REBUILD_REFERENCE"] = "1"
    ok = run_months(first, last, refetch=args.refetch)
    print_outputs()
    return 0 if ok else 1


def register(sub) -> None:
    sub.add_parser("prepare", help="parse the dbt project so Dagster can load it; create and migrate the warehouse tables").set_defaults(handler=_prepare)

    run = sub.add_parser("run", help="refresh one month, or backfill a range in one run, through Dagster")
    run.add_argument("--month", help="one month, YYYY-MM")
    run.add_argument("--from", dest="first", help="first month of a backfill, YYYY-MM")
    run.add_argument("--to", dest="last", help="last month of a backfill (included), YYYY-MM")
    run.add_argument("--rebuild-reference", action="store_true",
                     help="rebuild the reference data (seeds, units, calendar) even if unchanged")
    run.add_argument("--refetch", action="store_true",
                     help="download the months from the portal API again, even if archived complete "
                          "(the earlier pages stay as history)")
    run.set_defaults(handler=_run)

    reference = sub.add_parser("reference", help="build the reference data (units, methodology, calendar) only")
    reference.add_argument("--rebuild", action="store_true", help="rebuild even if unchanged")
    reference.set_defaults(handler=lambda a: 0 if build_reference(a.rebuild) else 1)

    status = sub.add_parser("status", help="per month: publishable or not and why, rows loaded and rejected")
    add_format_argument(status)
    status.set_defaults(handler=lambda a: print_status(a.format) or 0)
    quarantine = sub.add_parser("quarantine", help="rejected rows and files of a month, by rule, with an example")
    quarantine.add_argument("--month", required=True, help="YYYY-MM")
    add_format_argument(quarantine)
    quarantine.set_defaults(handler=lambda a: print_quarantine(a.month, a.format) or 0)
