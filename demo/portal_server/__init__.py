"""A local portal that serves the portal API contract (docs/portal_api.md) for the demo and tests.

The real national portal's interface is not public, so this server is the reference
implementation of the contract our client (`ingestion/portal/client.py`) is written against.
It serves monthly extracts from a store folder, `<store>/<YYYY-MM>/<kind>.parquet` (written by
the demo data generator), one page at a time: DuckDB reads only the rows of the requested page,
so a large month is never loaded whole.

For tests it can inject faults (the catalogue: `faults.py`: 429 and 503 with every form of
Retry-After, stalls, trickled, truncated, oversized, repeated or malformed pages, token echoes, redirects) on a
given endpoint/page, a given number of times, and it keeps a log of every request it answered.

Run it:  python -m demo.portal_server --store DIR --port N --token T [--pid-file F]

The package: `faults` (Fault, FaultPlan), `request_log`, `store` (PortalStore: pages from
DuckDB), `handler` (the HTTP request handler and server), `server` (DemoPortalServer, serve),
`cli` (main).
"""

from demo.portal_server.cli import main
from demo.portal_server.faults import FAULT_TYPES, MALFORMED_VARIANTS, TRUNCATED_VARIANTS, Fault, FaultPlan
from demo.portal_server.handler import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from demo.portal_server.request_log import LoggedRequest, RequestLog
from demo.portal_server.server import DemoPortalServer, serve
from demo.portal_server.store import SORT_IN_QUERY_MAX_ROWS, PortalStore, StoreError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FAULT_TYPES",
    "MALFORMED_VARIANTS",
    "MAX_PAGE_SIZE",
    "SORT_IN_QUERY_MAX_ROWS",
    "TRUNCATED_VARIANTS",
    "DemoPortalServer",
    "Fault",
    "FaultPlan",
    "LoggedRequest",
    "PortalStore",
    "RequestLog",
    "StoreError",
    "main",
    "serve",
]
