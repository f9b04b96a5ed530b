"""Dossiers: draw one block of dossiers (all their events, in int64 seconds), then view it as of a cutoff."""

from __future__ import annotations

import numpy as np

from demo.extracts.agencies import (
    LEVEL_BRANCH,
    LEVEL_COMMUNE,
    LEVEL_DEPARTMENT,
    LEVEL_DISTRICT,
    LEVEL_MINISTRY,
    LEVEL_PROVINCE,
    N_BRANCHES,
    N_DEPARTMENTS,
    N_MINISTRY_HQ,
    SUFFIX_BO,
    SUFFIX_BRANCH,
    SUFFIX_COMMUNE,
    SUFFIX_DEPT,
    SUFFIX_DISTRICT,
    SUFFIX_NEW_COMMUNE,
    SUFFIX_UBND,
)
from demo.extracts.months import DAY, HOUR, NONE
from demo.extracts.plans import MonthPlan
from demo.extracts.procedures import POPULARITY_EXPONENT, Pool


def draw_dossiers(rng: np.random.Generator, n: int, plan: MonthPlan, pool: Pool, carry: bool) -> dict:
    m = plan.month
    start, end = m.start_s, m.end_s
    end2 = m.shift(1).end_s
    cum = plan.carry_cum if carry else plan.cum
    unit = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1).astype(np.int32)
    r = {k: v[unit] for k, v in plan.rates.items()}
    is_min = plan.is_ministry[unit]

    # handling agency: a ministry's offices or branches; a province's office, departments,
    # districts (before 2025-07: 14 % of the dossiers, taken from the communes' share) or communes
    ua, us = rng.random(n), rng.random(n)
    local = np.where(
        ua < 0.08, LEVEL_PROVINCE,
        np.where(ua < 0.50, LEVEL_DEPARTMENT,
                 np.where(plan.has_districts & (ua < 0.64), LEVEL_DISTRICT, LEVEL_COMMUNE)))
    level = np.where(is_min, np.where(ua < 0.35, LEVEL_MINISTRY, LEVEL_BRANCH), local).astype(np.int8)
    commune_base = SUFFIX_COMMUNE if plan.has_districts else SUFFIX_NEW_COMMUNE
    suffix = np.select(
        [level == LEVEL_MINISTRY, level == LEVEL_BRANCH, level == LEVEL_PROVINCE, level == LEVEL_DEPARTMENT,
         level == LEVEL_DISTRICT],
        [
            SUFFIX_BO + (us * N_MINISTRY_HQ).astype(np.int64),
            SUFFIX_BRANCH + (us * N_BRANCHES).astype(np.int64),
            np.full(n, SUFFIX_UBND),
            SUFFIX_DEPT + (us * N_DEPARTMENTS).astype(np.int64),
            SUFFIX_DISTRICT + (us * plan.n_districts[unit]).astype(np.int64),
        ],
        commune_base + (us * plan.n_communes[unit]).astype(np.int64),
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


def as_known_at(d: dict, cutoff: int) -> None:
    """The dossier as known at `cutoff` (exclusive): later events have not happened yet."""
    for k in EVENT_FIELDS:
        d[k] = np.where(d[k] < cutoff, d[k], NONE)
    finished = d["te"] != NONE
    d["e_result"] = d["e_result"] & finished
    d["cert"] = d["cert"] & finished
    d["rating"] = np.where(finished, d["rating"], -1).astype(np.int8)
