"""International indices: the rankings the strategy's targets refer to, loaded as data
(docs/kpi_sources.md).

    dxmon kpi load-index FILE [--index EGDI] [--source-key E2]

Two file shapes, told apart by their header:

* **the UN E-Government Survey CSV** (`un_egdi_csv`), as the UN publishes it: `Survey Year, Country
  Name, E-Government Rank, E-Government Index, E-Participation Index, Online Service Index, Human
  Capital Index, Telecommunication Infrastructure Index` (labels compared loosely: case, hyphens,
  a bracketed abbreviation, a BOM; "EGDI", "OSI", ... accepted). One row per country becomes one
  value row per component: `rank`, `value` (the EGDI), `epi`, `osi`, `hci`, `tii`; an empty cell is
  no row. Country names ("Viet Nam " with its trailing space) are resolved to ISO alpha-3 through
  the seed kpi_countries.csv (`ingestion/kpi/countries.py`); an unknown name rejects the row, naming it.
* **a long CSV** (`long_csv`) for every other ranking (GII, NRI, ITU GCI, AI readiness, and EGDI
  facts the UN file lacks such as EPI / OGDI ranks): `index_code, edition, country_code or
  country_name, component, value, source_key, note`; `index_code` may be left out when `--index`
  names it.

Each file is archived (sha256; the same bytes again are a no-op), a row of
`raw.international_index_loads` (with `loaded_at` and `load_sequence`: a later load of the same
edition is the newer one, decided downstream) and value rows in `raw.international_index_values`,
each with its line. Row rules: `unknown_country`, `country_code_mismatch`, `not_a_year` (edition),
`not_a_number`, `not_a_rank` (a rank that is not a whole number >= 1), `bad_component`,
`index_code_mismatch`, `missing_index_code`, `no_values`, `duplicate_row`, `wrong_field_count`.
A file that is not such a table is rejected whole and quarantined (input kind `international_indices`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import duckdb

from ingestion.core.input_files import InputRejected
from ingestion.core.quarantine import INTERNATIONAL_INDICES, quarantine_file, record_refused
from ingestion.core.schema import insert_rows, prepare_warehouse
from ingestion.kpi.countries import country_code, is_country_code
from ingestion.kpi.source_files import (
    LOADED,
    REFUSED,
    REJECTED,
    UNCHANGED,
    LoadSummary,
    SourceTable,
    archive_source_file,
    cell,
    column_positions,
    header_key,
    location,
    next_load_sequence,
    read_table,
)
from ingestion.reports.cell_parsing import CellError, parse_quantity, parse_year, shown

log = logging.getLogger(__name__)

ARCHIVE_KIND = "indices"
UN_EGDI, LONG = "un_egdi_csv", "long_csv"
UN_INDEX_CODE = "EGDI"
# component -> the labels of its column in the UN file (the first is the UN's own)
UN_COMPONENTS: dict[str, tuple[str, ...]] = {
    "rank": ("E-Government Rank", "EGDI Rank", "EGDI_Rank"),
    "value": ("E-Government Index", "EGDI", "E-Government Development Index"),
    "epi": ("E-Participation Index", "EPI"),
    "osi": ("Online Service Index", "OSI"),
    "hci": ("Human Capital Index", "HCI"),
    "tii": ("Telecommunication Infrastructure Index", "TII"),
}
UN_ALIASES = {"survey_year": ("Survey Year", "Year", "Edition"), "country_name": ("Country Name", "Country"),
              **UN_COMPONENTS}
UN_REQUIRED = ("survey_year", "country_name", "value")
LONG_COLUMNS = ("index_code", "edition", "country_code", "country_name", "component", "value", "source_key", "note")
LONG_ALIASES = dict.fromkeys(LONG_COLUMNS, ()) | {"index_code": ("index",), "edition": ("year",)}
_INDEX_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,23}$")
_COMPONENT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _RowRejected(Exception):
    def __init__(self, rule: str, name: str | None, reason: str):
        super().__init__(reason)
        self.rule, self.name, self.reason = rule, name, reason


def file_shape(header: list[str]) -> str | None:
    """`un_egdi_csv`, `long_csv`, or None for a header that is neither."""
    keys = {header_key(h) for h in header}
    if {"survey year", "country name"} <= keys and keys & {header_key(a) for a in UN_COMPONENTS["value"]}:
        return UN_EGDI
    if {"component", "value"} <= keys and keys & {"country code", "country name"}:
        return LONG
    return None


def _number(component: str, text: str, label: str) -> float:
    """A published number: the UN's plain decimals (0.770920000), else as officials write them."""
    try:
        value = float(text)
    except ValueError:
        try:
            value = parse_quantity(text).value
        except CellError as exc:
            raise _RowRejected(exc.rule, label, str(exc)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _RowRejected("not_a_number", label, f"expected a number, found {shown(text)!r}")
    if (component == "rank" or component.endswith("_rank")) and (value < 1 or not float(value).is_integer()):
        raise _RowRejected("not_a_rank", label, f"a rank is a whole number from 1, found {shown(text)!r}")
    return value


def _rejected(base: dict, bad: _RowRejected, where: str, line: int) -> dict:
    return {**base, "value": None, "rejection_rule": bad.rule, "rejection_field": bad.name,
            "rejection_reason": f"{bad.reason} ({location(where, line, bad.name)})"}


def _un_rows(table: SourceTable, where: str, index_code: str, source_key: str | None) -> list[dict]:
    positions = column_positions(table.header, UN_ALIASES, UN_REQUIRED, where=where,
                                 expected="the UN E-Government Survey columns Survey Year, Country Name, "
                                          "E-Government Rank, E-Government Index, ...")
    labels = {name: table.header[i] for name, i in positions.items()}
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    for line, fields in table.records:
        name = cell(fields, positions, "country_name")
        base = {"index_code": index_code, "edition": None, "country_code": None, "country_name": name,
                "component": None, "value": None, "raw_value": None, "source_key": source_key, "note": None,
                "source_row": line, "rejection_rule": None, "rejection_reason": None, "rejection_field": None}
        try:
            if len(fields) != len(table.header):
                raise _RowRejected("wrong_field_count", None,
                                   f"the row has {len(fields)} fields, the header {len(table.header)}")
            base["edition"] = _edition(cell(fields, positions, "survey_year"), labels["survey_year"])
            base["country_code"] = _resolve(None, name, labels["country_name"])
        except _RowRejected as bad:
            rows.append(_rejected(base, bad, where, line))
            continue
        values = []
        for component in UN_COMPONENTS:
            text = cell(fields, positions, component)
            if text is None:
                continue
            row = {**base, "component": component, "raw_value": text}
            try:
                key = (base["edition"], base["country_code"], component)
                if key in seen:
                    raise _RowRejected("duplicate_row", labels[component],
                                       f"{base['country_code']} {base['edition']} is also on line {seen[key]}")
                row["value"] = _number(component, text, labels[component])
                seen[key] = line
            except _RowRejected as bad:
                row = _rejected(row, bad, where, line)
            values.append(row)
        if not values:
            values = [_rejected(base, _RowRejected("no_values", None, f"no index value for {shown(name or '')!r}"),
                                where, line)]
        rows.extend(values)
    return rows


def _edition(text: str | None, label: str) -> int:
    try:
        return parse_year(text)
    except CellError as exc:
        raise _RowRejected(exc.rule, label, str(exc) if text else "the edition (year) is empty") from None


def _resolve(code: str | None, name: str | None, label: str) -> str:
    """The alpha-3 code of a row from its code and/or name (both given: they must agree)."""
    by_name = country_code(name) if name else None
    if name and by_name is None:
        raise _RowRejected("unknown_country", label, f"country name {shown(name)!r} is not in the country list "
                           f"(kpi_countries.csv: add it as an alias of its country)")
    if code:
        code = code.upper()
        if not is_country_code(code):
            raise _RowRejected("unknown_country", "country_code",
                               f"country code {shown(code)!r} is not an ISO alpha-3 code of the country list")
        if by_name and by_name != code:
            raise _RowRejected("country_code_mismatch", "country_code",
                               f"country code {code} does not match the name {shown(name)!r} ({by_name})")
        return code
    if by_name is None:
        raise _RowRejected("unknown_country", label, "the row names no country (country_code or country_name)")
    return by_name


def _long_rows(table: SourceTable, where: str, index_code: str | None, source_key: str | None) -> list[dict]:
    required = ("edition", "component", "value") + (() if index_code else ("index_code",))
    positions = column_positions(table.header, LONG_ALIASES, required, where=where, expected=", ".join(LONG_COLUMNS))
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    for line, fields in table.records:
        get = {name: cell(fields, positions, name) for name in LONG_COLUMNS}
        row = {"index_code": (get["index_code"] or index_code or "").upper() or None, "edition": None,
               "country_code": None, "country_name": get["country_name"], "component": get["component"],
               "value": None, "raw_value": get["value"], "source_key": get["source_key"] or source_key,
               "note": get["note"], "source_row": line, "rejection_rule": None, "rejection_reason": None,
               "rejection_field": None}
        try:
            if len(fields) != len(table.header):
                raise _RowRejected("wrong_field_count", None,
                                   f"the row has {len(fields)} fields, the header {len(table.header)}")
            if not row["index_code"] or not _INDEX_CODE.match(row["index_code"]):
                raise _RowRejected("missing_index_code", "index_code",
                                   f"expected an index code such as GII or NRI, found {shown(row['index_code'] or '')!r}")
            if index_code and row["index_code"] != index_code.upper():
                raise _RowRejected("index_code_mismatch", "index_code",
                                   f"the row is of {row['index_code']}, the load of {index_code.upper()}")
            row["edition"] = _edition(get["edition"], "edition")
            row["country_code"] = _resolve(get["country_code"], get["country_name"], "country_name")
            component = (row["component"] or "").lower()
            if not _COMPONENT.match(component):
                raise _RowRejected("bad_component", "component", f"expected a component such as rank, score or "
                                   f"tier, found {shown(row['component'] or '')!r}")
            row["component"] = component
            key = (row["index_code"], row["edition"], row["country_code"], component)
            if key in seen:
                raise _RowRejected("duplicate_row", "component", f"the same index, edition, country and "
                                   f"component as line {seen[key]}")
            if row["raw_value"] is None:
                raise _RowRejected("missing_value", "value", "the value is empty")
            row["value"] = _number(component, row["raw_value"], "value")
            seen[key] = line
        except _RowRejected as bad:
            row = _rejected(row, bad, where, line)
        rows.append(row)
    return rows


def load_index_file(con: duckdb.DuckDBPyConnection, path: Path, *, index_code: str | None = None,
                    source_key: str | None = None) -> LoadSummary:
    """Load one international-index file (idempotent by sha256); `index_code` names the index of a
    UN file (default EGDI) or of a long file's rows that leave it out; `source_key` is the
    publication of the whole file (kpi_sources seed), kept on rows that name none."""
    prepare_warehouse(con)
    path = Path(path)
    where = str(path)
    now = dt.datetime.now()
    try:
        source = archive_source_file(con, path, kind=ARCHIVE_KIND, source_type="international_index")
    except InputRejected as refused:
        done = record_refused(con, path, input_kind=INTERNATIONAL_INDICES, period=str(now.year),
                              folder=(str(now.year),), rule=refused.rule, reason=refused.reason)
        return LoadSummary(where, REFUSED if done else UNCHANGED, rule=refused.rule, reason=refused.reason)
    earlier = con.execute(
        "SELECT load_id, status, rows_read, rows_accepted, rows_rejected, rejection_rule, rejection_reason "
        "FROM raw.international_index_loads WHERE sha256 = ? ORDER BY load_sequence LIMIT 1",
        [source.sha256]).fetchone()
    if earlier:
        return LoadSummary(where, UNCHANGED, earlier[0], *earlier[2:5], rule=earlier[5],
                           reason=f"the same bytes were loaded before ({earlier[1]})"
                                  + (f": {earlier[6]}" if earlier[6] else ""))
    shape, rows, encoding, rule, reason = None, [], None, None, None
    try:
        table = read_table(source.archived_path, where=where)
        encoding = table.encoding
        shape = file_shape(table.header)
        if shape is None:
            raise InputRejected(
                "unknown_header",
                f"header not recognised (expected the UN E-Government Survey columns Survey Year, Country Name, "
                f"E-Government Rank, E-Government Index, ... or the long columns {', '.join(LONG_COLUMNS)}; found "
                f"{', '.join(repr(h) for h in table.header[:12])}): {where}")
        if shape == UN_EGDI:
            rows = _un_rows(table, where, (index_code or UN_INDEX_CODE).upper(), source_key)
        else:
            rows = _long_rows(table, where, index_code, source_key)
        if not rows:
            raise InputRejected("no_rows", f"no data rows under the header: {where}")
        records = len(table.records)
    except InputRejected as bad:
        rule, reason, rows, records = bad.rule, bad.reason, [], None
    codes = sorted({r["index_code"] for r in rows if r["index_code"]})
    load_index = (index_code or (UN_INDEX_CODE if shape == UN_EGDI else None) or ";".join(codes) or "unknown").upper()
    load_id = f"idx:{load_index}:{source.sha256[:16]}"
    bad_lines = {r["source_row"] for r in rows if r["rejection_rule"]}
    counts = (None, None, None) if rule else (records, records - len(bad_lines), len(bad_lines))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO raw.international_index_loads (load_id, index_code, file_shape, source_file, archived_path, "
            "sha256, size_bytes, rows_read, rows_accepted, rows_rejected, status, rejection_rule, rejection_reason, "
            "loaded_at, load_sequence, source_key, file_encoding) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, load_index, shape or "unknown", where, str(source.archived_path), source.sha256,
             source.size_bytes, *counts, "rejected" if rule else "accepted", rule, reason, now,
             next_load_sequence(con, "raw.international_index_loads"), source_key, encoding])
        insert_rows(con, "raw.international_index_values", [{**r, "load_id": load_id} for r in rows])
        stored = con.execute("SELECT count(DISTINCT source_row) FROM raw.international_index_values "
                             "WHERE load_id = ?", [load_id]).fetchone()[0]
        if not rule and stored != records:  # every row read is stored, accepted or rejected
            raise RuntimeError(f"{where}: {records} rows read but {stored} stored; nothing was loaded")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if rule:
        quarantine_file(con, path, input_kind=INTERNATIONAL_INDICES, period=str(now.year), folder=(str(now.year),),
                        sha256=source.sha256, rule=rule, reason=reason, details={"load_id": load_id})
        return LoadSummary(where, REJECTED, load_id, rule=rule, reason=reason)
    accepted_values = sum(r["rejection_rule"] is None for r in rows)
    log.info("loaded %s (%s): %d rows, %d values (%d rows rejected)", where, shape, records, accepted_values,
             len(bad_lines))
    return LoadSummary(where, LOADED, load_id, *counts, values_accepted=accepted_values,
                       rejections=[r["rejection_reason"] for r in rows if r["rejection_rule"]][:20])
