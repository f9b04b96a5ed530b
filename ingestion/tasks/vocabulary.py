"""The vocabulary of the task forms (docs/task_tracking.md): reported statuses, deadlines and
their recurrence, the key-task flag, progress and lists of co-operating units, read the way
agencies write them.

The statuses and issuers are data: the seeds of dbt_project/seeds/tasks/ (task_status_aliases.csv,
task_status_categories.csv, task_issuers.csv), read here directly because intake and templates
need them before dbt has run (as ingestion/kpi/catalogue.py reads the KPI seeds);
`DXMON_TASK_SEEDS_DIR` points at another folder holding files of the same names.

Every parser takes what a reader found (an openpyxl value or the text of a CSV field) and returns
a clean value or raises `CellError` (ingestion/reports/cell_parsing.py) whose message says what
was found and what is expected. No I/O but the seeds.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT
from ingestion.reports.cell_parsing import CellError, clean_text, fold, parse_date, parse_quantity, shown

SEED_DIR = PROJECT_ROOT / "dbt_project" / "seeds" / "tasks"
STATUS_ALIASES_FILE, STATUS_CATEGORIES_FILE, ISSUERS_FILE = (
    "task_status_aliases.csv", "task_status_categories.csv", "task_issuers.csv")

# recurrence of raw.task_plan_rows: a task with one deadline, or one reported every period
ONCE, MONTHLY, QUARTERLY, YEARLY, RECURRING = "once", "monthly", "quarterly", "yearly", "recurring"
RECURRENCES = (ONCE, MONTHLY, QUARTERLY, YEARLY, RECURRING)
# how the templates show a recurrence in the deadline column (and read it back)
RECURRENCE_VI = {MONTHLY: "Hằng tháng", QUARTERLY: "Hằng quý", YEARLY: "Hằng năm", RECURRING: "Thường xuyên"}

YEAR_RANGE = (2000, 2100)


class TaskVocabularyError(ValueError):
    """A seed of the task vocabulary is missing or inconsistent; the message names file and row."""


def seed_dir() -> Path:
    return Path(os.environ.get("DXMON_TASK_SEEDS_DIR", SEED_DIR))


@dataclass(frozen=True)
class StatusCategory:
    status_code: str
    name_vi: str
    name_en: str
    is_completed: bool | None
    is_overdue: bool | None
    is_recurring: bool | None

    @property
    def is_flag(self) -> bool:
        """key_task: a flag to combine with a status, never a reported status (its booleans are empty)."""
        return self.is_completed is None and self.is_overdue is None and self.is_recurring is None


@dataclass(frozen=True)
class Issuer:
    issuer_code: str
    name_vi: str
    name_en: str
    issuer_kind: str  # government | committee


def _bool(text: str | None) -> bool | None:
    text = (text or "").strip().lower()
    return None if not text else text in ("true", "1", "yes", "t")


def _rows(folder: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    path = folder / name
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return list(enumerate(csv.DictReader(fh), start=2))
    except FileNotFoundError:
        raise TaskVocabularyError(f"{path}: the task vocabulary file is missing") from None


def status_key(text) -> str:
    """How statuses are compared: folded (no diacritics, lower case) with dashes, underscores and
    punctuation as spaces ('Đã hoàn thành – đúng hạn' == 'da hoan thanh - dung han' ==
    'completed_on_time' written as a code)."""
    return re.sub(r"[\s\-–—_,.;:()/]+", " ", fold(str(text))).strip()


@dataclass(frozen=True)
class Vocabulary:
    categories: tuple[StatusCategory, ...]
    aliases: dict[str, str]  # status_key(spelling) -> status_code
    issuers: dict[str, Issuer]


@functools.lru_cache(maxsize=4)
def _load(folder: str, stamp: tuple) -> Vocabulary:
    base = Path(folder)
    categories = []
    for line, row in _rows(base, STATUS_CATEGORIES_FILE):
        code = (row.get("status_code") or "").strip()
        if not code:
            raise TaskVocabularyError(f"{base / STATUS_CATEGORIES_FILE}: row {line}: field status_code is empty")
        categories.append(StatusCategory(code, (row.get("name_vi") or "").strip(), (row.get("name_en") or "").strip(),
                                         _bool(row.get("is_completed")), _bool(row.get("is_overdue")),
                                         _bool(row.get("is_recurring"))))
    statuses = {c.status_code for c in categories if not c.is_flag}
    aliases: dict[str, str] = {}

    def add(spelling: str, code: str, where: str) -> None:
        key = status_key(spelling)
        if aliases.get(key, code) != code:
            raise TaskVocabularyError(f"{where}: the spelling {spelling!r} means both {aliases[key]} and {code}")
        aliases[key] = code

    for c in categories:
        if not c.is_flag:
            add(c.status_code, c.status_code, f"{base / STATUS_CATEGORIES_FILE}")
            add(c.name_vi, c.status_code, f"{base / STATUS_CATEGORIES_FILE}")
    for line, row in _rows(base, STATUS_ALIASES_FILE):
        where = f"{base / STATUS_ALIASES_FILE}: row {line}"
        alias, code = (row.get("alias") or "").strip(), (row.get("status_code") or "").strip()
        if code not in statuses:
            raise TaskVocabularyError(f"{where}: field status_code: {code!r} is not a reported status of "
                                      f"{STATUS_CATEGORIES_FILE}")
        if alias:
            add(alias, code, where)
    issuers = {}
    for line, row in _rows(base, ISSUERS_FILE):
        code = (row.get("issuer_code") or "").strip().upper()
        if not code:
            raise TaskVocabularyError(f"{base / ISSUERS_FILE}: row {line}: field issuer_code is empty")
        issuers[code] = Issuer(code, (row.get("name_vi") or "").strip(), (row.get("name_en") or "").strip(),
                               (row.get("issuer_kind") or "").strip())
    return Vocabulary(tuple(categories), aliases, issuers)


def vocabulary() -> Vocabulary:
    folder = seed_dir()
    stamp = tuple((n, (folder / n).stat().st_mtime if (folder / n).exists() else 0.0)
                  for n in (STATUS_ALIASES_FILE, STATUS_CATEGORIES_FILE, ISSUERS_FILE))
    return _load(str(folder), stamp)


def reported_statuses() -> list[StatusCategory]:
    """The statuses a report may give, in seed order (the template's list): not the key-task flag."""
    return [c for c in vocabulary().categories if not c.is_flag]


def issuers() -> dict[str, Issuer]:
    """The task_issuers seed: who assigns tasks besides the units of the unit registry."""
    return vocabulary().issuers


# --------------------------------------------------------------------------------------------
# Statuses

def parse_status(value) -> str | None:
    """The status_code of a reported status cell (via task_status_aliases.csv and each status's
    name_vi and code, compared by `status_key`); None for an empty cell. Raises
    CellError('unknown_status') naming the spellings of the template's list."""
    text = clean_text(value)
    if text is None:
        return None
    code = vocabulary().aliases.get(status_key(text))
    if code is None:
        allowed = ", ".join(f"'{c.name_vi.split(' (')[0]}'" for c in reported_statuses())
        raise CellError("unknown_status", f"unknown status {shown(text, 60)!r}: choose one of the template's list "
                                          f"({allowed}) or a spelling of task_status_aliases.csv")
    return code


# --------------------------------------------------------------------------------------------
# Deadlines

@dataclass(frozen=True)
class Deadline:
    deadline: dt.date | None  # None: a recurring task without an end
    recurrence: str  # once | monthly | quarterly | yearly | recurring


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# words that may stand before a deadline without changing it ('Trước ngày 30/6/2025', 'Trong năm 2025')
_LEAD_WORDS = re.compile(r"^(?:(?:chậm nhất là|chậm nhất|thời hạn|hạn|trước|trong|đến|ngày|vào|cuối)\s+)+",
                         re.IGNORECASE)
_MONTH = re.compile(r"^(?:tháng|t)\s*(\d{1,2})\s*(?:/|-|năm)\s*(\d{4})$")
_MONTH_BARE = re.compile(r"^(\d{1,2})\s*/\s*(\d{4})$")
_QUARTER = re.compile(r"^(?:quý|q)\s*(iv|iii|ii|i|[1-4])\s*(?:/|-|năm)\s*(\d{4})$")
_YEAR = re.compile(r"^(?:năm\s*)?(\d{4})$")
_RECURRING = {"hang thang": MONTHLY, "hang quy": QUARTERLY, "hang nam": YEARLY, "thuong xuyen": RECURRING,
              "dinh ky hang thang": MONTHLY, "dinh ky hang quy": QUARTERLY, "dinh ky hang nam": YEARLY,
              "monthly": MONTHLY, "quarterly": QUARTERLY, "yearly": YEARLY, "annually": YEARLY,
              "recurring": RECURRING}
_EXPECTED = ("a date dd/mm/yyyy, 'Tháng 6/2025', 'Quý III/2025', 'Năm 2025', 'Hằng tháng', 'Hằng quý', 'Hằng năm' "
             "or 'Thường xuyên'")


def _year(y: int, text: str) -> int:
    if not YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
        raise CellError("bad_deadline", f"deadline {shown(text, 60)!r}: the year {y} is out of range; expected {_EXPECTED}")
    return y


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(value) -> Deadline:
    """A deadline cell as plans write it (docs/task_tracking.md): a date (dd/mm/yyyy, ISO, an
    Excel date or serial) -> that day; 'Tháng 6/2025' -> 30/06/2025; 'Quý III/2025' (or 'Quý
    3/2025') -> 30/09/2025; 'Năm 2025' -> 31/12/2025; 'Hằng tháng'/'Hàng tháng', 'Hằng quý',
    'Hằng năm' -> monthly / quarterly / yearly without a date; 'Thường xuyên' -> recurring without
    a date. Case and diacritics do not matter; 'Trước', 'Trong', 'Đến', 'Chậm nhất' before a
    deadline are read past. Raises CellError('bad_deadline'), also for an empty cell."""
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                                     and value > 9999):
        try:
            day = parse_date(value)
        except CellError as exc:
            raise CellError("bad_deadline", f"unreadable deadline: {exc}; expected {_EXPECTED}") from None
        return Deadline(day, ONCE)
    text = clean_text(value)
    if text is None:
        raise CellError("bad_deadline", f"missing deadline: the cell is empty; write {_EXPECTED}")
    folded = status_key(text)
    if folded in _RECURRING:
        return Deadline(None, _RECURRING[folded])
    plain = _LEAD_WORDS.sub("", re.sub(r"\s+", " ", text.lower())).strip()
    try:
        return Deadline(parse_date(plain), ONCE)
    except CellError:
        pass
    # the same patterns on the folded text too, so 'QUY III/2025' and 'thang 6/2025' read alike
    candidates = (plain, _LEAD_WORDS.sub("", fold(plain)).replace("quy", "quý").replace("thang", "tháng")
                  .replace("nam", "năm"))
    for t in candidates:
        t = re.sub(r"\s*/\s*", "/", t)
        if m := _MONTH.match(t) or _MONTH_BARE.match(t):
            month, year = int(m.group(1)), _year(int(m.group(2)), text)
            if 1 <= month <= 12:
                return Deadline(_month_end(year, month), ONCE)
            raise CellError("bad_deadline", f"deadline {shown(text, 60)!r}: there is no month {month}; "
                                            f"expected {_EXPECTED}")
        if m := _QUARTER.match(t):
            q = _ROMAN.get(m.group(1)) or int(m.group(1))
            return Deadline(_month_end(_year(int(m.group(2)), text), 3 * q), ONCE)
        if m := _YEAR.match(t):
            return Deadline(dt.date(_year(int(m.group(1)), text), 12, 31), ONCE)
    raise CellError("bad_deadline", f"unreadable deadline {shown(text, 60)!r}: expected {_EXPECTED}")


