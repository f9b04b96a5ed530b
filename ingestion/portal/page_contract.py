"""The contract of one portal API page (docs/portal_api.md): what a request names and what a
page body must look like.

`resolve_kind` and `check_month` check a request's extract kind and month; `check_page` parses a
page body and checks its shape against the request, the extract contract
(`ingestion/core/extract_contract.py`) and the input limits (`InputLimits.max_page_items`),
raising `PageShapeError` with a rule and what is wrong; `page_key_order` checks that a page
continues the month's paging order (the items are sorted by the kind's key, so a page whose items
sort before the previous page's last one repeats items already served). Used by the client
(`ingestion/portal/client.py`) on every page it fetches and on every archived page it resumes from.

Reasons start with the cause (fixed text); values taken from the body come after it, shortened.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind
from ingestion.core.input_files import InputRejected, exceeds

MAX_PAGE_SIZE = 20000
PAGE_KEYS = ("kind", "month", "page", "page_size", "total_pages", "total_items", "generated_at", "items")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PortalError(RuntimeError):
    """Base of every error of the portal client, its page contract and its page archive. `rule`
    names the failure for machines; the message starts with the cause and never holds a credential
    (the client redacts every text it lets out, ingestion/portal/redaction.py)."""

    rule = "portal_error"


class PortalConfigError(PortalError):
    """The client is not configured (a missing environment variable, a bad argument)."""

    rule = "portal_config"


class PageShapeError(InputRejected, ValueError):
    """A page body that does not meet the contract: `rule` names the check, the message (`reason`)
    says what is wrong, cause first."""

    def __init__(self, reason: str, rule: str = "malformed_page") -> None:
        super().__init__(rule, reason)


# The rules of a page (quarantine.rejected_files.rule of a rejected page body).
NOT_JSON, MALFORMED, PAGE_MISMATCH, TOTALS_CHANGED = "not_json", "malformed_page", "page_number_mismatch", "totals_changed"
TOO_MANY_ITEMS, REPEATED_ITEMS = "too_many_items", "repeated_items"


def shown(value, limit: int = 60) -> str:
    """A value from a body, as repr, cut to `limit` characters (a body can hold anything)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


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
               expected_totals: tuple[int, int] | None = None, max_items: int = 0) -> dict:
    """Parse one page body and check its shape against the request and the contract (and at most
    `max_items` items, 0 = no limit). Returns the parsed page; raises PageShapeError saying what
    is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise PageShapeError(f"page body is not valid JSON ({len(body)} bytes, truncated?): {e}", NOT_JSON) from None
    if not isinstance(payload, dict):
        raise PageShapeError(f"page body is a JSON {type(payload).__name__}, expected an object")
    missing = [k for k in PAGE_KEYS if k not in payload]
    if missing:
        raise PageShapeError(f"page body is missing key(s) {', '.join(missing)}")
    items = payload["items"]
    if isinstance(items, list) and exceeds(len(items), max_items):
        raise PageShapeError(f"too many items in one page: {len(items)}, the limit is {max_items} "
                             f"(DXMON_LIMIT_MAX_PAGE_ITEMS)", TOO_MANY_ITEMS)
    for key in ("page", "page_size", "total_pages", "total_items"):
        if not is_int(payload[key]) or payload[key] < 0:
            raise PageShapeError(f"page field is not a non-negative integer: {key} is {shown(payload[key])}")
    if payload["page"] != page:
        raise PageShapeError(f"page number in the body does not match the request: page is {shown(payload['page'])}, "
                             f"requested {page}", PAGE_MISMATCH)
    for key, want in (("kind", kind.name), ("month", month), ("page_size", page_size)):
        if payload[key] != want:
            raise PageShapeError(f"page does not match the request: {key} is {shown(payload[key])}, requested {want!r}")
    total_pages, total_items = payload["total_pages"], payload["total_items"]
    if total_pages != math.ceil(total_items / page_size):
        raise PageShapeError(
            f"page totals are inconsistent: total_pages {total_pages} does not match total_items {total_items} "
            f"at page_size {page_size}"
        )
    if expected_totals is not None and (total_pages, total_items) != expected_totals:
        raise PageShapeError(
            f"the month's data changed while paging: total_pages/total_items are {total_pages}/{total_items} but "
            f"earlier pages said {expected_totals[0]}/{expected_totals[1]} (fetch the month again: --refetch)",
            TOTALS_CHANGED,
        )
    if page > max(total_pages, 1):
        raise PageShapeError(f"page is beyond the month's pages: page {page}, total_pages {total_pages}")
    if not isinstance(items, list):
        raise PageShapeError(f"page items are a JSON {type(items).__name__}, expected a list")
    if len(items) > page_size:
        raise PageShapeError(f"more items than page_size: {len(items)} items, page_size {page_size}")
    expected_count = min(page_size, max(total_items - (page - 1) * page_size, 0))
    if len(items) != expected_count:
        raise PageShapeError(
            f"wrong number of items: {len(items)} items, expected {expected_count} (page {page} of {total_pages}, "
            f"{total_items} items)"
        )
    fields = kind.field_names
    wanted = set(fields)
    # a field that may be absent (added to the contract later) may be missing from an item
    optional = {f.name for f in kind.fields if f.may_be_absent}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PageShapeError(f"an item is not a JSON object: items[{i}] is a JSON {type(item).__name__}")
        if item.keys() != wanted and not (wanted - optional <= item.keys() <= wanted):
            extra = sorted(set(item) - wanted)
            absent = [f for f in fields if f not in item and f not in optional]
            raise PageShapeError(
                f"item keys differ from the '{kind.name}' contract: items[{i}]"
                + (f"; missing: {', '.join(absent)}" if absent else "")
                + (f"; unexpected: {', '.join(shown(e, 40) for e in extra[:10])}" if extra else "")
            )
        for name, value in item.items():
            if isinstance(value, (dict, list)):
                raise PageShapeError(f"an item value is not a scalar: items[{i}].{name} is a JSON {type(value).__name__}")
    return payload


# ---------------------------------------------------------------------------------------------
# Paging order: the pages of a month partition it, in the kind's key order
# ---------------------------------------------------------------------------------------------


def _sortable(value) -> tuple:
    # the server sorts NULLs last (docs/portal_api.md); values of one key field share a JSON type
    if value is None:
        return (2, "")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, str(value))
    return (0, value)


def item_key(kind: ExtractKind, item: dict) -> tuple:
    """The item's sort key as comparable values (kind.key order)."""
    return tuple(_sortable(item.get(name)) for name in kind.key)


def key_text(kind: ExtractKind, item: dict) -> str:
    """The item's key for people: `dossier_id='D1'` or `(dossier_id, status_code, status_at)=(...)`."""
    values = [item.get(name) for name in kind.key]
    if len(values) == 1:
        return shown(values[0], 50)
    return "(" + ", ".join(shown(v, 40) for v in values) + ")"


def max_key(kind: ExtractKind, items: list[dict]) -> tuple | None:
    """The largest sort key of a page's items (None for an empty page)."""
    return max((item_key(kind, item) for item in items), default=None)


def page_key_order(kind: ExtractKind, items: list[dict], previous_max: tuple | None) -> list[int]:
    """Indexes of the items that sort before `previous_max`, the largest key of the pages before:
    the pages partition the month in key order, so such an item was served already (a repeated
    page, an offset that went back). Equal keys are allowed (a duplicated record is the row
    rules' business, not a paging fault), and so is disorder inside a page."""
    if previous_max is None:
        return []
    return [i for i, item in enumerate(items) if item_key(kind, item) < previous_max]
