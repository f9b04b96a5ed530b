"""The demo's published KPI figures (docs/kpi_sources.md): national statistics releases and
international index files, transcribed from the public record with their source keys
(dbt_project/seeds/kpi/kpi_sources.csv), and the one function the demo calls to load them.

    statistics/NN_<publisher>_<what>.csv   one file per release, loaded in the order of their names
                                           (so the GSO's earlier vintage is loaded before its revision)
    international/un_egdi_<year>.csv       the UN E-Government Survey shape, one file per edition
    international/other_indices.csv        GII, NRI, ITU GCI, AI readiness, EGDI ranks the UN file lacks
    international/un_egdi_provenance.csv   per country and edition: verified or not, source keys, notes
                                           (the UN shape has no such columns; not loaded)

The 2020 EGDI values of Singapore, Malaysia, Thailand and the Philippines are unverified (recalled,
not read in a source): they are left out of un_egdi_2020.csv; the sourced ranks of three of them are
in other_indices.csv with a note, and Malaysia's 2020 rank, which has no source, is not loaded.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

DEMO_KPI_DIR = Path(__file__).resolve().parent
STATISTICS_DIR = DEMO_KPI_DIR / "statistics"
INTERNATIONAL_DIR = DEMO_KPI_DIR / "international"
PROVENANCE_FILE = "un_egdi_provenance.csv"


def statistics_files() -> list[Path]:
    """The demo's statistics releases, in load order."""
    return sorted(STATISTICS_DIR.glob("*.csv"))


def index_files() -> list[Path]:
    """The demo's international index files (the UN editions first, then the long file)."""
    files = sorted(p for p in INTERNATIONAL_DIR.glob("*.csv") if p.name != PROVENANCE_FILE)
    return sorted(files, key=lambda p: (not p.name.startswith("un_egdi_"), p.name))


def load_demo_sources(con: duckdb.DuckDBPyConnection) -> dict:
    """Load every demo statistics release and index file (a rerun is a no-op); a summary per file."""
    from ingestion.kpi.international import load_index_file
    from ingestion.kpi.statistics import load_statistics

    statistics = [load_statistics(con, path) for path in statistics_files()]
    indices = [load_index_file(con, path, source_key=None) for path in index_files()]
    summaries = statistics + indices
    return {
        "files": len(summaries),
        "loaded": sum(s.status == "loaded" for s in summaries),
        "unchanged": sum(s.status == "unchanged" for s in summaries),
        "rejected_files": [s.source_file for s in summaries if s.is_rejected_whole],
        "rows_rejected": sum(s.rows_rejected or 0 for s in summaries),
        "per_file": [s.as_metadata() for s in summaries],
    }
