"""Published DTI history and weight supplements, loaded as data (docs/dti_reports.md).

`import_history(con, values_path, published_path)` reads two long CSVs:

    values:    year,level,unit_code,indicator_code,value        (main-indicator or pillar values)
    published: year,level,unit_code,dti_value,rank              (published totals and ranks)

Every row is checked (year, level, a unit code of the registry, an indicator of the year's
methodology, a value in [0, 1], a positive whole rank, no duplicate key); any problem stops the
whole import with a message naming file, line and field, because half a year of history would
give wrong ranks and a wrong discrepancy report. An import replaces the rows of the years it
contains (the union of both files' years) in both tables.

`load_weight_supplements(con, path, source)` appends main-indicator points the public record
lacks (`methodology_version,level,indicator_code,max_points`); the scoring side uses the latest
load per indicator and says so in `weights_basis`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.core.schema import prepare_warehouse
from ingestion.reports.cell_parsing import (
    CellError,
    EncodingError,
    clean_text,
    decode_report_text,
    parse_number,
    parse_unit_code,
    parse_year,
    sniff_delimiter,
)
from ingestion.reports.dti.catalogue import (
    LEVELS,
    indicators,
    known_versions,
    methodology_version_for_year,
    unit_by_code,
)

log = logging.getLogger(__name__)

VALUES_COLUMNS = ("year", "level", "unit_code", "indicator_code", "value")
PUBLISHED_COLUMNS = ("year", "level", "unit_code", "dti_value", "rank")
WEIGHT_COLUMNS = ("methodology_version", "level", "indicator_code", "max_points")
MAX_LISTED_ERRORS = 25


class HistoryImportError(ValueError):
    """The file(s) cannot be imported; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_LISTED_ERRORS]
        more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(f"{len(errors)} problem(s), nothing imported:\n" + "\n".join(shown) + more)


@dataclass
class HistoryImportSummary:
    years: list[int]
    value_rows: int
    published_rows: int
    replaced_value_rows: int
    replaced_published_rows: int

    def as_metadata(self) -> dict:
        return dict(self.__dict__)


@dataclass
class WeightLoadSummary:
    rows: int
    source: str
    keys: list[tuple[str, str, str]] = field(default_factory=list)

    def as_metadata(self) -> dict:
        return {"rows": self.rows, "source": self.source}


