"""Archived portal pages into the raw tables: same typed load and rules as files, idempotent,
a refetched page replaces its earlier version."""

from __future__ import annotations

import gzip
import json

import pytest

from ingestion.portal_extracts import load_archived_month, portal_archive_dir
from ingestion.warehouse import connect, ensure_schema
from tests.extract_rows import row


def json_item(kind: str, **overrides):
    """A page item the way the portal sends it: JSON booleans, numbers and nulls."""
    item = {}
    for name, text in row(kind, **overrides).items():
        if text in ("true", "false"):
            item[name] = text == "true"
        elif text == "":
            item[name] = None
        else:
            item[name] = text
    return item


def write_page(month: str, kind: str, page: int, items: list[dict], total_pages: int = 1):
    folder = portal_archive_dir() / month / kind
    folder.mkdir(parents=True, exist_ok=True)
    body = {"kind": kind, "month": month, "page": page, "page_size": 5000, "total_pages": total_pages,
            "total_items": len(items), "items": items}
    path = folder / f"page-{page:05d}.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(body, fh, ensure_ascii=False)
    return path


@pytest.fixture
def con(data_root):
    with connect() as connection:
        ensure_schema(connection)
        yield connection


def test_pages_load_with_json_types_and_page_provenance(con):
    write_page("2025-07", "dossiers", 1, [json_item("dossiers", dossier_id="A"), json_item("dossiers", dossier_id="B")], 2)
    item = json_item("dossiers", dossier_id="C")
    item["fee_amount"] = 12500.5
    item["channel"] = 7  # out of set
    write_page("2025-07", "dossiers", 2, [item], 2)
    report = load_archived_month(con, "2025-07")
    assert (report.pages_loaded, report.rows_loaded, report.rows_rejected) == (2, 3, 1)
    rows = con.execute(
        "SELECT dossier_id, fee_amount, has_digitised_component, source_row, rejection_rule, s.location, s.original_location "
        "FROM raw.dossiers JOIN raw.ingested_sources s USING (source_id) ORDER BY dossier_id").fetchall()
    assert rows[0][:5] == ("A", 50000, True, 1, None)
    assert rows[2][0] == "C" and rows[2][3] == 1 and rows[2][4] == "value_not_allowed"
    assert rows[2][5].endswith("dossiers/page-00002.json.gz")
    assert rows[2][6] == "/api/v1/dossiers?month=2025-07&page=2"


def test_replaying_the_archive_is_a_no_op_and_a_refetched_page_replaces_its_rows(con):
    write_page("2025-07", "complaints", 1, [json_item("complaints", complaint_id="P1")])
    load_archived_month(con, "2025-07")
    again = load_archived_month(con, "2025-07")
    assert (again.pages_loaded, again.pages_unchanged) == (0, 1)
    write_page("2025-07", "complaints", 1, [json_item("complaints", complaint_id="P2"), json_item("complaints", complaint_id="P3")])
    load_archived_month(con, "2025-07")
    assert con.execute("SELECT list(complaint_id ORDER BY complaint_id) FROM raw.complaints").fetchone()[0] == ["P2", "P3"]
    history = con.execute("SELECT row_count, superseded_at IS NULL FROM raw.ingested_sources ORDER BY loaded_at").fetchall()
    assert history == [(1, False), (2, True)]
