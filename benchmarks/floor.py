"""The floor of the service-index benchmark: one hand-written DuckDB statement over one month's
landing files computing the scores of `marts.fct_service_index_monthly` (as-reported units).

    python -m benchmarks.floor --landing benchmarks/out/rows-1000000/landing/2025-08 \\
        --month 2025-08 --out /tmp/floor.parquet

The statement is `benchmarks/floor_service_index.sql`. This module only fills its placeholders
and runs it once in a fresh in-memory DuckDB with the pipeline's memory limit
(`DXMON_DUCKDB_MEMORY_LIMIT`, default 1200MB) and a temporary spill folder, writing the result
with COPY to Parquet: unit_code, unit_level, the portal and decision group points,
applicable_max_points, total_score_unrounded (one row per unit scored in the month).

Turning the landing folder into the SQL's four source relations follows the loader
(`ingestion/landing/loading.py`): files are taken in name order by their extract prefix
(.csv, .csv.gz, .parquet), column names are matched after the loader's normalisation, CSV is read
as text (the SQL parses it like the row rules), a file missing a contract column is skipped (the
loader quarantines it), a file with the same content as an earlier one is skipped, and each row
carries the rank of its file's source id as the loader names it (`file:<month>:<kind>:<sha256[:16]>`)
and its 1-based row number, which order duplicate keys. The sha256 is only computed when a kind has
more than one file (with one file the order of duplicates is the row order alone).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind
from ingestion.core.warehouse import sql_str

ROOT = Path(__file__).resolve().parent.parent
SQL_PATH = Path(__file__).resolve().parent / "floor_service_index.sql"
SEEDS_DIR = ROOT / "dbt_project" / "seeds"
SUFFIXES = (".csv.gz", ".csv", ".parquet")  # longest first
MEMORY_LIMIT = os.environ.get("DXMON_DUCKDB_MEMORY_LIMIT", "1200MB")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), None)


def _kind_of(path: Path) -> ExtractKind | None:
    base = path.name.lower()
    for kind in sorted(EXTRACT_KINDS.values(), key=lambda k: -len(k.file_prefix)):
        if base.startswith(kind.file_prefix):
            return kind
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _normalise(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower().replace(" ", "_")


def _reader(path: Path) -> tuple[str, str]:
    """(table function call, 1-based row expression) reading one landing file."""
    p = sql_str(str(path))
    if _suffix(path) == ".parquet":
        return f"read_parquet({p}, file_row_number = true)", "file_row_number + 1"
    opener = gzip.open if _suffix(path) == ".csv.gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(4)
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    return (
        f"read_csv({p}, all_varchar = true, header = true, null_padding = true, "
        f"strict_mode = false, encoding = '{encoding}')",
        "row_number() OVER ()",
    )


def source_relations(con: duckdb.DuckDBPyConnection, landing: Path, month: str) -> tuple[dict[str, str], list[str]]:
    """The SQL's `{source_<kind>}` relations for the month's landing folder, and notes on skipped files."""
    files: dict[str, list[Path]] = {name: [] for name in EXTRACT_KINDS}
    notes: list[str] = []
    if landing.is_dir():
        for path in sorted(p for p in landing.iterdir() if p.is_file() and not p.name.startswith(".")):
            kind = _kind_of(path)
            if kind is None or _suffix(path) is None:
                notes.append(f"skipped {path.name}: not an extract file")
                continue
            files[kind.name].append(path.resolve())
    relations = {}
    for name, kind in EXTRACT_KINDS.items():
        loaded: dict[str, tuple[Path, str, str, str]] = {}  # source id -> file, columns, reader, row
        for path in files[name]:
            sha = _sha256(path) if len(files[name]) > 1 else ""
            source_id = f"file:{month}:{name}:{sha[:16]}"
            if source_id in loaded:
                notes.append(f"skipped {path.name}: same content as {loaded[source_id][0].name}")
                continue
            reader, row_expr = _reader(path)
            try:
                columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
            except duckdb.Error as exc:
                notes.append(f"skipped {path.name}: unreadable ({str(exc).splitlines()[0]})")
                continue
            by_name = {_normalise(c): c for c in columns}
            missing = [f for f in kind.field_names if f not in by_name]
            if missing:
                notes.append(f"skipped {path.name}: missing column(s) {', '.join(missing)}")
                continue
            cols = ", ".join(f"{quote_ident(by_name[f])} AS {quote_ident(f)}" for f in kind.field_names)
            loaded[source_id] = (path, cols, reader, row_expr)
        # duplicates keep the row of the first source id (then row): each file carries its rank
        selects = [
            f"SELECT {cols}, {rank} AS __source_order, CAST({row_expr} AS BIGINT) AS __source_row FROM {reader}"
            for rank, (_, (_, cols, reader, row_expr)) in enumerate(sorted(loaded.items()), start=1)
        ]
        if not selects:  # no file of this kind: an empty text relation
            cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote_ident(f)}" for f in kind.field_names)
            selects.append(f"SELECT {cols}, CAST(NULL AS INTEGER) AS __source_order, "
                           f"CAST(NULL AS BIGINT) AS __source_row WHERE false")
        relations[name] = "(" + "\nUNION ALL BY NAME\n".join(selects) + ")"
    return relations, notes


def render_sql(values: dict[str, str], template: str | None = None) -> str:
    """Fill `{name}` placeholders (only the known names: DuckDB struct literals also use braces)."""
    template = SQL_PATH.read_text(encoding="utf-8") if template is None else template

    def repl(m: re.Match) -> str:
        return values[m.group(1)] if m.group(1) in values else m.group(0)

    return re.sub(r"\{([a-z_]+)\}", repl, template)


def floor_sql(con: duckdb.DuckDBPyConnection, landing: Path, month: str,
              seeds: Path = SEEDS_DIR) -> tuple[str, list[str]]:
    """The filled statement for `month` ('YYYY-MM') and the notes on skipped files."""
    relations, notes = source_relations(con, landing, month)
    values = {
        "landing": str(landing).replace("'", "''"),
        "month": f"{month}-01",
        "seeds": str(seeds).replace("'", "''"),
        **{f"source_{name}": rel for name, rel in relations.items()},
    }
    return render_sql(values), notes


def run_floor(landing: Path, month: str, out: Path, seeds: Path = SEEDS_DIR) -> dict:
    """Compute the month's scores into `out` (Parquet); returns seconds and row count."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="floor_duckdb_tmp_"))
    started = time.perf_counter()
    try:
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = {sql_str(MEMORY_LIMIT)}")
            con.execute(f"SET temp_directory = {sql_str(str(spill))}")
            con.execute("SET preserve_insertion_order = false")
            sql, notes = floor_sql(con, landing, month, seeds)
            con.execute(f"COPY ({sql}) TO {sql_str(str(out))} (FORMAT parquet)")
            rows = con.execute(f"SELECT count(*) FROM read_parquet({sql_str(str(out))})").fetchone()[0]
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return {"seconds": time.perf_counter() - started, "units": rows, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--landing", required=True, type=Path, help="the month's landing folder")
    ap.add_argument("--month", required=True, help="YYYY-MM")
    ap.add_argument("--out", required=True, type=Path, help="result Parquet file")
    ap.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="dbt seeds folder")
    a = ap.parse_args(argv)
    try:
        result = run_floor(a.landing.resolve(), a.month, a.out.resolve(), a.seeds.resolve())
    except ValueError as exc:
        ap.error(str(exc))
    for note in result["notes"]:
        print(note, file=sys.stderr)
    print(f"floor {a.month}: {result['units']} units in {result['seconds']:.2f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
