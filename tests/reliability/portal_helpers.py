"""What the portal corpus shares: a small store served by the real demo portal on loopback, a
client with short deadlines (every case runs in seconds), and the checks each case makes: the
named rule, that the other months and kinds still flow, that a rerun gives the same result."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

from ingestion.core.quarantine import PORTAL_PAGES, REASON_SUFFIX, quarantine_dir
from ingestion.portal.client import PortalClient
from ingestion.portal.page_archive import MANIFEST_NAME, page_files
from tests.ingestion.conftest import write_store_file

TOKEN = "s3cr3t-Tok3n_9f8e7d6c"  # distinctive, so a search for it cannot match anything else
MONTH, OTHER_MONTH = "2025-07", "2025-06"
SIZES = {(MONTH, "dossiers"): 23, (MONTH, "procedures"): 7, (OTHER_MONTH, "dossiers"): 12}


def write_store(store: Path) -> Path:
    for (month, kind), rows in SIZES.items():
        write_store_file(store, month, kind, rows)
    return store


def client_for(portal, **overrides) -> PortalClient:
    """23 dossiers -> pages of 10, 10, 3; deadlines of a second; fast backoff."""
    options = dict(timeout=(1.0, 5.0), max_retries=2, backoff_factor=0.01, retry_after_cap_s=1.5,
                   page_size=10, page_retries=2, request_deadline_s=1.0, month_deadline_s=30.0)
    options.update(overrides)
    return PortalClient(portal.url, TOKEN, **options)


def items_of(result) -> list[dict]:
    items = []
    for path in result.page_paths:
        with gzip.open(path, "rb") as fh:
            items += json.loads(fh.read())["items"]
    return items


def archive_state(archive: Path, month: str, kind: str) -> dict:
    """What a fetch left: the page files (name -> sha256 of the items) and whether a manifest exists."""
    folder = archive / month / kind
    pages = {}
    for _, path in page_files(folder):
        with gzip.open(path, "rb") as fh:
            pages[path.name] = json.loads(fh.read())["items"]
    return {"pages": pages, "manifest": (folder / MANIFEST_NAME).exists()}


def reasons(month: str, kind: str) -> list[dict]:
    """The quarantine's reason files for portal pages of `month`/`kind`, oldest first."""
    folder = quarantine_dir(PORTAL_PAGES) / month / kind
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"*{REASON_SUFFIX}"))]


def assert_others_flow(client: PortalClient, archive: Path, clean: dict) -> None:
    """The month's other kind and another month complete, with the same items as a clean fetch."""
    for month, kind in ((MONTH, "procedures"), (OTHER_MONTH, "dossiers")):
        result = client.fetch_month(kind, month, archive)
        assert result.complete and result.total_items == SIZES[(month, kind)]
        assert items_of(result) == clean[(month, kind)]


def secret_forms(token: str = TOKEN) -> list[str]:
    """The token in every form it could travel in."""
    return [token, quote(token, safe=""), quote_plus(token),
            base64.b64encode(token.encode()).decode(), base64.b64encode(f"dxmon:{token}".encode()).decode()]


def leaks(text: str | bytes, token: str = TOKEN) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return [form for form in secret_forms(token) if form in text]


def files_leaking(root: Path, token: str = TOKEN) -> list[str]:
    """Every file under `root` (gzip members opened) that holds the token in any form."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                pass
        if leaks(data, token):
            found.append(str(path))
    return found
