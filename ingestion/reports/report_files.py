"""Read a filled agency report file (XLSX or CSV) into header cells and raw table rows, within
bounds.

No interpretation against a catalogue happens here (that is intake's job); this module only finds
the cells. A file that cannot be read as a report raises `ReportFileError` (an `InputRejected`:
a rule and a reason); everything else is returned cell by cell so one bad cell rejects one row,
not the file. Layout: ingestion/reports/templates.py and docs/dti_reports.md.

Every reader is bounded (`ingestion/core/input_files.py`, `InputLimits`), so a hostile or broken
file is refused within seconds and with bounded memory, never read to exhaustion:

* **XLSX** (a zip package): before any XML is parsed, the package's declared sizes are checked
  (`max_report_bytes` and `max_uncompressed_bytes` for the unpacked total,
  `max_compression_ratio` per member) and then every member is decompressed in bounded chunks,
  stopping one byte past its declared size, so a header that lies about a member's size
  (`zip_size_mismatch`), a bad checksum or a truncated stream is caught before parsing. The
  indicator sheet's cell and row tags are then counted at the speed of a regular expression over
  bytes (`max_cells`, `max_report_rows`: a bomb of rows or cells is refused in about a second),
  and the sheet is parsed as a stream through expat, one cell at a time, nothing kept but the
  non-empty cells, stopping at the first breach of `max_report_rows`, `max_cells` or
  `max_field_bytes` (a cell's text is refused while it streams). Other sheets are never parsed.
* **CSV**: the bytes are decoded incrementally by their byte-order mark (UTF-8 with or without
  BOM, UTF-16 of either byte order); lines longer than `max_line_bytes`, fields longer than
  `max_field_bytes`, more than `max_report_rows` records or `max_cells` fields stop the reader.
* Files are opened with `open_regular` (no symbolic link followed).

Reasons start with fixed text and name the file, sheet, row and field after it (`location`):
the file name and cell values are the sender's, and a reason that began with them could start
with `=` in a spreadsheet.
"""

from __future__ import annotations

import codecs
import copy
import csv
import datetime as dt
import functools
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse
from xml.parsers import expat

from ingestion.core.input_files import InputLimits, InputRejected, exceeds, input_limits, open_regular
from ingestion.reports.cell_parsing import EncodingError, clean_text, fold, shown, sniff_delimiter
from ingestion.reports.templates import HEADER_FIELDS, INDICATOR_SHEET, TABLE_COLUMNS

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".csv")
CHUNK = 1 << 16
# A workbook has tens of package members; a zip with more is not a report (and its directory
# alone would cost memory). Checked from the end record, before the directory is parsed.
MAX_PACKAGE_MEMBERS = 10_000
# Members this small are never a memory risk, whatever their compression ratio (XML compresses well).
RATIO_FLOOR_BYTES = 1 << 20


class ReportFileError(InputRejected, ValueError):
    """The file is not a readable report. `rule` is a short machine name, `reason` (also str())
    the message for people, starting with the cause."""

    def __init__(self, rule: str, message: str):
        InputRejected.__init__(self, rule, message)


@dataclass
class RawRow:
    sheet: str | None
    source_row: int
    cells: dict[str, object]  # TABLE_COLUMNS name -> cell value as found
    formula_fields: set[str] = field(default_factory=set)  # formula cells without a cached value
    percent_fields: set[str] = field(default_factory=set)  # numeric cells formatted as a percentage


@dataclass
class ReportFile:
    path: Path
    file_format: str  # xlsx / csv
    file_encoding: str | None
    sheet: str | None
    header: dict[str, object]  # HEADER_FIELDS key -> value as found (None if absent)
    rows: list[RawRow]
    name: str = ""  # the name the sender gave the file (path may be its archived copy)

    def __post_init__(self):
        self.name = self.name or Path(self.path).name


@dataclass(frozen=True)
class ReportLayout:
    """Where a form keeps its cells: the data sheet's name, the header fields (key, defined name,
    Vietnamese label, row), the table columns (machine name, Vietnamese label), the columns a
    table header row must have, and extra spellings of labels (folded). The DTI form and the KPI
    form are two layouts read by the same readers."""

    sheet: str
    header_fields: tuple[tuple[str, str, str, int], ...]
    table_columns: tuple[tuple[str, str], ...]
    required_columns: tuple[str, ...]
    header_aliases: tuple[tuple[str, str], ...] = ()
    column_aliases: tuple[tuple[str, str | None], ...] = ()
    table_header_row: int = 9

    @functools.cached_property
    def header_labels(self) -> dict[str, str]:
        """Labels that identify the header cells (compared folded: no accents, lower case)."""
        labels = {fold(label.split("(")[0]): key for key, _, label, _ in self.header_fields}
        labels.update({key: key for key, *_ in self.header_fields})
        labels.update({fold(name): key for key, name, *_ in self.header_fields})
        labels.update(dict(self.header_aliases))
        return labels

    @functools.cached_property
    def column_labels(self) -> dict[str, str | None]:
        labels: dict[str, str | None] = {fold(label): name for name, label in self.table_columns}
        labels.update({name: name for name, _ in self.table_columns})
        labels.update(dict(self.column_aliases))
        return labels

    def label_of(self, column: str) -> str:
        return dict(self.table_columns)[column]


