"""Injected faults: what each one is, and the queue of them the request threads take from.

Each fault is something a real portal (or what stands between it and us) does on a bad day, sent
in its real shape on the wire:

| fault | what the client gets |
|---|---|
| `429` | 429 `rate_limited` with `Retry-After: <retry_after>` (any text: `7`, `soon`, `-5`), or an HTTP date `retry_after_date_s` from now |
| `500`, `503` | that status (`503` with `Retry-After` as for `429`; `retry_after=None`: none) |
| `slow` | nothing for `delay_s` (a stall before the headers), then the page |
| `trickle` | the headers (with Content-Length), then the body `chunk_bytes` at a time every `interval_s` |
| `truncated` | a 200 and half the body (`no_length`: no Content-Length; `short_length`: the full one) |
| `malformed` | valid JSON of the wrong shape (`MALFORMED_VARIANTS`; `wrong_page`: the body's page number is not the one requested) |
| `not_json` | a 200 whose body is an HTML error page |
| `repeated_page` | the items of page `source_page` (default 1) under the requested page number |
| `oversized` | the page padded with whitespace to `size_bytes` (`length`: with Content-Length; `no_length`: without) |
| `too_many_items` | the page with its items repeated to `item_count` items |
| `echo_token` | an error answer (`status`, default 500) whose message echoes the credential the client sent; with `status` 200, a page whose first item carries the token |
| `redirect` | 302 to the same request with the token in the URL (`inside`), to another host (`outside`), or to itself for ever (`loop`) |
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind

KINDS_BY_ENDPOINT: dict[str, ExtractKind] = {k.api_endpoint: k for k in EXTRACT_KINDS.values()}
FAULT_TYPES = ("429", "500", "503", "slow", "trickle", "truncated", "malformed", "not_json", "repeated_page",
               "oversized", "too_many_items", "echo_token", "redirect")
MALFORMED_VARIANTS = ("missing_items", "kind_mismatch", "extra_field", "wrong_page", "not_object")
TRUNCATED_VARIANTS = ("no_length", "short_length")
OVERSIZED_VARIANTS = ("length", "no_length")
REDIRECT_VARIANTS = ("inside", "outside", "loop")
VARIANTS = {"malformed": MALFORMED_VARIANTS, "truncated": TRUNCATED_VARIANTS, "oversized": OVERSIZED_VARIANTS,
            "redirect": REDIRECT_VARIANTS}


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
    retry_after: int | str | None = 1  # 429/503: the Retry-After header as sent (None: no header)
    retry_after_date_s: float | None = None  # 429/503: Retry-After as an HTTP date this many seconds from now
    delay_s: float = 5.0  # slow: sleep this long before answering (longer than the client timeout)
    interval_s: float = 1.0  # trickle: seconds between two chunks of the body
    chunk_bytes: int = 1  # trickle: bytes per chunk
    source_page: int = 1  # repeated_page: whose items are served
    size_bytes: int = 1 << 20  # oversized: the body's size
    item_count: int = 1000  # too_many_items: items in the body
    status: int = 500  # echo_token: the answer's status
    variant: str | None = None  # see VARIANTS
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
            self.variant = VARIANTS[self.fault][0] if self.fault in VARIANTS else None
        allowed = VARIANTS.get(self.fault)
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