def _read_rows(path: Path, columns: tuple[str, ...], errors: list[str]) -> list[tuple[int, dict]]:
    """(line number, row) of a CSV with the given columns (UTF-8, UTF-8 BOM or UTF-16)."""
    path = Path(path)
    try:
        text, _ = decode_report_text(path.read_bytes())
    except FileNotFoundError:
        errors.append(f"{path}: file not found")
        return []
    except EncodingError as exc:
        errors.append(f"{path}: {exc}")
        return []
    lines = text.splitlines()
    if not lines:
        errors.append(f"{path}: the file is empty")
        return []
    reader = csv.DictReader(io.StringIO(text), delimiter=sniff_delimiter(lines[0]))
    header = [clean_text(c) or "" for c in reader.fieldnames or []]
    reader.fieldnames = [h.lower() for h in header]
    missing = [c for c in columns if c not in reader.fieldnames]
    if missing:
        errors.append(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected {','.join(columns)}")
        return []
    rows = []
    for row in reader:
        rows.append((reader.line_num, row))
    return rows


def _check(errors: list[str], where: str, fld: str, fn, value):
    try:
        return fn(value)
    except (CellError, ValueError) as exc:
        errors.append(f"{where}: field {fld}: {exc}")
        return None


def _share(value) -> float:
    number = parse_number(value)
    if not 0 <= number <= 1:
        raise ValueError(f"expected a value in [0, 1], found {clean_text(value)!r}")
    return number


def _rank(value) -> int | None:
    if clean_text(value) is None:
        return None
    number = parse_number(value)
    if not float(number).is_integer() or number < 1:
        raise ValueError(f"expected a whole rank of 1 or more, found {clean_text(value)!r}")
    return int(number)


def _level(value) -> str:
    level = (clean_text(value) or "").lower()
    if level not in LEVELS:
        raise ValueError(f"expected one of {', '.join(LEVELS)}, found {clean_text(value)!r}")
    return level


def _unit(errors, where, level, value) -> str | None:
    code = _check(errors, where, "unit_code", parse_unit_code, value)
    if code is None:
        return None
    unit = unit_by_code(code)
    if unit is None or (level and unit.level != level):
        errors.append(f"{where}: field unit_code: {code} is not a {level or 'known'} unit of the registry")
        return None
    return code


def _parse_values(path: Path, errors: list[str]) -> list[dict]:
    out, seen = [], {}
    codes_cache: dict[tuple[str, str], set[str]] = {}
    for line, row in _read_rows(path, VALUES_COLUMNS, errors):
        where = f"{Path(path).name}: line {line}"
        year = _check(errors, where, "year", parse_year, row["year"])
        level = _check(errors, where, "level", _level, row["level"])
        unit = _unit(errors, where, level, row["unit_code"])
        code = (clean_text(row["indicator_code"]) or "").rstrip(".")
        value = _check(errors, where, "value", _share, row["value"])
        if not code:
            errors.append(f"{where}: field indicator_code: empty")
        elif year and level:
            try:
                version = methodology_version_for_year(year)
            except ValueError as exc:
                errors.append(f"{where}: field year: {exc}")
                continue
            key = (version, level)
            if key not in codes_cache:
                codes_cache[key] = {i.code for i in indicators(version, level) if i.node_type in ("pillar", "main")}
            if codes_cache[key] and code not in codes_cache[key]:
                errors.append(f"{where}: field indicator_code: {code!r} is not a pillar or main indicator of "
                              f"methodology {version} ({level}); expected one of {', '.join(sorted(codes_cache[key]))}")
        if None in (year, level, unit, value) or not code:
            continue
        key = (year, level, unit, code)
        if key in seen:
            errors.append(f"{where}: duplicate of line {seen[key]} ({year}, {level}, {unit}, {code})")
            continue
        seen[key] = line
        out.append({"year": year, "level": level, "unit_code": unit, "indicator_code": code, "value": value,
                    "source_row": line})
    return out


def _parse_published(path: Path, errors: list[str]) -> list[dict]:
    out, seen = [], {}
    for line, row in _read_rows(path, PUBLISHED_COLUMNS, errors):
        where = f"{Path(path).name}: line {line}"
        year = _check(errors, where, "year", parse_year, row["year"])
        level = _check(errors, where, "level", _level, row["level"])
        unit = _unit(errors, where, level, row["unit_code"])
        value = _check(errors, where, "dti_value", _share, row["dti_value"])
        rank = _check(errors, where, "rank", _rank, row["rank"])
        if None in (year, level, unit, value) or (rank is None and clean_text(row["rank"]) is not None):
            continue
        key = (year, level, unit)
        if key in seen:
            errors.append(f"{where}: duplicate of line {seen[key]} ({year}, {level}, {unit})")
            continue
        seen[key] = line
        out.append({"year": year, "level": level, "unit_code": unit, "dti_value": value, "rank": rank,
                    "source_row": line})
    return out


def _frame(rows: list[dict], columns: list[str], source_file: str, loaded_at: dt.datetime) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in columns if c not in ("source_file", "loaded_at")])
    frame["source_file"] = source_file
    frame["loaded_at"] = loaded_at
    frame = frame[columns]
    for c in frame.columns:
        if frame[c].dtype == "str" or frame[c].dtype == "string":
            frame[c] = frame[c].astype(object)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")
    return frame


