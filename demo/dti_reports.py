"""Demo DTI reports, history and weight supplement (docs/dti_reports.md, "Demo data").

`generate_demo_reports(out_dir)` writes `out_dir/inbox/<year>/<unit_code>/<file>` for every
province and every ministry reporting in the demo years, filled from the catalogue with values
that follow each unit's capacity (richer, more urban provinces score higher; a unit's years are
correlated), and with the defects officials really send, at fixed documented rates. Files carry
their report date as modification time, so intake versions them in the order they were sent.
A manifest (`out_dir/dti_demo_manifest.json`, outside the inbox) lists every planted defect.

`write_demo_history(out_dir)` writes the two history CSVs (2020 pillar values under 1726_2020,
2021 main-indicator values under 922_2022) with one planted discrepancy;
`write_demo_weight_supplement(out_dir)` the ministry points the public record lacks, labelled a
demo assumption.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.reports.dti.catalogue import (
    SEEDS,
    Indicator,
    Unit,
    indicators,
    methodology_version_for_year,
    reported_indicators,
    units_for_year,
)
from ingestion.reports.templates import INDICATOR_SHEET, fill_workbook, report_csv_text, report_workbook

DEFAULT_SEED = 2023

# Rates of the planted defects (share of the units of a year unless stated).
RESUBMISSION_RATE = 0.08          # a corrected later version of the final report
TEXT_IN_NUMBER_FILES = 3          # files per year with "đang cập nhật" in a number cell
DECIMAL_COMMA_RATE = 0.15         # units typing values as text with decimal commas ("85,3%")
CSV_UTF8_BOM_FILES = 3            # final reports sent as CSV UTF-8 with BOM (Excel "CSV UTF-8")
CSV_UTF16_FILES = 2               # final reports sent as CSV UTF-16 (Excel "Unicode Text")
CSV_SEMICOLON_FILES = 2           # plain UTF-8 CSV with ';' and decimal commas
WRONG_FOLDER_FILES = 1            # per year: a report dropped into another unit's folder
MISSING_SHEET_FILES = 1           # per year: the indicator sheet renamed; the unit resends
PROGRESS_DATES = {2023: (dt.date(2023, 4, 14), dt.date(2023, 7, 14), dt.date(2023, 10, 13))}
PROGRESS_SHARES = (0.55, 0.7, 0.85)  # how far along the year's work a progress report is

REGION_EFFECT = {
    "Red River Delta": 0.08, "Southeast": 0.08, "Mekong River Delta": 0.0, "North Central Coast": 0.02,
    "South Central Coast": 0.02, "Northeast": -0.04, "Northwest": -0.1, "Central Highlands": -0.07,
}


@dataclass
class DemoReports:
    inbox: Path
    files: list[Path] = field(default_factory=list)
    defects: list[dict] = field(default_factory=list)
    manifest: Path | None = None

    def as_metadata(self) -> dict:
        counts: dict[str, int] = {}
        for d in self.defects:
            counts[d["defect"]] = counts.get(d["defect"], 0) + 1
        return {"files": len(self.files), "inbox": str(self.inbox), "defects": counts}


def _clip(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, x))


def _capacity(unit: Unit, rng: random.Random) -> float:
    """A unit's digital-transformation capacity in 2022, in [0.15, 0.95]."""
    if unit.level == "province":
        base = 0.5 + REGION_EFFECT.get(unit.region_en or "", 0.0)
        if (unit.unit_type or "").startswith("municipality"):
            base += 0.2
    else:
        base = 0.62 if unit.dti_group == "dvc" else 0.5
    return _clip(base + rng.gauss(0, 0.07), 0.15, 0.95)


def _full_band(version: str, level: str, code: str) -> float | None:
    """The lower bound of the full-points band of a threshold indicator (from the rule bands)."""
    path = SEEDS / "methodology" / "dti" / "dti_rule_bands.csv"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if (r["methodology_version"], r["level"], r["indicator_code"]) == (version, level, code) \
                    and float(r["points_share"] or 0) == 1:
                return float(r["lower_bound"])
    return None


