"""The portal client against the real demo portal over loopback HTTP (no mocked requests)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import duckdb
import pytest

from ingestion.core.extract_contract import DOSSIERS
from ingestion.core.quarantine import PORTAL_PAGES, quarantine_dir
from ingestion.portal.client import PortalAuthError, PortalClient, PortalHTTPError, PortalPageError
from ingestion.portal.page_archive import ArchiveIncompleteError, archived_pages
from ingestion.portal.page_contract import PageShapeError, PortalConfigError, check_page
from tests.ingestion.conftest import TOKEN

MONTH = "2025-07"


@pytest.fixture
def client(portal):
    # Small page size (23 dossiers -> 3 pages), fast retries and short timeouts keep tests quick.
    with PortalClient(portal.url, TOKEN, timeout=(1.0, 0.4), max_retries=3, backoff_factor=0.01,
                      retry_after_cap_s=5.0, page_size=10, page_retries=2) as c:
        yield c


@pytest.fixture
def archive(tmp_path: Path, data_root) -> Path:
    return tmp_path / "archive"


def quarantined(month: str, kind: str) -> Path:
    """Where pages that failed their checks go (ingestion/core/quarantine.py)."""
    return quarantine_dir(PORTAL_PAGES) / month / kind


def read_page(path: Path) -> dict:
    with gzip.open(path, "rb") as fh:
        return json.loads(fh.read())


def test_full_month_is_fetched_archived_and_manifested(client, portal, archive):
    result = client.fetch_month("dossiers", MONTH, archive)

    assert result.complete and not result.skipped
    assert (result.total_pages, result.total_items) == (3, 23)
    assert [p.item_count for p in result.pages] == [10, 10, 3]
    assert result.fetched_pages == [1, 2, 3]
    folder = archive / MONTH / "dossiers"
    assert result.page_paths == [folder / f"page-0000{n}.json.gz" for n in (1, 2, 3)]
    assert archived_pages(archive, MONTH, "dossiers") == result.page_paths

    ids = []
    for n, path in enumerate(result.page_paths, start=1):
        page = read_page(path)
        assert (page["kind"], page["month"], page["page"], page["total_pages"]) == ("dossiers", MONTH, n, 3)
        assert all(set(item) == set(DOSSIERS.field_names) for item in page["items"])
        ids += [item["dossier_id"] for item in page["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 23  # stable paging by key, no gaps or repeats

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] and manifest["total_items"] == 23 and manifest["base_url"] == portal.url
    assert [p["sha256"] for p in manifest["pages"]] == [p.sha256 for p in result.pages]
    assert "page=2" in manifest["pages"][1]["url"]
    assert not list(folder.glob(".*"))  # no temp files left behind

    # The loader reads the archived pages with DuckDB: each file is one JSON object with items.
    files = [str(p) for p in result.page_paths]
    n = duckdb.sql(f"SELECT sum(len(items)) FROM read_json({files!r})").fetchone()[0]
    assert n == 23


def test_complete_month_is_not_fetched_again(client, portal, archive):
    first = client.fetch_month("dossiers", MONTH, archive)
    portal.request_log.clear()

    again = client.fetch_month("dossiers", MONTH, archive)
    assert again.skipped and again.complete and again.fetched_pages == []
    assert [p.sha256 for p in again.pages] == [p.sha256 for p in first.pages]
    assert portal.requests_made() == []

    refreshed = client.fetch_month("dossiers", MONTH, archive, refresh=True)
    assert refreshed.fetched_pages == [1, 2, 3]
    assert portal.pages_requested("dossiers") == [1, 2, 3]
    # the earlier pages stay as history, by content (docs/portal_api.md)
    history = archive / MONTH / "dossiers" / "superseded"
    assert sorted(p.name for p in history.glob("*.json.gz")) == sorted(f"{p.sha256}.json.gz" for p in first.pages)
    assert len(list(history.glob("manifest-*.json"))) == 1


def test_empty_month(client, portal, archive):
    result = client.fetch_month("dossiers", "2025-08", archive)
    assert result.complete and (result.total_pages, result.total_items) == (0, 0)
    assert len(result.pages) == 1 and result.pages[0].item_count == 0
    assert read_page(result.page_paths[0])["items"] == []
    # A month absent from the store is empty too.
    assert client.fetch_month("dossiers", "2024-01", archive).total_items == 0


def test_429_retry_after_is_honoured(client, portal, archive):
    portal.add_fault("dossiers", "429", page=2, retry_after=1)
    started = time.monotonic()
    result = client.fetch_month("dossiers", MONTH, archive)
    elapsed = time.monotonic() - started
    assert result.complete
    assert portal.pages_requested("dossiers") == [1, 2, 2, 3]
    assert 0.9 <= elapsed < 2.0


def test_huge_retry_after_is_capped(portal, archive):
    portal.add_fault("dossiers", "429", page=1, retry_after=3600)
    with PortalClient(portal.url, TOKEN, timeout=(1.0, 1.0), max_retries=2, backoff_factor=0.01,
                      retry_after_cap_s=0.2, page_size=10) as client:
        started = time.monotonic()
        result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete
    assert 0.15 <= time.monotonic() - started < 1.5


def test_500_then_success(client, portal, archive):
    portal.add_fault("dossiers", "500", page=3, times=2)
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and result.total_items == 23
    assert [r.status for r in portal.requests_made("dossiers")] == [200, 200, 500, 500, 200]


def test_persistent_500_gives_a_clear_error(client, portal, archive):
    portal.add_fault("dossiers", "500", page=2, times=10)
    with pytest.raises(PortalHTTPError, match=r"HTTP 500 internal_error.*page=2|page=2.*HTTP 500") as info:
        client.fetch_month("dossiers", MONTH, archive)
    assert info.value.status == 500
    assert archived_pages(archive, MONTH, "dossiers", complete_only=False) == [
        archive / MONTH / "dossiers" / "page-00001.json.gz"
    ]


def test_slow_page_times_out_then_succeeds(client, portal, archive):
    portal.add_fault("dossiers", "slow", page=2, delay_s=1.0)
    started = time.monotonic()
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and result.total_items == 23
    assert portal.pages_requested("dossiers") == [1, 2, 2, 3]
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("variant", ["no_length", "short_length"])
def test_truncated_body_is_fetched_again(client, portal, archive, variant):
    portal.add_fault("dossiers", "truncated", page=2, variant=variant)
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and [p.item_count for p in result.pages] == [10, 10, 3]
    assert portal.pages_requested("dossiers") == [1, 2, 2, 3]
    assert read_page(result.page_paths[1])["page"] == 2
    if variant == "no_length":  # the half body arrived, was archived, then rejected with a reason
        reasons = list(quarantined(MONTH, "dossiers").glob("*-page-00002.json.gz.reason.json"))
        assert len(reasons) == 1 and "not valid JSON" in json.loads(reasons[0].read_text())["reason"]


def test_malformed_page_retried_then_raises_and_good_pages_are_kept(client, portal, archive):
    portal.add_fault("dossiers", "malformed", page=2, variant="kind_mismatch", times=10)
    with pytest.raises(PortalPageError) as info:
        client.fetch_month("dossiers", MONTH, archive)
    err = info.value
    assert err.page == 2 and "page=2" in err.url and err.url.startswith(portal.url + "/api/v1/dossiers")
    assert "page 2" in str(err) and err.url in str(err) and "kind is 'procedures'" in str(err)
    assert "3 attempts" in str(err)
    assert portal.pages_requested("dossiers") == [1, 2, 2, 2]  # page_retries=2

    folder = archive / MONTH / "dossiers"
    assert sorted(p.name for p in folder.glob("page-*.json.gz")) == ["page-00001.json.gz"]
    assert [p.path for p in err.archived] == [folder / "page-00001.json.gz"]
    assert len(list(quarantined(MONTH, "dossiers").glob("*-page-00002.json.gz"))) == 3
    assert len(list(quarantined(MONTH, "dossiers").glob("*-page-00002.json.gz.reason.json"))) == 3
    assert not (folder / "manifest.json").exists()
    with pytest.raises(ArchiveIncompleteError, match="did not finish"):
        archived_pages(archive, MONTH, "dossiers")


def test_malformed_once_then_fine(client, portal, archive):
    portal.add_fault("dossiers", "malformed", page=1, variant="missing_items")
    portal.add_fault("dossiers", "malformed", page=1, variant="extra_field")
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and portal.pages_requested("dossiers") == [1, 1, 1, 2, 3]


def test_resume_after_failure_starts_at_the_failed_page(client, portal, archive):
    portal.add_fault("dossiers", "malformed", page=3, times=3)
    with pytest.raises(PortalPageError):
        client.fetch_month("dossiers", MONTH, archive)
    portal.faults.clear()
    portal.request_log.clear()

    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and result.total_items == 23
    assert result.fetched_pages == [3]
    assert portal.pages_requested("dossiers") == [3]  # pages 1 and 2 came from the archive
    assert [p.page for p in result.pages] == [1, 2, 3]


def test_resume_refetches_a_corrupt_archived_page(client, portal, archive):
    client.fetch_month("dossiers", MONTH, archive)
    folder = archive / MONTH / "dossiers"
    (folder / "manifest.json").unlink()  # as if interrupted before the manifest
    (folder / "page-00002.json.gz").write_bytes(b"not gzip")
    portal.request_log.clear()

    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and result.fetched_pages == [2, 3]
    assert portal.pages_requested("dossiers") == [2, 3]
    assert list(quarantined(MONTH, "dossiers").glob("*-page-00002.json.gz.reason.json"))


def test_manifest_not_matching_the_files_is_not_trusted(client, portal, archive):
    client.fetch_month("dossiers", MONTH, archive)
    (archive / MONTH / "dossiers" / "page-00003.json.gz").unlink()
    portal.request_log.clear()
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and portal.pages_requested("dossiers") == [3]


def test_wrong_token_gives_a_clear_error(portal, archive):
    with PortalClient(portal.url, "wrong", timeout=(1, 1), max_retries=1, backoff_factor=0.01) as client:
        with pytest.raises(PortalAuthError, match="refused the token.*401.*DXMON_PORTAL_TOKEN") as info:
            client.fetch_month("dossiers", MONTH, archive)
    assert info.value.status == 401
    assert len(portal.requests_made()) == 1  # 401 is not retried


def test_from_env_names_the_missing_variable(monkeypatch, portal):
    monkeypatch.delenv("DXMON_PORTAL_TOKEN", raising=False)
    monkeypatch.setenv("DXMON_PORTAL_URL", portal.url)
    with pytest.raises(PortalConfigError, match="DXMON_PORTAL_TOKEN is not set"):
        PortalClient.from_env()
    monkeypatch.delenv("DXMON_PORTAL_URL")
    with pytest.raises(PortalConfigError, match="DXMON_PORTAL_URL is not set"):
        PortalClient.from_env()
    monkeypatch.setenv("DXMON_PORTAL_URL", portal.url)
    monkeypatch.setenv("DXMON_PORTAL_TOKEN", TOKEN)
    client = PortalClient.from_env(page_size=10)
    assert client.base_url == portal.url and TOKEN not in repr(client)


def test_unreachable_portal(archive):
    from ingestion.portal.client import PortalUnavailableError

    with PortalClient("http://127.0.0.1:9", TOKEN, timeout=(0.2, 0.2), max_retries=1, backoff_factor=0.01) as c:
        with pytest.raises(PortalUnavailableError, match="127.0.0.1:9"):
            c.fetch_month("dossiers", MONTH, archive)


def test_check_page_names_what_is_wrong():
    good = {"kind": "dossiers", "month": MONTH, "page": 1, "page_size": 10, "total_pages": 1,
            "total_items": 1, "generated_at": "x", "items": [dict.fromkeys(DOSSIERS.field_names)]}
    assert check_page(json.dumps(good).encode(), DOSSIERS, MONTH, 1, 10)["total_items"] == 1
    cases = {
        r"missing key\(s\) items": {k: v for k, v in good.items() if k != "items"},
        "month is '2025-06'": {**good, "month": "2025-06"},
        "total_pages 2 does not match": {**good, "total_pages": 2},
        "missing: dossier_id": {**good, "items": [dict.fromkeys(DOSSIERS.field_names[1:])]},
        "expected 1 \\(page 1 of 1": {**good, "items": []},
    }
    for message, page in cases.items():
        with pytest.raises(PageShapeError, match=message):
            check_page(json.dumps(page).encode(), DOSSIERS, MONTH, 1, 10)
    with pytest.raises(PageShapeError, match="not valid JSON"):
        check_page(json.dumps(good).encode()[:50], DOSSIERS, MONTH, 1, 10)
