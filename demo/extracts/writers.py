"""Writers: one output file per extract (CSV, gzip-compressed CSV with reproducible bytes, or typed
Parquet), the procedures file, and the sha256 of what was written."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from demo.extracts.columns import csv_schema, typed_schema
from ingestion.core.extract_contract import PROCEDURES, ExtractKind

GZIP_LEVEL = 1  # csv.gz: fast (level 6 is 3x slower for ~25 % smaller files)

UNIQUE_STRING_COLUMNS = ("dossier_id", "result_code", "result_file_url", "complaint_id")


class ExtractSink:
    """One output file: CSV (plain or gzip, header written by us, unquoted) or typed Parquet.

    Tables are buffered to `chunk_rows` rows before writing, so Parquet row groups have that size.
    """

    def __init__(self, path: Path, kind: ExtractKind, fmt: str, chunk_rows: int, vietnamese_decimals: bool):
        self.path, self.kind, self.fmt, self.chunk_rows = path, kind, fmt, chunk_rows
        self.rows = 0
        self._buf: list[pa.Table] = []
        self._buf_rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            self.schema = typed_schema(kind)
            # unique columns: no dictionary attempt; unique strings: no min/max statistics
            unique = [f.name for f in kind.fields if f.sql_type == "TIMESTAMP" or f.name in UNIQUE_STRING_COLUMNS]
            self._writer = pq.ParquetWriter(
                str(path), self.schema, compression="zstd", compression_level=1,
                use_dictionary=[c for c in kind.field_names if c not in unique],
                write_statistics=[c for c in kind.field_names if c not in UNIQUE_STRING_COLUMNS],
            )
            self._stream = None
        else:
            self.schema = csv_schema(kind, vietnamese_decimals)
            self._stream = open_output(path, fmt)
            self._stream.write((",".join(kind.field_names) + "\n").encode())
            # plain values never need quotes; Vietnamese decimals ('15.000,50') carry a comma, so
            # then every text value is quoted (pyarrow's 'needed' style)
            quoting = "needed" if vietnamese_decimals and kind.name == "dossiers" else "none"
            self._writer = pacsv.CSVWriter(
                self._stream, self.schema,
                write_options=pacsv.WriteOptions(include_header=False, quoting_style=quoting),
            )

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            table = table.cast(self.schema)
        self._buf.append(table)
        self._buf_rows += table.num_rows
        self.rows += table.num_rows
        if self._buf_rows >= self.chunk_rows:
            self._flush()

    def write_text(self, text: str) -> None:
        """Pre-formatted CSV rows (the small procedures file, whose names need quoting)."""
        self._stream.write(text.encode("utf-8"))

    def _flush(self) -> None:
        if not self._buf:
            return
        t = pa.concat_tables(self._buf)
        self._buf, self._buf_rows = [], 0
        if self.fmt == "parquet":
            self._writer.write_table(t, row_group_size=self.chunk_rows)
        else:
            self._writer.write_table(t)

    def close(self) -> None:
        self._flush()
        self._writer.close()
        if self._stream is not None:
            self._stream.close()


class _GzipOutput(gzip.GzipFile):
    """gzip without a file name or time in its header, so the same content gives the same bytes."""

    def __init__(self, path: Path):
        self._raw = open(path, "wb")
        super().__init__(filename="", mode="wb", fileobj=self._raw, compresslevel=GZIP_LEVEL, mtime=0)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_output(path: Path, fmt: str):
    return _GzipOutput(path) if fmt == "csv.gz" else pa.OSFile(str(path), "wb")


def write_procedures(path: Path, table: pa.Table, fmt: str) -> None:
    """The small catalogue file in one go. Names contain commas, so CSV text values are quoted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table.cast(typed_schema(PROCEDURES)), str(path), compression="zstd", compression_level=1)
        return
    stream = open_output(path, fmt)
    stream.write((",".join(PROCEDURES.field_names) + "\n").encode())
    with pacsv.CSVWriter(stream, table.schema,
                         write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")) as w:
        w.write_table(table)
    stream.close()
