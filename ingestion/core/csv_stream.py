"""A CSV file read to its end, in bounded memory, before DuckDB reads it.

DuckDB's CSV reader trusts what it is given: it decompresses a gzip stream without checking that
it ended (a cut `.csv.gz` loads the rows before the cut, silently), reports a Windows-1258 file
as "CSV Error on Line: 2", reads only one byte order of UTF-16, and has no bound on how far a
stream expands. `inspect_csv` reads the bytes once, streaming (one block of `CHUNK` bytes and
one partial line at a time, whatever the file's size), and either refuses the file as a whole
with `InputRejected` (the rule, and a reason that starts with the cause and names the file and
the line) or returns what the load needs:

* **the stream ends cleanly**: every gzip member is decompressed to its end and its trailer
  (CRC-32 and length) checked by zlib; a stream cut anywhere, or missing its trailer, is
  `truncated_stream`; bad deflate data, a wrong CRC or bytes after the stream are
  `corrupt_stream`. Concatenated members are one valid stream;
* **bounded expansion**: `max_uncompressed_bytes` and `max_compression_ratio` are checked as the
  stream expands (the ratio once `RATIO_FLOOR` bytes are out, so small files never trip it), so a
  bomb is refused after a few hundred MB of work and never held in memory;
* **the encoding is named by the bytes**: a UTF-8 BOM, a UTF-16 BOM of either byte order (the
  text is transcoded to a UTF-8 staging file that DuckDB reads: DuckDB reads one byte order
  only), else UTF-8, validated to the end: a byte that is not UTF-8 is `not_utf8`, with the line;
* **bounded lines and fields**: `max_line_bytes` per physical line, `max_field_bytes` per field
  (checked on the lines long enough to hold such a field), `max_rows` data records;
* **the count of records** as DuckDB will see them (non-blank lines after the header, a quoted
  field spanning lines counted once), which the loader reconciles with the rows it stored; a
  quoted field never closed is `unterminated_quote`;
* whether any C0 control character (NUL, ...) occurs, so the row rules strip them only when needed.
"""

from __future__ import annotations

import codecs
import csv
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.input_files import InputLimits, InputRejected, exceeds, limit_rejected, open_regular

CHUNK = 1 << 20
RATIO_FLOOR = 1 << 20  # the compression ratio is judged once this many bytes came out (real CSV: ~10:1)
DELIMITERS = (",", ";", "\t", "|")
# the C0 control characters (and DEL) that have no place in a value: tab, LF and CR are kept
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
NOT_CONTROL = bytes(b for b in range(256) if b not in CONTROL_BYTES)
UTF8_BOM, UTF16_LE_BOM, UTF16_BE_BOM = b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"


@dataclass
class CsvInspection:
    encoding: str  # as sent: utf-8, utf-8-sig, utf-16-le, utf-16-be
    compressed: bool
    uncompressed_bytes: int  # bytes of text (after decompression, before transcoding)
    records: int  # data records, header excluded, as DuckDB counts them
    header: list[str]
    delimiter: str
    has_control_characters: bool
    has_quoted_newlines: bool
    staged: Path | None  # the UTF-8 transcode DuckDB reads instead of the file (UTF-16 input), or None


