"""KPI report periods: a quarter (YYYY-Qn, the default of the periodic agency report), a month
(YYYY-MM) or a year (YYYY). Pure parsing, no I/O (docs/kpi_reports.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ingestion.reports.cell_parsing import CellError, clean_text

KINDS = ("quarter", "month", "year")

_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$", re.IGNORECASE)
_QUARTER_FIRST = re.compile(r"^(?:Q|QUÝ\s*)([1-4])\s*[-/ ]\s*(\d{4})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_FIRST = re.compile(r"^(?:THÁNG\s*)?(\d{1,2})\s*/\s*(\d{4})$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:NĂM\s*)?(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class KpiPeriod:
    start: dt.date
    kind: str  # quarter | month | year
    end: dt.date
    key: str  # '2025-Q3', '2025-08', '2025'

    def __str__(self) -> str:
        return self.key

    def previous(self) -> KpiPeriod:
        """The period of the same kind just before this one (for plausibility checks)."""
        return period_containing(self.start - dt.timedelta(days=1), self.kind)


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)


def quarter(year: int, q: int) -> KpiPeriod:
    return KpiPeriod(dt.date(year, 3 * q - 2, 1), "quarter", _month_end(year, 3 * q), f"{year}-Q{q}")


def month(year: int, m: int) -> KpiPeriod:
    return KpiPeriod(dt.date(year, m, 1), "month", _month_end(year, m), f"{year}-{m:02d}")


def year(y: int) -> KpiPeriod:
    return KpiPeriod(dt.date(y, 1, 1), "year", dt.date(y, 12, 31), f"{y}")


def period_containing(day: dt.date, kind: str) -> KpiPeriod:
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == "month":
        return month(day.year, day.month)
    return year(day.year)


def _checked(y: int) -> int:
    if not 2000 <= y <= 2100:
        raise CellError("not_a_period", f"expected a report period such as 2025-Q3, found the year {y}")
    return y


def parse_period(value) -> KpiPeriod:
    """'2025-Q3' (also '2025Q3', 'Q3/2025', 'Quý 3/2025'), '2025-08' (also '08/2025', or a date
    cell: its month), '2025' (also 2025 as a number). Raises CellError('not_a_period')."""
    if isinstance(value, (dt.date, dt.datetime)):
        # Excel turns a typed '2025-08' into a date: the month it names
        return month(_checked(value.year), value.month)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer():
            return year(_checked(int(value)))
        raise CellError("not_a_period", f"expected a report period such as 2025-Q3, found the number {value:g}")
    text = clean_text(value)
    if text is None:
        raise CellError("missing_value", "the cell is empty")
    text = re.sub(r"\s+", " ", text)
    if m := _QUARTER.match(text):
        return quarter(_checked(int(m.group(1))), int(m.group(2)))
    if m := _QUARTER_FIRST.match(text):
        return quarter(_checked(int(m.group(2))), int(m.group(1)))
    for pattern, order in ((_MONTH, (1, 2)), (_MONTH_FIRST, (2, 1))):
        if m := pattern.match(text):
            y, mo = int(m.group(order[0])), int(m.group(order[1]))
            if 1 <= mo <= 12:
                return month(_checked(y), mo)
    if m := _YEAR.match(text):
        return year(_checked(int(m.group(1))))
    raise CellError("not_a_period", f"expected a report period YYYY-Qn (e.g. 2025-Q3), YYYY-MM or YYYY, "
                                    f"found {text!r}")


def folder_period(name: str) -> KpiPeriod | None:
    """The period a kpi_inbox folder stands for (its canonical spelling only, any case:
    2025-Q3, 2025-08, 2025), or None."""
    if re.fullmatch(r"\d{4}-[Qq][1-4]|\d{4}-\d{2}|\d{4}", name):
        try:
            return parse_period(name)
        except CellError:
            return None
    return None
