"""Credentials never leave the portal client: one redaction function for every text it lets out.

`Redactor.redact(text)` replaces, in any text, the client's own credentials (the token, in every
form it travels in: as given, URL-encoded, inside HTTP basic auth's base64, the password of a URL's
user info) and anything that looks like a credential whatever sent it (a `Bearer ...` or `Basic ...`
value, an `Authorization:` or `X-API-Key:` header, a `token=`/`access_token=`/`api_key=`/...
query or form parameter, a `"token": "..."` JSON member, the password in `scheme://user:pass@host`)
with `[REDACTED]`. It also replaces control characters (a newline in a server's message cannot
forge a log line).

It is applied at the boundary where text leaves the client: every exception message and URL the
client raises or returns, every log line of the client's loggers and of urllib3's (a logging
filter, `install_log_filter`), and every text it stores (manifests, quarantine reason files). A page
body that carries one of the client's credentials is never stored (the client checks
`Redactor.contains_secret` before archiving).

Plain Python, no I/O.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "[REDACTED]"
MIN_SECRET_CHARS = 4  # shorter "secrets" would mangle ordinary text; a real token is far longer

# Names of query/form parameters and JSON members that carry credentials.
_PARAM_NAMES = (r"access_token|refresh_token|id_token|token|api[_-]?key|apikey|key|client_secret|secret|"
                r"password|passwd|pwd|auth|authorization|signature|sig|session|sessionid|jwt")
_PATTERNS = (
    # Authorization-like headers, in a log line, an echo or a dumped request: the whole value
    re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|cookie|set-cookie)"
               r"(\"?'?\s*[:=]\s*\"?'?)([^\r\n\"']+)"),
    # schemes that carry a credential, wherever they appear
    re.compile(r"\b([Bb]earer|BEARER|[Bb]asic|BASIC|[Dd]igest)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)"),
    # query string / form parameters
    re.compile(rf"(?i)([?&;#\s\"',(]|^)({_PARAM_NAMES})(=)([^&\s\"'#;,)<>]*)"),
    # JSON members
    re.compile(rf"(?i)(\"(?:{_PARAM_NAMES})\")(\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|[^,}}\s]+)"),
    # user info of a URL: scheme://user:password@host
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*)(:)([^/\s@]+)(?=@)"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _mask_match(m: re.Match) -> str:
    groups = m.groups()
    if groups[-1] == MASK:
        return m.group(0)
    return "".join(groups[:-1]) + MASK


class Redactor:
    """Redacts a fixed set of secrets (and credential-looking text) from any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_CHARS:
                continue
            forms |= {secret, quote(secret, safe=""), quote_plus(secret), unquote(secret)}
            if ":" in secret:  # user:password of basic auth: the password alone, and the header value
                forms.add(secret.split(":", 1)[1])
            forms.add(base64.b64encode(secret.encode("utf-8")).decode("ascii"))
        self.forms = sorted((f for f in forms if len(f) >= MIN_SECRET_CHARS), key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(f) for f in self.forms)) if self.forms else None

    def redact(self, text) -> str:
        """`text` (any object, as str) with every credential replaced by [REDACTED] and control
        characters by spaces."""
        if text is None:
            return ""
        text = str(text)
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_match, text)
        return _CONTROL.sub(" ", text)

    def contains_secret(self, data: bytes | str) -> bool:
        """Whether `data` holds one of this redactor's own secrets (in any of its forms)."""
        if self._literal is None:
            return False
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        return self._literal.search(data) is not None

    def __call__(self, text) -> str:
        return self.redact(text)


def url_secrets(url: str) -> list[str]:
    """Credentials a URL itself carries: the password of its user info."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    return [unquote(parts.password)] if parts.password else []


# ---------------------------------------------------------------------------------------------
# Logs: a filter on the client's loggers and urllib3's, redacting every record they emit
# ---------------------------------------------------------------------------------------------

LOGGER_NAMES = (
    "ingestion.portal", "ingestion.portal.client", "ingestion.portal.page_archive",
    "ingestion.portal.loading", "ingestion.core.quarantine",
    "urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "urllib3.util.retry",
    "requests",
)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through the redactors of the live clients (and the generic
    patterns). A logger's filters see only the records logged on that logger, so it is installed on
    each logger by name (`LOGGER_NAMES`)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[int, tuple[str, ...]] = {}
        self._redactor = Redactor()

    def register(self, owner: object, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets[id(owner)] = tuple(secrets)
            self._rebuild()

    def unregister(self, owner: object) -> None:
        with self._lock:
            if self._secrets.pop(id(owner), None) is not None:
                self._rebuild()

    def _rebuild(self) -> None:
        self._redactor = Redactor(s for group in self._secrets.values() for s in group)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted: keep the template only
            message = str(record.msg)
        record.msg, record.args = self._redactor.redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            # the traceback text is rendered by handlers later: render it now, redacted
            record.exc_text = self._redactor.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


LOG_FILTER = RedactingFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_filter() -> RedactingFilter:
    """Put `LOG_FILTER` on every logger of `LOGGER_NAMES` (once per process)."""
    global _installed
    with _install_lock:
        if not _installed:
            for name in LOGGER_NAMES:
                logging.getLogger(name).addFilter(LOG_FILTER)
            _installed = True
    return LOG_FILTER


__all__ = ["LOG_FILTER", "MASK", "Redactor", "RedactingFilter", "install_log_filter", "url_secrets"]
