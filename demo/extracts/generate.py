"""Generation: `generate_demo` writes every requested month (in worker processes if asked) and the
manifest; one month is three segments of dossier blocks (carried in, new, carried out)."""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from demo.extracts.agencies import carry_across_reorganisation
from demo.extracts.columns import fixed_strings
from demo.extracts.defects import BAD_UNIT_CODES, DEFECT_CLASSES, DEFECT_RATES, plant_defects
from demo.extracts.dossiers import as_known_at, draw_dossiers
from demo.extracts.months import HOUR, NONE, Month
from demo.extracts.plans import GenerationContext
from demo.extracts.randomness import TAG_ANOMALY, TAG_CARRY, TAG_COMPLAINT, TAG_DEFECT, TAG_NEW, rng_for
from demo.extracts.registry import Registry
from demo.extracts.tables import (
    OutputOptions,
    complaints_table,
    dossier_table,
    history_table,
    procedures_table,
)
from demo.extracts.writers import ExtractSink, write_procedures
from ingestion.core.extract_contract import (
    COMPLAINTS,
    DOSSIER_STATUS_HISTORY,
    DOSSIERS,
    PROCEDURES,
    ExtractKind,
)
from ingestion.core.files import sha256_of

FILE_FORMATS = ("csv", "csv.gz", "parquet")
BLOCK_ROWS = 65_536  # rows per RNG stream; changing it changes the data
CHUNK_ROWS = 1_048_576  # rows buffered per write (Parquet row group); does not change the data

CARRY_SHARE = 0.05  # share of a month's rows received in the previous month and open at its start
UNLINKED_COMPLAINT_RATE = 0.001  # complaints not about a dossier, per new dossier
COLLAPSE_FACTOR = 0.10  # the collapsing unit's volume in the last file month


@dataclass
class GenerationSummary:
    out_dir: Path
    manifest_path: Path
    manifest: dict
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # per extract kind, all months

    @property
    def dossier_rows_per_second(self) -> float:
        return self.rows.get("dossiers", 0) / self.seconds if self.seconds else float("nan")


