"""Deterministic randomness: one seeded generator per RNG stream, and counter-based hashes that do not
depend on the order things are drawn in."""

from __future__ import annotations

import math
import zlib

import numpy as np

# RNG stream tags
TAG_POOL, TAG_PROFILE, TAG_CATALOGUE, TAG_NEW, TAG_CARRY, TAG_DEFECT, TAG_COMPLAINT, TAG_ANOMALY = (
    range(1, 9)
)


def rng_for(*key: int) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in key])


def text_crc32(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise (uint64 wraps on overflow)."""
    x = x + _M1
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return x ^ (x >> np.uint64(31))


def hash_uniform(keys: np.ndarray, *salts: int) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on (keys, salts): counter-based, order free."""
    h = np.asarray(keys, dtype=np.uint64)
    for s in salts:
        h = _mix(h ^ np.uint64(s & 0xFFFFFFFFFFFFFFFF))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