def import_history(con: duckdb.DuckDBPyConnection, values_path: Path, published_path: Path) -> HistoryImportSummary:
    """Import published main-indicator values and totals; see the module docstring."""
    prepare_warehouse(con)
    errors: list[str] = []
    values = _parse_values(Path(values_path), errors)
    published = _parse_published(Path(published_path), errors)
    if errors:
        raise HistoryImportError(errors)
    years = sorted({r["year"] for r in values} | {r["year"] for r in published})
    loaded_at = dt.datetime.now()
    values_frame = _frame(values, ["year", "level", "unit_code", "indicator_code", "value", "source_file",
                                   "source_row", "loaded_at"], str(Path(values_path).resolve()), loaded_at)
    published_frame = _frame(published, ["year", "level", "unit_code", "dti_value", "rank", "source_file",
                                         "source_row", "loaded_at"], str(Path(published_path).resolve()), loaded_at)
    con.execute("BEGIN TRANSACTION")
    try:
        replaced = []
        for table in ("dti_history_values", "dti_history_published"):
            n = con.execute(f"SELECT count(*) FROM raw.{table} WHERE list_contains(?, year)", [years]).fetchone()[0]
            con.execute(f"DELETE FROM raw.{table} WHERE list_contains(?, year)", [years])
            replaced.append(n)
        con.register("dti_history_values_frame", values_frame)
        con.register("dti_history_published_frame", published_frame)
        con.execute("INSERT INTO raw.dti_history_values BY NAME SELECT * FROM dti_history_values_frame")
        con.execute("INSERT INTO raw.dti_history_published BY NAME SELECT * FROM dti_history_published_frame")
        con.unregister("dti_history_values_frame")
        con.unregister("dti_history_published_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    log.info("imported DTI history for %s: %d values, %d published totals", years, len(values), len(published))
    return HistoryImportSummary(years, len(values), len(published), replaced[0], replaced[1])


def load_weight_supplements(con: duckdb.DuckDBPyConnection, path: Path, source: str) -> WeightLoadSummary:
    """Append main-indicator points from `path` (methodology_version,level,indicator_code,max_points),
    labelled with `source` (who published them, or 'demo assumption')."""
    prepare_warehouse(con)
    if not (source or "").strip():
        raise HistoryImportError(["--source is required: say where the weights come from"])
    errors: list[str] = []
    rows, seen = [], {}
    versions = known_versions()
    for line, row in _read_rows(Path(path), WEIGHT_COLUMNS, errors):
        where = f"{Path(path).name}: line {line}"
        version = clean_text(row["methodology_version"])
        level = _check(errors, where, "level", _level, row["level"])
        code = (clean_text(row["indicator_code"]) or "").rstrip(".")
        points = _check(errors, where, "max_points", parse_number, row["max_points"])
        if version not in versions:
            errors.append(f"{where}: field methodology_version: {version!r} is not in the catalogue "
                          f"({', '.join(sorted(versions))})")
            continue
        if level and code:
            mains = {i.code for i in indicators(version, level, node_type="main")}
            if code not in mains:
                errors.append(f"{where}: field indicator_code: {code!r} is not a main indicator of {version} "
                              f"({level}); expected one of {', '.join(sorted(mains))}")
                continue
        if points is not None and points < 0:
            errors.append(f"{where}: field max_points: expected 0 or more, found {points:g}")
            continue
        if None in (level, points) or not code:
            continue
        key = (version, level, code)
        if key in seen:
            errors.append(f"{where}: duplicate of line {seen[key]} ({version}, {level}, {code})")
            continue
        seen[key] = line
        rows.append({"methodology_version": version, "level": level, "indicator_code": code, "max_points": points})
    if errors:
        raise HistoryImportError(errors)
    frame = pd.DataFrame(rows, columns=list(WEIGHT_COLUMNS)).astype(
        {"methodology_version": object, "level": object, "indicator_code": object, "max_points": "float64"})
    frame["source"] = source.strip()
    frame["loaded_at"] = dt.datetime.now()
    con.register("dti_weight_frame", frame)
    con.execute("INSERT INTO raw.dti_weight_supplements BY NAME SELECT * FROM dti_weight_frame")
    con.unregister("dti_weight_frame")
    log.info("loaded %d DTI weight supplements from %s (%s)", len(rows), path, source)
    return WeightLoadSummary(len(rows), source.strip(), sorted(seen))
