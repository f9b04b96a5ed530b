"""Demo agency KPI reports (docs/kpi_reports.md, "Demo reports").

`generate_demo_kpi_reports(out_dir, periods=("2025-Q2", "2025-Q3"))` writes filled KPI forms into
`out_dir/kpi_inbox/<period>/<unit>/` for a handful of provinces and ministries valid in each
period (the unit registry: a province merged on 1 July 2025 reports for 2025-Q2 only), with
deterministic values (a hash of unit, KPI and measure, rising a little each period), and, in the
last period, the planted defects intake must catch or carry:

* `wrong_folder`: unit 48's report dropped into unit 01's folder (file rejected, `foreign_unit`,
  both units named; unit 48 also files its own report in its folder);
* `decimal_comma`: unit 79's CSV types DG-01 as '45,5': READ as 45.5 (the Vietnamese decimal
  comma), the row flows;
* `above_100_percent`: BTC types DG-02 as '112%' (row rejected, `out_of_range`);
* `wrong_unit`: BCT's unit cell of DG-10 says 'người' (row rejected, `wrong_unit`);
* `resubmission`: unit 01 sends a version 1 with DG-02 mistyped '9,5', then a version 2 with 95;
  only version 2 counts.

Files carry their time of sending as modification time, so intake versions them in that order.
The returned `DemoKpiReports` lists every file and defect (what the lead prints and tests use).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.kpi.catalogue import Measure
from ingestion.kpi.reports.periods import KpiPeriod, parse_period
from ingestion.kpi.reports.report_units import report_unit
from ingestion.kpi.reports.templates import form_measures, report_csv_text, report_workbook, units_for_period

DEMO_PROVINCES = ("01", "79", "48", "02")  # 02 (Hà Giang) merged on 1 July 2025: 2025-Q2 only
DEMO_MINISTRIES = ("BTC", "BCT", "BYT")
CSV_UNITS = ("79",)  # these units send the CSV form
REPORT_DAYS_AFTER_PERIOD = 10


@dataclass
class DemoKpiReports:
    inbox: Path
    files: list[dict] = field(default_factory=list)  # period, folder_unit, unit_code, path, format, version
    defects: list[dict] = field(default_factory=list)  # defect, period, folder_unit, file, kpi_code, measure, ...

    def as_metadata(self) -> dict:
        return {"inbox": str(self.inbox), "files": len(self.files),
                "periods": sorted({f["period"] for f in self.files}),
                "defects": {d["defect"]: f"{d['period']}/{d['folder_unit']}/{Path(d['file']).name}"
                            for d in self.defects}}


def demo_value(unit_code: str, m: Measure, period_index: int) -> float:
    """A deterministic value in the measure's unit: percents 40-89.5 rising 1.5 points a period,
    counts 100-499 rising 10 a period."""
    digest = int(hashlib.sha256(f"{unit_code}:{m.kpi_code}:{m.measure}".encode()).hexdigest()[:8], 16)
    if report_unit(m.unit).family == "count":
        return float(100 + digest % 400 + 10 * period_index)
    return round(40 + (digest % 100) / 2 + 1.5 * period_index, 1)


def _values(unit_code: str, level: str, period_index: int, comma: bool = False) -> dict[tuple[str, str], dict]:
    out = {}
    for m in form_measures(level):
        value = demo_value(unit_code, m, period_index)
        typed = f"{value:g}".replace(".", ",") if comma else value
        out[(m.kpi_code, m.measure)] = {"value": typed, "evidence": f"Báo cáo số {period_index + 1}/BC-{unit_code}"}
    return out


def generate_demo_kpi_reports(out_dir: Path, periods: tuple[str, ...] = ("2025-Q2", "2025-Q3")) -> DemoKpiReports:
    out_dir = Path(out_dir)
    inbox = out_dir / "kpi_inbox"
    result = DemoKpiReports(inbox)
    parsed = [parse_period(p) for p in periods]
    clock = {"t": 0}

    def write(period: KpiPeriod, folder_unit: str, unit_code: str, level: str, values: dict, name: str,
              version: int = 1, days_late: int = 0) -> Path:
        folder = inbox / period.key / folder_unit
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        report_date = period.end + dt.timedelta(days=REPORT_DAYS_AFTER_PERIOD + version - 1 + days_late)
        if path.suffix == ".csv":
            path.write_text(report_csv_text(level, period, unit_code=unit_code, report_date=report_date,
                                            values=values), encoding="utf-8")
        else:
            report_workbook(level, period, unit_code=unit_code, report_date=report_date, values=values).save(path)
        sent = dt.datetime.combine(report_date, dt.time(9)) + dt.timedelta(seconds=clock["t"])
        clock["t"] += 1
        os.utime(path, (sent.timestamp(), sent.timestamp()))
        result.files.append({"period": period.key, "folder_unit": folder_unit, "unit_code": unit_code,
                             "path": str(path), "format": path.suffix.lstrip("."), "version": version})
        return path

    for index, period in enumerate(parsed):
        last = index == len(parsed) - 1
        for level, wanted in (("province", DEMO_PROVINCES), ("ministry", DEMO_MINISTRIES)):
            valid = {u.code for u in units_for_period(period, level)}
            for code in (c for c in wanted if c in valid):
                csv_form = code in CSV_UNITS
                values = _values(code, level, index, comma=csv_form)
                name = f"kpi_{period.key}_{code}.{'csv' if csv_form else 'xlsx'}"
                if not last:
                    write(period, code, code, level, values, name)
                    continue
                if code == "79":
                    values[("DG-01", "main")]["value"] = "45,5"
                    path = write(period, code, code, level, values, name)
                    result.defects.append({"defect": "decimal_comma", "period": period.key, "folder_unit": code,
                                           "file": str(path), "kpi_code": "DG-01", "measure": "main",
                                           "typed": "45,5", "expected_value": 45.5, "expected_rule": None})
                elif code == "01":
                    wrong = {k: dict(v) for k, v in values.items()}
                    wrong[("DG-02", "main")]["value"] = "9,5"
                    values[("DG-02", "main")]["value"] = 95
                    v1 = write(period, code, code, level, wrong, f"kpi_{period.key}_{code}.xlsx")
                    v2 = write(period, code, code, level, values, f"kpi_{period.key}_{code}_v2.xlsx", version=2)
                    result.defects.append({"defect": "resubmission", "period": period.key, "folder_unit": code,
                                           "file": str(v2), "superseded_file": str(v1), "kpi_code": "DG-02",
                                           "measure": "main", "typed": "9,5 then 95", "expected_value": 95.0,
                                           "expected_rule": None})
                elif code == "48":
                    # sent after unit 01's resubmission: version 3 of folder 01, rejected
                    misfiled = write(period, "01", code, level, values, f"bao_cao_kpi_{code}.xlsx", days_late=2)
                    result.defects.append({"defect": "wrong_folder", "period": period.key, "folder_unit": "01",
                                           "file": str(misfiled), "unit_code": code, "kpi_code": None, "measure": None,
                                           "expected_rule": "foreign_unit"})
                    write(period, code, code, level, values, name)
                elif code == "BTC":
                    values[("DG-02", "main")]["value"] = "112%"
                    path = write(period, code, code, level, values, name)
                    result.defects.append({"defect": "above_100_percent", "period": period.key, "folder_unit": code,
                                           "file": str(path), "kpi_code": "DG-02", "measure": "main",
                                           "typed": "112%", "expected_rule": "out_of_range",
                                           "expected_field": "value"})
                elif code == "BCT":
                    values[("DG-10", "main")]["unit"] = "người"
                    path = write(period, code, code, level, values, name)
                    result.defects.append({"defect": "wrong_unit", "period": period.key, "folder_unit": code,
                                           "file": str(path), "kpi_code": "DG-10", "measure": "main",
                                           "typed": "người", "expected_rule": "wrong_unit", "expected_field": "unit"})
                else:
                    write(period, code, code, level, values, name)
    return result
