"""Country names as publishers print them, resolved to ISO 3166 alpha-3 through the seed
`dbt_project/seeds/kpi/kpi_countries.csv` (one row per UN member state: country_code,
country_name, is_asean, asean_member_since, aliases separated by ';').

Names are compared folded (case, diacritics, stray and doubled spaces, curly apostrophes), so
"Viet Nam ", "VIET NAM", "Việt Nam" and "Vietnam" are one country; nothing else is guessed."""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from ingestion.kpi.catalogue import SEED_DIR, KpiCatalogueError
from ingestion.reports.cell_parsing import fold

SEED = "kpi_countries.csv"


def countries_path() -> Path:
    folder = Path(os.environ.get("DXMON_KPI_CATALOGUE_DIR", SEED_DIR))
    return folder / SEED


def _key(name: str) -> str:
    return fold(name.replace("\u2019", "'").replace("\u2018", "'"))


@functools.cache
def _names(path: str, mtime: int) -> tuple[dict[str, str], frozenset[str]]:
    names: dict[str, str] = {}
    codes: set[str] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            code = (row.get("country_code") or "").strip().upper()
            if len(code) != 3 or not code.isalpha():
                raise KpiCatalogueError(f"{path}: row {line}: field country_code: {code!r} is not ISO alpha-3")
            codes.add(code)
            for name in [row["country_name"], *(row.get("aliases") or "").split(";")]:
                if name.strip():
                    other = names.setdefault(_key(name), code)
                    if other != code:
                        raise KpiCatalogueError(f"{path}: row {line}: name {name!r} is also a name of {other}")
    return names, frozenset(codes)


def _table() -> tuple[dict[str, str], frozenset[str]]:
    path = countries_path()
    try:
        return _names(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise KpiCatalogueError(f"{path}: the country list is missing") from None


def country_code(name: str) -> str | None:
    """The alpha-3 code of a country name or alias, or None when the list does not know it."""
    return _table()[0].get(_key(name)) if name else None


def is_country_code(code: str) -> bool:
    return (code or "").strip().upper() in _table()[1]
