"""Portal pages into the raw tables, through the real client and the demo portal on loopback:
the same typed load and row rules as files, replay from the archive, refetch replaces."""

from __future__ import annotations

import duckdb
import pytest

from demo.portal_server import DemoPortalServer
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.portal.client import PortalClient, PortalError
from ingestion.portal.loading import load_archived_month, portal_archive_dir
from ingestion.portal.page_archive import ArchiveIncompleteError
from tests.extract_rows import csv_text, row

TOKEN = "t0ken"


def write_store(store, month: str, kind: str, rows: list[dict[str, str]]):
    """The demo portal's store file for a month and kind, typed as the contract says."""
    folder = store / month
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{kind}.csv"
    csv_path.write_text(csv_text(kind, rows), encoding="utf-8")
    from ingestion.core.extract_contract import EXTRACT_KINDS

    casts = ", ".join(f"CAST(nullif({f.name}, '') AS {f.sql_type}) AS {f.name}" for f in EXTRACT_KINDS[kind].fields)
    duckdb.sql(f"COPY (SELECT {casts} FROM read_csv('{csv_path}', all_varchar=true)) TO '{folder / (kind + '.parquet')}'")
    csv_path.unlink()


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def fetch(server, month, kind, **kwargs):
    with PortalClient(server.url, TOKEN, page_size=2, backoff_factor=0.01, timeout=(2, 5)) as client:
        return client.fetch_month(kind, month, portal_archive_dir(), **kwargs)


def test_fetched_pages_load_with_page_provenance_and_rules(con, tmp_path):
    store = tmp_path / "store"
    write_store(store, "2025-07", "dossiers", [
        row("dossiers", dossier_id="A"), row("dossiers", dossier_id="B"),
        row("dossiers", dossier_id="C", due_at="2025-06-01 00:00:00"),
    ])
    with DemoPortalServer(store, token=TOKEN) as server:
        fetched = fetch(server, "2025-07", "dossiers")
        assert fetched.complete and len(fetched.pages) == 2
        report = load_archived_month(con, "2025-07")
    assert (report.pages_loaded, report.rows_loaded, report.rows_rejected) == (2, 3, 1)
    rows = con.execute(
        "SELECT dossier_id, fee_amount, has_digitised_component, source_row, rejection_rule, s.location, "
        "s.original_location, s.source_type FROM raw.dossiers JOIN raw.ingested_sources s USING (source_id) "
        "ORDER BY dossier_id").fetchall()
    assert rows[0][:5] == ("A", 50000, True, 1, None)
    assert rows[2][0] == "C" and rows[2][3] == 1 and rows[2][4] == "due_before_received"
    assert rows[2][5].endswith("dossiers/page-00002.json.gz")
    assert "page=2" in rows[2][6] and rows[2][7] == "api_page"


def test_replaying_the_archive_is_a_no_op_and_a_refetch_replaces_rows(con, tmp_path):
    store = tmp_path / "store"
    write_store(store, "2025-07", "complaints", [row("complaints", complaint_id="P1")])
    with DemoPortalServer(store, token=TOKEN) as server:
        fetch(server, "2025-07", "complaints")
        load_archived_month(con, "2025-07")
        again = load_archived_month(con, "2025-07")  # no network needed: replay from the archive
        assert (again.pages_loaded, again.pages_unchanged) == (0, 1)
        write_store(store, "2025-07", "complaints",
                    [row("complaints", complaint_id="P2"), row("complaints", complaint_id="P3")])
        fetch(server, "2025-07", "complaints", refresh=True)
        load_archived_month(con, "2025-07")
    assert con.execute("SELECT list(complaint_id ORDER BY complaint_id) FROM raw.complaints").fetchone()[0] == ["P2", "P3"]
    history = con.execute("SELECT row_count, superseded_at IS NULL FROM raw.ingested_sources ORDER BY loaded_at").fetchall()
    assert history == [(1, False), (2, True)]


def test_a_half_fetched_month_is_never_loaded(con, tmp_path):
    store = tmp_path / "store"
    write_store(store, "2025-07", "dossiers", [row("dossiers", dossier_id=f"D{i}") for i in range(6)])
    with DemoPortalServer(store, token=TOKEN) as server:
        server.add_fault("dossiers", "500", page=2, month="2025-07", times=50)
        with pytest.raises(PortalError):
            with PortalClient(server.url, TOKEN, page_size=2, max_retries=1, backoff_factor=0.01,
                              timeout=(2, 5)) as client:
                client.fetch_month("dossiers", "2025-07", portal_archive_dir())
    with pytest.raises(ArchiveIncompleteError, match="did not finish"):
        load_archived_month(con, "2025-07")
    assert con.execute("SELECT count(*) FROM raw.dossiers").fetchone()[0] == 0
