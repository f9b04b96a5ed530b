"""Landing files: every format, the nasty real-world inputs, idempotence and replacement."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import ingest_landing_month, landing_dir, load_file
from tests.extract_rows import row, write_csv

MONTH = "2025-07"


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def landing(name: str):
    folder = landing_dir() / MONTH
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def dossiers(con):
    return con.execute(
        "SELECT dossier_id, parent_unit_code, received_at, fee_amount, channel, source_row, rejection_rule, "
        "rejection_reason FROM raw.dossiers ORDER BY source_id, source_row"
    ).fetchall()


def test_csv_loads_typed_rows_with_provenance(con):
    path = write_csv(landing("dossiers_2025-07.csv"), "dossiers", [row("dossiers", dossier_id=f"H{i}") for i in range(3)])
    outcome = load_file(con, path, MONTH)
    assert (outcome.action, outcome.rows, outcome.rejected_rows) == ("loaded", 3, 0)
    source = con.execute("SELECT location, sha256, size_bytes, row_count, period_month FROM raw.ingested_sources").fetchone()
    assert source[0] == str(path) and len(source[1]) == 64 and source[2] == path.stat().st_size and source[3] == 3
    assert str(source[4]) == "2025-07-01"
    rows = dossiers(con)
    assert [r[5] for r in rows] == [1, 2, 3]
    assert rows[0][2].isoformat() == "2025-07-01T09:00:00"


def test_gzipped_csv_and_parquet_load_the_same_rows(con, tmp_path):
    rows = [row("dossiers", dossier_id=f"H{i}") for i in range(4)]
    write_csv(landing("dossiers_a.csv.gz"), "dossiers", rows, gzipped=True)
    csv_path = write_csv(tmp_path / "plain.csv", "dossiers", [row("dossiers", dossier_id=f"P{i}") for i in range(4)])
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{landing('dossiers_b.parquet')}'")
    report = ingest_landing_month(con, MONTH)
    assert sorted(f.action for f in report.files) == ["loaded", "loaded"]
    assert con.execute("SELECT count(*), count(rejection_rule) FROM raw.dossiers").fetchone() == (8, 0)
    parquet_rows = con.execute(
        "SELECT source_row FROM raw.dossiers WHERE dossier_id LIKE 'P%' ORDER BY source_row").fetchall()
    assert [r[0] for r in parquet_rows] == [1, 2, 3, 4]


def test_vietnamese_numbers_excel_dates_and_dropped_leading_zero(con):
    rows = [
        row("dossiers", dossier_id="A", fee_amount="1.234.567,5", parent_unit_code="1",
            received_at="02/07/2025 09:30", has_digitised_component="Có"),
        row("dossiers", dossier_id="B", fee_amount="12,5", parent_unit_code="'01"),
        row("dossiers", dossier_id="C", fee_amount="15.000", has_digitised_component="Không"),
    ]
    # Excel in a Vietnamese locale writes ';' between fields.
    load_file(con, write_csv(landing("dossiers_excel.csv"), "dossiers", rows, delimiter=";"), MONTH)
    got = {r[0]: r for r in dossiers(con)}
    assert float(got["A"][3]) == 1234567.5 and got["A"][1] == "01"
    assert got["A"][2].isoformat() == "2025-07-02T09:30:00"
    assert float(got["B"][3]) == 12.5 and got["B"][1] == "01"
    assert float(got["C"][3]) == 15000
    flags = dict(con.execute("SELECT dossier_id, has_digitised_component FROM raw.dossiers").fetchall())
    assert flags == {"A": True, "B": True, "C": False}
    assert all(r[6] is None for r in got.values())


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_and_utf16_files_keep_vietnamese_text(con, encoding):
    path = write_csv(landing(f"procedures_{encoding}.csv"), "procedures",
                     [row("procedures", procedure_name="Đăng ký khai sinh – Hòa")], encoding=encoding)
    outcome = load_file(con, path, MONTH)
    assert outcome.action == "loaded", outcome.reason
    assert con.execute("SELECT procedure_name FROM raw.procedures").fetchone()[0] == "Đăng ký khai sinh – Hòa"


def test_bad_rows_are_rejected_with_field_and_value_and_good_rows_flow(con):
    rows = [
        row("dossiers", dossier_id="GOOD"),
        row("dossiers", dossier_id="CHAN", channel="web"),
        row("dossiers", dossier_id="MISS", procedure_code=""),
        row("dossiers", dossier_id="TIME", received_at="2025-13-45 99:00"),
        row("dossiers", dossier_id="DUE", due_at="2025-06-01 00:00:00"),
        row("dossiers", dossier_id="LATE", received_at="2025-08-02 10:00:00", due_at="2025-08-09 10:00:00"),
    ]
    load_file(con, write_csv(landing("dossiers_bad.csv"), "dossiers", rows), MONTH)
    got = {r[0]: (r[6], r[7]) for r in dossiers(con)}
    assert got["GOOD"] == (None, None)
    assert got["CHAN"][0] == "invalid_value" and "channel" in got["CHAN"][1] and "'web'" in got["CHAN"][1]
    assert got["MISS"] == ("missing_required_field", "procedure_code: required value is empty")
    assert got["TIME"][0] == "invalid_value" and "received_at" in got["TIME"][1]
    assert got["DUE"][0] == "due_before_received"
    assert got["LATE"][0] == "received_after_period"
    quarantined = con.execute(
        "SELECT location, source_row, rule, raw_record FROM quarantine.rejected_rows ORDER BY source_row").fetchall()
    assert len(quarantined) == 5
    assert quarantined[0][0].endswith("dossiers_bad.csv") and quarantined[0][1] == 2
    assert json.loads(quarantined[0][3])["channel"] == "web"  # the original text is kept


def test_truncated_csv_rejects_only_the_cut_row(con):
    text = write_csv(landing("tmp.csv"), "dossiers", [row("dossiers", dossier_id=f"H{i}") for i in range(3)]).read_text()
    landing("tmp.csv").unlink()
    cut = text[: text.rindex("\n", 0, len(text) - 1) + 40]  # the last row ends mid-line
    path = landing("dossiers_cut.csv")
    path.write_text(cut, encoding="utf-8")
    outcome = load_file(con, path, MONTH)
    assert (outcome.rows, outcome.rejected_rows) == (3, 1)
    source_row, rule = con.execute(
        "SELECT source_row, rejection_rule FROM raw.dossiers WHERE rejection_rule IS NOT NULL").fetchone()
    # the cut lands inside a field (a half timestamp) or drops required ones: either way row 3 only
    assert source_row == 3 and rule in ("invalid_value", "missing_required_field")


def test_unreadable_files_are_quarantined_with_a_reason_and_others_still_load(con):
    good = write_csv(landing("complaints_ok.csv"), "complaints", [row("complaints")])
    gz = landing("dossiers_broken.csv.gz")
    payload = gzip.compress(b"dossier_id,procedure_code\n" + b"x,y\n" * 5000)
    gz.write_bytes(payload[: len(payload) // 2])  # a gzip stream cut in the middle
    cp1258 = landing("procedures_legacy.csv")
    cp1258.write_bytes("procedure_name\nĐăng ký\n".encode().replace("Đ".encode(), b"\xd0"))
    missing = write_csv(landing("dossiers_nocol.csv"), "dossiers", [row("dossiers")])
    missing.write_text(missing.read_text().replace("received_at", "ngay_tiep_nhan"))
    stray = landing("notes.txt")
    stray.write_text("hello")
    report = ingest_landing_month(con, MONTH)
    actions = {f.path.split("/")[-1]: f for f in report.files}
    assert actions["complaints_ok.csv"].action == "loaded"
    rules = {"dossiers_broken.csv.gz": ("truncated_stream", "truncated gzip stream"),
             "procedures_legacy.csv": ("not_utf8", "not UTF-8 text (byte 0xD0 on line 2"),
             "dossiers_nocol.csv": ("missing_columns", "missing column(s) received_at"),
             "notes.txt": ("unknown_file", "not a known extract file name")}
    for name, (rule, cause) in rules.items():
        assert actions[name].action == "quarantined", name
        # the reason starts with the cause, then names the file
        assert actions[name].rule == rule and actions[name].reason.startswith(cause), actions[name].reason
        assert name in actions[name].reason
    assert "received_at" in actions["dossiers_nocol.csv"].reason
    files = con.execute("SELECT original_location, location, reason FROM quarantine.rejected_files").fetchall()
    assert len(files) == 4
    for original, copy, reason in files:
        # the quarantine holds a copy; the sender's file stays where it was dropped
        assert (landing_dir() / MONTH / original.split("/")[-1]).exists()
        assert open(copy, "rb").read() == open(original, "rb").read()
        reason_file = json.loads(open(copy + ".reason.json", encoding="utf-8").read())
        assert reason_file["reason"] == reason
    assert good.exists() and con.execute("SELECT count(*) FROM raw.complaints").fetchone()[0] == 1
    # left in place, the same bytes are not taken again
    again = {f.path.split("/")[-1]: f for f in ingest_landing_month(con, MONTH).files}
    assert {name: again[name].action for name in actions} == dict.fromkeys(actions, "unchanged")
    assert "quarantined before" in again["notes.txt"].reason
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone()[0] == 4


def test_same_file_again_is_a_no_op_and_a_changed_file_replaces_its_rows(con):
    path = write_csv(landing("dossiers_x.csv"), "dossiers", [row("dossiers", dossier_id=f"H{i}") for i in range(3)])
    assert load_file(con, path, MONTH).action == "loaded"
    assert load_file(con, path, MONTH).action == "unchanged"
    assert con.execute("SELECT count(*) FROM raw.dossiers").fetchone()[0] == 3
    write_csv(path, "dossiers", [row("dossiers", dossier_id=f"N{i}") for i in range(5)])
    assert load_file(con, path, MONTH).action == "replaced"
    assert con.execute("SELECT count(*), min(dossier_id) FROM raw.dossiers").fetchone() == (5, "N0")
    history = con.execute(
        "SELECT row_count, superseded_at IS NOT NULL FROM raw.ingested_sources ORDER BY loaded_at").fetchall()
    assert history == [(3, True), (5, False)]
    # a copy of the same file under another name adds no duplicate rows
    copy = landing("dossiers_copy.csv")
    copy.write_bytes(path.read_bytes())
    assert load_file(con, copy, MONTH).action == "unchanged"
    assert con.execute("SELECT count(*) FROM raw.dossiers").fetchone()[0] == 5
