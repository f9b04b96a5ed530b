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

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT, connect, data_dir
from orchestration.cli.environment import execute_job, partition_kwargs, prepare_dbt
from orchestration.cli.text_tables import add_format_argument
from orchestration.dbt.project import dbt_command
from orchestration.warehouse_lock import READ
from publication.dti_closure import empty_window


def _dbt_build(select: str, dbt_vars: dict) -> None:
    """The dbt build after an import of published history (its discrepancy mart): a refresh of
    derived tables only, outside any Dagster job."""
    prepare_dbt()
    # cautious: a test that also reads a model outside the selection waits for that model's build
    args = ["build", "--select", select, "--vars", json.dumps(dbt_vars), "--indirect-selection", "cautious"]
    completed = subprocess.run(dbt_command(*args, "--quiet"), cwd=PROJECT_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stdout.write(completed.stdout[-6000:])
        raise SystemExit(f"dbt build --select {select} failed (exit {completed.returncode}); see the messages above")


def run_dti_months(first: str, last: str) -> bool:
    """Materialize the monthly DTI job (intake, validation, provisional scores) through Dagster."""
    return execute_job("monthly_dti", f"DTI for {first}..{last}", **partition_kwargs(first, last)).success


def close_year(year: int, force: bool = False) -> int:
    """Freeze `year`'s final scores through the `close_dti_year` job (recorded in Dagster)."""
    result = execute_job("close_dti_year", f"close DTI {year}",
                         run_config={"ops": {"close_dti_year_op": {"config": {"year": year, "force": force}}}})
    if not result.success:
        return 1
    closure = result.output_for_node("close_dti_year_op")
    print(f"DTI {year} closed under {closure['methodology_version']}: {closure['units']} units frozen, "
          f"{closure['reports']} reports, input hash {closure['input_hash'][:16]}…")
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
    _dbt_build("tag:dti,+rpt_dti_history_discrepancies", empty_window(max(years)))
    print_discrepancies(years)
    return 0


def print_discrepancies(years: list[int] | None = None) -> None:
    from publication.summaries import dti_history_discrepancies

    with connect(read_only=True) as con:
        columns, rows = dti_history_discrepancies(con, years)
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


def ranking_columns():
    from orchestration.cli.text_tables import Column, rank_change

    return [Column("rank", "rank", 0, keep=True, align="right"),
            Column("change", lambda r: rank_change(r["rank_change"]), 1, align="right"),
            Column("unit", lambda r: f"{r['unit_code']} {r['unit_name'] or ''}".strip(), 0, keep=True),
            Column("DTI", lambda r: "—" if r["dti_value"] is None else f"{r['dti_value']:.4f}", 0, keep=True,
                   align="right"),
            Column("previous rank", "previous_rank", 2, align="right", min_width=4)]


def format_ranking(rows: list[dict], fmt: str = "table", width: int | None = None, fields=None) -> str:
    """A DTI ranking (publication/summaries.py::dti_ranking's rows): per level and group, rank,
    change, unit, DTI value; or every column as CSV or JSON."""
    from orchestration.cli.text_tables import fit_table, render

    if fmt != "table":
        return render([], rows, fmt, fields=fields)
    out = []
    for level, group in dict.fromkeys((r["level"], r["unit_group"]) for r in rows):
        of_group = [r for r in rows if (r["level"], r["unit_group"]) == (level, group)]
        first = of_group[0]
        basis = (f"provisional {str(first['period_month'])[:7]}" if first["is_provisional"] else "final")
        out.append(f"{level}{' ' + str(group) if group else ''}: {len(of_group)} units, {basis}, "
                   f"{first['methodology_version']}")
        out.append(fit_table(ranking_columns(), of_group, width))
    return "\n".join(out)


def print_ranking(year: int, level: str | None, limit: int, fmt: str = "table") -> int:
    from orchestration.cli.text_tables import relation_rows
    from publication.summaries import dti_ranking

    with connect(read_only=True) as con:
        relation = dti_ranking(con, year, level, limit)
        fields, rows = relation.columns, relation_rows(relation)
    if not rows and fmt == "table":
        print(f"dxmon dti ranking: no DTI ranking for {year}", file=sys.stderr)
        return 1
    print(format_ranking(rows, fmt, fields=fields))
    return 0


# ------------------------------------------------------------------------------------------

def register(sub) -> None:
    dti = sub.add_parser("dti", help="the Digital Transformation Index: templates, intake, scoring, closing years",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dti_sub = dti.add_subparsers(dest="dti_command", required=True)

    p = dti_sub.add_parser("templates", help="write the XLSX and CSV report templates of a level and year")
    p.add_argument("--level", required=True, choices=["province", "ministry"])
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--out", default=str(data_dir() / "templates"), help="folder (default %(default)s)")
    p.set_defaults(handler=lambda a: write_templates(a.level, a.year, Path(a.out)), warehouse_access=None)

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
    add_format_argument(p)
    p.set_defaults(handler=lambda a: print_ranking(a.year, a.level, a.limit, a.format), warehouse_access=READ)

    # `dxmon dti demo` is registered by orchestration/cli/demo.py (the demo depends on these
    # commands, not the other way round)
    global dti_commands
    dti_commands = dti_sub


dti_commands = None  # the `dxmon dti` subcommands, once registered