def inspect_csv(path: Path, *, compressed: bool, limits: InputLimits, where: str,
                staging: Path | None = None) -> CsvInspection:
    """Read `path` (a regular file, opened without following links) to its end. `where` names the
    file in reasons. A UTF-16 file is transcoded to `staging` (required for it)."""
    lines = _Lines(limits, where)
    staged_fh = None
    encoding = "utf-8"
    try:
        with open_regular(path) as fh:
            raw_chunks = _read_chunks(fh)
            text_chunks = _gunzip(raw_chunks, limits, where) if compressed else _counted(raw_chunks, limits, where)
            decoded = _Decoder(where, lines)
            for chunk in text_chunks:
                for utf8 in decoded.feed(chunk):
                    if decoded.encoding.startswith("utf-16"):
                        if staged_fh is None:
                            if staging is None:
                                raise ValueError("a UTF-16 file needs a staging path to be transcoded to")
                            staging.parent.mkdir(parents=True, exist_ok=True)
                            staged_fh = open(staging, "wb")
                        staged_fh.write(utf8)
                    lines.feed(utf8)
            for utf8 in decoded.finish():
                if staged_fh is not None:
                    staged_fh.write(utf8)
                lines.feed(utf8)
            encoding = decoded.encoding
            if encoding.startswith("utf-16") and staged_fh is None:  # a UTF-16 file of a BOM alone
                staging.parent.mkdir(parents=True, exist_ok=True)
                staged_fh = open(staging, "wb")
        lines.finish()
    except BaseException:
        if staged_fh is not None:
            staged_fh.close()
            staging.unlink(missing_ok=True)
        raise
    if staged_fh is not None:
        staged_fh.close()
    return CsvInspection(
        encoding=encoding, compressed=compressed, uncompressed_bytes=decoded.bytes_in, records=lines.records,
        header=lines.header or [], delimiter=lines.delimiter, has_control_characters=lines.has_controls,
        has_quoted_newlines=lines.quoted_newlines, staged=staging if staged_fh is not None else None)


def _read_chunks(fh) -> Iterator[bytes]:
    while block := fh.read(CHUNK):
        yield block


def _counted(chunks: Iterator[bytes], limits: InputLimits, where: str) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if exceeds(total, limits.max_uncompressed_bytes):
            raise limit_rejected("max_uncompressed_bytes", total, limits.max_uncompressed_bytes,
                                 "text size", where)
        yield chunk


