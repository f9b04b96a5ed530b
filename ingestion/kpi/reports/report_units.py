"""The units of KPI measures as the report form knows them (kpi_report_units.csv, beside this
module; `DXMON_KPI_REPORT_UNITS` points at another file of the same columns): each unit's family
(percent, count, ...), its Vietnamese label in the form, the range a value may take, the largest
change between two consecutive periods that is not flagged as implausible, and the spellings an
official may write in the form's unit cell. Data, not code: a range or a threshold changes here."""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.kpi.catalogue import KpiCatalogueError
from ingestion.reports.cell_parsing import fold

UNITS_FILE = Path(__file__).with_name("kpi_report_units.csv")


def units_file() -> Path:
    return Path(os.environ.get("DXMON_KPI_REPORT_UNITS", UNITS_FILE))


@dataclass(frozen=True)
class ReportUnit:
    unit: str
    family: str
    label_vi: str
    value_min: float | None
    value_max: float | None
    max_change: float | None  # points of the unit between consecutive periods; None: not checked
    accepted_labels: tuple[str, ...]

    def range_text(self) -> str:
        low = "" if self.value_min is None else f"{self.value_min:g}"
        high = "" if self.value_max is None else f"{self.value_max:g}"
        if low and high:
            return f"{low}–{high}"
        return f"≥ {low}" if low else (f"≤ {high}" if high else "")


def _float(text: str | None, where: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise KpiCatalogueError(f"{where}: expected a number, found {text!r}") from None


@functools.cache
def _load(path: str, mtime: float) -> dict[str, ReportUnit]:
    out = {}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise KpiCatalogueError(f"{path}: the KPI report units file is missing") from None
    for line, row in enumerate(rows, start=2):
        where = f"{path}: row {line}"
        unit = (row.get("unit") or "").strip()
        if not unit:
            raise KpiCatalogueError(f"{where}: field unit is empty")
        out[unit] = ReportUnit(unit, row["family"].strip(), row["label_vi"].strip(),
                               _float(row.get("value_min"), f"{where}: field value_min"),
                               _float(row.get("value_max"), f"{where}: field value_max"),
                               _float(row.get("max_change_between_periods"),
                                      f"{where}: field max_change_between_periods"),
                               tuple(p.strip() for p in (row.get("accepted_labels") or "").split(";") if p.strip()))
    return out


def report_units() -> dict[str, ReportUnit]:
    path = units_file()
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)


def report_unit(unit: str) -> ReportUnit:
    found = report_units().get(unit)
    if found is None:
        raise KpiCatalogueError(f"{units_file()}: unit {unit!r} of kpi_measures.csv has no row")
    return found


def families_of_label(text: str) -> set[str]:
    """The unit families whose accepted spellings include `text` (compared folded)."""
    wanted = fold(text)
    return {u.family for u in report_units().values() if wanted in {fold(lb) for lb in u.accepted_labels}}
