"""Planted defects: which rows of a block get which defect, and the unparseable timestamps of CSV files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from demo.extracts.months import DAY, HOUR, NONE

# Planted defects: share of the rows of the file(s) named, drawn per row, mutually exclusive.
DEFECT_RATES: dict[str, float] = {
    "bad_unit_code": 0.002,  # dossiers: parent_unit_code not in the registry ('99', 'XYZ', ...)
    "completed_before_received": 0.001,  # status history: terminal status before received_at,
    # or (open / supplemented dossiers) dossiers.due_at before received_at
    "duplicate_dossier_id": 0.001,  # dossiers: an exact copy of the previous row
    "missing_required_field": 0.002,  # dossiers: empty dossier_id, procedure_code or received_at
    "channel_out_of_set": 0.001,  # dossiers: channel '7', 'web' or '0' (typed: 7, 99, 0)
    "unparseable_timestamp": 0.0005,  # CSV only: dossiers and status history timestamps
}
DEFECT_CLASSES = tuple(DEFECT_RATES)
BAD_UNIT_CODES = ("99", "XYZ", "00", "03", "BXX")  # none of them is, or ever was, a unit code
BAD_CHANNELS_CSV = ("7", "web", "0")
BAD_CHANNELS_TYPED = (7, 99, 0)


@dataclass
class BlockDefects:
    dup: np.ndarray  # rows that are copies of the row before
    no_history: np.ndarray  # rows whose status history is not written (duplicates, empty id)
    null_id: np.ndarray
    null_proc: np.ndarray
    null_received: np.ndarray
    cbr_history: np.ndarray  # rows whose terminal status is moved before received_at
    garbled: np.ndarray  # CSV: which timestamp is unparseable: -1 none, 0 received, 1 due, 2 submitted
    garble_kind: np.ndarray
    counts: dict[str, int]


def plant_defects(rng: np.random.Generator, d: dict, n_units: int, csv_out: bool, enabled: bool) -> BlockDefects:
    n = len(d["unit"])
    z = np.zeros(n, bool)
    if not enabled:
        d["parent"] = d["unit"]
        return BlockDefects(z, z, z, z, z, z, np.full(n, -1, np.int8), np.zeros(n, np.int8),
                            dict.fromkeys(DEFECT_CLASSES, 0))
    u = rng.random(n)
    v = rng.random(n)
    w = rng.random(n)
    cls = np.full(n, -1, np.int8)
    lo = 0.0
    for i, c in enumerate(DEFECT_CLASSES):
        if c == "unparseable_timestamp" and not csv_out:
            continue
        hi = lo + DEFECT_RATES[c]
        cls[(u >= lo) & (u < hi)] = i
        lo = hi
    B, CBR, DUP, MISS, CHAN, GARB = range(6)
    # a duplicate copies the row before, which must be clean itself
    dup = cls == DUP
    dup[0] = False
    dup[1:] &= cls[:-1] == -1
    cls[(cls == DUP) & ~dup] = -1
    for arr in d.values():
        arr[1:][dup[1:]] = arr[:-1][dup[1:]]
    # bad unit code: parent_unit_code only (the agency code keeps the real unit)
    bad = cls == B
    d["parent"] = np.where(bad, n_units + (v * len(BAD_UNIT_CODES)).astype(np.int32), d["unit"])
    # completed before received: in the history for finished dossiers without supplements,
    # otherwise (still open, or supplemented) as a due date before reception in the dossier row
    cbr = cls == CBR
    hist_ok = (d["te"] != NONE) & (d["r1"] == NONE)
    cbr_h = cbr & hist_ok
    cbr_d = cbr & ~hist_ok
    d["te"] = np.where(cbr_h, d["received"] - HOUR - (w * 3 * DAY).astype(np.int64), d["te"])
    d["due"] = np.where(cbr_d, d["received"] - HOUR - (w * 5 * DAY).astype(np.int64), d["due"])
    miss = cls == MISS
    which = (v * 3).astype(np.int8)
    null_id, null_proc, null_recv = miss & (which == 0), miss & (which == 1), miss & (which == 2)
    chan = cls == CHAN
    d["channel"] = np.where(chan, 4 + (v * 3).astype(np.int8), d["channel"]).astype(np.int8)
    garb = cls == GARB
    choice = (v * 3).astype(np.int8)
    choice = np.where((choice == 1) & (d["due"] == NONE), 0, choice)
    garbled = np.where(garb, choice, -1).astype(np.int8)
    counts = {
        "bad_unit_code": int(bad.sum()),
        "completed_before_received": int(cbr_d.sum()),
        "duplicate_dossier_id": int(dup.sum()),
        "missing_required_field": int(miss.sum()),
        "channel_out_of_set": int(chan.sum()),
        "unparseable_timestamp": int(garb.sum()),
    }
    return BlockDefects(
        dup=dup, no_history=dup | null_id, null_id=null_id, null_proc=null_proc, null_received=null_recv,
        cbr_history=cbr_h, garbled=garbled, garble_kind=(w * 3).astype(np.int8), counts=counts,
    )


def garble_timestamps(times: np.ndarray, kinds: np.ndarray) -> pa.Array:
    """Timestamps no ISO parser accepts: Vietnamese day-first, day 32, month 13."""
    out = []
    for t, k in zip(times.astype("datetime64[s]").tolist(), kinds):
        if k == 0:
            out.append(t.strftime("%d/%m/%Y %H:%M"))
        elif k == 1:
            out.append(t.strftime("%Y-%m-32 %H:%M:%S"))
        else:
            out.append(t.strftime("%Y-13-%d %H:%M:%S"))
    return pa.array(out, pa.string())
