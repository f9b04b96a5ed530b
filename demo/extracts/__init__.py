"""Demo and benchmark data: the national extracts, generated deterministically at any scale.

`generate_demo` writes, for each requested month, the four extracts of
`ingestion/core/extract_contract.py` (dossiers, dossier_status_history, procedures, complaints) either as
landing files (`landing/<YYYY-MM>/<prefix>_<YYYY-MM>.csv|csv.gz|parquet`) or as the demo portal's
typed store (`portal_store/<YYYY-MM>/<kind>.parquet`), plus `manifest.json` recording what was
written: row counts, sha256, and how many defects of each class were planted in each file, so
validation can be checked against exactly those. docs/demo_data.md describes the distributions.

How it scales: dossiers are drawn in fixed-size blocks of `block_rows` rows, each from its own
`numpy.random.Generator` seeded from (seed, stream, month, block). Blocks are buffered into chunks
of `chunk_rows` and written with pyarrow, so memory is bounded by one chunk and the row content
does not depend on the chunk size (CSV bytes are identical for any chunk size; Parquet differs
only in row-group boundaries). Per-procedure attributes come from a counter-based hash, so they
do not depend on which months are generated.

Month continuity: the ~5 % of dossiers received late in month M and still open at its end are the
same dossiers (same ids) that month M+1 carries over, with their later statuses; across the 2025
reorganisation their unit is re-attributed to the successor valid in M+1.

The package, by what each module owns: `months` (months, time units), `registry` (units, from the
dbt seeds), `randomness` (RNG streams, counter-based hashes), `procedures` (the procedure pool),
`plans` (month plans: units, weights, rates, catalogues), `dossiers` (drawing dossiers),
`defects` (planting defects), `columns` (Arrow builders and schemas), `tables` (one table per
extract), `writers` (output files), `generate` (`generate_demo`, the manifest), `cli`.
"""

from demo.extracts.cli import main
from demo.extracts.columns import arrow_type, csv_schema, typed_schema, vietnamese_decimal
from demo.extracts.defects import BAD_UNIT_CODES, DEFECT_CLASSES, DEFECT_RATES
from demo.extracts.generate import BLOCK_ROWS, CHUNK_ROWS, FILE_FORMATS, GenerationSummary, generate_demo
from demo.extracts.months import Month, parse_months
from demo.extracts.registry import UNIT_SEEDS_DIR, Registry

__all__ = [
    "BAD_UNIT_CODES",
    "BLOCK_ROWS",
    "CHUNK_ROWS",
    "DEFECT_CLASSES",
    "DEFECT_RATES",
    "FILE_FORMATS",
    "UNIT_SEEDS_DIR",
    "GenerationSummary",
    "Month",
    "Registry",
    "arrow_type",
    "csv_schema",
    "generate_demo",
    "main",
    "parse_months",
    "typed_schema",
    "vietnamese_decimal",
]
