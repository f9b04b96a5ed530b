"""National statistics releases: published KPI values loaded as data, one file per release
(docs/kpi_sources.md).

    dxmon kpi load-statistics FILE [--release NAME] [--publisher NAME] [--release-date YYYY-MM-DD]

The file is a CSV with the columns

    kpi_code, measure, level, unit_code, period, value, release, publisher, release_date, source_key, note

of which kpi_code, level, period and value are required; `measure` defaults to `main`, and
`release`, `publisher` and `release_date` default to the command line's. `period` is as published:
YYYY, YYYY-MM or YYYY-MM-DD (its last day is `period_end`, the date the value is as of). A level
`ministry` or `province` with an empty unit_code is an aggregate over all units of that level.
Numbers are read as officials write them (`ingestion/reports/cell_parsing.py`: `12,87`, `1.234,5`,
`58.000`, `39,5%`).

**A release never overwrites another.** Every file is a row of `raw.kpi_statistics_releases`
(`load_id` = `stat:<sha256[:16]>`, its `loaded_at` and `load_sequence`) and its rows are rows of
`raw.kpi_statistics_values`, each with its release and release date. A revised series loaded later
sits beside the earlier vintage; which value is current is decided downstream (dbt), by release
date, then load order. The same bytes again are a no-op.

Row rules (the row is kept with rule, reason and field; the other rows flow):
`unknown_kpi`, `unknown_measure`, `level_not_of_kpi`, `unit_code_for_national`, `not_a_unit_code`,
`unreadable_period`, `missing_value`, `not_a_number`, `percent_for_non_percent_measure`,
`missing_release`, `not_a_date` (release_date), `duplicate_row`, `wrong_field_count`.
A file that cannot be read as such a table is rejected whole and quarantined (input kind
`kpi_statistics`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from pathlib import Path

import duckdb

from ingestion.core.input_files import InputRejected
from ingestion.core.quarantine import KPI_STATISTICS, quarantine_file, record_refused
from ingestion.core.schema import insert_rows, prepare_warehouse
from ingestion.kpi import catalogue
from ingestion.kpi.source_files import (
    LOADED,
    REFUSED,
    REJECTED,
    UNCHANGED,
    LoadSummary,
    archive_source_file,
    cell,
    column_positions,
    location,
    next_load_sequence,
    read_table,
)
from ingestion.reports.cell_parsing import CellError, parse_date, parse_quantity, parse_unit_code, shown

log = logging.getLogger(__name__)

ARCHIVE_KIND = "statistics"
COLUMNS = ("kpi_code", "measure", "level", "unit_code", "period", "value", "release", "publisher",
           "release_date", "source_key", "note")
REQUIRED = ("kpi_code", "level", "period", "value")
ALIASES: dict[str, tuple[str, ...]] = dict.fromkeys(COLUMNS, ())
ALIASES.update(kpi_code=("kpi", "code", "mã chỉ tiêu"), release=("vintage", "vintage_or_release"),
               unit_code=("unit", "mã đơn vị"), value=("giá trị",), period=("kỳ",))
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

def period_end(period: str) -> dt.date:
    """The last day a published period covers: YYYY -> 31 Dec, YYYY-MM -> its last day, a date -> itself.
    Raises ValueError for any other text."""
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(period)
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if not 1900 <= year <= 2100:
        raise ValueError(period)
    if month is None:
        return dt.date(year, 12, 31)
    if day is None:
        return dt.date(year, int(month), calendar.monthrange(year, int(month))[1])
    return dt.date(year, int(month), int(day))


class _RowRejected(Exception):
    def __init__(self, rule: str, name: str, reason: str):
        super().__init__(reason)
        self.rule, self.name, self.reason = rule, name, reason


def _value_row(line: int, fields: list[str], positions: dict[str, int], where: str, defaults: dict,
               header_width: int, seen: dict[tuple, int]) -> dict:
    """One stored row of the file: its parsed values, or the first rule it breaks (value NULL)."""
    get = {name: cell(fields, positions, name) for name in COLUMNS}
    row = {
        "kpi_code": get["kpi_code"], "measure": get["measure"] or "main", "level": (get["level"] or "").lower() or None,
        "unit_code": get["unit_code"], "period": get["period"], "period_end": None, "value": None,
        "raw_value": get["value"], "release": get["release"] or defaults["release"],
        "publisher": get["publisher"] or defaults["publisher"], "release_date": defaults["release_date"],
        "source_key": get["source_key"], "note": get["note"], "source_row": line,
        "rejection_rule": None, "rejection_reason": None, "rejection_field": None,
    }
    try:
        if len(fields) != header_width:
            raise _RowRejected("wrong_field_count", None,
                               f"the row has {len(fields)} fields, the header {header_width}")
        _check(row, get, where, line)
        key = (row["kpi_code"], row["measure"], row["level"], row["unit_code"], row["period"], row["release"])
        if key in seen:
            raise _RowRejected("duplicate_row", "period",
                               f"the same KPI, measure, level, unit, period and release as line {seen[key]}")
        seen[key] = line
    except _RowRejected as bad:
        row.update(value=None, rejection_rule=bad.rule, rejection_field=bad.name,
                   rejection_reason=f"{bad.reason} ({location(where, line, bad.name)})")
    return row


def _check(row: dict, get: dict, where: str, line: int) -> None:
    code = row["kpi_code"]
    kpi = catalogue.kpi(code) if code else None
    if kpi is None:
        raise _RowRejected("unknown_kpi", "kpi_code", f"KPI {shown(code or '')!r} is not in the KPI catalogue"
                           if code else "the KPI code is empty")
    measure = catalogue.measure(code, row["measure"])
    if measure is None:
        known = sorted(m for (k, m) in catalogue.measures() if k == code)
        raise _RowRejected("unknown_measure", "measure", f"measure {shown(row['measure'])!r} is not a measure of "
                           f"{code} (its measures: {', '.join(known)})")
    if row["level"] not in kpi.levels:
        raise _RowRejected("level_not_of_kpi", "level", f"level {shown(row['level'] or '')!r} is not a level of "
                           f"{code} (its levels: {', '.join(kpi.levels)})")
    if row["unit_code"] is not None:
        if row["level"] == "national":
            raise _RowRejected("unit_code_for_national", "unit_code",
                               f"a national value has no unit code (found {shown(row['unit_code'])!r})")
        try:
            row["unit_code"] = parse_unit_code(row["unit_code"])
        except CellError as exc:
            raise _RowRejected(exc.rule, "unit_code", str(exc)) from None
    try:
        row["period_end"] = period_end(row["period"] or "")
    except ValueError:
        raise _RowRejected("unreadable_period", "period", f"period {shown(row['period'] or '')!r} is not YYYY, "
                           f"YYYY-MM or YYYY-MM-DD") from None
    try:
        quantity = parse_quantity(row["raw_value"])
    except CellError as exc:
        raise _RowRejected(exc.rule, "value", str(exc) if exc.rule != "missing_value" else "the value is empty") \
            from None
    if quantity.is_percent and not measure.is_percent:
        raise _RowRejected("percent_for_non_percent_measure", "value",
                           f"a percentage for {code} {measure.measure}, whose unit is {measure.unit}")
    # the catalogue keeps percentages as 0-100 (39.51 %), so '39,51%' is 39.51, not 0.3951
    row["value"] = quantity.value * 100 if quantity.is_percent else quantity.value
    if get["release_date"]:
        try:
            row["release_date"] = parse_date(get["release_date"])
        except CellError as exc:
            raise _RowRejected(exc.rule, "release_date", str(exc)) from None
    if not row["release"]:
        raise _RowRejected("missing_release", "release", "the row names no release and none was given on "
                           "loading (--release)")


def load_statistics(con: duckdb.DuckDBPyConnection, path: Path, *, release: str | None = None,
                    publisher: str | None = None, release_date: dt.date | str | None = None) -> LoadSummary:
    """Load one national-statistics file (idempotent by sha256): its release row and its value rows,
    never replacing an earlier release."""
    prepare_warehouse(con)
    path = Path(path)
    where = str(path)
    if isinstance(release_date, str):
        try:
            release_date = parse_date(release_date)
        except CellError as exc:
            raise ValueError(f"release date {release_date!r}: {exc}") from None
    now = dt.datetime.now()
    try:
        source = archive_source_file(con, path, kind=ARCHIVE_KIND, source_type="kpi_statistics")
    except InputRejected as refused:
        done = record_refused(con, path, input_kind=KPI_STATISTICS, period=str(now.year), folder=(str(now.year),),
                              rule=refused.rule, reason=refused.reason)
        return LoadSummary(where, REFUSED if done else UNCHANGED, rule=refused.rule, reason=refused.reason)
    load_id = f"stat:{source.sha256[:16]}"
    earlier = con.execute("SELECT status, rows_read, rows_accepted, rows_rejected, rejection_rule, rejection_reason "
                          "FROM raw.kpi_statistics_releases WHERE load_id = ?", [load_id]).fetchone()
    if earlier:
        return LoadSummary(where, UNCHANGED, load_id, *earlier[1:4], rule=earlier[4],
                           reason=f"the same bytes were loaded before ({earlier[0]})"
                                  + (f": {earlier[5]}" if earlier[5] else ""))
    defaults = {"release": release, "publisher": publisher, "release_date": release_date}
    rows: list[dict] = []
    encoding = rule = reason = None
    try:
        table = read_table(source.archived_path, where=where)
        encoding = table.encoding
        positions = column_positions(table.header, ALIASES, REQUIRED, where=where, expected=", ".join(COLUMNS))
        seen: dict[tuple, int] = {}
        rows = [_value_row(line, fields, positions, where, defaults, len(table.header), seen)
                for line, fields in table.records]
        if not rows:
            raise InputRejected("no_rows", f"no data rows under the header: {where}")
    except InputRejected as bad:
        rule, reason, rows = bad.rule, bad.reason, []
    rejected = sum(r["rejection_rule"] is not None for r in rows)
    counts = (None, None, None) if rule else (len(rows), len(rows) - rejected, rejected)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO raw.kpi_statistics_releases (load_id, source_file, archived_path, sha256, size_bytes, "
            "publisher, default_release, default_release_date, file_encoding, rows_read, rows_accepted, "
            "rows_rejected, status, rejection_rule, rejection_reason, loaded_at, load_sequence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, where, str(source.archived_path), source.sha256, source.size_bytes, publisher, release,
             release_date, encoding, *counts, "rejected" if rule else "accepted", rule, reason, now,
             next_load_sequence(con, "raw.kpi_statistics_releases")])
        insert_rows(con, "raw.kpi_statistics_values", [{**r, "load_id": load_id} for r in rows])
        stored = con.execute("SELECT count(*) FROM raw.kpi_statistics_values WHERE load_id = ?",
                             [load_id]).fetchone()[0]
        if stored != len(rows):  # every row read is stored, accepted or rejected
            raise RuntimeError(f"{where}: {len(rows)} rows read but {stored} stored; nothing was loaded")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if rule:
        quarantine_file(con, path, input_kind=KPI_STATISTICS, period=str(now.year), folder=(str(now.year),),
                        sha256=source.sha256, rule=rule, reason=reason, details={"load_id": load_id})
        return LoadSummary(where, REJECTED, load_id, rule=rule, reason=reason)
    log.info("loaded %s: %d rows (%d rejected)", where, len(rows), rejected)
    return LoadSummary(where, LOADED, load_id, *counts,
                       rejections=[r["rejection_reason"] for r in rows if r["rejection_rule"]][:20])