def deadline_shown(deadline: dt.date | None, recurrence: str) -> dt.date | str:
    """What a status-report template shows in its deadline column: the date, or the recurrence
    in Vietnamese ('Hằng quý') for a task without a single deadline."""
    if deadline is not None and recurrence == ONCE:
        return deadline
    return RECURRENCE_VI.get(recurrence, recurrence) if deadline is None else deadline


# --------------------------------------------------------------------------------------------
# Key task, progress, unit lists

_KEY_TRUE = {"x", "co", "yes", "y", "1", "true", "dung", "trong tam", "nhiem vu trong tam", "key", "key task"}
_KEY_FALSE = {"khong", "ko", "no", "n", "0", "false"}


def parse_key_task(value) -> bool:
    """The key-task flag (nhiệm vụ trọng tâm): x / có / yes / 1 / true (any case, with or without
    diacritics) -> True; an empty cell, không / no / 0 / false -> False. Raises
    CellError('bad_key_task') otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = clean_text(value)
    if text is None:
        return False
    word = status_key(text)
    if word in _KEY_TRUE:
        return True
    if word in _KEY_FALSE:
        return False
    raise CellError("bad_key_task", f"unreadable key-task flag {shown(text, 40)!r}: write x (or Có) for a key task, "
                                    f"leave it empty otherwise")


def parse_progress(value, percent_formatted: bool = False) -> float | None:
    """Progress in percent, 0-100: 45, '45', '45%', '45,5'; a numeric cell formatted as a
    percentage holds 0.45 and means 45. None for an empty cell. Raises CellError('not_a_number')
    or CellError('out_of_range')."""
    if clean_text(value) is None:
        return None
    try:
        q = parse_quantity(value)
    except CellError as exc:
        raise CellError("not_a_number", f"progress: {exc}; write a percentage from 0 to 100 (45 or 45%)") from None
    progress = q.value * 100 if (q.is_percent or percent_formatted) else q.value
    if not 0 <= progress <= 100:
        raise CellError("out_of_range", f"out of range: progress is a percentage from 0 to 100, found "
                                        f"{shown(clean_text(value), 40)!r}")
    return round(progress, 6)


def parse_code(value) -> str | None:
    """A code as typed, normalised: stripped, upper case, inner spaces removed ('nv 01' ->
    'NV01'); a numeric cell 1 -> '1'. None for an empty cell."""
    text = clean_text(value)
    return re.sub(r"\s+", "", text).upper() if text else None


def parse_issuer_code(value) -> str:
    """An issuer code (a task_issuers code such as 'TTG' or 'TCT06', or a unit code: '01', 'BTC').
    Raises CellError('missing_value') or CellError('not_a_code')."""
    code = parse_code(value)
    if code is None:
        raise CellError("missing_value", "the cell is empty")
    if code.isdigit():
        return code.zfill(2)
    if re.fullmatch(r"[A-ZĐ0-9]{2,16}", code):
        return code
    raise CellError("not_a_code", f"expected an issuer code such as TTG, UBQGCDS, BTC or 01, found {shown(code, 40)!r}")


def split_units(value) -> list[str]:
    """The unit codes of a cell naming units, separated by ',' or ';' (or a line break), in the
    order written, without repeats: '08; 01,BTC' -> ['08', '01', 'BTC']; an empty cell -> [].
    A province code written as a number keeps its two digits (1 -> '01'). Raises
    CellError('not_a_unit_code') for a part that is not a code."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:g}"
    text = clean_text(value)
    if text is None:
        return []
    out: list[str] = []
    for part in re.split(r"[,;\n\r]+", text):
        part = part.strip()
        if not part:
            continue
        code = re.sub(r"\s+", "", part).upper()
        if code.isdigit():
            code = code.zfill(2)
        elif not re.fullmatch(r"[A-ZĐ]{2,12}", code):
            raise CellError("not_a_unit_code", f"expected unit codes such as 08 or BTC separated by ',' or ';', "
                                               f"found {shown(part, 40)!r}")
        if code not in out:
            out.append(code)
    return out
