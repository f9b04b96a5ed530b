"""The contract of one portal API page (docs/portal_api.md): what a request names and what a
page body must look like.

`resolve_kind` and `check_month` check a request's extract kind and month; `check_page` parses a
page body and checks its shape against the request and the extract contract
(`ingestion/core/extract_contract.py`), raising `PageShapeError` with what is wrong. Used by
the client (`ingestion/portal/client.py`) on every page it fetches and on every archived page it
resumes from.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind

MAX_PAGE_SIZE = 20000
PAGE_KEYS = ("kind", "month", "page", "page_size", "total_pages", "total_items", "generated_at", "items")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PortalError(RuntimeError):
    """Base of every error of the portal client, its page contract and its page archive."""


class PortalConfigError(PortalError):
    """The client is not configured (a missing environment variable, a bad argument)."""


class PageShapeError(ValueError):
    """A page body that does not meet the contract; the message says what is wrong."""


def resolve_kind(kind: str | ExtractKind) -> ExtractKind:
    if isinstance(kind, ExtractKind):
        return kind
    try:
        return EXTRACT_KINDS[kind]
    except KeyError:
        raise PortalConfigError(f"unknown extract kind {kind!r}; expected one of {', '.join(EXTRACT_KINDS)}") from None


def check_month(month: str | dt.date) -> str:
    if isinstance(month, dt.date):
        return month.strftime("%Y-%m")
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise PortalConfigError(f"month {month!r} is not YYYY-MM")
    return month


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_page(body: bytes, kind: ExtractKind, month: str, page: int, page_size: int,
               expected_totals: tuple[int, int] | None = None) -> dict:
    """Parse one page body and check its shape against the request and the contract.
    Returns the parsed page; raises PageShapeError saying what is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise PageShapeError(f"body is not valid JSON ({len(body)} bytes, truncated?): {e}") from None
    if not isinstance(payload, dict):
        raise PageShapeError(f"body is a JSON {type(payload).__name__}, expected an object")
    missing = [k for k in PAGE_KEYS if k not in payload]
    if missing:
        raise PageShapeError(f"missing key(s) {', '.join(missing)}")
    for key in ("page", "page_size", "total_pages", "total_items"):
        if not is_int(payload[key]) or payload[key] < 0:
            raise PageShapeError(f"{key} is {payload[key]!r}, expected a non-negative integer")
    for key, want in (("kind", kind.name), ("month", month), ("page", page), ("page_size", page_size)):
        if payload[key] != want:
            raise PageShapeError(f"{key} is {payload[key]!r}, requested {want!r}")
    total_pages, total_items = payload["total_pages"], payload["total_items"]
    if total_pages != math.ceil(total_items / page_size):
        raise PageShapeError(
            f"total_pages {total_pages} does not match total_items {total_items} at page_size {page_size}"
        )
    if expected_totals is not None and (total_pages, total_items) != expected_totals:
        raise PageShapeError(
            f"total_pages/total_items are {total_pages}/{total_items} but earlier pages said "
            f"{expected_totals[0]}/{expected_totals[1]}: the month's data changed while paging "
            f"(fetch again with refresh=True)"
        )
    if page > max(total_pages, 1):
        raise PageShapeError(f"page {page} is beyond total_pages {total_pages}")
    items = payload["items"]
    if not isinstance(items, list):
        raise PageShapeError(f"items is a JSON {type(items).__name__}, expected a list")
    if len(items) > page_size:
        raise PageShapeError(f"{len(items)} items, more than page_size {page_size}")
    expected_count = min(page_size, max(total_items - (page - 1) * page_size, 0))
    if len(items) != expected_count:
        raise PageShapeError(
            f"{len(items)} items, expected {expected_count} (page {page} of {total_pages}, {total_items} items)"
        )
    fields = kind.field_names
    wanted = set(fields)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PageShapeError(f"items[{i}] is a JSON {type(item).__name__}, expected an object")
        if item.keys() != wanted:
            extra = sorted(set(item) - wanted)
            absent = [f for f in fields if f not in item]
            raise PageShapeError(
                f"items[{i}] keys differ from the '{kind.name}' contract"
                + (f"; missing: {', '.join(absent)}" if absent else "")
                + (f"; unexpected: {', '.join(extra)}" if extra else "")
            )
        for name, value in item.items():
            if isinstance(value, (dict, list)):
                raise PageShapeError(f"items[{i}].{name} is a JSON {type(value).__name__}, expected a scalar")
    return payload