DTI_LAYOUT = ReportLayout(
    sheet=INDICATOR_SHEET,
    header_fields=tuple(HEADER_FIELDS),
    table_columns=tuple(TABLE_COLUMNS),
    required_columns=("indicator_code", "value"),
    header_aliases=(("ma don vi bao cao", "unit_code"), ("nam", "year"), ("ngay bao cao", "report_date"),
                    ("nam bao cao", "year"), ("phien ban", "methodology_version")),
    column_aliases=(("ma", "indicator_code"), ("ma so", "indicator_code"), ("stt", None), ("code", "indicator_code"),
                    ("gia tri bao cao", "value"), ("so lieu", "value")),
)
# The DTI layout's labels, under the names they had before there were two forms.
HEADER_LABELS = DTI_LAYOUT.header_labels
COLUMN_LABELS = DTI_LAYOUT.column_labels
REQUIRED_COLUMNS = DTI_LAYOUT.required_columns


def location(name: str, sheet: str | None = None, row: int | None = None, field: str | None = None,
             indicator: str | None = None) -> str:
    """Where, for the end of a reason: "file 'x.xlsx', sheet 'Chỉ tiêu', row 18, field 'value',
    indicator 7.2". A CSV has no sheet: its row is its line."""
    parts = [f"file '{shown(name)}'"]
    if sheet is not None:
        parts.append(f"sheet '{shown(sheet)}'")
    if row is not None:
        parts.append(f"{'row' if sheet is not None else 'line'} {row}")
    if field is not None:
        parts.append(f"field '{field}'")
    if indicator is not None:
        parts.append(f"indicator {shown(indicator)}")
    return ", ".join(parts)


def read_report(path: Path, name: str | None = None, limits: InputLimits | None = None,
                layout: ReportLayout = DTI_LAYOUT) -> ReportFile:
    """Read the report at `path` laid out as `layout` (default: the DTI form); `name` is the name
    the sender gave it (default: path's), which chooses the format and appears in reasons."""
    path = Path(path)
    name = name or path.name
    limits = limits or input_limits()
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReportFileError("unsupported_format", f"unsupported file type '{shown(suffix)}'; send the XLSX or "
                                                    f"CSV template ({location(name)})")
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        for limit_name in ("max_file_bytes", "max_report_bytes"):
            if exceeds(size, getattr(limits, limit_name)):
                raise ReportFileError("file_too_large", f"file too large: {size} bytes, more than the limit of "
                                                        f"{getattr(limits, limit_name)} bytes "
                                                        f"({_env(limit_name)}) ({location(name)})")
        if suffix == ".csv":
            return read_csv(fh, name, limits, path, layout)
        return read_xlsx(fh, name, limits, path, layout)


def _env(limit_name: str) -> str:
    return f"DXMON_LIMIT_{limit_name.upper()}"


def _too_many(rule: str, what: str, limit_name: str, limits: InputLimits, where: str) -> ReportFileError:
    return ReportFileError(rule, f"limit exceeded: more than {getattr(limits, limit_name)} {what} "
                                 f"({_env(limit_name)}); reading stopped there ({where})")


def _check_field(value: str, limits: InputLimits, where) -> None:
    limit = limits.max_field_bytes
    if limit and len(value) * 4 > limit:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise ReportFileError("field_too_large", f"limit exceeded: a field of {size} bytes, more than "
                                                     f"{limit} ({_env('max_field_bytes')}) ({where()})")


def _table_columns(labels: list[object], layout: ReportLayout = DTI_LAYOUT) -> dict[int, str]:
    found = {}
    for i, label in enumerate(labels):
        name = layout.column_labels.get(fold(str(label))) if label is not None else None
        if name and name not in found.values():
            found[i] = name
    return found


# --------------------------------------------------------------------------------------------
# XLSX: the package

def _member_count(fh) -> int | None:
    """Entries announced by the zip's end-of-central-directory record, None if there is none."""
    size = fh.seek(0, os.SEEK_END)
    tail = min(size, 22 + 0xFFFF)
    fh.seek(size - tail)
    data = fh.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(data):
        return None
    (entries,) = struct.unpack("<H", data[at + 10: at + 12])
    return entries


