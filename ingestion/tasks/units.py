"""Units as the task forms see them: the unit registry with its validity dates
(`ingestion/reports/dti/catalogue.py::all_units`) and the crosswalks of 2025 (the province merger
seed `units_province_merger_2025.csv`, the ministry restructure seed
`units_ministry_restructure_2025.csv`): a unit that ended has a successor, which leads its tasks
from the crosswalk's effective date (as the dbt model int_unit_codes_attributed attributes them)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from ingestion.reports.cell_parsing import shown
from ingestion.reports.dti.catalogue import SEEDS, Unit, unit_by_code

MERGER_SEEDS = (
    # (file, old code column, new code column)
    ("units_province_merger_2025.csv", "old_province_code", "new_province_code"),
    ("units_ministry_restructure_2025.csv", "old_ministry_code", "new_ministry_code"),
)


@dataclass(frozen=True)
class Succession:
    old_code: str
    new_code: str
    effective_date: dt.date
    crosswalk: str  # the seed's name without .csv


@lru_cache(maxsize=1)
def successions() -> dict[str, Succession]:
    """Old code -> its successor, for every code that changed (a code kept by the merged unit is
    not a succession)."""
    out = {}
    for name, old_col, new_col in MERGER_SEEDS:
        with open(SEEDS / "units" / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                old, new = row[old_col].strip(), row[new_col].strip()
                if old != new:
                    out[old] = Succession(old, new, dt.date.fromisoformat(row["effective_date"].strip()),
                                          name.removesuffix(".csv"))
    return out


def is_valid_on(unit: Unit, day: dt.date) -> bool:
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day)


def successor_on(code: str, day: dt.date) -> Succession | None:
    """The unit that took over `code`'s tasks by `day` (following a chain), None when `code`
    itself is the unit on that day or has no successor."""
    original, first, seen = code, None, set()
    while code not in seen and (s := successions().get(code)) is not None and s.effective_date <= day:
        seen.add(code)
        first = first or s
        code = s.new_code
    return None if first is None else Succession(original, code, first.effective_date, first.crosswalk)


def attributed_unit(code: str, day: dt.date) -> tuple[str, Succession | None]:
    """(the unit leading on `day` the tasks assigned to `code`, the succession when it moved)."""
    s = successor_on(code, day)
    return (s.new_code, s) if s else (code, None)


def unit_label(code: str | None) -> str:
    """'02 (Hà Giang)', or the code alone when the registry does not know it."""
    if code is None:
        return "(none)"
    unit = unit_by_code(code)
    return f"{code} ({unit.name_vi})" if unit else shown(code, 40)
