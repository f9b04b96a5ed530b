"""Arrow column builders (straight from numpy buffers) and the typed and CSV schemas of the extracts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from demo.extracts.months import NONE
from ingestion.core.extract_contract import ExtractKind


def _valid_buffer(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


_QUAD = np.array([list(f"{i:04d}".encode()) for i in range(10000)], np.uint8)


def padded_digits(numbers: np.ndarray, digits: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, digits) uint8 (ASCII) matrix."""
    x = numbers.astype(np.int64)
    parts = []
    for _ in range(-(-digits // 4)):
        parts.append(_QUAD[x % 10000])
        x = x // 10000
    m = np.concatenate(parts[::-1], axis=1)
    return m[:, m.shape[1] - digits:]


def fixed_strings(prefix: str, digit_matrix: np.ndarray, suffix: str = "",
                  valid: np.ndarray | None = None) -> pa.Array:
    """prefix + digits + suffix per row, built straight into Arrow buffers (nulls take no bytes)."""
    n = len(digit_matrix)
    pb, sb = prefix.encode(), suffix.encode()
    nd = digit_matrix.shape[1]
    width = len(pb) + nd + len(sb)
    dm = digit_matrix if valid is None or valid.all() else digit_matrix[valid]
    buf = np.empty((len(dm), width), np.uint8)
    buf[:, : len(pb)] = np.frombuffer(pb, np.uint8)
    buf[:, len(pb): len(pb) + nd] = dm
    if sb:
        buf[:, len(pb) + nd:] = np.frombuffer(sb, np.uint8)
    if valid is None or valid.all():
        offsets = np.arange(n + 1, dtype=np.int32) * width
        vbuf = None
    else:
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(valid * width, out=offsets[1:])
        vbuf = _valid_buffer(valid)
    return pa.Array.from_buffers(pa.string(), n, [vbuf, pa.py_buffer(offsets), pa.py_buffer(buf)])


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    if valid is None:
        valid = seconds != NONE
    vals = np.where(valid, seconds, 0).astype("datetime64[s]")
    return pa.array(vals, pa.timestamp("s"), mask=~valid if not valid.all() else None)


def lookup(dictionary: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    ix = pa.array(idx.astype(np.int32), mask=None if valid is None or valid.all() else ~valid)
    return dictionary.take(ix)


def bool_array(x: np.ndarray) -> pa.Array:
    return pa.array(x, pa.bool_())


def decimal_from_cents(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
    n = len(cents)
    words = np.zeros((n, 2), np.int64)
    words[:, 0] = np.where(valid, cents, 0)
    words[:, 1] = np.where(words[:, 0] < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), n, [_valid_buffer(valid), pa.py_buffer(words)])


def arrow_type(sql_type: str) -> pa.DataType:
    """Arrow type of a contract field (Parquet outputs are typed)."""
    t = sql_type.upper()
    if t.startswith("DECIMAL"):
        p, s = (int(x) for x in t[t.index("(") + 1: t.index(")")].split(","))
        return pa.decimal128(p, s)
    return {
        "VARCHAR": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "SMALLINT": pa.int16(),
        "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
    }[t]


def typed_schema(kind: ExtractKind) -> pa.Schema:
    return pa.schema([pa.field(f.name, arrow_type(f.sql_type)) for f in kind.fields])


_STRING_PATCHED = {  # CSV columns written as text so defects or formats can be planted
    "dossiers": ("submitted_at", "received_at", "due_at", "channel"),
    "dossier_status_history": ("status_at",),
}


def csv_schema(kind: ExtractKind, vietnamese_decimals: bool) -> pa.Schema:
    fields = []
    for f in kind.fields:
        t = arrow_type(f.sql_type)
        if f.name in _STRING_PATCHED.get(kind.name, ()) or (vietnamese_decimals and f.name == "fee_amount"):
            t = pa.string()
        elif pa.types.is_timestamp(t):
            t = pa.timestamp("s")
        fields.append(pa.field(f.name, t))
    return pa.schema(fields)


def vietnamese_decimal(value: float) -> str:
    """15000.5 -> '15.000,50' (thousands '.', decimal ',')."""
    whole, cents = divmod(round(value * 100), 100)
    return f"{whole:,}".replace(",", ".") + f",{cents:02d}"