def open_package(fh, name: str, limits: InputLimits) -> zipfile.ZipFile:
    """The zip package of an XLSX, checked whole before a byte of XML is parsed (see the module
    docstring): a non-zip, a truncated or damaged zip, a bomb or a lying header raise ReportFileError."""
    where = location(name)
    fh.seek(0)
    magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise ReportFileError("unreadable_file", f"not an XLSX workbook: the file is not a zip package (an .xlsx "
                                                 f"is one); it may be another kind of file renamed .xlsx: save it "
                                                 f"again as Excel Workbook ({where})")
    entries = _member_count(fh)
    if entries is None:
        raise ReportFileError("unreadable_file", f"truncated XLSX workbook: the zip package has no end record (the "
                                                 f"file ends before its directory); send the complete file again "
                                                 f"({where})")
    if entries > MAX_PACKAGE_MEMBERS or entries == 0xFFFF:
        raise ReportFileError("too_many_zip_members", f"limit exceeded: the zip package announces {entries} "
                                                      f"members, more than {MAX_PACKAGE_MEMBERS}; not a report "
                                                      f"workbook ({where})")
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as exc:
        raise ReportFileError("unreadable_file", f"damaged XLSX workbook: its zip directory cannot be read "
                                                 f"({_detail(exc)}); send the file again ({where})") from None
    size_limits = [n for n in ("max_report_bytes", "max_uncompressed_bytes") if getattr(limits, n)]
    declared = 0
    for info in infos:
        declared += info.file_size
        for limit_name in size_limits:
            if exceeds(declared, getattr(limits, limit_name)):
                raise ReportFileError("uncompressed_too_large", f"limit exceeded: the workbook unpacks to more "
                                                                f"than {getattr(limits, limit_name)} bytes "
                                                                f"({_env(limit_name)}) ({where})")
        if limits.max_compression_ratio and info.file_size > RATIO_FLOOR_BYTES and \
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise ReportFileError(
                "compression_ratio_too_high",
                f"limit exceeded: member '{shown(info.filename)}' unpacks {info.file_size // max(info.compress_size, 1)}"
                f" times its compressed size, more than {limits.max_compression_ratio} "
                f"({_env('max_compression_ratio')}); a zip bomb, not a report ({where})")
    for info in infos:
        _verify_member(zf, info, where)
    return zf


def _verify_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> None:
    """Decompress one member in chunks, reading at most one byte more than its declared size:
    more bytes than declared is a lying header; a bad checksum or an early end, a damaged file."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1  # the zip reader stops at the size it is told
    probe.CRC = None  # checked here, after the size: a lying size must be named as such
    actual = 0
    crc = 0
    try:
        with zf.open(probe) as member:
            while chunk := member.read(CHUNK):
                actual += len(chunk)
                crc = zlib.crc32(chunk, crc)
                if actual > info.file_size:
                    raise ReportFileError(
                        "zip_size_mismatch",
                        f"forged or damaged XLSX workbook: member '{shown(info.filename)}' unpacks to more than the "
                        f"{info.file_size} bytes its zip header declares; reading stopped there ({where})")
    except ReportFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        if "encrypted" in str(exc).lower():
            raise ReportFileError("unreadable_file", f"encrypted XLSX workbook: remove the password protection and "
                                                     f"send it again ({where})") from None
        truncated = isinstance(exc, EOFError) or "ended" in str(exc) or "truncated" in str(exc).lower()
        raise ReportFileError(
            "unreadable_file",
            f"{'truncated' if truncated else 'damaged'} XLSX workbook: member '{shown(info.filename)}' cannot be "
            f"unpacked ({_detail(exc)}); the file may be truncated or not an Excel file: send it again "
            f"({where})") from None
    if actual != info.file_size:
        raise ReportFileError("zip_size_mismatch", f"forged or damaged XLSX workbook: member '{shown(info.filename)}' "
                                                   f"unpacks to {actual} bytes, not the {info.file_size} its zip "
                                                   f"header declares ({where})")
    if crc != info.CRC:
        raise ReportFileError("unreadable_file", f"damaged XLSX workbook: member '{shown(info.filename)}' fails its "
                                                 f"checksum (CRC-32); the file may be truncated or altered: send it "
                                                 f"again ({where})")


def _detail(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return shown(text, 160)


# --------------------------------------------------------------------------------------------
# XLSX: the XML parts, streamed

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unescape(text: str) -> str:
    """Excel writes characters XML cannot hold (control characters) as _xHHHH_."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _parse_ref(ref: str) -> tuple[int, int] | None:
    m = _CELL_REF.match(ref.strip())
    return (int(m.group(2)), _column_index(m.group(1))) if m else None


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = base.rsplit("/", 1)[0].split("/") if "/" in base else []
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _events(zf: zipfile.ZipFile, part: str, events=("end",)):
    """iterparse events of a small part (workbook, relationships, styles), forgetting each
    element below the root's children once it has been handed out, so memory stays bounded."""
    stack: list = []
    with zf.open(part) as stream:
        for event, el in iterparse(stream, events=("start", "end")):
            if event == "start":
                stack.append(el)
                if "start" in events:
                    yield event, el
                continue
            stack.pop()
            if "end" in events:
                yield event, el
            if len(stack) >= 2:
                del stack[-1][:]


def _relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{id: (type, part path)} of a part's relationships."""
    rels_part = _part_path(part, f"_rels/{part.rsplit('/', 1)[-1]}.rels")
    if rels_part not in zf.NameToInfo:
        return {}
    found = {}
    for _, el in _events(zf, rels_part):
        if _local(el.tag) == "Relationship" and el.get("TargetMode") != "External":
            found[el.get("Id")] = (el.get("Type") or "", _part_path(part, el.get("Target") or ""))
    return found


