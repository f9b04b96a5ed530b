"""Demo and benchmark data: the national extracts, generated deterministically at any scale.

`generate_demo` writes, for each requested month, the four extracts of
`ingestion/core/extract_contract.py` (dossiers, dossier_status_history, procedures, complaints) either as
landing files (`landing/<YYYY-MM>/<prefix>_<YYYY-MM>.csv|csv.gz|parquet`) or as the demo portal's
typed store (`portal_store/<YYYY-MM>/<kind>.parquet`), plus `manifest.json` recording what was
written: row counts, sha256, and how many defects of each class were planted in each file, so
validation can be checked against exactly those. docs/demo_data.md describes the distributions.

How it scales: dossiers are drawn in fixed-size blocks of `block_rows` rows, each from its own
`numpy.random.Generator` seeded from (seed, stream, month, block). Blocks are buffered into chunks
of `chunk_rows` and written with pyarrow, so memory is bounded by one chunk and the row content
does not depend on the chunk size (CSV bytes are identical for any chunk size; Parquet differs
only in row-group boundaries). Per-procedure attributes come from a counter-based hash, so they
do not depend on which months are generated.

Month continuity: the ~5 % of dossiers received late in month M and still open at its end are the
same dossiers (same ids) that month M+1 carries over, with their later statuses; across the 2025
reorganisation their unit is re-attributed to the successor valid in M+1.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
    ExtractKind,
)
from ingestion.core.files import sha256_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UNIT_SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds" / "units"

FILE_FORMATS = ("csv", "csv.gz", "parquet")
BLOCK_ROWS = 65_536  # rows per RNG stream; changing it changes the data
CHUNK_ROWS = 1_048_576  # rows buffered per write (Parquet row group); does not change the data
GZIP_LEVEL = 1  # csv.gz: fast (level 6 is 3x slower for ~25 % smaller files)

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

CARRY_SHARE = 0.05  # share of a month's rows received in the previous month and open at its start
PROVINCE_VOLUME_SHARE = 0.55  # the rest goes to ministries with public services (dti_group 'dvc')
UNLINKED_COMPLAINT_RATE = 0.001  # complaints not about a dossier, per new dossier
COLLAPSE_FACTOR = 0.10  # the collapsing unit's volume in the last file month
ONLINE_SIZE_EFFECT = 0.40  # logit of a province's online share per standard deviation of log size
ONLINE_BIG_CITY_BONUS = 1.4  # extra logit of online share for Hà Nội and TP Hồ Chí Minh
POPULARITY_EXPONENT = 2.5  # procedure index = floor(n * u**k): top 10 % of procedures take ~40 %
ONLINE_TREND_MONTH = (2025, 6)  # month at which the profile rates are centred

# Approximate population (thousands), the volume weight of each of the 63 pre-2025 provinces.
PROVINCE_POPULATION = {
    "01": 8500, "02": 900, "04": 540, "06": 320, "08": 800, "10": 770, "11": 640, "12": 480,
    "14": 1290, "15": 840, "17": 870, "19": 1340, "20": 800, "22": 1360, "24": 1900, "25": 1500,
    "26": 1200, "27": 1500, "30": 1950, "31": 2100, "33": 1300, "34": 1870, "35": 880, "36": 1880,
    "37": 1010, "38": 3760, "40": 3440, "42": 1320, "44": 920, "45": 650, "46": 1160, "48": 1240,
    "49": 1520, "51": 1250, "52": 1500, "54": 880, "56": 1260, "58": 600, "60": 1250, "62": 580,
    "64": 1590, "66": 1920, "67": 680, "68": 1330, "70": 1040, "72": 1190, "74": 2760, "75": 3250,
    "77": 1180, "79": 9400, "80": 1730, "82": 1790, "83": 1300, "84": 1020, "86": 1030, "87": 1600,
    "89": 1900, "91": 1750, "92": 1250, "93": 730, "94": 1200, "95": 920, "96": 1200,
}
BIG_CITY_FACTOR = {"01": 1.6, "79": 1.6}  # more dossiers per head in Hà Nội and TP Hồ Chí Minh
MUNICIPALITY_FACTOR = 1.25

# Relative dossier volume of ministries with public services; a successor adds its predecessors'.
MINISTRY_VOLUME = {
    "BTC": 20, "BHXH": 15, "BKHDT": 3, "NHNN": 1, "BCT": 4, "BTTTT": 1, "BTNMT": 2, "BVHTTDL": 1,
    "BGTVT": 6, "BNV": 1, "BTP": 5, "BYT": 3, "BGDDT": 3, "BXD": 3, "BNNPTNT": 2, "BLDTBXH": 3,
    "BKHCN": 1, "BNG": 2,
}

# Unit quality profile -> rates. rate = sigmoid(logit(base) + loading*z + noise*eps + trend*t),
# z the unit's latent quality, eps its own deviation for this metric, t months from mid-2025.
# name: (province base, ministry base, loading, noise, trend per month)
METRICS: dict[str, tuple[float, float, float, float, float]] = {
    "online": (0.125, 0.575, 0.55, 0.65, 0.06),  # channel 2 among all dossiers (target share)
    "ontime": (0.96, 0.965, 0.85, 0.55, 0.01),
    "sync": (0.94, 0.94, 0.75, 0.60, 0.02),
    "digitised": (0.72, 0.78, 0.90, 0.60, 0.04),
    "reused": (0.40, 0.45, 0.90, 0.60, 0.04),
    "personal_store": (0.30, 0.32, 0.90, 0.60, 0.04),
    "e_result": (0.72, 0.78, 0.90, 0.60, 0.03),
    "paid_online": (0.50, 0.65, 0.90, 0.60, 0.04),
    "vneid": (0.50, 0.50, 0.80, 0.60, 0.04),
    "population_db": (0.55, 0.55, 0.80, 0.60, 0.03),
    "certified_copy": (0.20, 0.20, 0.80, 0.60, 0.03),
    "rated": (0.30, 0.30, 0.30, 0.50, 0.0),
    "dislike": (0.04, 0.04, -0.70, 0.50, 0.0),
    "complaint": (0.002, 0.002, -0.50, 0.40, 0.0),
    "complaint_ontime": (0.85, 0.85, 0.80, 0.60, 0.0),
    "announce_ontime": (0.85, 0.85, 0.80, 0.70, 0.0),
    "publish_ontime": (0.85, 0.85, 0.80, 0.70, 0.0),
    "parts_complete": (0.92, 0.92, 0.80, 0.60, 0.0),
    "offered_online": (0.80, 0.85, 0.70, 0.50, 0.03),
    "full_online": (0.70, 0.80, 0.70, 0.60, 0.03),
}
METRIC_NAMES = tuple(METRICS)

PROCEDURE_NAMES = (
    "Đăng ký khai sinh",
    "Đăng ký kết hôn",
    "Đăng ký khai tử",
    "Cấp bản sao trích lục hộ tịch",
    "Đăng ký thường trú",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
    "Cấp phiếu lý lịch tư pháp",
    "Đăng ký thành lập hộ kinh doanh",
    "Đăng ký thành lập doanh nghiệp tư nhân",
    "Cấp giấy phép lái xe",
    "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
    "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
    "Cấp giấy phép kinh doanh bán lẻ sản phẩm rượu",
    "Giải quyết chế độ trợ cấp thất nghiệp",
    "Cấp thẻ bảo hiểm y tế",
    "Cấp lại, đổi, điều chỉnh thông tin trên sổ bảo hiểm xã hội, thẻ bảo hiểm y tế",
    "Cấp giấy phép lao động cho người lao động nước ngoài",
    "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh",
    "Công nhận trường đạt chuẩn quốc gia",
    "Cấp giấy phép khai thác, sử dụng nước mặt",
    "Thẩm định báo cáo đánh giá tác động môi trường",
    "Cấp giấy phép xuất bản bản tin",
    "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
    "Đăng ký hoạt động tín ngưỡng",
    "Cấp giấy chứng nhận đăng ký đầu tư",
    "Khai báo hải quan đối với hàng hóa xuất khẩu, nhập khẩu",
    "Đăng ký thuế lần đầu",
    "Hoàn thuế giá trị gia tăng",
    "Cấp giấy chứng nhận xuất xứ hàng hóa",
    "Cấp thị thực cho người nước ngoài",
    "Hợp pháp hóa lãnh sự giấy tờ, tài liệu",
    "Cấp giấy phép hoạt động ngân hàng",
    "Đăng ký phương tiện thủy nội địa",
    "Cấp giấy phép kinh doanh vận tải bằng xe ô tô",
)
CERTIFICATION_NAMES = (
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp",
    "Chứng thực chữ ký trong các giấy tờ, văn bản",
    "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
)
# Fee amounts (VND); two carry cents so decimal handling is exercised.
FEE_VALUES = (
    0.0, 10000.0, 15000.0, 20000.0, 25000.0, 30000.0, 50000.0, 70000.0, 100000.0, 150000.0,
    200000.0, 300000.0, 500000.0, 1000000.0, 2000000.0, 15000.5, 27500.5,
)
DURATION_CHOICES = {  # per DURATION_UNITS index: typical statutory times
    0: (4, 8, 24, 48),  # hour
    1: (1, 3, 5, 7, 10, 15, 30),  # day
    2: (1, 3, 5, 7, 10, 15, 20, 30),  # working_day
    3: (1, 2, 3),  # month
}
DURATION_UNIT_P = (0.10, 0.15, 0.70, 0.05)
DURATION_SECONDS = (3600.0, 86400.0, 86400.0 * 7 / 5, 30 * 86400.0)  # working day ≈ 7/5 days

# Procedure pool: one national list for provinces (index = popularity rank), and one block of
# codes per ministry with public services.
PROVINCE_POOL_SIZE = 1800
PROVINCE_CORE_PROCEDURES = 120  # every province runs the most common ones
MINISTRY_BLOCK_SIZE = 400
CERTIFICATION_POOL_INDICES = (2, 7, 30, 31, 95)

# Agency suffix table: '<unit>.<suffix>' is the handling agency code.
AGENCY_SUFFIXES = (
    ["UBND"]
    + [f"S{i:02d}" for i in range(1, 26)]  # departments (sở, ban, ngành)
    + [f"X{i:04d}" for i in range(1, 301)]  # communes
    + ["BO"]
    + [f"CUC{i:02d}" for i in range(1, 13)]  # ministry head office and departments (cục)
    + [f"ND{c}" for c in sorted(PROVINCE_POPULATION)]  # ministry branch offices in the provinces
)
SUFFIX_UBND, SUFFIX_DEPT, SUFFIX_COMMUNE, SUFFIX_BO, SUFFIX_BRANCH = 0, 1, 26, 326, 339
N_DEPARTMENTS, N_COMMUNES_MAX, N_MINISTRY_HQ, N_BRANCHES = 25, 300, 13, 63

NONE = np.iinfo(np.int64).max  # "did not happen" for event times held as int64 seconds
DAY = 86400
HOUR = 3600

# RNG stream tags
TAG_POOL, TAG_PROFILE, TAG_CATALOGUE, TAG_NEW, TAG_CARRY, TAG_DEFECT, TAG_COMPLAINT, TAG_ANOMALY = (
    range(1, 9)
)



# --------------------------------------------------------------------------------------------
# Months


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            y, m = text.strip().split("-")
            out = cls(int(y), int(m))
        except ValueError:
            raise ValueError(f"month {text!r} is not YYYY-MM") from None
        if not 1 <= out.month <= 12 or len(text.strip()) != 7:
            raise ValueError(f"month {text!r} is not YYYY-MM")
        return out

    @property
    def ordinal(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_ordinal(cls, o: int) -> Month:
        return cls(o // 12, o % 12 + 1)

    def shift(self, k: int) -> Month:
        return Month.from_ordinal(self.ordinal + k)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start_s(self) -> int:
        return int(np.datetime64(self.first_day, "s").astype(np.int64))

    @property
    def end_s(self) -> int:  # exclusive: first second of the next month
        return self.shift(1).start_s

    @property
    def days(self) -> int:
        return (self.shift(1).first_day - self.first_day).days

    @property
    def yymm(self) -> str:
        return f"{self.year % 100:02d}{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_months(spec: str) -> list[str]:
    """'2025-02:2025-08' (inclusive range), '2025-02,2025-05' or '2025-02' -> list of 'YYYY-MM'."""
    out: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            a, b = (Month.parse(x) for x in part.split(":", 1))
            if b < a:
                raise ValueError(f"month range {part!r} ends before it starts")
            out += [str(Month.from_ordinal(o)) for o in range(a.ordinal, b.ordinal + 1)]
        else:
            out.append(str(Month.parse(part)))
    return out


# --------------------------------------------------------------------------------------------
# Unit registry (read from the dbt seeds, the one definition of units)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass
class Registry:
    provinces_63: list[str]
    municipalities: set[str]
    merger: dict[str, str]  # old province code -> new code
    merger_date: date
    ministries: dict[str, dict]  # code -> {dti_group, valid_from, valid_to}
    restructure: list[tuple[str, str, date]]  # (old, new, effective)
    all_codes: set[str]

    @classmethod
    def load(cls, seeds_dir: Path = UNIT_SEEDS_DIR) -> Registry:
        prov = _read_csv(seeds_dir / "units_provinces_63.csv")
        merger_rows = _read_csv(seeds_dir / "units_province_merger_2025.csv")
        min_rows = _read_csv(seeds_dir / "units_ministries.csv")
        restr_rows = _read_csv(seeds_dir / "units_ministry_restructure_2025.csv")
        dates = {r["effective_date"] for r in merger_rows}
        if len(dates) != 1:
            raise ValueError(f"units_province_merger_2025.csv: expected one effective_date, got {dates}")
        ministries = {
            r["ministry_code"]: {
                "dti_group": r["dti_group"],
                "valid_from": _d(r["valid_from"]),
                "valid_to": _d(r["valid_to"]),
            }
            for r in min_rows
        }
        codes_63 = [r["province_code"] for r in prov]
        merger = {r["old_province_code"]: r["new_province_code"] for r in merger_rows}
        missing = set(codes_63) - set(merger)
        if missing:
            raise ValueError(f"units_province_merger_2025.csv has no successor for {sorted(missing)}")
        all_codes = set(codes_63) | set(merger.values()) | set(ministries)
        return cls(
            provinces_63=codes_63,
            municipalities={r["province_code"] for r in prov if r["unit_type"].startswith("municipality")},
            merger=merger,
            merger_date=date.fromisoformat(dates.pop()),
            ministries=ministries,
            restructure=[
                (r["old_ministry_code"], r["new_ministry_code"], date.fromisoformat(r["effective_date"]))
                for r in restr_rows
            ],
            all_codes=all_codes,
        )

    def provinces_in(self, m: Month) -> list[str]:
        if m.first_day < self.merger_date:
            return list(self.provinces_63)
        return sorted(set(self.merger.values()))

    def ministries_in(self, m: Month, dvc_only: bool = True) -> list[str]:
        d0 = m.first_day
        return [
            c
            for c, r in self.ministries.items()
            if (not dvc_only or r["dti_group"] == "dvc")
            and (r["valid_from"] is None or r["valid_from"] <= d0)
            and (r["valid_to"] is None or r["valid_to"] >= d0)
        ]

    def ministry_predecessors(self, code: str, m: Month) -> list[str]:
        return [
            old
            for old, new, eff in self.restructure
            if new == code and eff <= m.first_day and self.ministries[old]["dti_group"] == "dvc"
        ]

    def successor(self, code: str, m: Month) -> str | None:
        """The unit valid in month m that a unit code of an earlier month rolls up to."""
        if code in self.merger and m.first_day >= self.merger_date:
            return self.merger[code]
        for old, new, eff in self.restructure:
            if old == code and eff <= m.first_day:
                return new
        return code


# --------------------------------------------------------------------------------------------
# Deterministic randomness


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in key])


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise (uint64 wraps on overflow)."""
    x = x + _M1
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return x ^ (x >> np.uint64(31))