@dataclass
class _Draw:
    """A unit-year's latent values per indicator, before formatting; progress reports scale them."""
    shares: dict[str, float]
    denominators: dict[str, int]


def _draw(inds: list[Indicator], capacity: float, rng: random.Random, difficulty: dict[str, float]) -> _Draw:
    shares, dens = {}, {}
    for ind in inds:
        shares[ind.code] = _clip(capacity + difficulty[ind.code] + rng.gauss(0, 0.08), 0.02, 1.0)
        dens[ind.code] = rng.choice((40, 120, 350, 800, 2400, 6000)) + rng.randint(0, 30)
    return _Draw(shares, dens)


def _vn_number(x: float, decimals: int = 1) -> str:
    """12345.6 -> '12.345,6' (Vietnamese)."""
    whole, frac = f"{x:,.{decimals}f}".split(".") if decimals else (f"{x:,.0f}", "")
    whole = whole.replace(",", ".")
    return whole + ("," + frac if decimals else "")


def _values(inds: list[Indicator], draw: _Draw, progress: float, style: str, rng: random.Random,
            bands: dict[str, float | None], year: int, issuer: str = "UBND") -> dict[str, dict]:
    """Cell contents as an official types them, in one of the styles: 'numeric' (numbers, ratios
    as counts or shares), 'decimal_comma' (text with Vietnamese decimal commas and % signs)."""
    out = {}
    for ind in inds:
        share = draw.shares[ind.code] * progress
        cell: dict = {}
        if ind.rule == "ratio":
            if style == "decimal_comma":
                cell["value"] = _vn_number(share * 100) + "%"
            elif sum(map(ord, ind.code)) % 2 == 0:  # half the ratios as counts, deterministic
                den = draw.denominators[ind.code]
                cell["numerator"], cell["denominator"] = round(share * den), den
            else:
                cell["value"] = round(share, 4)
        elif ind.rule == "boolean":
            yes = share > 0.45
            cell["value"] = "Có" if yes else "Không"
        elif ind.rule == "checklist":
            items = ind.checklist_items or int(ind.value_max or 4)
            cell["value"] = min(items, int(math.floor(share * (items + 0.6))))
        elif ind.rule == "threshold":
            full = bands.get(ind.code) or ((ind.value_max or 10) / 2)
            number = round(full * share * 1.6, 2)
            if ind.value_max is not None:
                number = min(number, ind.value_max)
            if ind.is_percent_number:
                cell["value"] = _vn_number(number, 2) + "%" if style == "decimal_comma" else number
            else:
                number = round(number) if (ind.value_unit or "") == "count" else number
                cell["value"] = _vn_number(number, 1) if style == "decimal_comma" else number
        claimed = cell.get("value") not in (None, 0, "Không") or cell.get("numerator")
        if ind.evidence_required and claimed:
            cell["evidence"] = (f"Số {rng.randint(10, 999)}/QĐ-{issuer} "
                                f"ngày {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}")
        out[ind.code] = cell
    return out