@dataclass
class _Workbook:
    sheets: list[tuple[str, str]]  # (title, part) in order
    defined: dict[str, list[tuple[int | None, str]]]  # name -> [(localSheetId, text)]
    shared_strings: str | None
    styles: str | None
    date1904: bool


def _workbook(zf: zipfile.ZipFile) -> _Workbook:
    main = "xl/workbook.xml"
    for _, (kind, target) in _relationships(zf, "").items():
        if kind.endswith("/officeDocument"):
            main = target
    if main not in zf.NameToInfo:
        raise KeyError(f"no workbook part {main}")
    rels = _relationships(zf, main)
    sheets, defined, date1904 = [], {}, False
    for _, el in _events(zf, main):
        tag = _local(el.tag)
        if tag == "sheet":
            rid = el.get(f"{{{_REL_NS}}}id") or el.get("id")
            target = rels.get(rid, ("", ""))[1]
            sheets.append((el.get("name") or "", target))
        elif tag == "definedName":
            local = el.get("localSheetId")
            defined.setdefault(el.get("name") or "", []).append(
                (int(local) if local and local.isdigit() else None, el.text or ""))
        elif tag == "workbookPr":
            date1904 = (el.get("date1904") or "").lower() in ("1", "true")
    shared = next((t for k, t in rels.values() if k.endswith("/sharedStrings")), None)
    styles = next((t for k, t in rels.values() if k.endswith("/styles")), None)
    return _Workbook(sheets, defined, shared if shared in zf.NameToInfo else None,
                     styles if styles in zf.NameToInfo else None, date1904)


def _expat(zf: zipfile.ZipFile, part: str, start, end, text) -> None:
    """Stream `part` through expat with the three handlers, given element names without their
    prefix. No tree is built; a DOCTYPE (never in a workbook: the way to entity bombs) is refused."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    names: dict[str, str] = {}

    def local(qname: str) -> str:
        name = names.get(qname)
        if name is None:
            name = names[qname] = qname.rpartition(":")[2]
        return name

    def doctype(*_):
        raise ValueError("a DOCTYPE declaration (not allowed in a workbook)")

    parser.StartElementHandler = lambda qname, attrs: start(names.get(qname) or local(qname), attrs)
    parser.EndElementHandler = lambda qname: end(names.get(qname) or local(qname))
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    with zf.open(part) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


class _TextLimit:
    """Collects the text of one cell or string, refusing it as soon as it passes max_field_bytes
    (so a 100 MB cell is never held whole)."""

    def __init__(self, limits: InputLimits, where):
        self.limit, self.limits, self.where = limits.max_field_bytes, limits, where
        self.parts: list[str] = []
        self.size = 0
        self.on = False

    def start(self) -> None:
        self.parts, self.size, self.on = [], 0, True

    def add(self, data: str) -> None:
        if self.on:
            self.parts.append(data)
            self.size += len(data)
            if self.limit and self.size > self.limit:
                _check_field("".join(self.parts), self.limits, self.where)

    def stop(self) -> str:
        self.on = False
        return "".join(self.parts)


def _shared_strings(zf: zipfile.ZipFile, part: str | None, limits: InputLimits, name: str) -> list[str]:
    """The shared strings (rich text runs joined, phonetic runs left out), each within the field
    limit, at most max_cells of them."""
    strings: list[str] = []
    if part is None:
        return strings
    text = _TextLimit(limits, lambda: location(name) + f", shared string {len(strings) + 1}")
    state = {"phonetic": 0, "si": []}

    def start(tag, attrs):
        if tag == "si":
            state["si"] = []
        elif tag == "rPh":
            state["phonetic"] += 1
        elif tag == "t" and not state["phonetic"]:
            text.start()

    def end(tag):
        if tag == "t" and text.on:
            state["si"].append(text.stop())
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "si":
            value = _unescape("".join(state["si"]))
            _check_field(value, limits, text.where)
            strings.append(value)
            if exceeds(len(strings), limits.max_cells):
                raise _too_many("too_many_cells", "shared strings (each a cell's text)", "max_cells", limits,
                                location(name))

    _expat(zf, part, start, end, text.add)
    return strings


def _number_formats(zf: zipfile.ZipFile, part: str | None) -> tuple[list[str], set[int]]:
    """(format code of each cell style, indexes of the styles that format a date)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if part is None:
        return [], set()
    custom: dict[int, str] = {}
    codes: list[str] = []
    in_cell_xfs = False
    for event, el in _events(zf, part, ("start", "end")):
        tag = _local(el.tag)
        if tag == "cellXfs":
            in_cell_xfs = event == "start"
        elif event == "end" and tag == "numFmt":
            fid = el.get("numFmtId")
            if fid and fid.isdigit():
                custom[int(fid)] = el.get("formatCode") or ""
        elif event == "end" and tag == "xf" and in_cell_xfs:
            fid = el.get("numFmtId") or "0"
            fid_n = int(fid) if fid.isdigit() else 0
            codes.append(custom.get(fid_n, BUILTIN_FORMATS.get(fid_n, "General")))
    dates = {i for i, code in enumerate(codes) if is_date_format(code)}
    return codes, dates


