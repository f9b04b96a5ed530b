"""The KPI catalogue, read from the dbt seed files (docs/kpi_tracking.md).

Intake, templates, the loaders and their validation need the catalogue before dbt has run (a
report form is written for a period nobody has reported yet), so they read the seed CSVs
directly, as the DTI's catalogue does. This module is the one place that knows where those files
are and what their columns mean; `DXMON_KPI_CATALOGUE_DIR` points it at another folder holding
files of the same names (a test fixture, a proposed revision).

Files (dbt_project/seeds/kpi/): kpi_catalogue.csv (one row per KPI), kpi_measures.csv (one row
per KPI and measure: a KPI may carry several, e.g. a world and an ASEAN rank; `main` is the KPI as
named, in the catalogue's unit), kpi_targets.csv, kpi_sources.csv, kpi_status_classes.csv."""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "dbt_project" / "seeds" / "kpi"
LEVELS = ("national", "ministry", "province", "district", "commune")
PERCENT_UNITS = ("percent", "percent_gdp", "percent_per_year")


class KpiCatalogueError(ValueError):
    """The catalogue is missing or cannot be used; the message names file, row and field."""


def catalogue_dir() -> Path:
    return Path(os.environ.get("DXMON_KPI_CATALOGUE_DIR", SEED_DIR))


@dataclass(frozen=True)
class Kpi:
    code: str
    pillar: str
    name_vi: str
    name_en: str
    unit: str
    direction: str  # higher_is_better | lower_is_better
    levels: tuple[str, ...]
    source_kind: str
    frequency: str
    trend_method: str
    catalogue_version: str


@dataclass(frozen=True)
class Measure:
    kpi_code: str
    measure: str
    unit: str
    direction: str
    report_levels: tuple[str, ...]

    @property
    def is_percent(self) -> bool:
        return self.unit in PERCENT_UNITS


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


def _rows(name: str) -> list[tuple[int, dict[str, str]]]:
    path = catalogue_dir() / name
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return [(i, row) for i, row in enumerate(csv.DictReader(fh), start=2)]
    except FileNotFoundError:
        raise KpiCatalogueError(f"{path}: the KPI catalogue file is missing") from None


@functools.cache
def _load(folder: str, stamp: tuple) -> tuple[dict[str, Kpi], dict[tuple[str, str], Measure]]:
    kpis: dict[str, Kpi] = {}
    for line, row in _rows("kpi_catalogue.csv"):
        code = (row.get("kpi_code") or "").strip()
        if not code:
            raise KpiCatalogueError(f"{catalogue_dir() / 'kpi_catalogue.csv'}: row {line}: field kpi_code is empty")
        levels = _split(row.get("levels"))
        unknown = [lv for lv in levels if lv not in LEVELS]
        if unknown:
            raise KpiCatalogueError(f"{catalogue_dir() / 'kpi_catalogue.csv'}: row {line}: field levels: "
                                    f"unknown level(s) {unknown}; expected {list(LEVELS)}")
        kpis[code] = Kpi(code, row["pillar"], row["name_vi"], row["name_en"], row["unit"], row["direction"], levels,
                         row["source_kind"], row.get("frequency") or "unknown", row.get("trend_method") or "linear",
                         row["catalogue_version"])
    measures: dict[tuple[str, str], Measure] = {}
    for line, row in _rows("kpi_measures.csv"):
        code = row["kpi_code"].strip()
        if code not in kpis:
            raise KpiCatalogueError(f"{catalogue_dir() / 'kpi_measures.csv'}: row {line}: field kpi_code: "
                                    f"{code!r} is not in kpi_catalogue.csv")
        measures[(code, row["measure"].strip())] = Measure(code, row["measure"].strip(), row["unit"], row["direction"],
                                                          _split(row.get("report_levels")))
    return kpis, measures


def _catalogue() -> tuple[dict[str, Kpi], dict[tuple[str, str], Measure]]:
    folder = catalogue_dir()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("kpi_*.csv"))) if folder.is_dir() else ()
    return _load(str(folder), stamp)


def kpis() -> dict[str, Kpi]:
    """Every KPI of the catalogue by code."""
    return _catalogue()[0]


def kpi(code: str) -> Kpi | None:
    return kpis().get(code)


def measures() -> dict[tuple[str, str], Measure]:
    """Every (kpi_code, measure) of the catalogue."""
    return _catalogue()[1]


def measure(kpi_code: str, name: str = "main") -> Measure | None:
    return measures().get((kpi_code, name))


def reported_measures(level: str) -> list[Measure]:
    """The measures units of `level` report in the periodic KPI form, in catalogue order."""
    return [m for m in measures().values() if level in m.report_levels]


def status_codes() -> tuple[str, ...]:
    """The status classes of rpt_kpi_progress (kpi_status_classes.csv), in display order."""
    rows = sorted(_rows("kpi_status_classes.csv"), key=lambda r: int(r[1]["display_order"]))
    return tuple(row["status_code"] for _, row in rows)


def catalogue_version() -> str:
    versions = {k.catalogue_version for k in kpis().values()}
    if len(versions) != 1:
        raise KpiCatalogueError(f"{catalogue_dir() / 'kpi_catalogue.csv'}: field catalogue_version: one version "
                                f"expected for the whole catalogue, found {sorted(versions)}")
    return versions.pop()
