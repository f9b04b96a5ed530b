"""The command line: python -m demo.extracts --out DIR --months SPEC --rows N [...] (docs/demo_data.md)."""

from __future__ import annotations

import argparse

from demo.extracts.generate import CHUNK_ROWS, FILE_FORMATS, generate_demo
from demo.extracts.months import parse_months


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m demo.extracts",
        description="Generate deterministic demo extracts (landing files and the demo portal's store) "
        "with planted defects recorded in manifest.json. See docs/demo_data.md.",
    )
    ap.add_argument("--out", required=True, help="output folder (e.g. data/demo)")
    ap.add_argument("--months", required=True,
                    help="'2025-02:2025-08' (inclusive), '2025-02,2025-05' or one month")
    ap.add_argument("--rows", type=int, required=True, help="dossier rows per month")
    ap.add_argument("--api-months", default="",
                    help="months served by the demo portal (Parquet store) instead of landing files")
    ap.add_argument("--format", default="csv", choices=FILE_FORMATS, help="landing file format")
    ap.add_argument("--seed", type=int, default=766)
    ap.add_argument("--no-defects", action="store_true", help="no planted defects and no anomalies")
    ap.add_argument("--vietnamese-decimals", action="store_true",
                    help="CSV fee_amount as '15.000,50' instead of '15000.50'")
    ap.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows per write / row group")
    ap.add_argument("--workers", type=int, default=1, help="months generated in parallel processes")
    ap.add_argument("--no-hash", action="store_true", help="skip sha256 of written files")
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args(argv)
    try:
        months = parse_months(a.months)
        api = parse_months(a.api_months) if a.api_months else []
        unknown = set(api) - set(months)
        if unknown:
            ap.error(f"--api-months {sorted(unknown)} are not in --months")
        s = generate_demo(
            a.out, months, a.rows, seed=a.seed, api_months=api, file_format=a.format,
            defects=not a.no_defects, vietnamese_decimals=a.vietnamese_decimals,
            chunk_rows=a.chunk_rows, workers=a.workers, hash_files=not a.no_hash, progress=a.progress,
        )
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {len(s.manifest['files'])} files for {len(months)} months to {s.out_dir} "
          f"in {s.seconds:.1f} s ({s.dossier_rows_per_second:,.0f} dossier rows/s)")
    for k, v in s.rows.items():
        print(f"  {k}: {v:,} rows")
    print(f"  manifest: {s.manifest_path}")
    return 0