_CELL_TAG = re.compile(rb"<c(?=[\s>/])")
_ROW_WITH_CONTENT = re.compile(rb"<row(?=[\s>])[^>]*(?<!/)>")
# a sheet written with a namespace prefix (<x:worksheet>, <x:c>): slower patterns, used only then
_PREFIXED_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*):worksheet[\s>]")
_TAIL = 4096  # bytes kept between chunks so a tag split across two is counted once


def _count_tags(zf: zipfile.ZipFile, part: str, title: str, limits: InputLimits, name: str) -> None:
    """Count the sheet's cell elements and its row elements with content (not `<row .../>`) at
    the speed of a regular expression over bytes, in bounded chunks, and refuse the sheet before
    it is parsed when either passes its limit: a bomb of cells is refused in about a second,
    whatever it holds. The streaming parse counts the same things and stops likewise."""
    if not (limits.max_cells or limits.max_report_rows):
        return
    cells = rows = 0
    tail = b""
    cell_tag, row_tag = _CELL_TAG, _ROW_WITH_CONTENT
    with zf.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if not tail and (m := _PREFIXED_ROOT.search(chunk[:4096])):
                prefix = re.escape(m.group(1))
                cell_tag = re.compile(rb"<" + prefix + rb":c(?=[\s>/])")
                row_tag = re.compile(rb"<" + prefix + rb":row(?=[\s>])[^>]*(?<!/)>")
            data = tail + chunk
            cells += len(cell_tag.findall(data)) - len(cell_tag.findall(tail))
            rows += len(row_tag.findall(data)) - len(row_tag.findall(tail))
            if exceeds(cells, limits.max_cells):
                raise _too_many("too_many_cells", "cells", "max_cells", limits, location(name, title))
            if exceeds(rows, limits.max_report_rows):
                raise _too_many("too_many_rows", "rows", "max_report_rows", limits, location(name, title))
            tail = data[-_TAIL:]


@dataclass
class _Sheet:
    cells: dict[int, dict[int, object]]  # row -> {column: value}, non-empty cells only
    formulas: set[tuple[int, int]]  # formula cells (with or without a cached value)
    percent: set[tuple[int, int]]  # numeric cells formatted as a percentage
    merges: list[tuple[int, int, int, int]]


