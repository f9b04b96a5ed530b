"""Injected faults (429, 500, slow pages, truncated bodies, malformed pages): what each one is, and the
queue of them the request threads take from."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind

KINDS_BY_ENDPOINT: dict[str, ExtractKind] = {k.api_endpoint: k for k in EXTRACT_KINDS.values()}
FAULT_TYPES = ("429", "500", "slow", "truncated", "malformed")
MALFORMED_VARIANTS = ("missing_items", "kind_mismatch", "extra_field", "wrong_page", "not_object")
TRUNCATED_VARIANTS = ("no_length", "short_length")


@dataclass
class Fault:
    """One injected fault: fires `times` times on matching requests, after letting `after`
    matching requests through normally; then the page is served normally again.

    `path` is an endpoint path (`/api/v1/dossiers`) or a kind name (`dossiers`). `page` and
    `month` of None match any page or month. Faults for the same request form a queue: the first
    one that has not finished fires, so adding a 429 then a 500 for page 2 gives 429, 500, OK.
    """

    path: str
    fault: str  # one of FAULT_TYPES
    page: int | None = None
    month: str | None = None
    times: int = 1
    after: int = 0
    retry_after: int = 1  # 429: the Retry-After header, seconds
    delay_s: float = 5.0  # slow: sleep this long before answering (longer than the client timeout)
    variant: str | None = None  # malformed: MALFORMED_VARIANTS; truncated: TRUNCATED_VARIANTS
    fired: int = 0

    def __post_init__(self) -> None:
        self.fault = str(self.fault)
        if self.fault not in FAULT_TYPES:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {', '.join(FAULT_TYPES)}")
        if self.path in EXTRACT_KINDS:
            self.path = EXTRACT_KINDS[self.path].api_endpoint
        if self.path not in KINDS_BY_ENDPOINT:
            raise ValueError(f"fault path {self.path!r} is neither an endpoint nor a kind name")
        if self.variant is None:
            self.variant = {"malformed": "missing_items", "truncated": "no_length"}.get(self.fault)
        allowed = {"malformed": MALFORMED_VARIANTS, "truncated": TRUNCATED_VARIANTS}.get(self.fault)
        if allowed and self.variant not in allowed:
            raise ValueError(f"{self.fault} fault variant {self.variant!r}; expected one of {', '.join(allowed)}")

    @classmethod
    def from_dict(cls, data: dict) -> Fault:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "fired"}
        unknown = sorted(set(data) - set(known) - {"fired"})
        if unknown:
            raise ValueError(f"fault {data!r}: unknown key(s) {', '.join(unknown)}")
        return cls(**known)

    def matches(self, path: str, month: str, page: int) -> bool:
        return (
            self.path == path
            and (self.page is None or self.page == page)
            and (self.month is None or self.month == month)
        )

    @property
    def finished(self) -> bool:
        return self.fired >= self.times


class FaultPlan:
    """The queue of faults, shared by the request threads."""

    def __init__(self, faults: Iterable[Fault | dict] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.add(*faults)

    def add(self, *faults: Fault | dict) -> None:
        with self._lock:
            self._faults += [f if isinstance(f, Fault) else Fault.from_dict(f) for f in faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [copy.copy(f) for f in self._faults if not f.finished]

    def take(self, path: str, month: str, page: int) -> Fault | None:
        """The fault to apply to this request, if any (and count it)."""
        with self._lock:
            for f in self._faults:
                if f.finished or not f.matches(path, month, page):
                    continue
                if f.after > 0:
                    f.after -= 1
                    return None
                f.fired += 1
                return copy.copy(f)
        return None

    @classmethod
    def from_json_file(cls, path: str | Path) -> FaultPlan:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("faults", [])
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of faults (or {{\"faults\": [...]}})")
        return cls(data)