def _choose_anomalies(ctx: GenerationContext, file_months: list[Month], all_months: list[Month]) -> dict:
    months = file_months or all_months
    collapse_m = months[-1]
    missing_m = months[(len(months) - 1) // 2]
    rng = rng_for(ctx.seed, TAG_ANOMALY)
    chosen = {}
    for label, m in (("collapsed_unit", collapse_m), ("missing_unit", missing_m)):
        provs = ctx.reg.provinces_in(m)
        w = np.array([ctx.province_weight(c, m.first_day >= ctx.reg.merger_date) for c in provs])
        order = np.argsort(-w, kind="stable")
        mid = [provs[k] for k in order[len(order) // 4: 3 * len(order) // 4]]  # mid-sized
        mid = [c for c in mid if (str(m), c) not in {(v["month"], v["unit_code"]) for v in chosen.values()}]
        code = mid[int(rng.integers(0, len(mid)))]
        chosen[label] = {
            "unit_code": code, "month": str(m),
            "volume_factor": COLLAPSE_FACTOR if label == "collapsed_unit" else 0.0,
        }
    return chosen


@dataclass(frozen=True)
class _MonthJob:
    """Everything one month's generation needs; picklable so months can run in worker processes."""

    out: str
    month: str
    is_api: bool
    file_format: str
    rows_per_month: int
    seed: int
    defects: bool
    anomalies: tuple[tuple[str, str, float], ...]
    vietnamese_decimals: bool
    chunk_rows: int
    block_rows: int
    hash_files: bool
    progress: bool


_CONTEXTS: dict[tuple, GenerationContext] = {}


def _context(seed: int, anomalies: tuple[tuple[str, str, float], ...]) -> GenerationContext:
    key = (seed, anomalies)
    if key not in _CONTEXTS:
        _CONTEXTS.clear()
        ctx = GenerationContext(seed, Registry.load(), {})
        ctx.anomalies = {(m, c): f for m, c, f in anomalies}
        _CONTEXTS[key] = ctx
    return _CONTEXTS[key]


def _generate_month(job: _MonthJob) -> tuple[list[dict], dict]:
    """Write the four extracts of one month; return their manifest entries and month details."""
    ctx = _context(job.seed, job.anomalies)
    seed, out, block_rows = job.seed, Path(job.out), job.block_rows
    m = Month.parse(job.month)
    fmt = "parquet" if job.is_api else job.file_format
    csv_out = fmt != "parquet"
    opts = OutputOptions(csv=csv_out, vietnamese_decimals=job.vietnamese_decimals, defects=job.defects)
    plan = ctx.plan(m)
    prev = ctx.plan(m.shift(-1))
    link = ctx.link(prev, plan)

    def path_for(kind: ExtractKind) -> Path:
        if job.is_api:
            return out / "portal_store" / str(m) / f"{kind.name}.parquet"
        return out / "landing" / str(m) / f"{kind.file_prefix}_{m}.{fmt}"

    n_carry = int(round(CARRY_SHARE * job.rows_per_month))
    n_new = job.rows_per_month - 2 * n_carry
    sinks = {k.name: ExtractSink(path_for(k), k, fmt, job.chunk_rows, job.vietnamese_decimals)
             for k in (DOSSIERS, DOSSIER_STATUS_HISTORY, COMPLAINTS)}
    counts = {k: dict.fromkeys(DEFECT_CLASSES, 0) for k in (*sinks, "procedures")}
    segments = (  # (name, plan the rows are drawn from, rows, month of reception, id prefix)
        ("carry_in", prev, n_carry, prev.month, f"HS-{prev.month.yymm}-C"),
        ("new", plan, n_new, m, f"HS-{m.yymm}-"),
        ("carry_out", plan, n_carry, m, f"HS-{m.yymm}-C"),
    )
    for s_i, (seg, draw_plan, n_seg, key_month, id_prefix) in enumerate(segments):
        carry = seg != "new"
        tag = TAG_CARRY if carry else TAG_NEW
        for b in range(math.ceil(n_seg / block_rows)):
            nb = min(block_rows, n_seg - b * block_rows)
            # carry_out of month M and carry_in of M+1 draw the same stream: the same dossiers
            d = draw_dossiers(rng_for(seed, tag, key_month.ordinal, b), nb, draw_plan, ctx.pool, carry)
            d["seq"] = b * block_rows + np.arange(nb, dtype=np.int64)
            if seg == "carry_in":
                d["unit"] = link[d["unit"]]
                if prev.has_districts and not plan.has_districts:  # into the two-level government
                    carry_across_reorganisation(d, plan.n_communes)
            as_known_at(d, m.end_s)
            rng_def = rng_for(seed, TAG_DEFECT, m.ordinal, s_i, b)
            dd = plant_defects(rng_def, d, len(plan.codes), csv_out, job.defects)
            dt, digits = dossier_table(d, dd, plan, ctx.pool, id_prefix, d["seq"], opts)
            sinks["dossiers"].write(dt)
            ht, hc = history_table(d, dd, plan, id_prefix, digits, rng_def, opts)
            sinks["dossier_status_history"].write(ht)
            for c in DEFECT_CLASSES:
                counts["dossiers"][c] += dd.counts[c]
                counts["dossier_status_history"][c] += hc[c]
            # complaints: those about these dossiers, plus some not about any dossier
            rng_c = rng_for(seed, TAG_COMPLAINT, m.ordinal, s_i, b)
            linked = np.nonzero((d["tc"] != NONE) & ~dd.no_history)[0]
            units, recv = [d["unit"][linked]], [d["tc"][linked]]
            dossier_ids = [fixed_strings(id_prefix, digits[linked])]
            if seg == "new":
                k = int(rng_c.binomial(nb, UNLINKED_COMPLAINT_RATE))
                pick = rng_c.integers(0, nb, k)
                units.append(d["unit"][pick])
                recv.append(m.start_s + rng_c.integers(0, m.end_s - m.start_s - HOUR, k))
                dossier_ids.append(pa.nulls(k, pa.string()))
            u_all = np.concatenate(units)
            if len(u_all):
                sinks["complaints"].write(complaints_table(
                    rng_c, plan, u_all, np.concatenate(recv), pa.concat_arrays(dossier_ids),
                    f"PAKN-{m.yymm}-{s_i}{b:05d}"))
            if job.progress:
                print(f"{m} {seg} block {b}: {sinks['dossiers'].rows:,} dossier rows", file=sys.stderr)

    procedures = procedures_table(ctx, plan)
    write_procedures(path_for(PROCEDURES), procedures, fmt)
    for s in sinks.values():
        s.close()
    row_counts = {k: s.rows for k, s in sinks.items()}
    row_counts["procedures"] = procedures.num_rows
    applicable = [c for c in DEFECT_CLASSES if c != "unparseable_timestamp" or csv_out]
    files = []
    for kind in (DOSSIERS, DOSSIER_STATUS_HISTORY, PROCEDURES, COMPLAINTS):
        p = path_for(kind)
        files.append({
            "month": str(m),
            "kind": kind.name,
            "source": "api" if job.is_api else "file",
            "format": fmt,
            "path": p.relative_to(out).as_posix(),
            "rows": row_counts[kind.name],
            "bytes": p.stat().st_size,
            "sha256": sha256_of(p) if job.hash_files else None,
            "defects": {c: counts[kind.name][c] for c in applicable} if job.defects else {},
        })
    details = {
        "source": "api" if job.is_api else "file",
        "format": fmt,
        "dossier_segments": {"carry_in": n_carry, "new": n_new, "carry_out": n_carry},
        "unit_codes": {
            "provinces": [c for c, mi in zip(plan.codes, plan.is_ministry) if not mi],
            "ministries": [c for c, mi in zip(plan.codes, plan.is_ministry) if mi],
        },
    }
    return files, details


def generate_demo(
    out_dir: str | Path,
    months: list[str],
    rows_per_month: int,
    seed: int = 766,
    file_months: list[str] | None = None,
    api_months: list[str] | None = None,
    file_format: str = "csv",
    defects: bool = True,
    *,
    anomalies: bool | None = None,
    vietnamese_decimals: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    block_rows: int = BLOCK_ROWS,
    workers: int = 1,
    hash_files: bool = True,
    progress: bool = False,
) -> GenerationSummary:
    """Write the demo extracts for `months` under `out_dir` and return what was written.

    months: 'YYYY-MM' strings. Each month is a file month (landing files in `file_format`) or an
    API month (the demo portal's typed Parquet store): by default every month not in `api_months`
    is a file month. rows_per_month: dossier rows per month, carry-over included (5 % received
    the month before, 5 % still open at the month's end). defects: plant DEFECT_RATES defects.
    anomalies (default: = defects): one province collapses to 10 % of its volume in the last file
    month and one has no dossiers in a middle file month. vietnamese_decimals: CSV fee_amount as
    '15.000,50'. chunk_rows: rows per write (bounds memory; the Parquet row-group size).
    block_rows: rows per RNG stream (part of the data's identity). workers: months generated in
    parallel processes (the output does not depend on it).
    """
    t0 = time.perf_counter()
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format {file_format!r}: expected one of {', '.join(FILE_FORMATS)}")
    if rows_per_month < 1:
        raise ValueError(f"rows_per_month must be at least 1, got {rows_per_month}")
    if not 1 <= block_rows <= 1_000_000:
        raise ValueError(f"block_rows must be between 1 and 1,000,000, got {block_rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    all_m = sorted({Month.parse(x) for x in months})
    if not all_m:
        raise ValueError("no months given")
    api = {Month.parse(x) for x in (api_months or [])}
    if file_months is None:
        files = {m for m in all_m if m not in api}
    else:
        files = {Month.parse(x) for x in file_months}
        if api_months is None:
            api = {m for m in all_m if m not in files}
    if files & api:
        raise ValueError(f"months both file and API: {sorted(str(m) for m in files & api)}")
    if (files | api) != set(all_m):
        extra = sorted(str(m) for m in (files | api) ^ set(all_m))
        raise ValueError(f"file_months and api_months must together be exactly `months` (differ on {extra})")
    if anomalies is None:
        anomalies = defects

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = _context(seed, ())
    anomaly_info = _choose_anomalies(ctx, sorted(files), all_m) if anomalies else {}
    anomaly_key = tuple(sorted((v["month"], v["unit_code"], v["volume_factor"]) for v in anomaly_info.values()))
    jobs = [
        _MonthJob(str(out), str(m), m in api, file_format, rows_per_month, seed, defects, anomaly_key,
                  vietnamese_decimals, chunk_rows, block_rows, hash_files, progress)
        for m in all_m
    ]
    if workers > 1 and len(jobs) > 1:
        import concurrent.futures
        import multiprocessing

        with concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")
        ) as ex:
            results = list(ex.map(_generate_month, jobs))
    else:
        results = [_generate_month(j) for j in jobs]

    manifest_files = [f for files_, _ in results for f in files_]
    totals = dict.fromkeys(("dossiers", "dossier_status_history", "procedures", "complaints"), 0)
    for f in manifest_files:
        totals[f["kind"]] += f["rows"]
    manifest = {
        "generator": "demo.extracts",
        "manifest_version": 1,
        "seed": seed,
        "rows_per_month": rows_per_month,
        "file_format": file_format,
        "block_rows": block_rows,
        "chunk_rows": chunk_rows,
        "defects_enabled": defects,
        "defect_rates": dict(DEFECT_RATES) if defects else {},
        "bad_unit_codes": list(BAD_UNIT_CODES),
        "vietnamese_decimals": vietnamese_decimals,
        "months": [str(m) for m in all_m],
        "sources": {str(m): ("api" if m in api else "file") for m in all_m},
        "month_details": {str(m): det for m, (_, det) in zip(all_m, results)},
        "anomalies": anomaly_info,
        "files": manifest_files,
        "totals": totals,
    }
    mpath = out / "manifest.json"
    mpath.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return GenerationSummary(out, mpath, manifest, time.perf_counter() - t0, totals)
