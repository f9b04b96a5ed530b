"""The unit registry: provinces, ministries, the 2025 merger and restructuring, read from the dbt seeds
(the one definition of units)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from demo.extracts.months import Month

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UNIT_SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds" / "units"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass
class Registry:
    provinces_63: list[str]
    municipalities: set[str]
    merger: dict[str, str]  # old province code -> new code
    merger_date: date
    ministries: dict[str, dict]  # code -> {dti_group, valid_from, valid_to}
    restructure: list[tuple[str, str, date]]  # (old, new, effective)
    all_codes: set[str]
    # names for the demo's agency names: the 63 provinces ('Tỉnh Hà Giang', short: 'Hà Giang'),
    # the 34 ('Tỉnh Tuyên Quang'), ministries ('Bộ Tài chính')
    names_63: dict[str, str] = field(default_factory=dict)
    short_names_63: dict[str, str] = field(default_factory=dict)
    names_34: dict[str, str] = field(default_factory=dict)
    ministry_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, seeds_dir: Path = UNIT_SEEDS_DIR) -> Registry:
        prov = _read_csv(seeds_dir / "units_provinces_63.csv")
        merger_rows = _read_csv(seeds_dir / "units_province_merger_2025.csv")
        min_rows = _read_csv(seeds_dir / "units_ministries.csv")
        restr_rows = _read_csv(seeds_dir / "units_ministry_restructure_2025.csv")
        dates = {r["effective_date"] for r in merger_rows}
        if len(dates) != 1:
            raise ValueError(f"units_province_merger_2025.csv: expected one effective_date, got {dates}")
        ministries = {
            r["ministry_code"]: {
                "dti_group": r["dti_group"],
                "valid_from": _d(r["valid_from"]),
                "valid_to": _d(r["valid_to"]),
            }
            for r in min_rows
        }
        codes_63 = [r["province_code"] for r in prov]
        merger = {r["old_province_code"]: r["new_province_code"] for r in merger_rows}
        missing = set(codes_63) - set(merger)
        if missing:
            raise ValueError(f"units_province_merger_2025.csv has no successor for {sorted(missing)}")
        all_codes = set(codes_63) | set(merger.values()) | set(ministries)
        return cls(
            provinces_63=codes_63,
            municipalities={r["province_code"] for r in prov if r["unit_type"].startswith("municipality")},
            merger=merger,
            merger_date=date.fromisoformat(dates.pop()),
            ministries=ministries,
            restructure=[
                (r["old_ministry_code"], r["new_ministry_code"], date.fromisoformat(r["effective_date"]))
                for r in restr_rows
            ],
            all_codes=all_codes,
            names_63={r["province_code"]: ("Thành phố " if r["unit_type"].startswith("municipality") else "Tỉnh ")
                      + r["name_vi"] for r in prov},
            short_names_63={r["province_code"]: r["name_vi"] for r in prov},
            names_34={r["new_province_code"]: r["new_name_vi"] for r in merger_rows},
            ministry_names={r["ministry_code"]: r["name_vi"] for r in min_rows},
        )

    def provinces_in(self, m: Month) -> list[str]:
        if m.first_day < self.merger_date:
            return list(self.provinces_63)
        return sorted(set(self.merger.values()))

    def ministries_in(self, m: Month, dvc_only: bool = True) -> list[str]:
        d0 = m.first_day
        return [
            c
            for c, r in self.ministries.items()
            if (not dvc_only or r["dti_group"] == "dvc")
            and (r["valid_from"] is None or r["valid_from"] <= d0)
            and (r["valid_to"] is None or r["valid_to"] >= d0)
        ]

    def ministry_predecessors(self, code: str, m: Month) -> list[str]:
        return [
            old
            for old, new, eff in self.restructure
            if new == code and eff <= m.first_day and self.ministries[old]["dti_group"] == "dvc"
        ]

    def successor(self, code: str, m: Month) -> str | None:
        """The unit valid in month m that a unit code of an earlier month rolls up to."""
        if code in self.merger and m.first_day >= self.merger_date:
            return self.merger[code]
        for old, new, eff in self.restructure:
            if old == code and eff <= m.first_day:
                return new
        return code