def _stamp(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def generate_demo_reports(out_dir: Path, years: tuple[int, ...] = (2022, 2023), seed: int = DEFAULT_SEED,
                          unit_codes: tuple[str, ...] | None = None) -> DemoReports:
    """Write demo reports into `out_dir/inbox`; see the module docstring and docs/dti_reports.md.
    `unit_codes` limits the demo to some units (tests)."""
    out_dir = Path(out_dir)
    inbox = out_dir / "inbox"
    result = DemoReports(inbox)
    capacities: dict[str, float] = {}
    books: dict[tuple[str, int], object] = {}

    def write(year: int, folder: str, unit: Unit, name: str, when: dt.datetime, values: dict, fmt: str = "xlsx",
              encoding: str = "utf-8", delimiter: str = ",", mutate=None) -> Path:
        path = inbox / str(year) / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            if mutate is None:
                key = (unit.level, year)
                if key not in books:
                    books[key] = report_workbook(unit.level, year)
                fill_workbook(books[key], unit.code, when.date(), values).save(path)
            else:
                wb = report_workbook(unit.level, year, unit_code=unit.code, report_date=when.date(), values=values)
                mutate(wb)
                wb.save(path)
        else:
            text = report_csv_text(unit.level, year, unit_code=unit.code, report_date=when.date(), values=values,
                                   delimiter=delimiter)
            path.write_bytes(text.encode(encoding))
        _stamp(path, when)
        result.files.append(path)
        return path

    def defect(kind: str, path: Path, note: str) -> None:
        result.defects.append({"defect": kind, "file": str(path.relative_to(out_dir)), "note": note})

    for year in years:
        version = methodology_version_for_year(year)
        units = [u for u in units_for_year(year) if unit_codes is None or u.code in unit_codes]
        by_level = {lvl: reported_indicators(version, lvl) for lvl in ("province", "ministry")}
        bands = {lvl: {i.code: _full_band(version, lvl, i.code) for i in inds if i.rule == "threshold"}
                 for lvl, inds in by_level.items()}
        yrng = random.Random(f"{seed}:{year}")
        # an indicator's difficulty is the same every year (years stay correlated)
        drng = random.Random(f"{seed}:difficulty")
        difficulty = {lvl: {i.code: drng.uniform(-0.15, 0.15) for i in inds} for lvl, inds in by_level.items()}
        order = list(range(len(units)))
        yrng.shuffle(order)
        picks = iter(order)

        def take(n: int, units=units, picks=picks) -> list[Unit]:
            return [units[i] for _, i in zip(range(n), picks)]  # range first: no extra pick consumed

        n_resubmit = max(1, round(RESUBMISSION_RATE * len(units)))
        resubmitters = {u.code for u in take(n_resubmit)}
        text_in_number = {u.code for u in take(TEXT_IN_NUMBER_FILES)}
        missing_sheet = {u.code for u in take(MISSING_SHEET_FILES)}
        provinces_left = [units[i] for i in order if units[i].level == "province"]
        csv_units = {}
        for kind, n in (("csv_utf8_bom", CSV_UTF8_BOM_FILES), ("csv_utf16", CSV_UTF16_FILES),
                        ("csv_semicolon", CSV_SEMICOLON_FILES)):
            for u in take(n):
                csv_units[u.code] = kind
        wrong_pairs = []
        for _ in range(WRONG_FOLDER_FILES):
            a, b = yrng.sample(provinces_left, 2)
            wrong_pairs.append((a, b))
        decimal_comma = {u.code for u in units if yrng.random() < DECIMAL_COMMA_RATE}

        for unit in units:
            if unit.code not in capacities:
                capacities[unit.code] = _capacity(unit, random.Random(f"{seed}:{unit.code}"))
            # correlated over years: the capacity grows a little each year
            capacity = _clip(capacities[unit.code] + 0.04 * (year - years[0]) + yrng.gauss(0, 0.03), 0.1, 0.98)
            inds = by_level[unit.level]
            draw = _draw(inds, capacity, yrng, difficulty[unit.level])
            style = "decimal_comma" if unit.code in decimal_comma else "numeric"
            final_day = dt.date(year + 1, 1, 5) + dt.timedelta(days=yrng.randint(0, 50))  # Jan–Feb
            final_at = dt.datetime.combine(final_day, dt.time(9 + yrng.randint(0, 7), yrng.randint(0, 59)))
            stem = f"DTI_{year}_{unit.code}"
            if unit.code in decimal_comma:
                defect("decimal_comma", inbox / str(year) / unit.code, "values typed as text: 85,3% and 1.234,5")

            # quarterly progress reports (the provisional index grows during the year)
            for day, progress in zip(PROGRESS_DATES.get(year, ()), PROGRESS_SHARES):
                when = dt.datetime.combine(day, dt.time(10, 0))
                values = _values(inds, draw, progress, style, yrng, bands[unit.level], year)
                write(year, unit.code, unit, f"{stem}_tien_do_{day:%Y%m%d}.xlsx", when, values)

            values = _values(inds, draw, 1.0, style, yrng, bands[unit.level], year)
            if unit.code in missing_sheet:
                path = write(year, unit.code, unit, f"{stem}_{final_day:%Y%m%d}.xlsx", final_at, values,
                             mutate=lambda wb: setattr(wb[INDICATOR_SHEET], "title", "Sheet1"))
                defect("missing_sheet", path, "indicator sheet renamed 'Sheet1': file rejected; the unit resends")
                final_at += dt.timedelta(days=2)
                write(year, unit.code, unit, f"{stem}_{final_at:%Y%m%d}_gui_lai.xlsx", final_at, values)
            elif unit.code in csv_units:
                kind = csv_units[unit.code]
                encoding = {"csv_utf8_bom": "utf-8-sig", "csv_utf16": "utf-16", "csv_semicolon": "utf-8"}[kind]
                delimiter = ";" if kind == "csv_semicolon" else ","
                if kind == "csv_semicolon":
                    values = _values(inds, draw, 1.0, "decimal_comma", yrng, bands[unit.level], year)
                path = write(year, unit.code, unit, f"{stem}_{final_day:%Y%m%d}.csv", final_at, values, fmt="csv",
                             encoding=encoding, delimiter=delimiter)
                defect(kind, path, f"final report as CSV ({encoding}, delimiter '{delimiter}')")
            else:
                broken = dict(values)
                if unit.code in text_in_number:
                    code = next(i.code for i in inds if i.rule in ("ratio", "threshold"))
                    broken[code] = {"value": "đang cập nhật"}
                path = write(year, unit.code, unit, f"{stem}_{final_day:%Y%m%d}.xlsx", final_at, broken)
                if unit.code in text_in_number:
                    defect("text_in_number", path, f"indicator {code}: 'đang cập nhật'; corrected in a resubmission")
            if unit.code in resubmitters or unit.code in text_in_number:
                for ind in yrng.sample(inds, k=min(2, len(inds))):
                    if ind.rule == "ratio":
                        draw.shares[ind.code] = _clip(draw.shares[ind.code] + 0.05)
                corrected = _values(inds, draw, 1.0, style, yrng, bands[unit.level], year)
                when = final_at + dt.timedelta(days=yrng.randint(7, 20))
                path = write(year, unit.code, unit, f"{stem}_{when:%Y%m%d}_dieu_chinh.xlsx", when, corrected)
                defect("resubmission", path, "a corrected later version (v2)")

        for owner, folder in wrong_pairs:
            when = dt.datetime.combine(dt.date(year + 1, 2, 10), dt.time(15, 30))
            inds = by_level[owner.level]
            draw = _draw(inds, capacities[owner.code], yrng, difficulty[owner.level])
            values = _values(inds, draw, 1.0, "numeric", yrng, bands[owner.level], year)
            path = write(year, folder.code, owner, f"DTI_{year}_{owner.code}_gui_nham.xlsx", when, values)
            defect("wrong_folder", path, f"report of unit {owner.code} dropped into the folder of {folder.code}: rejected")

    result.manifest = out_dir / "dti_demo_manifest.json"
    result.manifest.write_text(json.dumps({
        "seed": seed, "years": list(years), "files": len(result.files),
        "rates": {"resubmission": RESUBMISSION_RATE, "decimal_comma": DECIMAL_COMMA_RATE,
                  "text_in_number_files_per_year": TEXT_IN_NUMBER_FILES, "csv_utf8_bom": CSV_UTF8_BOM_FILES,
                  "csv_utf16": CSV_UTF16_FILES, "csv_semicolon": CSV_SEMICOLON_FILES,
                  "wrong_folder_per_year": WRONG_FOLDER_FILES, "missing_sheet_per_year": MISSING_SHEET_FILES},
        "defects": result.defects,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


# --------------------------------------------------------------------------------------------
# History and weights

HISTORY_YEARS = {2020: "pillar", 2021: "main"}
DISCREPANCY = {"year": 2021, "unit_code": "31", "delta": 0.0123}  # Hải Phòng's 2021 total is off


def _competition_ranks(values: dict[str, float]) -> dict[str, int]:
    ordered = sorted(values.items(), key=lambda kv: -kv[1])
    ranks, previous, rank = {}, None, 0
    for i, (code, v) in enumerate(ordered, start=1):
        if v != previous:
            rank, previous = i, v
        ranks[code] = rank
    return ranks


def write_demo_history(out_dir: Path, seed: int = DEFAULT_SEED) -> tuple[Path, Path]:
    """`out_dir/history/dti_history_values.csv` and `dti_history_published.csv` for the provinces:
    2020 pillar values (1726_2020, weights from the catalogue's pillar points) and 2021 main
    values (922_2022, main points); totals = Σ value × points / 1000 on the 4-decimal values,
    competition ranks. One planted discrepancy (DISCREPANCY): a published total that disagrees
    with its values."""
    out_dir = Path(out_dir) / "history"
    out_dir.mkdir(parents=True, exist_ok=True)
    values_path, published_path = out_dir / "dti_history_values.csv", out_dir / "dti_history_published.csv"
    rng = random.Random(f"{seed}:history")
    value_rows, published_rows = [], []
    for year, node_type in HISTORY_YEARS.items():
        version = methodology_version_for_year(year)
        nodes = indicators(version, "province", node_type=node_type)
        if not nodes:
            raise ValueError(f"the catalogue has no {node_type} rows for {version} (province)")
        difficulty = {n.code: rng.uniform(-0.12, 0.12) for n in nodes}
        totals = {}
        for unit in units_for_year(year, "province"):
            capacity = _capacity(unit, random.Random(f"{seed}:{unit.code}")) - 0.04 * (2022 - year)
            total = 0.0
            for n in nodes:
                value = round(_clip(capacity + difficulty[n.code] + rng.gauss(0, 0.06), 0.05, 0.99), 4)
                value_rows.append([year, "province", unit.code, n.code, f"{value:.4f}"])
                total += value * (n.max_points or 0)
            totals[unit.code] = round(total / 1000, 4)
        if DISCREPANCY["year"] == year:
            totals[DISCREPANCY["unit_code"]] = round(totals[DISCREPANCY["unit_code"]] + DISCREPANCY["delta"], 4)
        ranks = _competition_ranks(totals)
        for code, total in totals.items():
            published_rows.append([year, "province", code, f"{total:.4f}", ranks[code]])
    with open(values_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["year", "level", "unit_code", "indicator_code", "value"])
        w.writerows(value_rows)
    with open(published_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["year", "level", "unit_code", "dti_value", "rank"])
        w.writerows(published_rows)
    return values_path, published_path


DEMO_WEIGHTS_SOURCE = "DEMO ASSUMPTION - not official: ministry main-indicator points invented for the demo"
# 922_2022 ministry main indicators 1..6 (awareness, institutions, infrastructure, human
# resources, cybersecurity, digital-transformation activity): not public; an assumption.
DEMO_MINISTRY_POINTS = {"1": 100, "2": 100, "3": 150, "4": 100, "5": 150, "6": 400}


def write_demo_weight_supplement(out_dir: Path) -> Path:
    """`out_dir/weights/dti_weights_demo.csv` (load with `load_weight_supplements(con, path,
    DEMO_WEIGHTS_SOURCE)`)."""
    out_dir = Path(out_dir) / "weights"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "dti_weights_demo.csv"
    mains = {i.code for i in indicators("922_2022", "ministry", node_type="main")}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["methodology_version", "level", "indicator_code", "max_points"])
        for code, points in DEMO_MINISTRY_POINTS.items():
            if code in mains:
                w.writerow(["922_2022", "ministry", code, points])
    return path
