"""HTTP: the request handler (auth, parameters, pages, injected faults, the request log) and the
threading HTTP server it runs in."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hmac
import json
import logging
import math
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from demo.portal_server.faults import KINDS_BY_ENDPOINT, Fault, FaultPlan
from demo.portal_server.request_log import LoggedRequest, RequestLog
from demo.portal_server.store import PortalStore, StoreError
from ingestion.core.extract_contract import ExtractKind
from ingestion.portal.redaction import Redactor

log = logging.getLogger(__package__)  # one logger for the server: "demo.portal_server"

PORTAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_PAGE_SIZE = 5000
MAX_PAGE_SIZE = 20000
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
API_KEY_HEADER = "X-API-Key"
QUERY_TOKEN_PARAM = "access_token"


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")


class PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store: PortalStore, token: str, faults: FaultPlan, request_log: RequestLog):
        self.store, self.token, self.faults, self.request_log = store, token, faults, request_log
        self.redactor = Redactor([token])
        super().__init__(address, _PortalHandler)

    def handle_error(self, request, client_address) -> None:
        # A client that timed out and hung up mid-answer is expected (slow faults): not an error.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            log.debug("client %s went away: %s", client_address, exc)
            return
        log.exception("error while answering %s", client_address)


class _PortalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PortalHTTPServer
    server_version = "dxmon-demo-portal/1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        # an access log never holds a credential (a token in the query string, an echo)
        log.debug("%s %s", self.address_string(), self.server.redactor.redact(format % args))

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self._record(status)  # before answering, so a client that has the answer sees it logged
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, status: int) -> None:
        ctx = getattr(self, "_ctx", None)
        if ctx is None or ctx.get("recorded"):
            return
        ctx["recorded"] = True
        self.server.request_log.append(LoggedRequest(
            ctx["path"], ctx["month"], ctx["page"], ctx["page_size"], status, ctx["fault"], time.time()))

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        self._ctx = None
        if path == "/health":
            self._send(200, b'{"status": "ok"}')
            return
        self._ctx = ctx = {"path": path, "month": None, "page": None, "page_size": None, "fault": None}
        try:
            query = parse_qs(parts.query)
            self._check_auth(query)
            kind = KINDS_BY_ENDPOINT.get(path)
            if kind is None:
                raise _ApiError(404, "not_found", f"no endpoint {path}; endpoints: {', '.join(KINDS_BY_ENDPOINT)}")
            month, page, page_size = self._params(query)
            ctx.update(month=month, page=page, page_size=page_size)
            fault = self.server.faults.take(path, month, page)
            if fault is not None:
                ctx["fault"] = fault.fault
                log.info("fault %s %s on %s month=%s page=%s", fault.fault, fault.variant or "", path, month, page)
                self._apply_fault(fault, kind, month, page, page_size)
                return
            self._send(200, self._payload_body(kind, month, page, page_size))
        except _ApiError as e:
            self._send(e.status, _error_body(e.code, e.message), e.headers)
        except StoreError as e:
            log.error("%s", e)
            self._send(500, _error_body("store_error", str(e)))

    def _presented(self, query: dict[str, list[str]]) -> list[str]:
        """The credentials the request presents, in each form the portal accepts: a bearer token,
        an API key header, HTTP basic auth (the password is the token) and an `access_token` query
        parameter."""
        found = []
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            found.append(header[len("Bearer "):])
        elif header.startswith("Basic "):
            try:
                found.append(base64.b64decode(header[len("Basic "):], validate=True).decode("utf-8").split(":", 1)[-1])
            except (binascii.Error, UnicodeDecodeError):
                found.append("")
        elif header:
            found.append(header)
        if self.headers.get(API_KEY_HEADER) is not None:
            found.append(self.headers[API_KEY_HEADER])
        found += query.get(QUERY_TOKEN_PARAM, [])
        return found

    def _check_auth(self, query: dict[str, list[str]]) -> None:
        presented = self._presented(query)
        if not presented:
            raise _ApiError(401, "unauthorized", "missing 'Authorization: Bearer <token>' header",
                            {"WWW-Authenticate": 'Bearer realm="portal"'})
        expected = self.server.token.encode("utf-8")
        if not any(hmac.compare_digest(p.encode("utf-8"), expected) for p in presented):
            raise _ApiError(401, "unauthorized", "the bearer token is not valid",
                            {"WWW-Authenticate": 'Bearer realm="portal", error="invalid_token"'})

    @staticmethod
    def _params(query: dict[str, list[str]]) -> tuple[str, int, int]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        month = one("month")
        if month is None:
            raise _ApiError(400, "bad_request", "query parameter 'month' (YYYY-MM) is required")
        if not MONTH_RE.match(month):
            raise _ApiError(400, "bad_request", f"month {month!r} is not YYYY-MM")

        def integer(name: str, default: int, lo: int, hi: int | None) -> int:
            raw = one(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise _ApiError(400, "bad_request", f"{name} {raw!r} is not an integer") from None
            if value < lo or (hi is not None and value > hi):
                bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
                raise _ApiError(400, "bad_request", f"{name} {value} must be {bound}")
            return value

        return month, integer("page", 1, 1, None), integer("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)

    def _payload_body(self, kind: ExtractKind, month: str, page: int, page_size: int) -> bytes:
        """The page as JSON bytes; the items' JSON comes ready-made from DuckDB."""
        total_items, items = self.server.store.page(kind, month, page, page_size)
        total_pages = math.ceil(total_items / page_size)
        if page > max(total_pages, 1):
            raise _ApiError(400, "page_out_of_range",
                            f"page {page} is beyond total_pages {total_pages} for {kind.name} {month}")
        head = json.dumps({
            "kind": kind.name,
            "month": month,
            "page": page,
            "page_size": page_size,
            "total_pages": total_pages,
            "total_items": total_items,
            "generated_at": dt.datetime.now(PORTAL_TZ).replace(microsecond=0).isoformat(),
        })
        return (head[:-1] + ', "items": [' + ", ".join(items) + "]}").encode("utf-8")

    def _payload(self, kind: ExtractKind, month: str, page: int, page_size: int) -> dict:
        return json.loads(self._payload_body(kind, month, page, page_size))

    def _retry_after_headers(self, fault: Fault) -> dict:
        if fault.retry_after_date_s is not None:
            return {"Retry-After": email.utils.formatdate(time.time() + fault.retry_after_date_s, usegmt=True)}
        return {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}

    def _send_raw(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
                  length: bool = True, headers: dict | None = None) -> None:
        """Send an answer as given (no Content-Length when `length` is False: the body ends when the
        connection closes)."""
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _apply_fault(self, fault: Fault, kind: ExtractKind, month: str, page: int, page_size: int) -> None:
        if fault.fault == "429":
            self._send(429, _error_body("rate_limited", "too many requests; retry later"),
                       self._retry_after_headers(fault))
            return
        if fault.fault == "500":
            self._send(500, _error_body("internal_error", "injected server error"))
            return
        if fault.fault == "503":
            self._send(503, _error_body("unavailable", "the portal is overloaded"), self._retry_after_headers(fault))
            return
        if fault.fault == "echo_token" and fault.status == 200:
            # a page whose data carries the token (a result link signed with the client's token)
            payload = self._payload(kind, month, page, page_size)
            text_fields = [f.name for f in kind.fields if f.sql_type == "VARCHAR" and f.name not in kind.key]
            for item in payload["items"][:1]:
                item[text_fields[-1]] = f"https://portal.invalid/files/1?access_token={self.server.token}"
            self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            return
        if fault.fault == "echo_token":
            echoed = [f"{name}: {value}" for name, value in self.headers.items()
                      if name.lower() in ("authorization", API_KEY_HEADER.lower())]
            presented = self._presented(parse_qs(urlsplit(self.path).query))
            message = (f"upstream gateway rejected the request {self.path} with "
                       + "; ".join(echoed or ["no credential header"])
                       + f"; credential seen: {presented[0] if presented else 'none'}")
            self._send(fault.status, _error_body("gateway_error", message))
            return
        if fault.fault == "redirect":
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            query[QUERY_TOKEN_PARAM] = [self.server.token]  # a redirect URL carrying the token
            location = f"{parts.path}?{urlencode(query, doseq=True)}"
            if fault.variant == "outside":
                location = f"http://portal-mirror.invalid{location}"
            self._send(302, _error_body("moved", f"see {location}"), {"Location": location})
            return
        if fault.fault == "not_json":
            self._send_raw(200, b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
                                b"</body></html>", content_type="text/html")
            return
        if fault.fault == "slow":
            self._record(200)  # on arrival: the client gives up long before the answer
            time.sleep(fault.delay_s)
            self._send(200, self._payload_body(kind, month, page, page_size))
            return
        if fault.fault == "trickle":
            body = self._payload_body(kind, month, page, page_size)
            self._record(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            for start in range(0, len(body), max(fault.chunk_bytes, 1)):
                self.wfile.write(body[start:start + max(fault.chunk_bytes, 1)])
                self.wfile.flush()
                time.sleep(fault.interval_s)
            return
        if fault.fault == "truncated":
            # A correct-looking 200 whose body stops half way (the connection is then closed).
            body = self._payload_body(kind, month, page, page_size)
            self._record(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if fault.variant == "short_length":
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault.fault == "repeated_page":
            payload = self._payload(kind, month, fault.source_page, page_size)
            payload["page"] = page  # another page's items, under the number requested
            self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            return
        if fault.fault == "oversized":
            body = self._payload_body(kind, month, page, page_size)
            body += b" " * max(fault.size_bytes - len(body), 0)  # still valid JSON
            self._send_raw(200, body, length=fault.variant == "length")
            return
        if fault.fault == "too_many_items":
            payload = self._payload(kind, month, page, page_size)
            items = payload["items"] or [dict.fromkeys(kind.field_names)]
            payload["items"] = [items[i % len(items)] for i in range(fault.item_count)]
            self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            return
        # malformed: valid JSON, wrong shape
        payload = self._payload(kind, month, page, page_size)
        if fault.variant == "missing_items":
            del payload["items"]
        elif fault.variant == "kind_mismatch":
            payload["kind"] = "procedures" if kind.name != "procedures" else "dossiers"
        elif fault.variant == "extra_field":
            items = payload["items"] or [dict.fromkeys(kind.field_names)]
            items[0]["unexpected_field"] = 1
            payload["items"] = items
        elif fault.variant == "wrong_page":
            payload["page"] = page + 1
        elif fault.variant == "not_object":
            payload = payload["items"]
        self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
