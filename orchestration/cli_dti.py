"""`dxmon dti ...`: the Digital Transformation Index from the command line (docs/dti_design.md).

    dxmon dti templates --level province --year 2024 [--out DIR]   report templates (XLSX + CSV)
    dxmon dti run --month 2023-06 | --from 2023-01 --to 2023-12   intake, validation, provisional DTI
    dxmon dti import-history --values FILE --published FILE        published results, recomputed
    dxmon dti load-weights FILE --source TEXT                      points the public record lacks
    dxmon dti close-year 2023                                      freeze a year's final scores
    dxmon dti ranking --year 2023 [--level province]               print a ranking
    dxmon dti demo                                                 the demo's DTI part alone
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from publication.audit.provenance import code_version, current_user
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import PROJECT_ROOT, connect, data_dir

DEMO_DTI_YEARS = (2022, 2023)


def _dbt_build(select: str, dbt_vars: dict, exclude: str | None = None) -> None:
    from orchestration.cli import dbt_command, prepare_dbt

    prepare_dbt()
    # cautious: a test that also reads a model outside the selection waits for that model's build
    args = ["build", "--select", select, "--vars", json.dumps(dbt_vars), "--indirect-selection", "cautious"]
    if exclude:
        args += ["--exclude", exclude]
    completed = subprocess.run(dbt_command(*args, "--quiet"), cwd=PROJECT_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stdout.write(completed.stdout[-6000:])
        raise SystemExit(f"dbt build --select {select} failed (exit {completed.returncode}); see the messages above")


def _empty_window(year: int) -> dict:
    """Vars that build the DTI models without any provisional month (start == end)."""
    return {"period_start": f"{year}-12-01", "period_end": f"{year}-12-01"}


def run_dti_months(first: str, last: str) -> bool:
    """Materialize the monthly DTI job (intake, validation, provisional scores) through Dagster."""
    from dagster import DagsterInstance

    from orchestration.cli import prepare_dbt
    from orchestration.partitions import month_key, range_tags

    prepare_dbt()
    from orchestration.definitions import defs

    job = defs.resolve_job_def("monthly_dti")
    kwargs = ({"partition_key": month_key(first)} if month_key(first) == month_key(last)
              else {"tags": range_tags(first, last)})
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    print(f"run {result.run_id}: DTI {'succeeded' if result.success else 'FAILED'} for {first}..{last}")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
                print(f"  {event.step_key}: {event.step_failure_data.error.message.strip()[:2000]}")
    return result.success


def catalogue_hash(con, methodology_version: str) -> str:
    rows = con.execute(
        "SELECT * FROM seeds.dti_indicators WHERE methodology_version = ? ORDER BY ALL", [methodology_version]
    ).fetchall()
    bands = con.execute(
        "SELECT * FROM seeds.dti_rule_bands WHERE methodology_version = ? ORDER BY ALL", [methodology_version]
    ).fetchall()
    return hashlib.sha256(repr((rows, bands)).encode()).hexdigest()


def close_year(year: int, force: bool = False) -> int:
    """Freeze `year`'s final scores with their methodology version and a hash of their inputs."""
    with connect() as con:
        prepare_warehouse(con)
        closed = con.execute(
            "SELECT closed_at, input_hash FROM meta.dti_year_closures WHERE year = ?", [year]
        ).fetchall()
    if closed and not force:
        print(f"DTI {year} was closed at {closed[0][0]} (input hash {closed[0][1][:16]}); "
              "give --force to close it again with the current reports")
        return 1
    # the final scores and everything their lineage reads (the sub-indicators are not frozen: the
    # auditors' rows are kept by rpt_dti_score_lineage under context final:<year>, built below once
    # the closure is recorded, so they name this close's run, code version and input hash)
    final_vars = {"dti_final_year": year, **_empty_window(year)}
    _dbt_build("tag:dti,+int_dti_final_scores tag:dti,+rpt_dti_score_lineage", final_vars,
               exclude="rpt_dti_score_lineage")
    run_id = f"close-year:{year}:{uuid.uuid4().hex[:12]}"
    with connect() as con:
        rows = con.execute("SELECT count(*), any_value(methodology_version) FROM intermediate.int_dti_final_scores "
                           "WHERE year = ?", [year]).fetchone()
        if not rows[0]:
            print(f"DTI {year}: no accepted report to score; nothing closed")
            return 1
        version = rows[1]
        submission_hashes = con.execute(
            """SELECT s.submission_id, s.sha256 FROM raw.dti_submissions s
               WHERE s.submission_id IN (
                 SELECT trim(unnest(string_split(submission_ids, ','))) FROM intermediate.int_dti_final_scores
                 WHERE year = ?)
               ORDER BY 1""",
            [year],
        ).fetchall()
        digest = hashlib.sha256()
        for submission_id, sha in submission_hashes:
            digest.update(f"{submission_id}:{sha}\n".encode())
        digest.update(f"catalogue:{version}:{catalogue_hash(con, version)}\n".encode())
        input_hash = digest.hexdigest()
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM meta.dti_frozen_scores WHERE year = ?", [year])
        con.execute("INSERT INTO meta.dti_frozen_scores BY NAME SELECT * FROM intermediate.int_dti_final_scores "
                    "WHERE year = ?", [year])
        con.execute("DELETE FROM meta.dti_year_closures WHERE year = ?", [year])
        con.execute("INSERT INTO meta.dti_year_closures (year, methodology_version, input_hash, closed_at, closed_by, "
                    "run_id, code_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [year, version, input_hash, dt.datetime.now(), current_user(), run_id, code_version()])
        con.execute("COMMIT")
    _dbt_build("rpt_dti_score_lineage", final_vars)
    # fct_dti_scores and the rankings re-read the frozen rows
    _dbt_build("tag:dti", _empty_window(year), exclude="tag:reference")
    print(f"DTI {year} closed under {version}: {rows[0]} units frozen, "
          f"{len(submission_hashes)} reports, input hash {input_hash[:16]}…")
    print("  publish the final index: dxmon publish (a year whose reports fail blocking checks stays withheld "
          "unless overridden: dxmon publish --override --index dti --year YEAR --reason TEXT)")
    return 0


def import_history(values: Path, published: Path) -> int:
    from ingestion.reports.dti.history import HistoryImportError
    from ingestion.reports.dti.history import import_history as load

    with connect() as con:
        try:
            summary = load(con, Path(values), Path(published))
        except HistoryImportError as exc:
            print(str(exc))
            return 1
    print(f"imported: {json.dumps(summary.as_metadata(), ensure_ascii=False)}")
    years = sorted(set(summary.as_metadata().get("years", []))) or [dt.date.today().year]
    _dbt_build("tag:dti,+rpt_dti_history_discrepancies", _empty_window(max(years)))
    print_discrepancies(years)
    return 0


def print_discrepancies(years: list[int] | None = None) -> None:
    with connect(read_only=True) as con:
        where = f"WHERE year IN ({', '.join(str(int(y)) for y in years)})" if years else ""
        rows = con.execute(f"SELECT * FROM marts.rpt_dti_history_discrepancies {where} ORDER BY ALL").fetchall()
        columns = [d[0] for d in con.description]
    if not rows:
        print("history: every published value and rank recomputes within 1e-4")
        return
    print(f"history: {len(rows)} discrepancies between published and recomputed results")
    print("  " + " | ".join(columns))
    for row in rows:
        print("  " + " | ".join("" if v is None else (f"{v:.6f}" if isinstance(v, float) else str(v)) for v in row))


def load_weights(path: Path, source: str) -> int:
    from ingestion.reports.dti.history import load_weight_supplements

    with connect() as con:
        summary = load_weight_supplements(con, Path(path), source)
    print(f"weights loaded: {json.dumps(summary.as_metadata(), ensure_ascii=False)}")
    return 0


def write_templates(level: str, year: int, out: Path) -> int:
    from ingestion.reports.templates import write_templates as write

    for path in write(level, year, Path(out)):
        print(path)
    return 0


def print_ranking(year: int, level: str | None, limit: int) -> int:
    with connect(read_only=True) as con:
        final = con.execute("SELECT count(*) FROM marts.rpt_dti_ranking WHERE year = ? AND NOT is_provisional",
                            [year]).fetchone()[0]
        basis = "NOT is_provisional" if final else (
            "is_provisional AND period_month = (SELECT max(period_month) FROM marts.rpt_dti_ranking WHERE year = ?)")
        params = [year] + ([] if final else [year]) + ([level] if level else [])
        print(con.sql(
            f"""SELECT level, unit_group, rank, unit_code, unit_name, round(dti_value, 4) AS dti_value,
                       previous_rank, rank_change, is_provisional, period_month, methodology_version
                FROM marts.rpt_dti_ranking WHERE year = ? AND {basis} {'AND level = ?' if level else ''}
                QUALIFY row_number() OVER (PARTITION BY level, unit_group ORDER BY rank, unit_code) <= {int(limit)}
                ORDER BY level, unit_group, rank, unit_code""",
            params=params,
        ))
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

    out = Path(out or data_dir() / "demo" / "dti")
    reports = generate_demo_reports(out, years=DEMO_DTI_YEARS)
    inbox = default_inbox_dir()
    source_inbox = out / "inbox"
    for path in sorted(source_inbox.rglob("*")):
        if path.is_file():
            target = inbox / path.relative_to(source_inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.stat().st_size != path.stat().st_size:
                shutil.copy2(path, target)  # keeps the report's date as the file's time
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
    from publication.publish import published_dir

    published = published_dir()
    from publication.audit.pack import audit_packs_dir, dti_pack_name

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


# ------------------------------------------------------------------------------------------

def register(sub) -> None:
    dti = sub.add_parser("dti", help="the Digital Transformation Index: templates, intake, scoring, closing years",
                         description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    dti_sub = dti.add_subparsers(dest="dti_command", required=True)

    p = dti_sub.add_parser("templates", help="write the XLSX and CSV report templates of a level and year")
    p.add_argument("--level", required=True, choices=["province", "ministry"])
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--out", default=str(data_dir() / "templates"), help="folder (default %(default)s)")
    p.set_defaults(handler=lambda a: write_templates(a.level, a.year, Path(a.out)))

    p = dti_sub.add_parser("run", help="take the inbox, validate, score the provisional DTI through Dagster")
    p.add_argument("--month", help="YYYY-MM: the DTI of that month's year as of its end")
    p.add_argument("--from", dest="first", help="first month of a range, YYYY-MM")
    p.add_argument("--to", dest="last", help="last month of a range (included), YYYY-MM")

    def _run(a) -> int:
        first, last = a.month or a.first, a.month or a.last or a.first
        if not first:
            raise SystemExit("dxmon dti run: give --month YYYY-MM or --from YYYY-MM --to YYYY-MM")
        return 0 if run_dti_months(first, last) else 1
    p.set_defaults(handler=_run)

    p = dti_sub.add_parser("import-history", help="import published results and list where recomputation differs")
    p.add_argument("--values", required=True, help="CSV year,level,unit_code,indicator_code,value")
    p.add_argument("--published", required=True, help="CSV year,level,unit_code,dti_value,rank")
    p.set_defaults(handler=lambda a: import_history(Path(a.values), Path(a.published)))

    p = dti_sub.add_parser("load-weights", help="load main-indicator points the catalogue leaves unset")
    p.add_argument("file", help="CSV methodology_version,level,indicator_code,max_points")
    p.add_argument("--source", required=True, help="where the points come from (decision, page); shown on every score")
    p.set_defaults(handler=lambda a: load_weights(Path(a.file), a.source))

    p = dti_sub.add_parser("close-year", help="freeze a year's final scores with its methodology and input hash")
    p.add_argument("year", type=int)
    p.add_argument("--force", action="store_true", help="close again a year already closed")
    p.set_defaults(handler=lambda a: close_year(a.year, a.force))

    p = dti_sub.add_parser("ranking", help="print a year's ranking (final if closed, else the latest provisional)")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--level", choices=["province", "ministry"])
    p.add_argument("--limit", type=int, default=100, help="rows per level and group (default %(default)s)")
    p.set_defaults(handler=lambda a: print_ranking(a.year, a.level, a.limit))

    p = dti_sub.add_parser("demo", help="the demo's DTI part alone: reports, history, provisional 2023, closes")
    p.set_defaults(handler=lambda a: 0 if run_dti_demo() else 1)

