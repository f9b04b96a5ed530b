"""No credential survives anywhere (issue 10, part 7): a portal whose error bodies echo the token
and whose redirects carry it in the URL, with the token itself in the query string, through a
real in-process Dagster run of the raw extracts. Every text the run produced is searched for the
token in any form: the logs captured, the Dagster event log (read back from the instance), every
file written under the data folder (manifests, quarantine reason files, Dagster's run and event
databases, compute logs) and every row of every warehouse table. `dxmon run --refetch` is the
same run tag, checked here too."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from dagster._serdes import serialize_value

from demo.portal_server import DemoPortalServer
from ingestion.core.extract_contract import EXTRACT_KINDS
from orchestration.cli import build_parser
from orchestration.resources import PortalResource, WarehouseResource
from tests.reliability.portal_helpers import MONTH, TOKEN, files_leaking, leaks, write_store


@pytest.fixture
def store(tmp_path):
    return write_store(tmp_path / "store")


@pytest.fixture
def portal_env(data_root, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir(exist_ok=True)
    monkeypatch.setenv("DXMON_PORTAL_TOKEN", TOKEN)
    monkeypatch.setenv("DXMON_PORTAL_AUTH", "query")  # the token travels in every URL
    monkeypatch.setenv("DXMON_PORTAL_REQUEST_DEADLINE_S", "5")
    return data_root


def materialize(tags: dict | None = None):
    from orchestration.service_index.assets import raw_extracts

    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([raw_extracts], partition_key=f"{MONTH}-01", instance=instance, tags=tags,
                                resources={"warehouse": WarehouseResource(), "portal": PortalResource()},
                                raise_on_error=False)
        records = [serialize_value(entry) for entry in instance.all_logs(result.run_id)]
    return result, records


def assert_nothing_leaks(data_root, caplog, records) -> None:
    assert leaks(caplog.text) == []
    assert [r for r in records if leaks(r)] == []
    assert files_leaking(data_root) == []
    warehouse = data_root / "warehouse" / "dxmon.duckdb"
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            leaking = [f"{s}.{t}" for s, t in tables
                       if any(leaks(str(row)) for row in con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall())]
        assert leaking == []


def test_a_failed_run_keeps_no_token_in_its_event_log(definitions, portal_env, store, caplog, monkeypatch):
    caplog.set_level("DEBUG")
    with DemoPortalServer(store, token=TOKEN) as portal:
        monkeypatch.setenv("DXMON_PORTAL_URL", portal.url)
        portal.add_fault("dossiers", "redirect", page=1, month=MONTH, variant="inside", times=1)
        portal.add_fault("dossiers", "echo_token", page=1, month=MONTH, status=401, times=100)
        result, records = materialize()
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message  # Dagster's step error wraps ours
    assert message.startswith("ingestion.portal.client.PortalAuthError: the portal refused the token (HTTP 401")
    assert "access_token=[REDACTED]" in message and "Server message: upstream gateway rejected" in message
    assert any("PortalAuthError" in r for r in records)  # the failure is in the event log, redacted
    assert_nothing_leaks(portal_env, caplog, records)


@pytest.mark.slow  # two in-process runs of the raw extracts with validation (reference data needed)
def test_runs_through_echoes_and_redirects_keep_no_token_and_refetch_redownloads(
        definitions, reference_data, portal_env, store, caplog, monkeypatch):
    caplog.set_level("DEBUG")
    from orchestration.service_index.assets import REFETCH_TAG

    with DemoPortalServer(store, token=TOKEN) as portal:
        monkeypatch.setenv("DXMON_PORTAL_URL", portal.url)
        portal.add_fault("dossiers", "echo_token", page=1, month=MONTH, status=500, times=1)
        portal.add_fault("dossiers", "redirect", page=1, month=MONTH, variant="inside", times=1)
        portal.add_fault("procedures", "echo_token", page=1, month=MONTH, status=503, times=1)
        first, records = materialize()
        assert first.success
        rows = raw_rows(portal_env)
        portal.request_log.clear()

        again, more = materialize()  # a complete archived month is not fetched again
        assert again.success and portal.requests_made() == []
        refetched, most = materialize(tags={REFETCH_TAG: "true"})
        assert refetched.success
        # every kind downloaded again (one page each at the default page size)
        assert sorted((r.path, r.page) for r in portal.requests_made()) == sorted(
            (kind.api_endpoint, 1) for kind in EXTRACT_KINDS.values())
    assert raw_rows(portal_env) == rows  # the same rows after a refetch of the same data
    history = portal_env / "archive" / "portal" / MONTH / "dossiers" / "superseded"
    assert len(list(history.glob("*.json.gz"))) == 1 and len(list(history.glob("manifest-*.json"))) == 1
    assert_nothing_leaks(portal_env, caplog, records + more + most)


def raw_rows(data_root) -> list[tuple]:
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT d.dossier_id, d.rejection_rule FROM raw.dossiers d JOIN raw.ingested_sources s USING (source_id) "
            "WHERE s.superseded_at IS NULL ORDER BY ALL").fetchall()


def test_loaded_pages_keep_no_token_in_any_table_or_file(data_root, store, caplog, monkeypatch):
    """The fast path of the same proof: fetch every kind through echoes and a redirect carrying
    the token, load the pages into the warehouse, search every table and file."""
    caplog.set_level("DEBUG")
    from ingestion.core.warehouse import connect
    from ingestion.portal.loading import load_archived_month
    from tests.reliability.portal_helpers import client_for

    with DemoPortalServer(store, token=TOKEN) as portal:
        portal.add_fault("dossiers", "echo_token", page=2, month=MONTH, status=500, times=1)
        portal.add_fault("dossiers", "redirect", page=3, month=MONTH, variant="inside", times=1)
        portal.add_fault("dossiers", "echo_token", page=1, month=MONTH, status=200, times=1)
        portal.add_fault("procedures", "truncated", page=1, month=MONTH, times=1)
        with client_for(portal, auth="query") as client:
            for kind in EXTRACT_KINDS:
                assert client.fetch_month(kind, MONTH).complete
    with connect() as con:
        report = load_archived_month(con, MONTH)
    assert report.rows_loaded == 30 and report.pages_quarantined == 2  # the truncated body, the echo
    assert_nothing_leaks(data_root, caplog, [])


def test_dxmon_run_takes_refetch():
    args = build_parser().parse_args(["run", "--month", MONTH, "--refetch"])
    assert args.refetch is True
    assert build_parser().parse_args(["run", "--month", MONTH]).refetch is False