def _hash_uniform(keys: np.ndarray, *salts: int) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on (keys, salts): counter-based, order free."""
    h = np.asarray(keys, dtype=np.uint64)
    for s in salts:
        h = _mix(h ^ np.uint64(s & 0xFFFFFFFFFFFFFFFF))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------------------------
# Procedure pool (national attributes of each procedure code)


@dataclass
class Pool:
    codes: pa.Array  # string
    names: list[str]
    has_fee: np.ndarray
    fee_idx: np.ndarray  # into FEE_VALUES
    paper: np.ndarray
    serves: np.ndarray
    cert: np.ndarray
    dur: np.ndarray
    dur_unit: np.ndarray
    allowed_s: np.ndarray
    ministry_block: dict[str, int]  # ministry code -> first pool index of its block


def _build_pool(seed: int, registry: Registry) -> Pool:
    rng = _rng(seed, TAG_POOL)
    ministries = sorted(c for c, r in registry.ministries.items() if r["dti_group"] == "dvc")
    n = PROVINCE_POOL_SIZE + MINISTRY_BLOCK_SIZE * len(ministries)
    # province codes: '1.00xxxx' (70 %) and '2.00xxxx', unique numbers
    nums = rng.choice(np.arange(1000, 14000), PROVINCE_POOL_SIZE, replace=False)
    prefix = np.where(rng.random(PROVINCE_POOL_SIZE) < 0.7, 1, 2)
    codes = [f"{p}.{k:06d}" for p, k in zip(prefix, nums)]
    block = {}
    for i, code in enumerate(ministries):
        block[code] = PROVINCE_POOL_SIZE + i * MINISTRY_BLOCK_SIZE
        base = 20000 + i * 2000
        p = 1 if i % 3 else 2
        codes += [f"{p}.{base + k:06d}" for k in range(MINISTRY_BLOCK_SIZE)]
    cert = np.zeros(n, bool)
    cert[list(CERTIFICATION_POOL_INDICES)] = True
    name_idx = rng.integers(0, len(PROCEDURE_NAMES), n)
    names = [PROCEDURE_NAMES[k] for k in name_idx]
    for j, i in enumerate(CERTIFICATION_POOL_INDICES):
        names[i] = CERTIFICATION_NAMES[j % len(CERTIFICATION_NAMES)]
    has_fee = rng.random(n) < 0.45
    has_fee[cert] = True
    fee_idx = np.where(has_fee, rng.integers(1, len(FEE_VALUES), n), 0)
    dur_unit = rng.choice(4, n, p=DURATION_UNIT_P).astype(np.int8)
    dur = np.empty(n, np.float64)
    for u, choices in DURATION_CHOICES.items():
        sel = dur_unit == u
        dur[sel] = rng.choice(np.array(choices, float), sel.sum())
    dur_unit[cert] = 0  # certification: within hours
    dur[cert] = 8
    allowed = dur * np.array(DURATION_SECONDS)[dur_unit]
    return Pool(
        codes=pa.array(codes, pa.string()),
        names=names,
        has_fee=has_fee,
        fee_idx=fee_idx.astype(np.int16),
        paper=rng.random(n) < 0.55,
        serves=(rng.random(n) < 0.70) | cert,
        cert=cert,
        dur=dur,
        dur_unit=dur_unit,
        allowed_s=allowed,
        ministry_block=block,
    )


# --------------------------------------------------------------------------------------------
# Month plan: units valid in the month, their volume weights, quality rates and catalogues


@dataclass
class MonthPlan:
    month: Month
    codes: list[str]
    is_ministry: np.ndarray
    identity: list[str]
    weights: np.ndarray  # volume share after anomalies
    cum: np.ndarray
    carry_cum: np.ndarray  # weights of dossiers carried into next month (next month's anomalies)
    rates: dict[str, np.ndarray]
    n_communes: np.ndarray
    cat_off: np.ndarray
    cat_len: np.ndarray
    cat_pool: np.ndarray
    cat_level: np.ndarray  # index into ONLINE_LEVELS
    cat_eligible: np.ndarray
    p_online: np.ndarray  # P(channel 2 | procedure offered online), per unit
    weekday_offsets: np.ndarray
    parent_codes: pa.Array  # unit codes then BAD_UNIT_CODES
    agency_codes: pa.Array  # unit i, suffix j -> index i * len(AGENCY_SUFFIXES) + j


class _Context:
    """Everything shared by the months of one generation: registry, pool, profiles, anomalies."""

    def __init__(self, seed: int, registry: Registry, anomalies: dict[tuple[str, str], float]):
        self.seed = seed
        self.reg = registry
        self.pool = _build_pool(seed, registry)
        self.anomalies = anomalies  # (month, unit code) -> volume factor
        self._plans: dict[int, MonthPlan] = {}
        self._profiles: dict[str, tuple[float, np.ndarray]] = {}
        self._catalogues: dict[str, np.ndarray] = {}

    # --- volume weights
    def province_weight(self, code: str, new_era: bool) -> float:
        members = [o for o, n in self.reg.merger.items() if n == code] if new_era else [code]
        return float(sum(self._old_province_weight(c) for c in members))

    def _old_province_weight(self, code: str) -> float:
        w = PROVINCE_POPULATION.get(code, 1000.0)
        if code in BIG_CITY_FACTOR:
            w *= BIG_CITY_FACTOR[code]
        elif code in self.reg.municipalities:
            w *= MUNICIPALITY_FACTOR
        return w

    def ministry_weight(self, code: str, m: Month) -> float:
        preds = self.reg.ministry_predecessors(code, m)
        own = MINISTRY_VOLUME.get(code, 0.0 if preds else 1.0)
        return float(own + sum(MINISTRY_VOLUME.get(p, 1.0) for p in preds))

    # --- quality profile: latent z and one deviation per metric, stable per unit identity
    def profile(self, identity: str, parts: list[tuple[str, float]] | None = None) -> tuple[float, np.ndarray]:
        if identity in self._profiles:
            return self._profiles[identity]
        rng = _rng(self.seed, TAG_PROFILE, _crc(identity))
        z, eps = rng.standard_normal(), rng.standard_normal(len(METRIC_NAMES))
        if parts:  # a merged unit inherits its predecessors' profile (unit variance kept)
            w = np.array([p[1] for p in parts], float)
            sub = [self.profile(p[0]) for p in parts]
            norm = math.sqrt(float((w**2).sum()))
            pz = float(sum(wi * s[0] for wi, s in zip(w, sub))) / norm
            pe = sum(wi * s[1] for wi, s in zip(w, sub)) / norm
            z = math.sqrt(0.9) * pz + math.sqrt(0.1) * z
            eps = math.sqrt(0.9) * pe + math.sqrt(0.1) * eps
        self._profiles[identity] = (z, eps)
        return z, eps

    # --- catalogues (pool indices, sorted by popularity)
    def own_catalogue(self, identity: str) -> np.ndarray:
        if identity in self._catalogues:
            return self._catalogues[identity]
        kind, code = identity.split(":")
        rng = _rng(self.seed, TAG_CATALOGUE, _crc(identity))
        if kind == "p63":
            n = int(rng.integers(280, 461))
            rest = rng.choice(
                np.arange(PROVINCE_CORE_PROCEDURES, PROVINCE_POOL_SIZE), n - PROVINCE_CORE_PROCEDURES,
                replace=False,
            )
            cat = np.sort(np.concatenate([np.arange(PROVINCE_CORE_PROCEDURES), rest]))
        elif kind == "p34":
            members = [o for o, nw in self.reg.merger.items() if nw == code]
            cat = np.unique(np.concatenate([self.own_catalogue(f"p63:{o}") for o in members]))
        else:  # ministry: the first n codes of its block, n by volume
            n = int(np.clip(80 + 15 * MINISTRY_VOLUME.get(code, 0), 80, MINISTRY_BLOCK_SIZE))
            cat = self.pool.ministry_block[code] + np.arange(n)
        self._catalogues[identity] = cat.astype(np.int32)
        return self._catalogues[identity]

    def plan(self, m: Month) -> MonthPlan:
        if m.ordinal not in self._plans:
            self._plans[m.ordinal] = self._build_plan(m)
        return self._plans[m.ordinal]

    def _build_plan(self, m: Month) -> MonthPlan:
        reg = self.reg
        new_era = m.first_day >= reg.merger_date
        provs = reg.provinces_in(m)
        mins = reg.ministries_in(m)
        codes = provs + mins
        is_min = np.array([False] * len(provs) + [True] * len(mins))
        pw = np.array([self.province_weight(c, new_era) for c in provs], float)
        mw = np.array([self.ministry_weight(c, m) for c in mins], float)
        base_w = np.concatenate([
            pw / pw.sum() * PROVINCE_VOLUME_SHARE if len(pw) else pw,
            mw / mw.sum() * (1 - PROVINCE_VOLUME_SHARE) if len(mw) else mw,
        ])
        if not len(mins):
            base_w = base_w / base_w.sum()
        identity, profiles = [], []
        for c in provs:
            if new_era:
                ident = f"p34:{c}"
                parts = [(f"p63:{o}", self._old_province_weight(o)) for o, n in reg.merger.items() if n == c]
            else:
                ident, parts = f"p63:{c}", None
            identity.append(ident)
            profiles.append(self.profile(ident, parts))
        for c in mins:
            ident = f"m:{c}"
            preds = reg.ministry_predecessors(c, m)
            # a ministry created by the restructuring inherits its predecessors' profile
            vf = reg.ministries[c]["valid_from"]
            created = bool(preds) and vf is not None and any(vf >= eff for _, nw, eff in reg.restructure if nw == c)
            parts = [(f"m:{p}", MINISTRY_VOLUME.get(p, 1.0)) for p in preds] if created else None
            identity.append(ident)
            profiles.append(self.profile(ident, parts))
        z = np.array([p[0] for p in profiles])
        eps = np.array([p[1] for p in profiles]).reshape(len(codes), len(METRIC_NAMES))
        t = m.ordinal - Month(*ONLINE_TREND_MONTH).ordinal
        rates = {}
        prov_sizes = pw / np.median(pw) if len(pw) else pw
        for k, (name, (bp, bm, load, noise, trend)) in enumerate(METRICS.items()):
            base = np.where(is_min, _logit(bm), _logit(bp))
            x = base + load * z + noise * eps[:, k] + trend * t
            if name == "online":  # bigger provinces, and the two big cities, are further online
                ls = np.log(prov_sizes)
                ls = (ls - ls.mean()) / (ls.std() or 1.0)  # standardised: same spread before/after the merger
                big = np.array([ONLINE_BIG_CITY_BONUS if c in BIG_CITY_FACTOR else 0.0 for c in provs])
                x = x + np.concatenate([ONLINE_SIZE_EFFECT * ls + big, np.zeros(len(mins))])
            rates[name] = _sigmoid(x)

        # anomalies (a collapsing unit, a unit with no dossiers) and next month's for carry-over
        factor = np.array([self.anomalies.get((str(m), c), 1.0) for c in codes])
        weights = base_w * factor
        weights = weights / weights.sum()
        nxt = m.shift(1)
        nf = np.array([self.anomalies.get((str(nxt), reg.successor(c, nxt) or c), 1.0) for c in codes])
        cw = weights * nf
        carry_w = cw / cw.sum() if cw.sum() > 0 else weights

        # catalogues and per-procedure online level
        cats, levels, eligs = [], [], []
        for ident, c, mi in zip(identity, codes, is_min):
            cat = self.own_catalogue(ident)
            if mi:
                cat = np.concatenate([cat] + [self.own_catalogue(f"m:{p}") for p in reg.ministry_predecessors(c, m)])
            key = np.uint64(_crc(ident)) << np.uint64(32) | cat.astype(np.uint64)
            i = codes.index(c)
            offered = _hash_uniform(key, self.seed, 11) < rates["offered_online"][i]
            eligible = _hash_uniform(key, self.seed, 12) < 0.70
            full = offered & eligible & (_hash_uniform(key, self.seed, 13) < rates["full_online"][i])
            level = np.where(full, 2, np.where(offered, 1, 0)).astype(np.int8)
            cats.append(cat)
            levels.append(level)
            eligs.append(eligible)
        cat_len = np.array([len(c) for c in cats], np.int64)
        cat_off = np.concatenate([[0], np.cumsum(cat_len)[:-1]]).astype(np.int64)
        # P(channel 2 | online-capable procedure) so that the unit's online share hits its rate
        p_online = np.empty(len(codes))
        for i, lv in enumerate(levels):
            k = np.arange(len(lv) + 1) / len(lv)
            probs = np.diff(k ** (1 / POPULARITY_EXPONENT))
            capable = float(probs[lv > 0].sum())
            p_online[i] = min(0.97, rates["online"][i] / capable) if capable > 0 else 0.0
        pw_n = np.concatenate([pw, np.full(len(mins), np.median(pw) if len(pw) else 1000.0)])
        n_communes = np.clip((pw_n / 12).astype(np.int64), 40, N_COMMUNES_MAX)
        days = np.arange(m.days)
        dow = (np.datetime64(m.first_day, "D") + days).astype("datetime64[D]").view("int64")
        weekday = ((dow + 3) % 7) < 5  # 1970-01-01 was a Thursday
        suffixes = AGENCY_SUFFIXES
        agency = [f"{c}.{s}" for c in codes for s in suffixes]
        return MonthPlan(
            month=m,
            codes=codes,
            is_ministry=is_min,
            identity=identity,
            weights=weights,
            cum=np.cumsum(weights),
            carry_cum=np.cumsum(carry_w),
            rates=rates,
            n_communes=n_communes,
            cat_off=cat_off,
            cat_len=cat_len,
            cat_pool=np.concatenate(cats).astype(np.int32),
            cat_level=np.concatenate(levels),
            cat_eligible=np.concatenate(eligs),
            p_online=p_online,
            weekday_offsets=days[weekday],
            parent_codes=pa.array(codes + list(BAD_UNIT_CODES), pa.string()),
            agency_codes=pa.array(agency, pa.string()),
        )

    def link(self, prev: MonthPlan, cur: MonthPlan) -> np.ndarray:
        """Index map: a unit of the previous month -> the unit valid now (merger crosswalks)."""
        out = np.empty(len(prev.codes), np.int32)
        for i, c in enumerate(prev.codes):
            s = self.reg.successor(c, cur.month)
            out[i] = cur.codes.index(s) if s in cur.codes else 0
        return out


# --------------------------------------------------------------------------------------------
# Dossiers: draw one block (all events, in int64 seconds), then view it as of a cutoff


def _draw_dossiers(rng: np.random.Generator, n: int, plan: MonthPlan, pool: Pool, carry: bool) -> dict:
    m = plan.month
    start, end = m.start_s, m.end_s
    end2 = m.shift(1).end_s
    cum = plan.carry_cum if carry else plan.cum
    unit = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1).astype(np.int32)
    r = {k: v[unit] for k, v in plan.rates.items()}
    is_min = plan.is_ministry[unit]

    # handling agency
    ua, us = rng.random(n), rng.random(n)
    level = np.where(
        is_min, np.where(ua < 0.35, 0, 1), np.where(ua < 0.08, 2, np.where(ua < 0.50, 3, 4))
    ).astype(np.int8)
    suffix = np.select(
        [level == 0, level == 1, level == 2, level == 3],
        [
            SUFFIX_BO + (us * N_MINISTRY_HQ).astype(np.int64),
            SUFFIX_BRANCH + (us * N_BRANCHES).astype(np.int64),
            np.full(n, SUFFIX_UBND),
            SUFFIX_DEPT + (us * N_DEPARTMENTS).astype(np.int64),
        ],
        SUFFIX_COMMUNE + (us * plan.n_communes[unit]).astype(np.int64),
    )

    # procedure: popular ones first
    n_cat = plan.cat_len[unit]
    local = np.minimum((n_cat * rng.random(n) ** POPULARITY_EXPONENT).astype(np.int64), n_cat - 1)
    ci = plan.cat_off[unit] + local
    proc = plan.cat_pool[ci]
    capable = plan.cat_level[ci] > 0

    # channel: 2 online, 3 post, 1 in person, 0 = not stated (in person)
    online = capable & (rng.random(n) < plan.p_online[unit])
    uc = rng.random(n)
    channel = np.where(online, 2, np.where(uc < 0.07, 3, np.where(uc < 0.15, 0, 1))).astype(np.int8)

    # reception: online any time; at a counter on working days 07:30-17:00
    if carry:
        received = end - rng.integers(HOUR, 10 * DAY, n)
    else:
        any_time = start + rng.integers(0, end - start - HOUR, n)
        wd = plan.weekday_offsets[rng.integers(0, len(plan.weekday_offsets), n)]
        office = start + wd * DAY + rng.integers(27000, 61200, n)
        received = np.where(online, any_time, office)
    lag = np.where(
        online,
        rng.integers(0, 2 * DAY, n) * (rng.random(n) < 0.9),
        np.where(channel == 3, rng.integers(DAY, 4 * DAY, n), 0),
    )
    submitted = received - lag
    allowed = pool.allowed_s[proc]
    has_due = rng.random(n) < 0.95
    due = np.where(has_due, received + allowed.astype(np.int64), NONE)

    # processing: net time p, supplement waits w1/w2, terminal status, result returned
    ontime = rng.random(n) < r["ontime"]
    p = allowed * np.where(ontime, 0.05 + 0.9 * rng.random(n) ** 1.5, 1.02 + rng.exponential(0.3, n))
    p = p + np.where(ontime, 0, rng.integers(HOUR, 3 * DAY, n))
    usup = rng.random(n)
    two = usup < 0.01
    one = usup < 0.09
    w1 = rng.exponential(2 * DAY, n) + HOUR
    w2 = rng.exponential(2 * DAY, n) + HOUR
    a1 = p * (0.1 + 0.5 * rng.random(n))
    a2 = p * (0.05 + 0.25 * rng.random(n))
    ut = rng.random(n)
    term = np.where(ut < 0.93, 2, np.where(ut < 0.95, 4, np.where(ut < 0.98, 5, 6))).astype(np.int8)
    returned = (term == 2) & (rng.random(n) < 0.85)
    o_ret_extra = rng.exponential(DAY, n) + 60

    if not carry:
        o_r1, o_c1 = a1, a1 + w1
        o_r2, o_c2 = o_c1 + a2, o_c1 + a2 + w2
        o_te = p + np.where(one, w1, 0) + np.where(two, w2, 0)
        o_ret = o_te + np.where(returned, o_ret_extra, 0)
        # everything of a 'new' dossier happens within its month: squeeze if needed
        avail = (end - 7 - received).astype(np.float64)
        f = np.minimum(1.0, avail / np.maximum(o_ret, 1.0))
        r1 = np.where(one, received + np.floor(o_r1 * f).astype(np.int64) + 1, NONE)
        c1 = np.where(one, received + np.floor(o_c1 * f).astype(np.int64) + 2, NONE)
        r2 = np.where(two, received + np.floor(o_r2 * f).astype(np.int64) + 3, NONE)
        c2 = np.where(two, received + np.floor(o_c2 * f).astype(np.int64) + 4, NONE)
        te = received + np.floor(o_te * f).astype(np.int64) + 5
        ret = np.where(returned, received + np.floor(o_ret * f).astype(np.int64) + 6, NONE)
        cap = end - 1
    else:
        # received late in the month, open at its end, finished next month
        one = usup < 0.20
        two = np.zeros(n, bool)
        r1 = np.where(one, received + 1 + (rng.random(n) * (end - 2 - received)).astype(np.int64), NONE)
        c1 = np.where(one, end + rng.integers(0, 5 * DAY, n), NONE)
        r2, c2 = np.full(n, NONE), np.full(n, NONE)
        due_eff = received + allowed.astype(np.int64)
        late_end = end + rng.integers(0, 20 * DAY, n)
        window = np.maximum(np.minimum(due_eff, end + 25 * DAY) - end, 1)
        ontime_end = end + (rng.random(n) * window).astype(np.int64)
        te = np.where(ontime & (due_eff > end + HOUR), ontime_end, late_end)
        te = np.where(one, np.maximum(te, c1 + 60), te)
        te = np.minimum(te, end2 - 2 * HOUR)
        ret = np.where(returned, np.minimum(te + o_ret_extra.astype(np.int64), end2 - 1), NONE)
        cap = end2 - 1
    late = ~ontime | two

    # flags driven by the unit's quality profile and the procedure
    paper = pool.paper[proc]
    processed = term == 2
    boost = np.where(online, 1.15, 0.9)
    digitised = rng.random(n) < r["digitised"] * boost
    reused = rng.random(n) < r["reused"] * boost
    store = rng.random(n) < r["personal_store"] * boost
    e_result = processed & (rng.random(n) < np.where(paper, r["e_result"], 0.5))
    serves = pool.serves[proc]
    vneid = serves & (rng.random(n) < r["vneid"] * np.where(online, 1.0, 0.15))
    popdb = serves & (rng.random(n) < r["population_db"])
    uf = rng.random(n)
    fee_idx = np.where(
        pool.has_fee[proc], np.where(uf < 0.05, 0, np.where(uf < 0.10, -1, pool.fee_idx[proc])), -1
    ).astype(np.int16)
    paid = (fee_idx > 0) & (rng.random(n) < r["paid_online"] * np.where(online, 1.3, 0.35))
    pay = np.where(paid, np.where(rng.random(n) < 0.65, 1, 2), np.where(pool.has_fee[proc], 0, -1)).astype(np.int8)
    cert = pool.cert[proc] & processed & (rng.random(n) < r["certified_copy"])
    rated = rng.random(n) < r["rated"]
    dislike = rng.random(n) < r["dislike"] * np.where(late, 4, 1)
    rating = np.where(rated, np.where(dislike, 1, 0), -1).astype(np.int8)
    has_c = rng.random(n) < r["complaint"] * np.where(late, 3, 1)
    tc = np.where(has_c, np.minimum(te + rng.integers(600, 5 * DAY, n), cap), NONE)
    synced = rng.random(n) < r["sync"]
    synced_at = received + 60 + rng.exponential(3 * HOUR, n).astype(np.int64)
    synced_at = np.where(synced, np.minimum(synced_at, cap) if not carry else synced_at, NONE)
    return dict(
        unit=unit, level=level, suffix=suffix, proc=proc, channel=channel, received=received,
        submitted=submitted, due=due, r1=r1, c1=c1, r2=r2, c2=c2, te=te, ret=ret, term=term,
        digitised=digitised, reused=reused, store=store, e_result=e_result, vneid=vneid, popdb=popdb,
        fee_idx=fee_idx, pay=pay, cert=cert, rating=rating, tc=tc, synced_at=synced_at,
    )


EVENT_FIELDS = ("r1", "c1", "r2", "c2", "te", "ret", "tc", "synced_at")


def _cut(d: dict, cutoff: int) -> None:
    """The dossier as known at `cutoff` (exclusive): later events have not happened yet."""
    for k in EVENT_FIELDS:
        d[k] = np.where(d[k] < cutoff, d[k], NONE)
    finished = d["te"] != NONE
    d["e_result"] = d["e_result"] & finished
    d["cert"] = d["cert"] & finished
    d["rating"] = np.where(finished, d["rating"], -1).astype(np.int8)


# --------------------------------------------------------------------------------------------
# Defects


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


def _plant_defects(rng: np.random.Generator, d: dict, n_units: int, csv_out: bool, enabled: bool) -> BlockDefects:
    n = len(d["unit"])
    z = np.zeros(n, bool)
    if not enabled:
        d["parent"] = d["unit"]
        return BlockDefects(z, z, z, z, z, z, np.full(n, -1, np.int8), np.zeros(n, np.int8),
                            {c: 0 for c in DEFECT_CLASSES})
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
    for k, arr in d.items():
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


def _garble(times: np.ndarray, kinds: np.ndarray) -> pa.Array:
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


# --------------------------------------------------------------------------------------------
# Arrow builders


def _valid_buffer(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


_QUAD = np.array([list(f"{i:04d}".encode()) for i in range(10000)], np.uint8)


def _digit_matrix(numbers: np.ndarray, digits: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, digits) uint8 (ASCII) matrix."""
    x = numbers.astype(np.int64)
    parts = []
    for _ in range(-(-digits // 4)):
        parts.append(_QUAD[x % 10000])
        x = x // 10000
    m = np.concatenate(parts[::-1], axis=1)
    return m[:, m.shape[1] - digits:]


def _fixed_strings(prefix: str, digit_matrix: np.ndarray, suffix: str = "",
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


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    if valid is None:
        valid = seconds != NONE
    vals = np.where(valid, seconds, 0).astype("datetime64[s]")
    return pa.array(vals, pa.timestamp("s"), mask=~valid if not valid.all() else None)


def _take(dictionary: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    ix = pa.array(idx.astype(np.int32), mask=None if valid is None or valid.all() else ~valid)
    return dictionary.take(ix)


def _bool(x: np.ndarray) -> pa.Array:
    return pa.array(x, pa.bool_())


def _decimal_cents(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
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
class _OutOpts:
    csv: bool
    vietnamese_decimals: bool
    defects: bool


def _dossier_table(d: dict, dd: BlockDefects, plan: MonthPlan, pool: Pool, id_prefix: str,
                   seq: np.ndarray, opts: _OutOpts) -> tuple[pa.Table, pa.Array]:
    n = len(seq)
    digits = _digit_matrix(seq, 9)
    ids = _fixed_strings(id_prefix, digits, valid=~dd.null_id)
    received_ok = ~dd.null_received
    cols: dict[str, pa.Array] = {
        "dossier_id": ids,
        "procedure_code": _take(pool.codes, d["proc"], ~dd.null_proc),
        "handling_agency_code": plan.agency_codes.take(
            pa.array((d["unit"].astype(np.int64) * len(AGENCY_SUFFIXES) + d["suffix"]).astype(np.int32))),
        "handling_agency_level": _take(_LEVELS, d["level"]),
        "parent_unit_code": _take(plan.parent_codes, d["parent"]),
        "submitted_at": _ts(d["submitted"]),
        "received_at": _ts(d["received"], received_ok),
        "due_at": _ts(d["due"]),
        "statutory_duration": pa.array(pool.dur[d["proc"]], pa.float64()),
        "statutory_duration_unit": _take(_DUR_UNITS, pool.dur_unit[d["proc"]]),
    }
    if opts.csv:
        cols["channel"] = _take(_CHANNELS_CSV, d["channel"], d["channel"] != 0)
        for name, src in (("submitted_at", "submitted"), ("received_at", "received"), ("due_at", "due")):
            s = pc.cast(cols[name], pa.string())
            which = {"received_at": 0, "due_at": 1, "submitted_at": 2}[name]
            mask = dd.garbled == which
            if mask.any():
                s = pc.replace_with_mask(s, pa.array(mask), _garble(d[src][mask], dd.garble_kind[mask]))
            cols[name] = s
    else:
        ch = _CHANNELS_TYPED[d["channel"]]
        cols["channel"] = pa.array(ch, pa.int16(), mask=d["channel"] == 0)
    seq_valid = d["e_result"]
    cols.update({
        "has_digitised_component": _bool(d["digitised"]),
        "has_reused_digitised_data": _bool(d["reused"]),
        "has_personal_store_component": _bool(d["store"]),
        "result_code": _fixed_strings("KQ" + id_prefix[2:], digits, valid=seq_valid),
        "result_file_url": _fixed_strings(RESULT_URL_PREFIX + id_prefix, digits, ".pdf", valid=seq_valid),
        "is_vneid_authenticated": _bool(d["vneid"]),
        "population_db_code": _take(_POPDB, np.zeros(n, np.int32), d["popdb"]),
    })
    fee_valid = d["fee_idx"] >= 0
    fee_ix = np.maximum(d["fee_idx"], 0)
    if opts.csv and opts.vietnamese_decimals:
        cols["fee_amount"] = _take(_FEE_VN, fee_ix, fee_valid)
    else:
        cols["fee_amount"] = _decimal_cents(_FEE_CENTS[fee_ix], fee_valid)
    cols.update({
        "online_payment_method": pa.array(d["pay"].astype(np.int16), pa.int16(), mask=d["pay"] < 0),
        "is_electronic_certified_copy": _bool(d["cert"]),
        "rating": _take(_RATINGS, np.maximum(d["rating"], 0), d["rating"] >= 0),
        "has_complaint": _bool(d["tc"] != NONE),
        "is_synced_to_portal": _bool(d["synced_at"] != NONE),
        "synced_at": _ts(d["synced_at"]),
    })
    table = pa.table([cols[f] for f in DOSSIERS.field_names], names=DOSSIERS.field_names)
    return table, digits


def _history_table(d: dict, dd: BlockDefects, plan: MonthPlan, id_prefix: str, digits: np.ndarray,
                   rng: np.random.Generator,
                   opts: _OutOpts) -> tuple[pa.Table, dict[str, int]]:
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
    status_at = _ts(times_a)
    counts = {c: 0 for c in DEFECT_CLASSES}
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
                    status_at, pa.array(garb), _garble(times_a[garb], (rng.random(int(garb.sum())) * 3).astype(np.int8)))
            counts["unparseable_timestamp"] = int(garb.sum())
    table = pa.table(
        [_fixed_strings(id_prefix, digits[rows_a]), _take(plan.parent_codes, d["unit"][rows_a]),
         _take(_STATUS, codes_a), status_at],
        names=DOSSIER_STATUS_HISTORY.field_names,
    )
    return table, counts


def _complaints_table(rng: np.random.Generator, plan: MonthPlan, unit: np.ndarray, received: np.ndarray,
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
        _fixed_strings(id_prefix, _digit_matrix(np.arange(n), 6)),
        _take(plan.parent_codes, unit),
        _take(pa.array(list(COMPLAINT_TYPES)), ctype),
        _ts(received),
        *(_ts(times[k]) for k in ("transferred_at", "rejected_at", "first_supplement_request_at",
                                    "processed_at", "published_at")),
        pa.array(likes, pa.int32()),
        pa.array(dislikes, pa.int32()),
        _bool(re_raised),
        dossier_ids if dossier_ids is not None else pa.nulls(n, pa.string()),
    ]
    return pa.table(cols, names=COMPLAINTS.field_names)


def _procedures_table(ctx: _Context, plan: MonthPlan) -> pa.Table:
    """The catalogue snapshot at the month's end, one row per (unit, procedure)."""
    m = plan.month
    seed = ctx.seed
    pool = ctx.pool
    unit = np.repeat(np.arange(len(plan.codes)), plan.cat_len)
    cat = plan.cat_pool
    crc = np.array([_crc(i) for i in plan.identity], np.uint64)[unit]
    key = (crc << np.uint64(32)) | cat.astype(np.uint64)  # stable per (unit, procedure)
    mkey = key ^ (np.uint64(m.ordinal) << np.uint64(48))  # ... and per month

    def h(salt: int, k: np.ndarray = key) -> np.ndarray:
        return _hash_uniform(k, seed, salt)

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
        _fixed_strings("", _digit_matrix(1000 + (h(31) * 9000).astype(np.int64), 4)),
        issuer.take(pa.array(unit.astype(np.int32))), "")

    def day(a: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        return pa.array(a.astype("datetime64[D]"), pa.date32(), mask=None if valid is None else ~valid)

    cols = [
        _take(plan.parent_codes, unit),
        pool.codes.take(pa.array(cat)),
        pa.array(pool.names, pa.string()).take(pa.array(cat)),
        dec_no,
        day(announced),
        day(effective),
        day(published, pub_valid),
        pa.array(parts.astype(np.int16), pa.int16()),
        _take(pa.array(list(ONLINE_LEVELS)), plan.cat_level),
        _bool(plan.cat_eligible),
        _bool(pool.has_fee[cat]),
        _bool(pool.paper[cat]),
        _bool(pool.serves[cat]),
        _bool(pool.cert[cat]),
    ]
    return pa.table(cols, names=PROCEDURES.field_names)


# --------------------------------------------------------------------------------------------
# Sinks


UNIQUE_STRING_COLUMNS = ("dossier_id", "result_code", "result_file_url", "complaint_id")


class _Sink:
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
            self._stream = _open_output(path, fmt)
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


def _open_output(path: Path, fmt: str):
    return _GzipOutput(path) if fmt == "csv.gz" else pa.OSFile(str(path), "wb")


# --------------------------------------------------------------------------------------------
# Generation


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


def _choose_anomalies(ctx: _Context, file_months: list[Month], all_months: list[Month]) -> dict:
    months = file_months or all_months
    collapse_m = months[-1]
    missing_m = months[(len(months) - 1) // 2]
    rng = _rng(ctx.seed, TAG_ANOMALY)
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


_CONTEXTS: dict[tuple, _Context] = {}


def _context(seed: int, anomalies: tuple[tuple[str, str, float], ...]) -> _Context:
    key = (seed, anomalies)
    if key not in _CONTEXTS:
        _CONTEXTS.clear()
        ctx = _Context(seed, Registry.load(), {})
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
    opts = _OutOpts(csv=csv_out, vietnamese_decimals=job.vietnamese_decimals, defects=job.defects)
    plan = ctx.plan(m)
    prev = ctx.plan(m.shift(-1))
    link = ctx.link(prev, plan)

    def path_for(kind: ExtractKind) -> Path:
        if job.is_api:
            return out / "portal_store" / str(m) / f"{kind.name}.parquet"
        return out / "landing" / str(m) / f"{kind.file_prefix}_{m}.{fmt}"

    n_carry = int(round(CARRY_SHARE * job.rows_per_month))
    n_new = job.rows_per_month - 2 * n_carry
    sinks = {k.name: _Sink(path_for(k), k, fmt, job.chunk_rows, job.vietnamese_decimals)
             for k in (DOSSIERS, DOSSIER_STATUS_HISTORY, COMPLAINTS)}
    counts = {k: {c: 0 for c in DEFECT_CLASSES} for k in (*sinks, "procedures")}
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
            d = _draw_dossiers(_rng(seed, tag, key_month.ordinal, b), nb, draw_plan, ctx.pool, carry)
            d["seq"] = b * block_rows + np.arange(nb, dtype=np.int64)
            if seg == "carry_in":
                d["unit"] = link[d["unit"]]
            _cut(d, m.end_s)
            rng_def = _rng(seed, TAG_DEFECT, m.ordinal, s_i, b)
            dd = _plant_defects(rng_def, d, len(plan.codes), csv_out, job.defects)
            dt, digits = _dossier_table(d, dd, plan, ctx.pool, id_prefix, d["seq"], opts)
            sinks["dossiers"].write(dt)
            ht, hc = _history_table(d, dd, plan, id_prefix, digits, rng_def, opts)
            sinks["dossier_status_history"].write(ht)
            for c in DEFECT_CLASSES:
                counts["dossiers"][c] += dd.counts[c]
                counts["dossier_status_history"][c] += hc[c]
            # complaints: those about these dossiers, plus some not about any dossier
            rng_c = _rng(seed, TAG_COMPLAINT, m.ordinal, s_i, b)
            linked = np.nonzero((d["tc"] != NONE) & ~dd.no_history)[0]
            units, recv = [d["unit"][linked]], [d["tc"][linked]]
            dossier_ids = [_fixed_strings(id_prefix, digits[linked])]
            if seg == "new":
                k = int(rng_c.binomial(nb, UNLINKED_COMPLAINT_RATE))
                pick = rng_c.integers(0, nb, k)
                units.append(d["unit"][pick])
                recv.append(m.start_s + rng_c.integers(0, m.end_s - m.start_s - HOUR, k))
                dossier_ids.append(pa.nulls(k, pa.string()))
            u_all = np.concatenate(units)
            if len(u_all):
                sinks["complaints"].write(_complaints_table(
                    rng_c, plan, u_all, np.concatenate(recv), pa.concat_arrays(dossier_ids),
                    f"PAKN-{m.yymm}-{s_i}{b:05d}"))
            if job.progress:
                print(f"{m} {seg} block {b}: {sinks['dossiers'].rows:,} dossier rows", file=sys.stderr)

    procedures = _procedures_table(ctx, plan)
    _write_procedures(path_for(PROCEDURES), procedures, fmt)
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
    totals = {k: 0 for k in ("dossiers", "dossier_status_history", "procedures", "complaints")}
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


def _write_procedures(path: Path, table: pa.Table, fmt: str) -> None:
    """The small catalogue file in one go. Names contain commas, so CSV text values are quoted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table.cast(typed_schema(PROCEDURES)), str(path), compression="zstd", compression_level=1)
        return
    stream = _open_output(path, fmt)
    stream.write((",".join(PROCEDURES.field_names) + "\n").encode())
    with pacsv.CSVWriter(stream, table.schema,
                         write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")) as w:
        w.write_table(table)
    stream.close()


# --------------------------------------------------------------------------------------------
# CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m demo.extracts",
        description="Generate deterministic demo extracts (landing files and the demo portal's store) "
        "with planted defects recorded in manifest.json. See docs/demo_data.md.",
    )
    ap.add_argument("--out", required=True, help="output folder (e.g. data/demo)")
    ap.add_argument("--months", required=True,
                    help="'2025-02:2025-08' (inclusive), '2025-02,2025-05' or one month")
    ap.add_argument("--rows", type=int, required=True, help="dossier rows per month")
    ap.add_argument("--api-months", default="",
                    help="months served by the demo portal (Parquet store) instead of landing files")
    ap.add_argument("--format", default="csv", choices=FILE_FORMATS, help="landing file format")
    ap.add_argument("--seed", type=int, default=766)
    ap.add_argument("--no-defects", action="store_true", help="no planted defects and no anomalies")
    ap.add_argument("--vietnamese-decimals", action="store_true",
                    help="CSV fee_amount as '15.000,50' instead of '15000.50'")
    ap.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows per write / row group")
    ap.add_argument("--workers", type=int, default=1, help="months generated in parallel processes")
    ap.add_argument("--no-hash", action="store_true", help="skip sha256 of written files")
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args(argv)
    try:
        months = parse_months(a.months)
        api = parse_months(a.api_months) if a.api_months else []
        unknown = set(api) - set(months)
        if unknown:
            ap.error(f"--api-months {sorted(unknown)} are not in --months")
        s = generate_demo(
            a.out, months, a.rows, seed=a.seed, api_months=api, file_format=a.format,
            defects=not a.no_defects, vietnamese_decimals=a.vietnamese_decimals,
            chunk_rows=a.chunk_rows, workers=a.workers, hash_files=not a.no_hash, progress=a.progress,
        )
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {len(s.manifest['files'])} files for {len(months)} months to {s.out_dir} "
          f"in {s.seconds:.1f} s ({s.dossier_rows_per_second:,.0f} dossier rows/s)")
    for k, v in s.rows.items():
        print(f"  {k}: {v:,} rows")
    print(f"  manifest: {s.manifest_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
