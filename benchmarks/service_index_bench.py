"""Benchmark: one month of the 766 service index, pipeline against a hand-written floor.

    python -m benchmarks.service_index_bench --rows 10000000

1. Generates the month's extracts (Parquet landing files) once per size, cached in
   `benchmarks/out/<rows>/`.
2. fixed_overhead_s: the whole pipeline (`dxmon run --month`: Dagster, load, GX validation,
   dbt build with tests, publish) on a 10 k-row month, in a fresh process, on a warehouse whose
   reference data (seeds, units, calendar: `dxmon reference`) was built beforehand, as it is
   for every monthly refresh after the first; that one-time build is reported as
   reference_build_s.
3. pipeline_s and peak_rss_mb: the same on the big month (peak RSS is the largest process of the
   run: the dxmon process or its dbt child).
4. floor_s: one hand-written DuckDB SQL (`benchmarks/floor_service_index.sql`) over the same
   files computing the same `fct_service_index_monthly` scores, in a fresh process.
5. Checks that both give identical scores, and prints one JSON line:
   rows, pipeline_s, floor_s, fixed_overhead_s, marginal_ratio, peak_rss_mb, and what the big
   month's dbt invocation spent on the period marts (quarter, year, year to date) and on the
   handling-agency grain (period_models_s, agency_models_s: models and their tests) out of its
   service_index_dbt_nodes_s. The floor computes the month's unit scores only, so those two are
   part of the marginal ratio: the price of the extra grains.
Targets (issue 2): marginal_ratio <= 1.5, fixed_overhead_s <= 20, peak_rss_mb <= 2048 at 10 M.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
MONTH = "2025-08"
SMALL_ROWS = 10_000


def generate(rows: int) -> Path:
    target = OUT / f"rows-{rows}"
    marker = target / "generated.json"
    if marker.exists() and json.loads(marker.read_text()).get("rows") == rows:
        return target
    shutil.rmtree(target, ignore_errors=True)
    started = time.time()
    subprocess.run(
        [sys.executable, "-m", "demo.extracts", "--out", str(target), "--months", f"{MONTH}:{MONTH}",
         "--rows", str(rows), "--format", "parquet", "--api-months", ""],
        check=True, cwd=ROOT,
    )
    marker.write_text(json.dumps({"rows": rows, "seconds": round(time.time() - started, 1)}))
    return target


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the largest process in the child's tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL if not os.environ.get("BENCH_VERBOSE") else None)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(after, before) / 1024


def pipeline(generated: Path, workdir: Path) -> tuple[float, float, Path, float]:
    """Run the whole monthly pipeline on the generated month in a fresh data folder."""
    shutil.rmtree(workdir, ignore_errors=True)
    landing = workdir / "landing" / MONTH
    landing.mkdir(parents=True)
    for f in (generated / "landing" / MONTH).iterdir():
        os.link(f, landing / f.name)  # the same files, no copy
    env = dict(os.environ, DXMON_DATA_DIR=str(workdir), DXMON_WAREHOUSE=str(workdir / "warehouse" / "dxmon.duckdb"),
               DAGSTER_HOME=str(workdir / "dagster_home"))
    env.pop("DXMON_PORTAL_URL", None)
    dxmon = str(Path(sys.executable).parent / "dxmon")
    # A warehouse is set up once (seeds, units, calendar), not every month: untimed, reported apart.
    reference_s, _ = run_child([dxmon, "reference"], env)
    seconds, rss = run_child([dxmon, "run", "--month", MONTH], env)
    return seconds, rss, workdir / "published" / "fct_service_index_monthly.parquet", reference_s


# the dbt models of each grain, by folder (models/<layer>/service_index/<folder>/)
GRAIN_FOLDERS = {"period_models_s": "/service_index/periods/", "agency_models_s": "/service_index/agencies/"}


def dbt_grain_seconds(since: float) -> dict:
    """Seconds dbt spent building (models and their tests) each grain's folder in the latest
    service-index invocation written after `since` (dagster-dbt keeps each invocation's
    run_results.json under dbt_project/target/<id>/), and the whole invocation's node time."""
    target = ROOT / "dbt_project" / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    paths = {uid: node.get("original_file_path", "") for uid, node in manifest["nodes"].items()}
    for uid, node in manifest["nodes"].items():  # a test counts with the model it tests
        if node.get("resource_type") in ("test", "unit_test") and node.get("depends_on", {}).get("nodes"):
            paths[uid] = next((paths.get(d, "") for d in node["depends_on"]["nodes"] if d.startswith("model.")), "")
    for uid, node in manifest.get("unit_tests", {}).items():
        model = next((d for d in node.get("depends_on", {}).get("nodes", []) if d.startswith("model.")), "")
        paths[uid] = paths.get(model, "")
    candidates = sorted((p for p in target.glob("*/run_results.json") if p.stat().st_mtime >= since),
                        key=lambda p: p.stat().st_mtime)
    for results_path in reversed(candidates):
        results = json.loads(results_path.read_text(encoding="utf-8"))["results"]
        if not any("/service_index/" in paths.get(r["unique_id"], "") for r in results):
            continue
        figures = {name: round(sum(r["execution_time"] for r in results if folder in paths.get(r["unique_id"], "")), 2)
                   for name, folder in GRAIN_FOLDERS.items()}
        figures["service_index_dbt_nodes_s"] = round(sum(r["execution_time"] for r in results), 2)
        return figures
    return dict.fromkeys([*GRAIN_FOLDERS, "service_index_dbt_nodes_s"])