def _read_sheet(zf: zipfile.ZipFile, part: str, title: str, book: _Workbook, strings: list[str],
                formats: tuple[list[str], set[int]], limits: InputLimits, name: str) -> _Sheet:
    """Stream the sheet's XML, one cell at a time, keeping only the non-empty cells; stop at the
    first breach of max_cells (every <c>), max_report_rows (rows holding a <c>) or max_field_bytes."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    codes, date_styles = formats
    percent_styles = {i for i, code in enumerate(codes) if "%" in code}
    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    sheet = _Sheet({}, set(), set(), [])
    st = {"row": 0, "col": 0, "row_has_cell": False, "rows": 0, "cells": 0, "kind": "n", "style": None,
          "v": None, "formula": False, "inline": None, "in_is": False, "phonetic": 0}
    text = _TextLimit(limits, lambda: location(name, title, st["row"]))

    def start(tag, attrs):
        if tag == "c":
            st["cells"] += 1
            if exceeds(st["cells"], limits.max_cells):
                raise _too_many("too_many_cells", "cells", "max_cells", limits, location(name, title, st["row"]))
            m = _CELL_REF.match(attrs.get("r", ""))
            if m:
                st["row"], st["col"] = int(m.group(2)), _column_index(m.group(1))
            else:
                st["col"] += 1
            if not st["row_has_cell"]:
                st["row_has_cell"] = True
                st["rows"] += 1
                if exceeds(st["rows"], limits.max_report_rows):
                    raise _too_many("too_many_rows", "rows", "max_report_rows", limits,
                                    location(name, title, st["row"]))
            st.update(kind=attrs.get("t", "n"), style=attrs.get("s"), v=None, formula=False, inline=None)
        elif tag == "v":
            text.start()
        elif tag == "row":
            r = attrs.get("r", "")
            st.update(row=int(r) if r.isdigit() else st["row"] + 1, col=0, row_has_cell=False)
        elif tag == "f":
            st["formula"] = True
        elif tag == "is":
            st["in_is"], st["inline"] = True, []
        elif tag == "rPh":
            st["phonetic"] += 1
        elif tag == "t" and st["in_is"] and not st["phonetic"]:
            text.start()
        elif tag == "mergeCell":
            first, _, last = attrs.get("ref", "").partition(":")
            a, b = _parse_ref(first), _parse_ref(last or first)
            if a and b:
                sheet.merges.append((a[0], a[1], b[0], b[1]))
                if exceeds(len(sheet.merges), limits.max_cells):
                    raise _too_many("too_many_cells", "merged ranges", "max_cells", limits, location(name, title))

    def end(tag):
        if tag == "v":
            st["v"] = text.stop()
        elif tag == "c":
            row, col = st["row"], st["col"]
            value = _cell_value(st["kind"], st["v"], st["inline"], strings, date_styles, st["style"], epoch,
                                from_excel, limits, text.where)
            if st["formula"]:
                sheet.formulas.add((row, col))
            if value is not None:
                sheet.cells.setdefault(row, {})[col] = value
                style = st["style"]
                if style and style.isdigit() and int(style) in percent_styles and \
                        isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.percent.add((row, col))
        elif tag == "t" and text.on:
            st["inline"].append(text.stop())
        elif tag == "is":
            st["in_is"] = False
        elif tag == "rPh":
            st["phonetic"] -= 1

    _expat(zf, part, start, end, text.add)
    return sheet


def _cell_value(kind, raw, inline, strings, date_styles, style, epoch, from_excel, limits, where):
    if kind == "inlineStr":
        value = _unescape("".join(inline)) if inline is not None else None
    elif raw is None or raw == "":
        value = None
    elif kind == "s":
        try:
            value = strings[int(raw)]
        except (ValueError, IndexError):
            raise ReportFileError("unreadable_file", f"damaged XLSX workbook: a cell refers to shared string "
                                                     f"{shown(raw, 20)}, which does not exist ({where()})") from None
    elif kind in ("str", "e"):
        value = _unescape(raw)
    elif kind == "b":
        value = raw.strip() in ("1", "true")
    elif kind == "d":
        try:
            value = dt.datetime.fromisoformat(raw.strip().rstrip("Z"))
        except ValueError:
            value = raw
    else:
        try:
            value = float(raw) if ("." in raw or "e" in raw or "E" in raw) else int(raw)
        except ValueError:
            raise ReportFileError("unreadable_file", f"damaged XLSX workbook: a numeric cell holds "
                                                     f"'{shown(raw, 40)}' ({where()})") from None
        if style and style.isdigit() and int(style) in date_styles:
            try:
                value = from_excel(value, epoch)
            except (ValueError, OverflowError, TypeError):
                pass
    if isinstance(value, str):
        _check_field(value, limits, where)
        if value == "":
            value = None
    return value


def read_xlsx(fh, name: str, limits: InputLimits | None = None, path: Path | None = None,
              layout: ReportLayout = DTI_LAYOUT) -> ReportFile:
    """Read an XLSX report from the binary file object `fh` (see the module docstring)."""
    limits = limits or input_limits()
    data_sheet = layout.sheet
    zf = open_package(fh, name, limits)
    where = location(name)
    try:
        try:
            book = _workbook(zf)
            sheet_part = None
            for title, part in book.sheets:
                if fold(title) == fold(data_sheet):
                    sheet_title, sheet_part = title, part
                    break
            if sheet_part is not None and sheet_part not in zf.NameToInfo:
                raise ReportFileError("unreadable_file", f"damaged XLSX workbook: the part of sheet "
                                                         f"'{data_sheet}' is missing ({where})")
            if sheet_part is None:
                found = ", ".join(f"'{shown(t, 60)}'" for t, _ in book.sheets[:20])
                raise ReportFileError(
                    "missing_sheet",
                    f"missing sheet: no sheet '{data_sheet}' (found: {found}); fill the template without "
                    f"renaming or deleting the sheet ({where})")
            _count_tags(zf, sheet_part, sheet_title, limits, name)
            strings = _shared_strings(zf, book.shared_strings, limits, name)
            sheet = _read_sheet(zf, sheet_part, sheet_title, book, strings, _number_formats(zf, book.styles),
                                limits, name)
        except ReportFileError:
            raise
        except (ParseError, expat.ExpatError, KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError,
                OSError) as exc:
            raise ReportFileError("unreadable_file", f"damaged XLSX workbook: its XML cannot be read "
                                                     f"({_detail(exc)}); send the file again ({where})") from None
    finally:
        zf.close()
    _apply_merges(sheet, limits, name, sheet_title)
    header = _xlsx_header(book, sheet_title, sheet, layout)
    header_row = col_map = None
    for row_no in sorted(r for r in sheet.cells if r <= 60):
        columns = _table_columns(_row_list(sheet.cells[row_no]), layout)
        if all(c in columns.values() for c in layout.required_columns):
            header_row, col_map = row_no, columns
            break
    if header_row is None:
        labels = " and ".join(f"'{layout.label_of(c)}'" for c in layout.required_columns)
        raise ReportFileError(
            "missing_columns",
            f"missing columns: no table header row with the columns {labels}; keep the "
            f"template's row {layout.table_header_row} ({location(name, sheet_title)})")
    rows = []
    formula_rows = {r for r, _ in sheet.formulas}
    for excel_row in sorted(r for r in set(sheet.cells) | formula_rows if r > header_row):
        values = sheet.cells.get(excel_row, {})
        cells = {name_: values.get(i + 1) for i, name_ in col_map.items()}
        has_formula = {name_ for i, name_ in col_map.items() if (excel_row, i + 1) in sheet.formulas}
        if all(clean_text(v) is None for v in cells.values()) and not has_formula:
            continue
        raw = RawRow(sheet_title, excel_row, cells)
        raw.formula_fields = {n for n in has_formula if cells[n] is None}
        raw.percent_fields = {n for i, n in col_map.items() if (excel_row, i + 1) in sheet.percent}
        rows.append(raw)
    return ReportFile(path or Path(name), "xlsx", None, sheet_title, header, rows, name)


def _row_list(row: dict[int, object]) -> list[object]:
    if not row:
        return []
    values: list[object] = [None] * max(row)
    for col, value in row.items():
        values[col - 1] = value
    return values


def _apply_merges(sheet: _Sheet, limits: InputLimits, name: str, title: str) -> None:
    """A merged range shows its value in every cell it covers (a merged label, code or evidence)."""
    if not sheet.cells:
        return
    last_row = max(sheet.cells)
    filled = sum(len(r) for r in sheet.cells.values())
    for r1, c1, r2, c2 in sheet.merges:
        top = sheet.cells.get(r1, {}).get(c1)
        if top is None or r1 > last_row:
            continue
        for row in range(r1, min(r2, last_row) + 1):
            target = sheet.cells.setdefault(row, {})
            for col in range(c1, c2 + 1):
                if (row, col) != (r1, c1):
                    if col not in target:
                        filled += 1
                        if exceeds(filled, limits.max_cells):
                            raise _too_many("too_many_cells", "cells (counting merged ranges)", "max_cells",
                                            limits, location(name, title, row))
                    target[col] = top


def _xlsx_header(book: _Workbook, title: str, sheet: _Sheet, layout: ReportLayout = DTI_LAYOUT) -> dict[str, object]:
    """Header cells by defined name (workbook-level or scoped to the indicator sheet, pointing into
    it); by label in the first rows when a name is missing (a sheet copied into another workbook
    loses its names)."""
    header: dict[str, object] = {key: None for key, *_ in layout.header_fields}
    found: set[str] = set()
    index = next((i for i, (t, _) in enumerate(book.sheets) if t == title), None)
    for key, defined_name, _, _ in layout.header_fields:
        for local, text in book.defined.get(defined_name, []):
            if local is not None and local != index:
                continue
            target, _, coord = text.split(",")[0].rpartition("!")
            target = target.strip()
            if target.startswith("'") and target.endswith("'"):
                target = target[1:-1].replace("''", "'")
            ref = _parse_ref(coord.split(":")[0])
            if ref is None or target != title:
                continue
            header[key] = sheet.cells.get(ref[0], {}).get(ref[1])
            found.add(key)
            break
    for row_no in sorted(r for r in sheet.cells if r <= 20):
        values = _row_list(sheet.cells[row_no])
        for i, v in enumerate(values[:6]):
            if v is None or not isinstance(v, str):
                continue
            key = layout.header_labels.get(fold(v.split("(")[0]))
            if key is None or key in found:
                continue
            following = [x for x in values[i + 1:] if clean_text(x) is not None]
            header[key] = following[0] if following else None
            found.add(key)
    header["_found"] = found
    return header


# --------------------------------------------------------------------------------------------
# CSV

_COMMENT = re.compile(r"^\s*#\s*([^:=]+?)\s*[:=]\s*(.*)$")
_EOL = re.compile(r"\r\n|\r|\n")


def _encoding_of(head: bytes) -> tuple[str, str, int]:
    """(codec, recorded name, BOM length) by the byte-order mark; never guessed."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8", "utf-8-sig", 3
    if head.startswith(b"\xff\xfe"):  # recorded as utf-16 (the BOM says the order), either way
        return "utf-16-le", "utf-16", 2
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be", "utf-16", 2
    if head[:200].count(b"\x00") > 10:
        raise EncodingError("not UTF-8 or UTF-16 with a byte-order mark: the file looks like UTF-16 without one; "
                            "save it again as 'CSV UTF-8' or 'Unicode Text'")
    return "utf-8", "utf-8", 0


