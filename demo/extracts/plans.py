"""Month plans: the units valid in a month, their volume weights, quality rates, procedure catalogues and
agencies; and the generation context (registry, pool, unit profiles, anomalies) they are built from."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from demo.extracts.agencies import AGENCY_SUFFIXES as BASE_AGENCY_SUFFIXES
from demo.extracts.agencies import agency_counts, unit_agency_names
from demo.extracts.defects import BAD_UNIT_CODES
from demo.extracts.months import Month
from demo.extracts.procedures import (
    MINISTRY_BLOCK_SIZE,
    POPULARITY_EXPONENT,
    PROVINCE_CORE_PROCEDURES,
    PROVINCE_POOL_SIZE,
    build_pool,
)
from demo.extracts.randomness import (
    TAG_CATALOGUE,
    TAG_PROFILE,
    hash_uniform,
    logit,
    rng_for,
    sigmoid,
    text_crc32,
)
from demo.extracts.registry import Registry

PROVINCE_VOLUME_SHARE = 0.55  # the rest goes to ministries with public services (dti_group 'dvc')
ONLINE_SIZE_EFFECT = 0.40  # logit of a province's online share per standard deviation of log size
ONLINE_BIG_CITY_BONUS = 1.4  # extra logit of online share for Hà Nội and TP Hồ Chí Minh
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

# Agency suffix table: '<unit>.<suffix>' is the handling agency code (demo/extracts/agencies.py),
# then one ministry branch office per old province (ND<code>).
AGENCY_SUFFIXES = BASE_AGENCY_SUFFIXES + [f"ND{c}" for c in sorted(PROVINCE_POPULATION)]


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
    n_communes: np.ndarray  # communes of the era (old X block before 2025-07, merged XM block after)
    n_districts: np.ndarray  # 0 from 2025-07 (no district level)
    has_districts: bool
    cat_off: np.ndarray
    cat_len: np.ndarray
    cat_pool: np.ndarray
    cat_level: np.ndarray  # index into ONLINE_LEVELS
    cat_eligible: np.ndarray
    p_online: np.ndarray  # P(channel 2 | procedure offered online), per unit
    weekday_offsets: np.ndarray
    parent_codes: pa.Array  # unit codes then BAD_UNIT_CODES
    agency_codes: pa.Array  # unit i, suffix j -> index i * len(AGENCY_SUFFIXES) + j
    agency_names: pa.Array  # the same index: the agency's name (handling_agency_name)


class GenerationContext:
    """Everything shared by the months of one generation: registry, pool, profiles, anomalies."""

    def __init__(self, seed: int, registry: Registry, anomalies: dict[tuple[str, str], float]):
        self.seed = seed
        self.reg = registry
        self.pool = build_pool(seed, registry)
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
        rng = rng_for(self.seed, TAG_PROFILE, text_crc32(identity))
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
        rng = rng_for(self.seed, TAG_CATALOGUE, text_crc32(identity))
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
            base = np.where(is_min, logit(bm), logit(bp))
            x = base + load * z + noise * eps[:, k] + trend * t
            if name == "online":  # bigger provinces, and the two big cities, are further online
                ls = np.log(prov_sizes)
                ls = (ls - ls.mean()) / (ls.std() or 1.0)  # standardised: same spread before/after the merger
                big = np.array([ONLINE_BIG_CITY_BONUS if c in BIG_CITY_FACTOR else 0.0 for c in provs])
                x = x + np.concatenate([ONLINE_SIZE_EFFECT * ls + big, np.zeros(len(mins))])
            rates[name] = sigmoid(x)

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
            key = np.uint64(text_crc32(ident)) << np.uint64(32) | cat.astype(np.uint64)
            i = codes.index(c)
            offered = hash_uniform(key, self.seed, 11) < rates["offered_online"][i]
            eligible = hash_uniform(key, self.seed, 12) < 0.70
            full = offered & eligible & (hash_uniform(key, self.seed, 13) < rates["full_online"][i])
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
        n_communes, n_districts = agency_counts(pw_n, new_era)
        days = np.arange(m.days)
        dow = (np.datetime64(m.first_day, "D") + days).astype("datetime64[D]").view("int64")
        weekday = ((dow + 3) % 7) < 5  # 1970-01-01 was a Thursday
        suffixes = AGENCY_SUFFIXES
        agency = [f"{c}.{s}" for c in codes for s in suffixes]
        branch_provinces = [reg.short_names_63.get(c, c) for c in sorted(PROVINCE_POPULATION)]
        unit_names = {**(reg.names_34 if new_era else reg.names_63), **reg.ministry_names}
        agency_names = [name for c in codes for name in unit_agency_names(c, unit_names.get(c, c), branch_provinces)]
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
            n_districts=n_districts,
            has_districts=not new_era,
            cat_off=cat_off,
            cat_len=cat_len,
            cat_pool=np.concatenate(cats).astype(np.int32),
            cat_level=np.concatenate(levels),
            cat_eligible=np.concatenate(eligs),
            p_online=p_online,
            weekday_offsets=days[weekday],
            parent_codes=pa.array(codes + list(BAD_UNIT_CODES), pa.string()),
            agency_codes=pa.array(agency, pa.string()),
            agency_names=pa.array(agency_names, pa.string()),
        )

    def link(self, prev: MonthPlan, cur: MonthPlan) -> np.ndarray:
        """Index map: a unit of the previous month -> the unit valid now (merger crosswalks)."""
        out = np.empty(len(prev.codes), np.int32)
        for i, c in enumerate(prev.codes):
            s = self.reg.successor(c, cur.month)
            out[i] = cur.codes.index(s) if s in cur.codes else 0
        return out