def floor(generated: Path, workdir: Path) -> tuple[float, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    result = workdir / "floor_fct_service_index_monthly.parquet"
    cmd = [sys.executable, "-m", "benchmarks.floor", "--landing", str(generated / "landing" / MONTH),
           "--month", MONTH, "--out", str(result)]
    seconds, _ = run_child(cmd, dict(os.environ))
    return seconds, result


def compare(pipeline_parquet: Path, floor_parquet: Path) -> dict:
    import duckdb

    from ingestion.core.warehouse import sql_str

    con = duckdb.connect()
    diff = con.execute(
        f"""
        WITH p AS (SELECT unit_code, total_score_unrounded AS score FROM read_parquet({sql_str(pipeline_parquet)})
                   WHERE NOT is_backcast AND period_month = DATE {sql_str(MONTH + '-01')} AND total_score_unrounded IS NOT NULL),
             f AS (SELECT unit_code, total_score_unrounded AS score FROM read_parquet({sql_str(floor_parquet)}))
        SELECT count(*) FILTER (WHERE p.unit_code IS NULL OR f.unit_code IS NULL) AS unmatched,
               coalesce(max(abs(p.score - f.score)), 0) AS max_abs_diff,
               count(*) AS units
        FROM p FULL JOIN f USING (unit_code)
        """
    ).fetchone()
    return {"unmatched_units": diff[0], "max_abs_score_diff": diff[1], "units": diff[2]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="dossiers in the benchmark month")
    parser.add_argument("--skip-floor-check", action="store_true", help="time the floor but do not fail on a score difference")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    small = generate(SMALL_ROWS)
    fixed_overhead_s, _, _, reference_build_s = pipeline(small, OUT / "run-small")
    big = generate(args.rows)
    big_started = time.time()
    pipeline_s, peak_rss_mb, published, _ = pipeline(big, OUT / "run-big")
    grains = dbt_grain_seconds(big_started)
    floor_s, floor_result = floor(big, OUT / "floor")
    check = compare(published, floor_result)
    identical = check["unmatched_units"] == 0 and check["max_abs_score_diff"] < 1e-9
    figures = {
        "rows": args.rows,
        "pipeline_s": round(pipeline_s, 2),
        "floor_s": round(floor_s, 2),
        "fixed_overhead_s": round(fixed_overhead_s, 2),
        "marginal_ratio": round((pipeline_s - fixed_overhead_s) / floor_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "reference_build_s": round(reference_build_s, 2),
        "scores_identical": identical,
        **grains,
        **check,
    }
    print(json.dumps(figures))
    if not identical and not args.skip_floor_check:
        print("pipeline and floor scores differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