class _Lines:
    """Decoded lines of a binary stream (ends kept, as csv wants), with bounded length: the line
    number of each, and the characters read since `mark()` (one CSV record may span lines)."""

    def __init__(self, fh, codec: str, limits: InputLimits, name: str):
        self.fh, self.codec, self.limits, self.name = fh, codec, limits, name
        self.decoder = codecs.getincrementaldecoder(codec)("strict")
        self.line_no = 0  # lines handed out
        self.since_mark = 0
        self.width = 1 if codec == "utf-8" else 2

    def mark(self) -> None:
        self.since_mark = 0

    def _decode(self, chunk: bytes, final: bool, pending: str) -> str:
        try:
            return self.decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            good = exc.object[: exc.start].decode(self.codec, "replace")
            line = self.line_no + 1 + pending.count("\n") + good.count("\n")
            label = {"utf-8": "UTF-8"}.get(self.codec, "UTF-16")
            raise EncodingError(
                f"not valid {label} (line {line}): the file was probably saved in a legacy code page "
                f"(Windows-1258/1252); save it again as 'CSV UTF-8'") from None

    def __iter__(self) -> Iterator[str]:
        pending = ""
        limit = self.limits.max_line_bytes
        final = False
        while not final:
            chunk = self.fh.read(CHUNK)
            final = not chunk
            pending += self._decode(chunk, final, pending)
            pos = 0
            while m := _EOL.search(pending, pos):
                if m.group(0) == "\r" and m.end() == len(pending) and not final:
                    break  # a CR at the end of the chunk may be the first half of CRLF
                yield self._counted(pending[pos:m.end()], limit)
                pos = m.end()
            pending = pending[pos:]
            if limit and len(pending) * self.width > limit and len(pending.encode(self.codec)) > limit:
                raise self._too_long(self.line_no + 1)
        if pending:
            yield self._counted(pending, limit)

    def _counted(self, line: str, limit: int) -> str:
        self.line_no += 1
        size = len(line) * self.width
        if limit and size > limit and len(line.encode(self.codec)) > limit:
            raise self._too_long(self.line_no)
        self.since_mark += len(line)
        if limit and self.since_mark * self.width > limit:
            raise ReportFileError("line_too_long", f"limit exceeded: a record spanning lines is longer than {limit} "
                                                   f"bytes ({_env('max_line_bytes')}) "
                                                   f"({location(self.name, row=self.line_no)})")
        return line

    def _too_long(self, line_no: int) -> ReportFileError:
        return ReportFileError("line_too_long", f"limit exceeded: a line longer than {self.limits.max_line_bytes} "
                                                f"bytes ({_env('max_line_bytes')}) ({location(self.name, row=line_no)})")


