"""The portal corpus: bad servers, through the real client against the real demo portal over
loopback (issue 10, part 7). Each case asserts the named rule, that the month's other kind and
another month still flow (same items as a clean fetch), and that a rerun gives the same result:
a no-op once healed, the same failure and the same archive while the fault lasts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from demo.portal_server import DemoPortalServer
from ingestion.portal.client import (
    PortalAuthError,
    PortalDeadlineError,
    PortalHTTPError,
    PortalPageError,
    PortalUnavailableError,
    parse_retry_after,
)
from ingestion.portal.page_archive import ArchiveIncompleteError, archived_pages
from tests.reliability.portal_helpers import (
    MONTH,
    OTHER_MONTH,
    SIZES,
    TOKEN,
    archive_state,
    assert_others_flow,
    client_for,
    files_leaking,
    items_of,
    leaks,
    reasons,
    write_store,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("portal_store"))


@pytest.fixture(scope="module")
def clean(store, tmp_path_factory) -> dict:
    """The items of every (month, kind) of the store, fetched without any fault."""
    archive = tmp_path_factory.mktemp("clean_archive")
    with DemoPortalServer(store, token=TOKEN) as server, client_for(server) as client:
        return {key: items_of(client.fetch_month(key[1], key[0], archive)) for key in SIZES}


@pytest.fixture
def portal(store, data_root):
    with DemoPortalServer(store, token=TOKEN) as server:
        yield server


@pytest.fixture
def archive(data_root) -> Path:
    return data_root / "archive" / "portal"


def heals(client, portal, archive, clean) -> None:
    """The fault fired and went: the month is complete with the clean items, a rerun is a no-op
    (no request, same pages), and the rest flows."""
    result = client.fetch_month("dossiers", MONTH, archive)
    assert result.complete and items_of(result) == clean[(MONTH, "dossiers")]
    before = archive_state(archive, MONTH, "dossiers")
    portal.request_log.clear()
    again = client.fetch_month("dossiers", MONTH, archive)
    assert again.skipped and portal.requests_made() == []
    assert archive_state(archive, MONTH, "dossiers") == before
    assert_others_flow(client, archive, clean)


def fails_the_same_way(client, archive, error_type, rule: str, clean) -> PortalPageError:
    """The fault lasts: the month fails with `rule`, twice, leaving the same archive and no
    manifest (never complete with pages missing); the rest flows."""
    with pytest.raises(error_type) as first:
        client.fetch_month("dossiers", MONTH, archive)
    assert first.value.rule == rule
    state = archive_state(archive, MONTH, "dossiers")
    assert not state["manifest"]
    with pytest.raises(error_type) as second:
        client.fetch_month("dossiers", MONTH, archive)
    assert second.value.rule == rule
    assert archive_state(archive, MONTH, "dossiers") == state
    with pytest.raises(ArchiveIncompleteError, match="not complete"):
        archived_pages(archive, MONTH, "dossiers")
    assert_others_flow(client, archive, clean)
    return first.value


# --- time: trickle, stall, month deadline ----------------------------------------------------


def test_trickled_body_is_cut_at_the_request_deadline(portal, archive, clean):
    # one byte every 0.2 s: each socket read is quick, the page would take ~20 min
    portal.add_fault("dossiers", "trickle", page=2, month=MONTH, interval_s=0.2, times=1)
    with client_for(portal, timeout=(1.0, 5.0), request_deadline_s=1.0) as client:
        started = time.monotonic()
        client.fetch_month("dossiers", MONTH, archive)
        assert time.monotonic() - started < 3.0  # one cut attempt of 1 s, then the page
        assert portal.pages_requested("dossiers", MONTH) == [1, 2, 2, 3]
        heals(client, portal, archive, clean)


def test_persistent_trickle_fails_with_the_request_deadline_within_bounded_time(portal, archive, clean):
    portal.add_fault("dossiers", "trickle", page=2, month=MONTH, interval_s=0.2, times=100)
    with client_for(portal, request_deadline_s=0.6, max_retries=1) as client:
        started = time.monotonic()
        error = fails_the_same_way(client, archive, PortalUnavailableError, "request_deadline", clean)
        assert time.monotonic() - started < 10  # 2 runs x 2 attempts x 0.6 s, plus the rest
    assert str(error).startswith("no usable answer from the portal after 1 retries (last: request deadline of 0.6 s")
    assert "page=2" in str(error)


def test_stall_before_headers_is_cut_at_the_deadline_not_the_read_timeout(portal, archive, clean):
    # the read timeout (5 s) would wait for the stalled headers; the deadline (0.8 s) does not
    portal.add_fault("dossiers", "slow", page=1, month=MONTH, delay_s=3.0, times=1)
    with client_for(portal, timeout=(1.0, 5.0), request_deadline_s=0.8) as client:
        started = time.monotonic()
        client.fetch_month("dossiers", MONTH, archive)
        assert time.monotonic() - started < 2.5
        heals(client, portal, archive, clean)


def test_month_deadline_fails_the_month_and_the_next_run_resumes(portal, archive, clean):
    portal.add_fault("dossiers", "429", page=3, month=MONTH, retry_after=1, times=100)
    with client_for(portal, month_deadline_s=1.5, max_retries=10, retry_after_cap_s=5.0) as client:
        started = time.monotonic()
        with pytest.raises(PortalDeadlineError) as info:
            client.fetch_month("dossiers", MONTH, archive)
        assert time.monotonic() - started < 2.5
        assert info.value.rule == "month_deadline"
        assert str(info.value).startswith("month deadline exceeded: dossiers 2025-07 not complete")
        assert "resumes at page 3" in str(info.value)
        assert not archive_state(archive, MONTH, "dossiers")["manifest"]
        portal.faults.clear()
        portal.request_log.clear()
        result = client.fetch_month("dossiers", MONTH, archive)
        assert result.fetched_pages == [3] and portal.pages_requested("dossiers", MONTH) == [3]
        heals(client, portal, archive, clean)


# --- 429 with each form of Retry-After, 503 bursts ------------------------------------------


@pytest.mark.parametrize("retry_after, date_s, low, high", [
    ("1", None, 0.9, 1.6),  # delta-seconds
    (None, 2.0, 0.9, 2.6),  # an HTTP date 2 s ahead (1 s resolution)
    ("soon", None, 0.0, 0.6),  # unusable: the client's backoff (0.01 s)
    ("-5", None, 0.0, 0.6),  # negative: unusable
    ("99999999999999999999", None, 0.0, 0.6),  # huge: unusable
    ("3600", None, 1.4, 2.1),  # an hour: capped at retry_after_cap_s (1.5 s)
])
def test_429_with_each_form_of_retry_after(portal, archive, clean, retry_after, date_s, low, high):
    portal.add_fault("dossiers", "429", page=2, month=MONTH, retry_after=retry_after, retry_after_date_s=date_s)
    with client_for(portal) as client:
        started = time.monotonic()
        client.fetch_month("dossiers", MONTH, archive)  # never fails on the first 429
        assert low <= time.monotonic() - started < high
        assert [r.status for r in portal.requests_made("dossiers", MONTH)] == [200, 429, 200, 200]
        heals(client, portal, archive, clean)


def test_retry_after_forms_parse():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    for unusable in ("soon", "-5", "1.5", "", "  ", "99999999999", "Mon, 99 Foo 2015"):
        assert parse_retry_after(unusable) is None


def test_503_burst_is_retried(portal, archive, clean):
    portal.add_fault("dossiers", "503", page=1, month=MONTH, retry_after=None, times=2)
    with client_for(portal) as client:
        client.fetch_month("dossiers", MONTH, archive)
        assert [r.status for r in portal.requests_made("dossiers", MONTH)] == [503, 503, 200, 200, 200]
        heals(client, portal, archive, clean)


def test_persistent_503_fails_with_a_reason_that_starts_with_the_cause(portal, archive, clean):
    portal.add_fault("dossiers", "503", page=2, month=MONTH, retry_after="0", times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalHTTPError, "http_retries_exhausted", clean)
    assert str(error).startswith("portal still failing after 2 retries (HTTP 503 unavailable): GET http://")
    assert error.status == 503


# --- pages that do not partition the month ---------------------------------------------------


def test_repeated_page_is_refetched(portal, archive, clean):
    portal.add_fault("dossiers", "repeated_page", page=2, month=MONTH, source_page=1, times=1)
    with client_for(portal) as client:
        heals(client, portal, archive, clean)
    (rejected,) = reasons(MONTH, "dossiers")
    assert rejected["rule"] == "repeated_items"
    assert rejected["reason"].startswith("page repeats items of another page of the month: dossiers 2025-07 page 2 "
                                         "repeats 10 item(s) of page(s) 1")


def test_persistent_repeated_page_fails_the_month_naming_kind_page_and_ids(portal, archive, clean):
    portal.add_fault("dossiers", "repeated_page", page=2, month=MONTH, source_page=1, times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalPageError, "repeated_items", clean)
    message = str(error)
    assert message.startswith("page repeats items of another page of the month: dossiers 2025-07 page 2 repeats "
                              "10 item(s) of page(s) 1 (dossier_id: 'dossier_id-")
    assert "still wrong after 3 attempts" in message and error.page == 2
    assert [r["rule"] for r in reasons(MONTH, "dossiers")] == ["repeated_items"] * 6  # 3 attempts x 2 runs


def test_wrong_page_number_is_refetched_then_fails(portal, archive, clean):
    portal.add_fault("dossiers", "malformed", page=2, month=MONTH, variant="wrong_page", times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalPageError, "page_number_mismatch", clean)
    assert str(error).startswith("page number in the body does not match the request: page is 3, requested 2")


def test_a_manifest_claiming_complete_with_pages_missing_is_not_trusted(portal, archive, clean):
    import json

    with client_for(portal) as client:
        client.fetch_month("dossiers", MONTH, archive)
        manifest_path = archive / MONTH / "dossiers" / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["pages"] = manifest["pages"][:2]  # what the old client wrote after a repeated page
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(ArchiveIncompleteError, match=r"lists 2 pages of 3"):
            archived_pages(archive, MONTH, "dossiers")  # the loader fails closed
        portal.request_log.clear()
        result = client.fetch_month("dossiers", MONTH, archive)  # the client re-verifies, fetches nothing
        assert result.complete and portal.requests_made() == []
        assert items_of(result) == clean[(MONTH, "dossiers")]
        # a manifest written before the paging checks is re-verified the same way
        manifest = json.loads(manifest_path.read_text())
        del manifest["format"]
        manifest_path.write_text(json.dumps(manifest))
        assert client.fetch_month("dossiers", MONTH, archive).complete and portal.requests_made() == []
        heals(client, portal, archive, clean)


# --- bounded pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["length", "no_length"])
def test_oversized_page_is_refused_at_the_byte_limit(portal, archive, clean, monkeypatch, variant):
    monkeypatch.setenv("DXMON_LIMIT_MAX_PAGE_BYTES", "200000")
    portal.add_fault("dossiers", "oversized", page=2, month=MONTH, variant=variant, size_bytes=50_000_000, times=100)
    with client_for(portal) as client:
        started = time.monotonic()
        error = fails_the_same_way(client, archive, PortalPageError, "page_too_large", clean)
        assert time.monotonic() - started < 10
    assert str(error).startswith("page body too large: ")
    assert "still wrong after 1 attempt." in str(error)  # a limit is not refetched
    assert portal.pages_requested("dossiers", MONTH) == [1, 2, 2]  # the rerun resumes at page 2
    rejected = reasons(MONTH, "dossiers")
    assert [r["rule"] for r in rejected] == ["page_too_large"] * 2
    assert all(r["details"]["copied"] is False for r in rejected)  # nothing of it is kept


def test_too_many_items_is_a_named_limit(portal, archive, clean, monkeypatch):
    monkeypatch.setenv("DXMON_LIMIT_MAX_PAGE_ITEMS", "15")
    portal.add_fault("dossiers", "too_many_items", page=1, month=MONTH, item_count=40, times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalPageError, "too_many_items", clean)
    assert str(error).startswith("too many items in one page: 40, the limit is 15 (DXMON_LIMIT_MAX_PAGE_ITEMS)")


# --- bodies that are not a page ----------------------------------------------------------------


def test_truncated_json_is_quarantined_and_refetched(portal, archive, clean):
    portal.add_fault("dossiers", "truncated", page=2, month=MONTH, variant="no_length")
    with client_for(portal) as client:
        heals(client, portal, archive, clean)
    (rejected,) = reasons(MONTH, "dossiers")
    assert rejected["rule"] == "not_json" and rejected["reason"].startswith("page body is not valid JSON")


def test_non_json_body_fails_the_month_after_its_refetches(portal, archive, clean):
    portal.add_fault("dossiers", "not_json", page=1, month=MONTH, times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalPageError, "not_json", clean)
    assert str(error).startswith("page body is not valid JSON (")
    assert "<html>" not in str(error)


# --- credentials -------------------------------------------------------------------------------


def test_token_echoed_by_a_server_error_is_redacted(portal, archive, clean, caplog):
    caplog.set_level("DEBUG")
    portal.add_fault("dossiers", "echo_token", page=2, month=MONTH, status=500, times=1)
    with client_for(portal) as client:
        heals(client, portal, archive, clean)
    assert "upstream gateway rejected" in caplog.text  # the server's message was logged ...
    assert leaks(caplog.text) == []  # ... without the token


def test_token_echoed_by_a_persistent_401_is_redacted(portal, archive, clean, caplog):
    caplog.set_level("DEBUG")
    portal.add_fault("dossiers", "echo_token", page=1, month=MONTH, status=401, times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalAuthError, "auth_refused", clean)
    assert str(error).startswith("the portal refused the token (HTTP 401 gateway_error): GET http://")
    assert "Server message: upstream gateway rejected" in str(error) and "[REDACTED]" in str(error)
    assert leaks(str(error)) == [] and leaks(repr(error.args)) == [] and leaks(caplog.text) == []


def test_a_page_carrying_the_token_is_never_stored(portal, archive, clean, data_root):
    portal.add_fault("dossiers", "echo_token", page=2, month=MONTH, status=200, times=1)
    with client_for(portal) as client:
        heals(client, portal, archive, clean)
    (rejected,) = reasons(MONTH, "dossiers")
    assert rejected["rule"] == "credential_echoed" and rejected["details"]["copied"] is False
    assert rejected["reason"].startswith("page body carries the client's credential; not stored")
    assert files_leaking(data_root) == []


@pytest.mark.parametrize("auth", ["bearer", "api_key", "basic", "query"])
def test_every_auth_form_works_and_leaves_no_trace(portal, archive, clean, caplog, auth):
    caplog.set_level("DEBUG")
    from ingestion.portal.client import PortalClient

    token = f"dxmon:{TOKEN}" if auth == "basic" else TOKEN
    portal.add_fault("dossiers", "echo_token", page=1, month=MONTH, status=503, times=1)
    with PortalClient(portal.url, token, auth=auth, page_size=10, backoff_factor=0.01, timeout=(1, 5),
                      request_deadline_s=2) as client:
        heals(client, portal, archive, clean)
        assert leaks(repr(client)) == []
    assert leaks(caplog.text) == []
    manifest = (archive / MONTH / "dossiers" / "manifest.json").read_text()
    assert leaks(manifest) == [] and "page=1" in manifest


def test_redirect_inside_the_portal_carrying_the_token_is_followed_and_redacted(portal, archive, clean, caplog):
    caplog.set_level("DEBUG")
    portal.add_fault("dossiers", "redirect", page=2, month=MONTH, variant="inside", times=1)
    with client_for(portal) as client:
        heals(client, portal, archive, clean)
    assert "following a redirect inside the portal (HTTP 302)" in caplog.text
    assert "access_token=[REDACTED]" in caplog.text and leaks(caplog.text) == []


def test_redirect_outside_the_portal_is_refused(portal, archive, clean, caplog):
    caplog.set_level("DEBUG")
    portal.add_fault("dossiers", "redirect", page=2, month=MONTH, variant="outside", times=100)
    with client_for(portal) as client:
        error = fails_the_same_way(client, archive, PortalHTTPError, "redirect_refused", clean)
    assert str(error).startswith("redirect outside the portal refused (HTTP 302 to http://portal-mirror.invalid/")
    assert leaks(str(error)) == [] and leaks(caplog.text) == []


def test_redirect_loop_is_bounded(portal, archive, clean):
    portal.add_fault("dossiers", "redirect", page=1, month=MONTH, variant="loop", times=100)
    with client_for(portal, max_redirects=3) as client:
        error = fails_the_same_way(client, archive, PortalHTTPError, "too_many_redirects", clean)
    assert str(error).startswith("too many redirects (more than 3;")
    assert len([r for r in portal.requests_made("dossiers", MONTH) if r.status == 302]) == 2 * 4


def test_other_month_flows_while_this_one_fails(portal, archive, clean):
    portal.add_fault("dossiers", "500", month=MONTH, times=1000)
    with client_for(portal) as client:
        with pytest.raises(PortalHTTPError):
            client.fetch_month("dossiers", MONTH, archive)
        other = client.fetch_month("dossiers", OTHER_MONTH, archive)
    assert other.complete and items_of(other) == clean[(OTHER_MONTH, "dossiers")]
