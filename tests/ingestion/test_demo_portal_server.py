"""The demo portal: the contract of docs/portal_api.md, paging, faults, and its CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import requests

from demo.portal_server import DemoPortalServer, Fault, FaultPlan
from ingestion.core.extract_contract import DOSSIERS, PROCEDURES
from tests.ingestion.conftest import TOKEN, write_store_file

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MONTH = "2025-07"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def get(portal, endpoint="/api/v1/dossiers", headers=AUTH, **params):
    params.setdefault("month", MONTH)
    return requests.get(portal.url + endpoint, params=params, headers=headers, timeout=5)


def test_pages_follow_the_contract(portal):
    r = get(portal, page=1, page_size=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert {k: body[k] for k in ("kind", "month", "page", "page_size", "total_pages", "total_items")} == {
        "kind": "dossiers", "month": MONTH, "page": 1, "page_size": 10, "total_pages": 3, "total_items": 23}
    assert body["generated_at"].endswith("+07:00")
    item = body["items"][0]
    assert list(item) == DOSSIERS.field_names
    assert item["dossier_id"] == "dossier_id-000000"
    assert item["received_at"] == "2025-07-01T08:00:00"  # ISO 8601 local, no zone
    assert isinstance(item["fee_amount"], float) and isinstance(item["has_complaint"], bool)
    assert item["channel"] in (1, 2, 3)

    proc = get(portal, "/api/v1/procedures").json()
    assert proc["total_pages"] == 1 and proc["page_size"] == 5000 and len(proc["items"]) == 7
    assert proc["items"][1]["announced_on"] == "2025-01-02"
    assert list(proc["items"][0]) == PROCEDURES.field_names


def test_paging_is_stable_and_sorted_by_key(portal):
    ids = []
    for page in (1, 2, 3):
        ids += [i["dossier_id"] for i in get(portal, page=page, page_size=10).json()["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 23
    assert [i["dossier_id"] for i in get(portal, page=2, page_size=10).json()["items"]] == ids[10:20]


def test_large_files_are_served_from_a_sorted_copy_with_the_same_pages(store, portal):
    with DemoPortalServer(store, TOKEN, sort_in_query_max_rows=0) as big:
        for page in (1, 2, 3):
            a = get(portal, page=page, page_size=10).json()
            b = get(big, page=page, page_size=10).json()
            assert a["items"] == b["items"] and a["total_items"] == b["total_items"]


def test_timestamptz_and_decimal_values(tmp_path):
    store = tmp_path / "store"
    write_store_file(store, MONTH, "dossier_status_history", 2)
    path = store / MONTH / "dossier_status_history.parquet"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CAST(status_at AS VARCHAR) || '+00' AS status_at) "
        f"FROM read_parquet('{path}')) TO '{tmp_path}/x.parquet'"
    )
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CAST(status_at AS TIMESTAMPTZ) AS status_at) FROM read_parquet('{tmp_path}/x.parquet'))"
        f" TO '{path}'"
    )
    with DemoPortalServer(store, TOKEN) as portal:
        items = get(portal, "/api/v1/dossier-status-history").json()["items"]
    assert items[0]["status_at"] == "2025-07-01T15:00:00"  # 08:00 UTC is 15:00 in Hà Nội


def test_empty_and_absent_months(portal):
    for month in ("2025-08", "2024-01"):
        body = get(portal, month=month).json()
        assert (body["total_pages"], body["total_items"], body["items"], body["page"]) == (0, 0, [], 1)
    r = get(portal, month="2025-08", page=2)
    assert r.status_code == 400 and r.json()["error"]["code"] == "page_out_of_range"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"month": "2025-13"}, "not YYYY-MM"),
        ({"month": "July"}, "not YYYY-MM"),
        ({"page": "0"}, "page 0 must be"),
        ({"page": "x"}, "not an integer"),
        ({"page_size": "20001"}, "between 1 and 20000"),
        ({"page": "4", "page_size": "10"}, "beyond total_pages 3"),
    ],
)
def test_bad_parameters_are_400(portal, params, message):
    r = get(portal, **params)
    assert r.status_code == 400 and message in r.json()["error"]["message"]


def test_month_is_required(portal):
    r = requests.get(portal.url + "/api/v1/dossiers", headers=AUTH, timeout=5)
    assert r.status_code == 400 and "month" in r.json()["error"]["message"]


def test_auth_and_unknown_endpoint(portal):
    missing = get(portal, headers={})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert "Bearer" in missing.headers["WWW-Authenticate"]
    assert get(portal, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert get(portal, "/api/v1/unknown", headers={}).status_code == 401  # no endpoint discovery without a token
    r = get(portal, "/api/v1/unknown")
    assert r.status_code == 404 and "/api/v1/dossiers" in r.json()["error"]["message"]
    assert requests.get(portal.url + "/health", timeout=5).json() == {"status": "ok"}


def test_faults_fire_the_given_number_of_times_in_queue_order(portal):
    portal.add_fault("/api/v1/dossiers", "429", page=2, retry_after=7)
    portal.add_fault("dossiers", "500", page=2, times=2)
    portal.add_fault("dossiers", "malformed", page=3, variant="not_object", after=1)
    r = get(portal, page=2, page_size=10)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json()["error"]["code"] == "rate_limited"
    assert [get(portal, page=2, page_size=10).status_code for _ in range(3)] == [500, 500, 200]
    assert get(portal, page=1, page_size=10).status_code == 200  # other pages unaffected
    assert isinstance(get(portal, page=3, page_size=10).json(), dict)  # `after=1`: first one passes
    assert isinstance(get(portal, page=3, page_size=10).json(), list)
    assert isinstance(get(portal, page=3, page_size=10).json(), dict)
    assert portal.faults.pending() == []
    log = portal.requests_made("dossiers")
    assert [(r.page, r.status, r.fault) for r in log[:4]] == [(2, 429, "429"), (2, 500, "500"), (2, 500, "500"),
                                                              (2, 200, None)]


@pytest.mark.parametrize("variant", ["missing_items", "kind_mismatch", "extra_field", "wrong_page"])
def test_malformed_variants(portal, variant):
    portal.add_fault("dossiers", "malformed", page=1, variant=variant, month=MONTH)
    body = get(portal, page_size=10).json()
    assert {
        "missing_items": lambda b: "items" not in b,
        "kind_mismatch": lambda b: b["kind"] == "procedures",
        "extra_field": lambda b: b["items"][0]["unexpected_field"] == 1,
        "wrong_page": lambda b: b["page"] == 2,
    }[variant](body)


def test_truncated_sends_half_a_body(portal):
    portal.add_fault("dossiers", "truncated", page=1)
    full = get(portal, page_size=10).content  # the fault fires on this first request
    assert len(full) > 0
    with pytest.raises(ValueError):
        json.loads(full)
    complete = get(portal, page_size=10).content
    assert len(complete) > len(full) and complete.startswith(full[:100])


def test_slow_fault_sleeps(portal):
    portal.add_fault("dossiers", "slow", page=1, delay_s=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(portal.url + "/api/v1/dossiers", params={"month": MONTH}, headers=AUTH, timeout=(1, 0.2))
    assert get(portal).status_code == 200


def test_fault_definitions_are_checked_and_load_from_json(tmp_path):
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("dossiers", "teapot")
    with pytest.raises(ValueError, match="neither an endpoint nor a kind"):
        Fault("/nope", "500")
    with pytest.raises(ValueError, match="unknown key"):
        Fault.from_dict({"path": "dossiers", "fault": "500", "pages": 2})
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"path": "dossiers", "fault": "429", "page": 2, "retry_after": 3, "times": 2}]))
    plan = FaultPlan.from_json_file(path)
    assert [(f.path, f.fault, f.page, f.times) for f in plan.pending()] == [("/api/v1/dossiers", "429", 2, 2)]
    assert plan.take("/api/v1/dossiers", MONTH, 1) is None
    assert plan.take("/api/v1/dossiers", MONTH, 2).retry_after == 3


def test_a_store_file_missing_a_contract_column_is_a_500_naming_it(tmp_path):
    store = tmp_path / "store"
    path = write_store_file(store, MONTH, "dossiers", 3)
    duckdb.sql(f"COPY (SELECT * EXCLUDE (rating) FROM read_parquet('{path}')) TO '{tmp_path}/d.parquet'")
    os.replace(tmp_path / "d.parquet", path)
    with DemoPortalServer(store, TOKEN) as portal:
        r = get(portal)
    assert r.status_code == 500 and "rating" in r.json()["error"]["message"]


def test_cli_prints_the_url_and_stops_on_sigterm(store, tmp_path):
    pid_file = tmp_path / "portal.pid"
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"path": "dossiers", "fault": "500", "page": 1}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.portal_server", "--store", str(store), "--port", "0",
         "--token", TOKEN, "--pid-file", str(pid_file), "--faults", str(faults)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert int(pid_file.read_text()) == proc.pid
        r = requests.get(url + "/api/v1/dossiers", params={"month": MONTH}, headers=AUTH, timeout=5)
        assert r.status_code == 500  # the fault file was read
        assert requests.get(url + "/api/v1/dossiers", params={"month": MONTH}, headers=AUTH, timeout=5).ok
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert not pid_file.exists()
        assert "shutting down" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