def read_csv(fh, name: str, limits: InputLimits | None = None, path: Path | None = None,
             layout: ReportLayout = DTI_LAYOUT) -> ReportFile:
    """Read a CSV report from the binary file object `fh`: `# key: value` header lines, then the
    table (see the module docstring)."""
    limits = limits or input_limits()
    head = fh.read(200)
    if not head.strip():
        raise ReportFileError("unreadable_file", f"empty file: no header and no table ({location(name)})")
    try:
        codec, encoding, bom = _encoding_of(head)
    except EncodingError as exc:
        raise ReportFileError("wrong_encoding", f"{exc} ({location(name)})") from None
    fh.seek(bom)
    lines = _Lines(fh, codec, limits, name)
    try:
        return _read_csv_lines(iter(lines), lines, name, encoding, limits, path, layout)
    except EncodingError as exc:
        raise ReportFileError("wrong_encoding", f"{exc} ({location(name)})") from None


def _read_csv_lines(source: Iterator[str], lines: _Lines, name: str, encoding: str, limits: InputLimits,
                    path: Path | None, layout: ReportLayout = DTI_LAYOUT) -> ReportFile:
    header: dict[str, object] = {key: None for key, *_ in layout.header_fields}
    found: set[str] = set()
    first = None
    for line in source:
        lines.mark()
        stripped = line.strip().strip('"')
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _COMMENT.match(stripped.rstrip(",;\t").rstrip('"'))
            if m:
                key = layout.header_labels.get(fold(m.group(1))) or layout.header_labels.get(m.group(1).strip().lower())
                if key:
                    header[key] = m.group(2).strip().strip('"') or None
                    found.add(key)
            continue
        first = line
        break
    header["_found"] = found
    if first is None:
        raise ReportFileError("missing_columns", f"missing columns: no table after the '# key: value' header lines "
                                                 f"({location(name)})")
    table_line = lines.line_no
    delimiter = sniff_delimiter(first)

    def chained() -> Iterator[str]:
        yield first
        yield from source

    reader = csv.reader(chained(), delimiter=delimiter)
    rows: list[RawRow] = []
    col_map: dict[int, str] | None = None
    records = cells = 0
    start = table_line
    try:
        for values in reader:
            record_line = start
            start = table_line + reader.line_num
            lines.mark()
            for v in values:
                _check_field(v, limits, lambda r=record_line: location(name, row=r))
            if col_map is None:
                col_map = _table_columns(values, layout)
                if not all(c in col_map.values() for c in layout.required_columns):
                    labels = ", ".join(shown(v, 40) for v in values[:20])
                    raise ReportFileError(
                        "missing_columns",
                        f"missing columns: the table header needs the columns {' and '.join(layout.required_columns)} (found: "
                        f"{labels}) ({location(name, row=record_line)})")
                continue
            if not values:
                continue
            records += 1
            cells += len(values)
            if exceeds(records, limits.max_report_rows):
                raise _too_many("too_many_rows", "rows", "max_report_rows", limits, location(name, row=record_line))
            if exceeds(cells, limits.max_cells):
                raise _too_many("too_many_cells", "cells", "max_cells", limits, location(name, row=record_line))
            row_cells = {n: (values[i] if i < len(values) else None) for i, n in col_map.items()}
            if all(clean_text(v) is None for v in row_cells.values()):
                continue
            rows.append(RawRow(None, record_line, row_cells))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ReportFileError("field_too_large", f"limit exceeded: a field longer than the CSV reader's limit "
                                                     f"({location(name, row=table_line + reader.line_num)})") from None
        raise ReportFileError("unreadable_file", f"not a readable CSV table ({_detail(exc)}) "
                                                 f"({location(name, row=table_line + reader.line_num)})") from None
    return ReportFile(path or Path(name), "csv", encoding, None, header, rows, name)
