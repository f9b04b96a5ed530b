"""Table builders: one Arrow table per extract (dossiers, status history, complaints, procedures) from
drawn dossiers, their planted defects and the month plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from demo.extracts.columns import (
    bool_array,
    decimal_from_cents,
    fixed_strings,
    lookup,
    padded_digits,
    timestamps,
    vietnamese_decimal,
)
from demo.extracts.defects import (
    BAD_CHANNELS_CSV,
    BAD_CHANNELS_TYPED,
    DEFECT_CLASSES,
    DEFECT_RATES,
    BlockDefects,
    garble_timestamps,
)
from demo.extracts.months import DAY, HOUR, NONE
from demo.extracts.plans import AGENCY_SUFFIXES, GenerationContext, MonthPlan
from demo.extracts.procedures import FEE_VALUES, Pool
from demo.extracts.randomness import hash_uniform, text_crc32
from ingestion.core.extract_contract import (
    AGENCY_LEVELS,
    COMPLAINT_TYPES,
    COMPLAINTS,
    DOSSIER_STATUS_HISTORY,
    DOSSIER_STATUSES,
    DOSSIERS,
    DURATION_UNITS,
    ONLINE_LEVELS,
    PROCEDURES,
)

_FEE_CENTS = np.array([round(v * 100) for v in FEE_VALUES], np.int64)
_FEE_VN = pa.array([vietnamese_decimal(v) for v in FEE_VALUES], pa.string())
_STATUS = pa.array(list(DOSSIER_STATUSES), pa.string())
_LEVELS = pa.array(list(AGENCY_LEVELS), pa.string())
_DUR_UNITS = pa.array(list(DURATION_UNITS), pa.string())
_RATINGS = pa.array(["like", "dislike"], pa.string())
_CHANNELS_CSV = pa.array(["", "1", "2", "3", *BAD_CHANNELS_CSV], pa.string())
_CHANNELS_TYPED = np.array([0, 1, 2, 3, *BAD_CHANNELS_TYPED], np.int16)
_POPDB = pa.array(["CSDLQGVDC"], pa.string())
RESULT_URL_PREFIX = "https://dichvucong.gov.vn/p/ketqua/"


@dataclass
class OutputOptions:
    csv: bool
    vietnamese_decimals: bool
    defects: bool


def dossier_table(d: dict, dd: BlockDefects, plan: MonthPlan, pool: Pool, id_prefix: str,
                  seq: np.ndarray, opts: OutputOptions) -> tuple[pa.Table, pa.Array]:
    n = len(seq)
    digits = padded_digits(seq, 9)
    ids = fixed_strings(id_prefix, digits, valid=~dd.null_id)
    received_ok = ~dd.null_received
    agency = pa.array((d["unit"].astype(np.int64) * len(AGENCY_SUFFIXES) + d["suffix"]).astype(np.int32))
    cols: dict[str, pa.Array] = {
        "dossier_id": ids,
        "procedure_code": lookup(pool.codes, d["proc"], ~dd.null_proc),
        "handling_agency_code": plan.agency_codes.take(agency),
        "handling_agency_level": lookup(_LEVELS, d["level"]),
        "handling_agency_name": plan.agency_names.take(agency),
        "parent_unit_code": lookup(plan.parent_codes, d["parent"]),
        "submitted_at": timestamps(d["submitted"]),
        "received_at": timestamps(d["received"], received_ok),
        "due_at": timestamps(d["due"]),
        "statutory_duration": pa.array(pool.dur[d["proc"]], pa.float64()),
        "statutory_duration_unit": lookup(_DUR_UNITS, pool.dur_unit[d["proc"]]),
    }
    if opts.csv:
        cols["channel"] = lookup(_CHANNELS_CSV, d["channel"], d["channel"] != 0)
        for name, src in (("submitted_at", "submitted"), ("received_at", "received"), ("due_at", "due")):
            s = pc.cast(cols[name], pa.string())
            which = {"received_at": 0, "due_at": 1, "submitted_at": 2}[name]
            mask = dd.garbled == which
            if mask.any():
                s = pc.replace_with_mask(s, pa.array(mask), garble_timestamps(d[src][mask], dd.garble_kind[mask]))
            cols[name] = s
    else:
        ch = _CHANNELS_TYPED[d["channel"]]
        cols["channel"] = pa.array(ch, pa.int16(), mask=d["channel"] == 0)
    seq_valid = d["e_result"]
    cols.update({
        "has_digitised_component": bool_array(d["digitised"]),
        "has_reused_digitised_data": bool_array(d["reused"]),
        "has_personal_store_component": bool_array(d["store"]),
        "result_code": fixed_strings("KQ" + id_prefix[2:], digits, valid=seq_valid),
        "result_file_url": fixed_strings(RESULT_URL_PREFIX + id_prefix, digits, ".pdf", valid=seq_valid),
        "is_vneid_authenticated": bool_array(d["vneid"]),
        "population_db_code": lookup(_POPDB, np.zeros(n, np.int32), d["popdb"]),
    })
    fee_valid = d["fee_idx"] >= 0
    fee_ix = np.maximum(d["fee_idx"], 0)
    if opts.csv and opts.vietnamese_decimals:
        cols["fee_amount"] = lookup(_FEE_VN, fee_ix, fee_valid)
    else:
        cols["fee_amount"] = decimal_from_cents(_FEE_CENTS[fee_ix], fee_valid)
    cols.update({
        "online_payment_method": pa.array(d["pay"].astype(np.int16), pa.int16(), mask=d["pay"] < 0),
        "is_electronic_certified_copy": bool_array(d["cert"]),
        "rating": lookup(_RATINGS, np.maximum(d["rating"], 0), d["rating"] >= 0),
        "has_complaint": bool_array(d["tc"] != NONE),
        "is_synced_to_portal": bool_array(d["synced_at"] != NONE),
        "synced_at": timestamps(d["synced_at"]),
    })
    table = pa.table([cols[f] for f in DOSSIERS.field_names], names=DOSSIERS.field_names)
    return table, digits


def history_table(d: dict, dd: BlockDefects, plan: MonthPlan, id_prefix: str, digits: np.ndarray,
                  rng: np.random.Generator,
                  opts: OutputOptions) -> tuple[pa.Table, dict[str, int]]:
    keep = ~dd.no_history
    rows, codes, times = [], [], []
    for key, status in (("r1", 0), ("c1", 1), ("r2", 0), ("c2", 1), ("te", None), ("ret", 3)):
        sel = keep & (d[key] != NONE)
        idx = np.nonzero(sel)[0]
        rows.append(idx)
        codes.append(d["term"][idx] if status is None else np.full(len(idx), status, np.int8))
        times.append(d[key][idx])
    rows_a = np.concatenate(rows)
    order = np.argsort(rows_a, kind="stable")
    rows_a = rows_a[order]
    codes_a = np.concatenate(codes)[order]
    times_a = np.concatenate(times)[order]
    status_at = timestamps(times_a)
    counts = dict.fromkeys(DEFECT_CLASSES, 0)
    # a terminal status planted before reception is exactly one history row per dossier
    counts["completed_before_received"] = int((dd.cbr_history & keep).sum())
    if opts.csv:
        status_at = pc.cast(status_at, pa.string())
        if opts.defects:
            garb = rng.random(len(rows_a)) < DEFECT_RATES["unparseable_timestamp"]
            # never garble the planted early terminal row: one defect per row
            garb &= ~(dd.cbr_history[rows_a] & (codes_a >= 2) & (codes_a != 3))
            if garb.any():
                status_at = pc.replace_with_mask(
                    status_at, pa.array(garb),
                    garble_timestamps(times_a[garb], (rng.random(int(garb.sum())) * 3).astype(np.int8)))
            counts["unparseable_timestamp"] = int(garb.sum())
    table = pa.table(
        [fixed_strings(id_prefix, digits[rows_a]), lookup(plan.parent_codes, d["unit"][rows_a]),
         lookup(_STATUS, codes_a), status_at],
        names=DOSSIER_STATUS_HISTORY.field_names,
    )
    return table, counts


def complaints_table(rng: np.random.Generator, plan: MonthPlan, unit: np.ndarray, received: np.ndarray,
                     dossier_ids: pa.Array | None, id_prefix: str) -> pa.Table:
    n = len(unit)
    cutoff = plan.month.end_s
    wd = DAY * 7 / 5  # a working day, in calendar seconds (approximation)
    ontime = rng.random(n) < plan.rates["complaint_ontime"][unit]
    transferred = np.where(rng.random(n) < 0.2, received + rng.integers(HOUR, 3 * DAY, n), NONE)
    base = np.where(transferred != NONE, transferred, received)
    u = rng.random(n)
    rejected_path = u < 0.10
    supp = (~rejected_path) & (rng.random(n) < 0.25)

    def after(lo_on, hi_on, lo_late, hi_late):
        x = rng.random(n)
        days = np.where(ontime, lo_on + x * (hi_on - lo_on), lo_late + x * (hi_late - lo_late))
        return base + (days * wd).astype(np.int64)

    rejected = np.where(rejected_path, after(0.1, 2, 2.3, 6), NONE)
    first_supp = np.where(supp, after(0.2, 5, 5.3, 9), NONE)
    processed = np.where(rejected_path, NONE, after(1, 15, 15.5, 30))
    processed = np.where(supp, np.maximum(processed, first_supp + HOUR), processed)
    published = np.where(
        processed != NONE,
        processed + (np.where(ontime, 0.1 + rng.random(n) * 1.9, 2.3 + rng.random(n) * 3) * wd).astype(np.int64),
        NONE,
    )
    times = {}
    for name, t in (("transferred_at", transferred), ("rejected_at", rejected),
                    ("first_supplement_request_at", first_supp), ("processed_at", processed),
                    ("published_at", published)):
        times[name] = np.where(t < cutoff, t, NONE)
    is_pub = times["published_at"] != NONE
    likes = np.where(is_pub, rng.poisson(2.0, n), 0).astype(np.int32)
    dislikes = np.where(is_pub, rng.poisson(np.where(ontime, 0.3, 1.5)), 0).astype(np.int32)
    re_raised = is_pub & (rng.random(n) < np.where(ontime, 0.03, 0.12))
    ctype = (rng.random(n) >= 0.6).astype(np.int8)
    cols = [
        fixed_strings(id_prefix, padded_digits(np.arange(n), 6)),
        lookup(plan.parent_codes, unit),
        lookup(pa.array(list(COMPLAINT_TYPES)), ctype),
        timestamps(received),
        *(timestamps(times[k]) for k in ("transferred_at", "rejected_at", "first_supplement_request_at",
                                    "processed_at", "published_at")),
        pa.array(likes, pa.int32()),
        pa.array(dislikes, pa.int32()),
        bool_array(re_raised),
        dossier_ids if dossier_ids is not None else pa.nulls(n, pa.string()),
    ]
    return pa.table(cols, names=COMPLAINTS.field_names)


def procedures_table(ctx: GenerationContext, plan: MonthPlan) -> pa.Table:
    """The catalogue snapshot at the month's end, one row per (unit, procedure)."""
    m = plan.month
    seed = ctx.seed
    pool = ctx.pool
    unit = np.repeat(np.arange(len(plan.codes)), plan.cat_len)
    cat = plan.cat_pool
    crc = np.array([text_crc32(i) for i in plan.identity], np.uint64)[unit]
    key = (crc << np.uint64(32)) | cat.astype(np.uint64)  # stable per (unit, procedure)
    mkey = key ^ (np.uint64(m.ordinal) << np.uint64(48))  # ... and per month

    def h(salt: int, k: np.ndarray = key) -> np.ndarray:
        return hash_uniform(k, seed, salt)

    def rate(name: str) -> np.ndarray:
        return plan.rates[name][unit]

    epoch = date(1970, 1, 1)
    start_day = (m.first_day - epoch).days
    end_day = start_day + m.days - 1
    ministry = plan.is_ministry[unit]
    req_wd = np.where(ministry, 20, 5)  # announced >= 20 / 5 working days before effect (NĐ 63/2010)
    limit_wd = np.where(ministry, 10, 5)  # published within 10 / 5 working days of the decision
    fresh = h(21, mkey) < 0.06  # announced this month
    announced = np.where(
        fresh, start_day + (h(22, mkey) * m.days).astype(np.int64),
        (date(2025, 1, 1) - epoch).days - 30 - (h(23) * 1400).astype(np.int64),
    )
    on_ann = np.where(fresh, h(24, mkey), h(24)) < rate("announce_ontime")
    x = np.where(fresh, h(25, mkey), h(25))
    # calendar-day margins chosen so that holidays cannot flip the working-day verdict
    effective = np.where(
        on_ann, announced + np.ceil(req_wd * 7 / 5).astype(np.int64) + 10 + (x * 30).astype(np.int64),
        announced - 10 + (x * (req_wd + 10)).astype(np.int64),
    )
    on_pub = np.where(fresh, h(26, mkey), h(26)) < rate("publish_ontime")
    y = np.where(fresh, h(27, mkey), h(27))
    published = np.where(
        on_pub, announced + (y * (limit_wd + 1)).astype(np.int64),
        announced + np.ceil(limit_wd * 7 / 5).astype(np.int64) + 10 + (y * 20).astype(np.int64),
    )
    pub_valid = (published <= end_day) & ~(h(28) < 0.02)  # 2 % never published
    parts = np.where(h(29) < rate("parts_complete"), 7, 4 + (h(30) * 3).astype(np.int64))
    issuer = pa.array([f"/QĐ-{c}" if mi else "/QĐ-UBND" for c, mi in zip(plan.codes, plan.is_ministry)])
    dec_no = pc.binary_join_element_wise(
        fixed_strings("", padded_digits(1000 + (h(31) * 9000).astype(np.int64), 4)),
        issuer.take(pa.array(unit.astype(np.int32))), "")

    def day(a: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        return pa.array(a.astype("datetime64[D]"), pa.date32(), mask=None if valid is None else ~valid)

    cols = [
        lookup(plan.parent_codes, unit),
        pool.codes.take(pa.array(cat)),
        pa.array(pool.names, pa.string()).take(pa.array(cat)),
        dec_no,
        day(announced),
        day(effective),
        day(published, pub_valid),
        pa.array(parts.astype(np.int16), pa.int16()),
        lookup(pa.array(list(ONLINE_LEVELS)), plan.cat_level),
        bool_array(plan.cat_eligible),
        bool_array(pool.has_fee[cat]),
        bool_array(pool.paper[cat]),
        bool_array(pool.serves[cat]),
        bool_array(pool.cert[cat]),
    ]
    return pa.table(cols, names=PROCEDURES.field_names)
