"""Months, and the time units of the generator: event times are int64 seconds, NONE = did not happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

NONE = np.iinfo(np.int64).max  # "did not happen" for event times held as int64 seconds
DAY = 86400
HOUR = 3600


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            y, m = text.strip().split("-")
            out = cls(int(y), int(m))
        except ValueError:
            raise ValueError(f"month {text!r} is not YYYY-MM") from None
        if not 1 <= out.month <= 12 or len(text.strip()) != 7:
            raise ValueError(f"month {text!r} is not YYYY-MM")
        return out

    @property
    def ordinal(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_ordinal(cls, o: int) -> Month:
        return cls(o // 12, o % 12 + 1)

    def shift(self, k: int) -> Month:
        return Month.from_ordinal(self.ordinal + k)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start_s(self) -> int:
        return int(np.datetime64(self.first_day, "s").astype(np.int64))

    @property
    def end_s(self) -> int:  # exclusive: first second of the next month
        return self.shift(1).start_s

    @property
    def days(self) -> int:
        return (self.shift(1).first_day - self.first_day).days

    @property
    def yymm(self) -> str:
        return f"{self.year % 100:02d}{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_months(spec: str) -> list[str]:
    """'2025-02:2025-08' (inclusive range), '2025-02,2025-05' or '2025-02' -> list of 'YYYY-MM'."""
    out: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            a, b = (Month.parse(x) for x in part.split(":", 1))
            if b < a:
                raise ValueError(f"month range {part!r} ends before it starts")
            out += [str(Month.from_ordinal(o)) for o in range(a.ordinal, b.ordinal + 1)]
        else:
            out.append(str(Month.parse(part)))
    return out
