"""The DTI methodology catalogue and unit registry, read from the dbt seed files.

Intake, validation, templates and the demo need the catalogue *before* dbt has run (a template is
written for a year nobody has scored yet), so they read the seed CSVs directly rather than the
warehouse. This module is the one place that knows where those files are and what their columns
mean; `DXMON_DTI_CATALOGUE` points it at another catalogue (an official annex, a test fixture).

Catalogue columns (dbt_project/seeds/methodology/dti/dti_indicators.csv):
methodology_version, level, indicator_code, parent_code, node_type (pillar/main/sub), name_vi,
name_en, max_points, rule (ratio/threshold/checklist/boolean; 'aggregate' on pillar and main rows),
ratio_target, checklist_items, value_unit (share / percent / count / items / yes_no),
value_min, value_max, source_kind, automatic_measure, evidence_required, is_representative,
display_order.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
LEVELS = ("province", "ministry")
CATALOGUE_COLUMNS = (
    "methodology_version", "level", "indicator_code", "parent_code", "node_type", "name_vi", "name_en",
    "max_points", "rule", "ratio_target", "checklist_items", "value_unit", "value_min", "value_max", "source_kind",
    "automatic_measure", "evidence_required", "is_representative", "display_order",
)
RULES = ("ratio", "threshold", "checklist", "boolean")

# Value units meaning "a share written as a percentage" (a bare 85 means 85 % = 0.85).
PERCENT_UNITS = ("%", "percent", "phần trăm", "tỷ lệ %")


def catalogue_path() -> Path:
    return Path(os.environ.get("DXMON_DTI_CATALOGUE", SEEDS / "methodology" / "dti" / "dti_indicators.csv"))


def years_path() -> Path:
    return Path(os.environ.get("DXMON_DTI_YEARS", SEEDS / "methodology" / "dti" / "dti_years.csv"))


class CatalogueError(ValueError):
    """The catalogue file is missing or cannot be used; the message names file, row and field."""


def _float(text: str | None, where: str, field: str) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        return float(str(text).strip())
    except ValueError:
        raise CatalogueError(f"{where}: field {field}: expected a number, found {text!r}") from None


def _bool(text: str | None) -> bool:
    return str(text or "").strip().lower() in ("true", "1", "yes", "t", "y", "x")


@dataclass(frozen=True)
class Indicator:
    methodology_version: str
    level: str
    code: str
    parent_code: str | None
    node_type: str  # pillar | main | sub
    name_vi: str
    name_en: str
    max_points: float | None
    rule: str | None
    checklist_items: int | None
    value_unit: str | None
    value_min: float | None
    value_max: float | None
    source_kind: str | None
    automatic_measure: str | None
    evidence_required: bool
    display_order: float

    @property
    def is_reported(self) -> bool:
        """A sub-indicator: one row of the unit's template. Every sub-indicator is asked for, also
        `automatic` ones (the service-index measurement replaces the self-reported value when one
        exists, and the two are compared) and `survey` ones (the unit reports the survey result)."""
        return self.node_type == "sub"

    @property
    def is_automatic(self) -> bool:
        return (self.source_kind or "").strip().lower() == "automatic"

    @property
    def is_percent_number(self) -> bool:
        """A threshold measured in percent (e.g. budget share 1,2 %): '1,2%' is stored as 1.2."""
        return self.rule == "threshold" and (self.value_unit or "").strip().lower() in PERCENT_UNITS

    @property
    def is_percent(self) -> bool:
        return self.rule == "ratio" and (self.value_unit or "").strip().lower() in PERCENT_UNITS

    def allowed_range(self) -> tuple[float | None, float | None]:
        """Bounds of the stored `value` (ratios as a share in [0, 1], whatever the unit says)."""
        if self.rule == "boolean":
            return 0.0, 1.0
        if self.rule == "checklist":
            return 0.0, float(self.checklist_items) if self.checklist_items else self.value_max
        if self.rule == "ratio":
            low = self.value_min if self.value_min is not None else 0.0
            high = self.value_max if self.value_max is not None else 1.0
            if high > 1:  # the catalogue wrote the range in percent
                low, high = low / 100, high / 100
            return low, high
        return self.value_min, self.value_max

    def range_text(self) -> str:
        low, high = self.allowed_range()
        if self.rule == "boolean":
            return "Có / Không"
        if self.rule == "ratio":
            return f"{_num(low * 100)}–{_num(high * 100)} %"
        if self.is_percent_number:
            return f"{_num(low) if low is not None else ''}–{_num(high) if high is not None else ''} %"
        if low is None and high is None:
            return "số"
        return f"{_num(low) if low is not None else ''}–{_num(high) if high is not None else ''}"


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}".replace(".", ",")


@dataclass(frozen=True)
class Unit:
    code: str
    level: str
    name_vi: str
    valid_from: dt.date
    valid_to: dt.date | None
    region_en: str | None = None
    unit_type: str | None = None
    dti_group: str | None = None


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise CatalogueError(f"{path}: file not found")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[Indicator, ...]:
    out = []
    for i, r in enumerate(_read_csv(Path(path)), start=2):
        where = f"{path}: row {i}"
        missing = [c for c in ("methodology_version", "level", "indicator_code", "node_type") if not (r.get(c) or "").strip()]
        if missing:
            raise CatalogueError(f"{where}: field {missing[0]} is empty")
        rule = (r.get("rule") or "").strip().lower() or None
        if r["node_type"].strip() == "sub" and rule not in RULES:
            raise CatalogueError(f"{where}: field rule: expected one of {', '.join(RULES)}, found {rule!r}")
        items = _float(r.get("checklist_items"), where, "checklist_items")
        out.append(Indicator(
            methodology_version=r["methodology_version"].strip(),
            level=r["level"].strip(),
            code=r["indicator_code"].strip(),
            parent_code=(r.get("parent_code") or "").strip() or None,
            node_type=r["node_type"].strip(),
            name_vi=(r.get("name_vi") or "").strip(),
            name_en=(r.get("name_en") or "").strip(),
            max_points=_float(r.get("max_points"), where, "max_points"),
            rule=rule,
            checklist_items=int(items) if items is not None else None,
            value_unit=(r.get("value_unit") or "").strip() or None,
            value_min=_float(r.get("value_min"), where, "value_min"),
            value_max=_float(r.get("value_max"), where, "value_max"),
            source_kind=(r.get("source_kind") or "").strip() or None,
            automatic_measure=(r.get("automatic_measure") or "").strip() or None,
            evidence_required=_bool(r.get("evidence_required")),
            display_order=_float(r.get("display_order"), where, "display_order") or float(i),
        ))
    return tuple(out)


def load_catalogue(path: Path | None = None) -> list[Indicator]:
    """Every catalogue row (all versions, levels and node types)."""
    p = Path(path) if path else catalogue_path()
    if not p.is_file():
        raise CatalogueError(f"{p}: DTI catalogue not found (set DXMON_DTI_CATALOGUE or add the seed)")
    return list(_load(str(p.resolve()), p.stat().st_mtime))


def indicators(methodology_version: str, level: str, node_type: str | None = None,
               path: Path | None = None) -> list[Indicator]:
    rows = [i for i in load_catalogue(path)
            if i.methodology_version == methodology_version and i.level == level
            and (node_type is None or i.node_type == node_type)]
    return sorted(rows, key=lambda i: (i.display_order, i.code))


def reported_indicators(methodology_version: str, level: str, path: Path | None = None) -> list[Indicator]:
    """The rows of a template, in display order."""
    return [i for i in indicators(methodology_version, level, path=path) if i.is_reported]


def methodology_version_for_year(year: int) -> str:
    """The methodology version a DTI year is scored under: the years seed is the one source."""
    path = years_path()
    if not path.is_file():
        raise CatalogueError(f"{path}: the DTI years file (year -> methodology_version) is missing")
    for r in _read_csv(path):
        if int(r["year"]) == int(year):
            return r["methodology_version"].strip()
    raise CatalogueError(f"{path}: no row for DTI year {year}")


def known_versions(path: Path | None = None) -> set[str]:
    return {i.methodology_version for i in load_catalogue(path)}


# --------------------------------------------------------------------------------------------
# Units (dbt_project/seeds/units): the 63 province codes (the 34 post-merger units keep codes of
# the 63) and the ministries with validity dates.

def _date(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    return dt.date.fromisoformat(text) if text else None


@lru_cache(maxsize=1)
def all_units() -> tuple[Unit, ...]:
    # The 63 provinces end on the day before the 2025 merger unless their code lives on as one of
    # the 34 (a merged unit keeps the code of the province holding the new capital).
    merger = _read_csv(SEEDS / "units" / "units_province_merger_2025.csv")
    survivors = {r["new_province_code"].strip() for r in merger}
    merged_on = min(_date(r["effective_date"]) for r in merger)
    units = [
        Unit(r["province_code"].strip(), "province", r["name_vi"].strip(), dt.date(2000, 1, 1),
             None if r["province_code"].strip() in survivors else merged_on - dt.timedelta(days=1),
             region_en=r.get("region_en"), unit_type=r.get("unit_type"))
        for r in _read_csv(SEEDS / "units" / "units_provinces_63.csv")
    ]
    units += [
        Unit(r["ministry_code"].strip(), "ministry", r["name_vi"].strip(), _date(r["valid_from"]),
             _date(r["valid_to"]), dti_group=r.get("dti_group"))
        for r in _read_csv(SEEDS / "units" / "units_ministries.csv")
    ]
    return tuple(units)


def units_for_year(year: int, level: str | None = None) -> list[Unit]:
    """Units that report for DTI `year`: those valid on the year's last day (as the scoring side
    attributes reports; DTI 2024 was reported by the 63 provinces, 2025 by the 34)."""
    end = dt.date(year, 12, 31)
    return [u for u in all_units()
            if (level is None or u.level == level)
            and u.valid_from <= end and (u.valid_to is None or u.valid_to >= end)]


def unit_by_code(code: str) -> Unit | None:
    for u in all_units():
        if u.code == code:
            return u
    return None