def _gunzip(chunks: Iterator[bytes], limits: InputLimits, where: str) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (any number of members), checked to its end."""
    decompressor = zlib.decompressobj(wbits=31)  # gzip wrapper: zlib checks CRC-32 and ISIZE
    member_started = False
    read = produced = 0
    for chunk in chunks:
        read += len(chunk)
        data = chunk
        while data:
            try:
                out = decompressor.decompress(data, CHUNK)
            except zlib.error as exc:
                raise InputRejected(
                    "corrupt_stream",
                    f"corrupt gzip stream (zlib: {exc}) after {produced} uncompressed bytes: {where}") from None
            member_started = True
            data = decompressor.unconsumed_tail
            if out:
                produced += len(out)
                consumed = read - len(data) - len(decompressor.unused_data)
                if exceeds(produced, limits.max_uncompressed_bytes):
                    raise limit_rejected("max_uncompressed_bytes", produced, limits.max_uncompressed_bytes,
                                         "uncompressed size", where)
                if produced >= RATIO_FLOOR and exceeds(produced, limits.max_compression_ratio * max(consumed, 1)):
                    raise limit_rejected("max_compression_ratio", produced // max(consumed, 1),
                                         limits.max_compression_ratio,
                                         f"compression ratio (after {produced} bytes from {consumed})", where)
                yield out
            if decompressor.eof:
                rest = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=31)  # the next member, if any
                member_started = False
                data = rest + data if data else rest
    if member_started and not decompressor.eof:
        raise InputRejected(
            "truncated_stream",
            f"truncated gzip stream (it ends before its end-of-stream trailer, after {produced} uncompressed "
            f"bytes; the file was cut while it was written or sent): {where}")


class _Decoder:
    """Names the encoding from the first bytes (BOM), validates it, and yields UTF-8 bytes."""

    def __init__(self, where: str, lines: _Lines):
        self.where = where
        self.lines = lines  # for the line of an encoding error
        self.encoding: str | None = None
        self.head = b""
        self.bytes_in = 0
        self.decoder = None

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self.bytes_in += len(chunk)
        if self.encoding is None:
            self.head += chunk
            if len(self.head) < 4:
                return
            chunk, self.head = self.head, b""
            chunk = self._start(chunk)
        yield from self._decode(chunk, final=False)

    def finish(self) -> Iterator[bytes]:
        if self.encoding is None:
            chunk, self.head = self.head, b""
            chunk = self._start(chunk)
            yield from self._decode(chunk, final=False)
        yield from self._decode(b"", final=True)

    def _start(self, chunk: bytes) -> bytes:
        if chunk.startswith(UTF8_BOM):
            self.encoding, chunk = "utf-8-sig", chunk[3:]
        elif chunk.startswith(UTF16_LE_BOM):
            self.encoding, chunk = "utf-16-le", chunk[2:]
        elif chunk.startswith(UTF16_BE_BOM):
            self.encoding, chunk = "utf-16-be", chunk[2:]
        else:
            self.encoding = "utf-8"
            first_line = chunk[:4096].split(b"\n", 1)[0]
            if first_line and first_line.count(b"\x00") * 3 >= len(first_line):
                raise InputRejected(
                    "not_utf8",
                    f"not UTF-8 text: the header line is mostly NUL bytes, as UTF-16 text without a byte-order "
                    f"mark is (save the file as UTF-8, or as UTF-16 with its byte-order mark): {self.where}")
        codec = "utf-8" if self.encoding.startswith("utf-8") else self.encoding
        self.decoder = codecs.getincrementaldecoder(codec)("strict")
        return chunk

    def _decode(self, chunk: bytes, final: bool) -> Iterator[bytes]:
        pending = len(self.decoder.getstate()[0])
        try:
            text = self.decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            start = max(exc.start - pending, 0)
            if self.encoding.startswith("utf-8"):
                line = self.lines.line_number_at(chunk[:start].count(b"\n"))
                bad = exc.object[exc.start:exc.start + 1].hex().upper()
                raise InputRejected(
                    "not_utf8",
                    f"not UTF-8 text (byte 0x{bad} on line {line} is not UTF-8; the file is probably in a legacy "
                    f"encoding such as Windows-1258 or Latin-1: save it as UTF-8): {self.where}") from None
            raise InputRejected(
                "not_utf16",
                f"not {self.encoding.upper()} text although it starts with that byte-order mark (invalid code "
                f"unit near line {self.lines.line_number_at(0)}): {self.where}") from None
        if self.encoding.startswith("utf-8"):
            if chunk:
                yield chunk  # validated; the bytes themselves are the UTF-8 text
        elif text:
            yield text.encode("utf-8")


def _fields(line: str, delimiter: str) -> list[str]:
    """The fields of one line (a quoted field holding a line end falls back to a plain split)."""
    try:
        return next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


class _Lines:
    """Physical lines of UTF-8 text, one block at a time: lengths, records, quotes, controls."""

    def __init__(self, limits: InputLimits, where: str):
        self.limits = limits
        self.where = where
        self.carry = b""  # the unfinished last line (bounded by max_line_bytes)
        self.lines = 0  # complete physical lines seen
        self.records = 0
        self.header: list[str] | None = None
        self.delimiter = ","
        self.delim_byte = ord(",")
        self.in_quote = False
        self.quote_line = 0
        self.quoted_newlines = False
        self.has_controls = False
        self.cr_only = None  # old Mac line endings (CR alone): judged on the first block

    def line_number_at(self, newlines_into_chunk: int) -> int:
        """1-based line number of a position `newlines_into_chunk` lines into the next block."""
        return self.lines + newlines_into_chunk + 1

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.cr_only is None:
            self.cr_only = b"\n" not in chunk and b"\r" in chunk
        if self.cr_only:
            chunk = chunk.replace(b"\r", b"\n")  # DuckDB reads CR alone as a line end too
        if not self.has_controls and chunk.translate(None, NOT_CONTROL):
            self.has_controls = True
        data = self.carry + chunk if self.carry else chunk
        parts = data.split(b"\n")
        self.carry = parts.pop()
        if exceeds(len(self.carry), self.limits.max_line_bytes):
            self._line_too_long(self.lines + len(parts) + 1, len(self.carry), unfinished=True)
        if parts:
            self._lines(parts, b'"' in data)

    def finish(self) -> None:
        if self.carry:
            self._lines([self.carry], b'"' in self.carry)
            self.carry = b""
        if self.in_quote:
            raise InputRejected(
                "unterminated_quote",
                f"unterminated quoted field (the quote opened on line {self.quote_line} is never closed, so "
                f"the rows after it cannot be told apart): {self.where}")
        if exceeds(self.records, self.limits.max_rows):
            self._too_many_rows()

    def _lines(self, parts: list[bytes], has_quote: bool) -> None:
        first_line = self.lines + 1
        longest = max(map(len, parts))
        if exceeds(longest, self.limits.max_line_bytes):
            index = next(i for i, p in enumerate(parts) if len(p) > self.limits.max_line_bytes)
            self._line_too_long(first_line + index, len(parts[index]), unfinished=False)
        if self.header is None:
            self._read_header(parts[0])
            parts = parts[1:]
            first_line += 1
            self.lines += 1
            if not parts:
                return
        if exceeds(longest, self.limits.max_field_bytes):
            for i, part in enumerate(parts):
                if len(part) > self.limits.max_field_bytes:
                    self._check_fields(part, first_line + i)
        if self.in_quote or has_quote:
            for i, part in enumerate(parts):
                self._quoted_line(part, first_line + i)
        else:
            self.records += len(parts) - parts.count(b"") - parts.count(b"\r")
        self.lines += len(parts)
        if exceeds(self.records, self.limits.max_rows):
            self._too_many_rows()

    def _read_header(self, line: bytes) -> None:
        text = line.decode("utf-8").rstrip("\r")
        counts = {d: text.count(d) for d in DELIMITERS}
        self.delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
        self.delim_byte = ord(self.delimiter)
        self.header = _fields(text, self.delimiter)
        if self._ends_in_quote(line, False):
            self.in_quote, self.quote_line, self.quoted_newlines = True, 1, True

    def _quoted_line(self, line: bytes, number: int) -> None:
        was_in_quote = self.in_quote
        self.in_quote = self._ends_in_quote(line, was_in_quote)
        if not was_in_quote and line not in (b"", b"\r"):
            self.records += 1  # a record starts here (a continuation line is not a new record)
        if self.in_quote:
            self.quoted_newlines = True
            if not was_in_quote:
                self.quote_line = number

    def _ends_in_quote(self, line: bytes, in_quote: bool) -> bool:
        """Whether `line` ends inside a quoted field. A quote opens a field only at its start (after
        a delimiter or at the line's start), as the RFC 4180 readers do; `""` inside is a quote."""
        i, n = 0, len(line)
        while True:
            j = line.find(b'"', i)
            if j < 0:
                return in_quote
            if in_quote:
                if j + 1 < n and line[j + 1] == 0x22:
                    i = j + 2
                    continue
                in_quote = False
            elif j == 0 or line[j - 1] == self.delim_byte:
                in_quote = True
            i = j + 1

    def _check_fields(self, line: bytes, number: int) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r")
        fields = _fields(text, self.delimiter)
        for index, value in enumerate(fields):
            size = len(value.encode("utf-8"))
            if size > self.limits.max_field_bytes:
                name = self.header[index] if self.header and index < len(self.header) else f"column {index + 1}"
                raise limit_rejected("max_field_bytes", size, self.limits.max_field_bytes, "field length",
                                     f"{self.where}, line {number} (row {number - 1}), field {name!r}")

    def _line_too_long(self, number: int, size: int, unfinished: bool) -> None:
        what = "line too long: line length" + (" (the line had not ended yet)" if unfinished else "")
        raise limit_rejected("max_line_bytes", size, self.limits.max_line_bytes, what,
                             f"{self.where}, line {number}")

    def _too_many_rows(self) -> None:
        raise limit_rejected("max_rows", self.records, self.limits.max_rows, "too many rows: data rows",
                             self.where)
