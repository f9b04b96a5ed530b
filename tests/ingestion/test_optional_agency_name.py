"""handling_agency_name (TenCoQuan), the one contract field a source may leave out as a column:
files and API pages without it load with null names; older warehouses get the column by a
migration, and the GX sample still reads the contract's column order."""

from __future__ import annotations

import json

import pytest

from expectations.month_validation import valid_rows_sample
from ingestion.core.extract_contract import DOSSIERS, PROVENANCE_COLUMNS
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import landing_dir, load_file
from ingestion.portal.page_contract import PageShapeError, check_page
from tests.extract_rows import row, write_csv

MONTH = "2025-07"


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def _write_without_name(path, rows):
    fields = [f for f in DOSSIERS.field_names if f != "handling_agency_name"]
    lines = [",".join(fields)] + [",".join(r[f] for f in fields) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_file_with_or_without_the_agency_name_loads(con):
    folder = landing_dir() / MONTH
    named = write_csv(folder / "dossiers_a.csv", "dossiers", [row("dossiers", dossier_id="N1")])
    unnamed = _write_without_name(folder / "dossiers_b.csv", [row("dossiers", dossier_id="U1")])
    assert load_file(con, named, MONTH).action == "loaded"
    outcome = load_file(con, unnamed, MONTH)
    assert (outcome.action, outcome.rows, outcome.rejected_rows) == ("loaded", 1, 0)
    assert dict(con.execute("SELECT dossier_id, handling_agency_name FROM raw.dossiers").fetchall()) == {
        "N1": "Sở Tư pháp", "U1": None}
    # a required column left out is still refused
    no_received = folder / "dossiers_c.csv"
    no_received.write_text("dossier_id\nX1\n", encoding="utf-8")
    assert load_file(con, no_received, MONTH).action == "quarantined"


def test_a_page_may_omit_the_agency_name_but_nothing_else():
    item = dict.fromkeys(DOSSIERS.field_names)
    page = {"kind": "dossiers", "month": MONTH, "page": 1, "page_size": 10, "total_pages": 1,
            "total_items": 1, "generated_at": "x", "items": [item]}
    without = {k: v for k, v in item.items() if k != "handling_agency_name"}
    assert check_page(json.dumps({**page, "items": [without]}).encode(), DOSSIERS, MONTH, 1, 10)["total_items"] == 1
    without_code = {k: v for k, v in item.items() if k != "handling_agency_code"}
    with pytest.raises(PageShapeError, match="missing: handling_agency_code$"):
        check_page(json.dumps({**page, "items": [without_code]}).encode(), DOSSIERS, MONTH, 1, 10)


def test_an_older_warehouse_gets_the_column_and_the_sample_keeps_the_contract_order(con):
    # a warehouse from before migration 0005: no name column
    con.execute("ALTER TABLE raw.dossiers DROP COLUMN handling_agency_name")
    con.execute("DELETE FROM meta.schema_migrations WHERE migration_id = '0005_dossiers_handling_agency_name'")
    assert prepare_warehouse(con) == ["0005_dossiers_handling_agency_name"]
    columns = [r[0] for r in con.execute("DESCRIBE raw.dossiers").fetchall()]
    assert columns[-1] == "handling_agency_name"  # appended last
    path = write_csv(landing_dir() / MONTH / "dossiers.csv", "dossiers", [row("dossiers", dossier_id="M1")])
    assert load_file(con, path, MONTH).action == "loaded"
    sample = valid_rows_sample(con, "dossiers", MONTH + "-01")
    assert list(sample.columns) == DOSSIERS.field_names + [n for n, _ in PROVENANCE_COLUMNS]
    assert sample["handling_agency_name"].tolist() == ["Sở Tư pháp"]
