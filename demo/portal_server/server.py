"""`DemoPortalServer`: the demo portal's lifecycle (bind, start in a thread, serve, stop) and what tests
look at (URL, faults to add, requests made)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from demo.portal_server.faults import Fault, FaultPlan
from demo.portal_server.handler import PortalHTTPServer
from demo.portal_server.request_log import LoggedRequest, RequestLog
from demo.portal_server.store import SORT_IN_QUERY_MAX_ROWS, PortalStore
from ingestion.core.extract_contract import EXTRACT_KINDS

log = logging.getLogger(__package__)  # one logger for the server: "demo.portal_server"


class DemoPortalServer:
    """The demo portal, in a background thread (`start`/`stop`, or `with`) or blocking
    (`serve_forever`).

    >>> with DemoPortalServer(store, token="t") as portal:
    ...     portal.url  # http://127.0.0.1:<port>
    """

    def __init__(self, store_dir: str | Path, token: str, host: str = "127.0.0.1", port: int = 0,
                 faults: Iterable[Fault | dict] = (), cache_dir: str | Path | None = None,
                 sort_in_query_max_rows: int = SORT_IN_QUERY_MAX_ROWS) -> None:
        if not token:
            raise ValueError("the demo portal needs a bearer token (--token or DXMON_PORTAL_TOKEN)")
        self.store_dir = Path(store_dir)
        self.token = token
        self.host, self._requested_port = host, port
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults)
        self.request_log = RequestLog()
        self._cache_dir = cache_dir
        self._sort_in_query_max_rows = sort_in_query_max_rows
        self._httpd: PortalHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._store: PortalStore | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def bind(self) -> DemoPortalServer:
        if self._httpd is None:
            self._store = PortalStore(self.store_dir, self._cache_dir, self._sort_in_query_max_rows)
            self._httpd = PortalHTTPServer((self.host, self._requested_port), self._store, self.token,
                                            self.faults, self.request_log)
            log.info("demo portal serving %s at %s", self.store_dir, self.url)
        return self

    def start(self) -> DemoPortalServer:
        """Serve in a daemon thread; returns once the socket accepts connections."""
        self.bind()
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"demo-portal-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `shutdown()` is called from another thread."""
        self.bind()
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def shutdown(self) -> None:
        """Stop `serve_forever` (safe from a signal handler: does not wait in the serving thread)."""
        if self._httpd is not None:
            threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> DemoPortalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests look at -------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the demo portal is not bound yet; call start() or bind()")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_fault(self, path: str, fault: str, **options) -> Fault:
        f = Fault(path=path, fault=fault, **options)
        self.faults.add(f)
        return f

    def requests_made(self, path: str | None = None, month: str | None = None) -> list[LoggedRequest]:
        """The request log, optionally for one endpoint (path or kind name) and month."""
        if path in EXTRACT_KINDS:
            path = EXTRACT_KINDS[path].api_endpoint
        return [
            r for r in self.request_log.entries()
            if (path is None or r.path == path) and (month is None or r.month == month)
        ]

    def pages_requested(self, path: str, month: str | None = None) -> list[int]:
        return [r.page for r in self.requests_made(path, month) if r.page is not None]


def serve(store_dir: str | Path, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
          faults: Iterable[Fault | dict] = (), on_ready=None) -> None:
    """Serve the store until interrupted (blocking). `on_ready(server)` is called once bound."""
    token = token or os.environ.get("DXMON_PORTAL_TOKEN")
    server = DemoPortalServer(store_dir, token, host, port, faults).bind()
    if on_ready is not None:
        on_ready(server)
    server.serve_forever()
