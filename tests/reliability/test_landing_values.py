"""The landing corpus, per row and per place: control characters, implausible times, typed
Parquet timestamps of every precision and time zone, a data folder whose path holds quotes,
spaces, Vietnamese letters and glob characters, and the memory a gzip bomb may take.

Each case loads through the real loader into a real DuckDB warehouse file, beside good rows of
the same file, and asserts the rule and a reason naming the field and the value, that the good
rows flow, that the file reconciles (rows read = rows stored), and that a rerun is a no-op."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.core.extract_contract import EXTRACT_KINDS
from ingestion.core.files import sha256_of
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import PROJECT_ROOT, connect
from ingestion.landing.loading import ingest_landing_month, landing_dir, load_file
from tests.extract_rows import row, write_csv

MONTH = "2025-07"


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def landing(name: str) -> Path:
    folder = landing_dir() / MONTH
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def rejections(con, table: str, key: str) -> dict[str, tuple[str | None, str | None]]:
    return {r[0]: (r[1], r[2]) for r in con.execute(
        f"SELECT {key}, rejection_rule, rejection_reason FROM raw.{table}").fetchall()}


def assert_reconciled_and_rerun_is_a_no_op(con, path: Path, rows: int) -> None:
    assert con.execute("SELECT row_count, rows_read FROM raw.ingested_sources WHERE original_location = ?",
                       [str(path)]).fetchone() == (rows, rows)
    before = con.execute("SELECT count(*), count(rejection_rule) FROM raw.dossiers").fetchone()
    assert load_file(con, path, MONTH).action == "unchanged"
    assert con.execute("SELECT count(*), count(rejection_rule) FROM raw.dossiers").fetchone() == before


def test_control_characters_are_stripped_so_a_value_of_nuls_is_missing(con):
    rows = [
        row("dossiers", dossier_id="GOOD"),
        row("dossiers", dossier_id="\x00\x00\x00"),  # only NULs: missing
        row("dossiers", dossier_id="AGENCY", handling_agency_code="\x00\x01\x1f"),  # only controls: missing
        row("dossiers", dossier_id="CODE", procedure_code="1.000\x00001", rating="like\x00"),  # stripped, valid
        row("dossiers", dossier_id="BELL\x07", channel="2\x00"),
    ]
    path = write_csv(landing("dossiers_nul.csv"), "dossiers", rows)
    outcome = load_file(con, path, MONTH)
    assert (outcome.action, outcome.rows, outcome.rows_read, outcome.rejected_rows) == ("loaded", 5, 5, 2)
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT source_row, dossier_id, procedure_code, rating, channel, rejection_rule, rejection_reason "
        "FROM raw.dossiers").fetchall()}
    assert got[2][4:] == ("missing_required_field", "dossier_id: required value is empty")
    assert got[3][4:] == ("missing_required_field", "handling_agency_code: required value is empty")
    assert got[4] == ("CODE", "1.000001", "like", 2, None, None)
    assert got[5] == ("BELL", "1.000001", "like", 2, None, None)
    assert got[1][0] == "GOOD" and got[1][4] is None
    # the original text, NULs included, is kept for the rejected rows
    raw = json.loads(con.execute("SELECT raw_record FROM raw.dossiers WHERE source_row = 2").fetchone()[0])
    assert raw["dossier_id"] == "\x00\x00\x00"
    assert_reconciled_and_rerun_is_a_no_op(con, path, 5)


def test_implausible_times_are_rejected_with_field_value_and_bound(con):
    rows = [
        row("dossiers", dossier_id="GOOD"),
        row("dossiers", dossier_id="SUB2031", submitted_at="2031-01-01 08:00:00"),
        row("dossiers", dossier_id="SYNC2099", synced_at="2099-07-01 09:05:00"),
        row("dossiers", dossier_id="DUE2125", due_at="2125-07-08 17:00:00"),
        row("dossiers", dossier_id="OLD", received_at="2014-12-31 09:00:00", submitted_at="",
            due_at="2015-01-08 17:00:00", synced_at=""),
        row("dossiers", dossier_id="CARRY", received_at="2025-05-30 09:00:00", submitted_at="",
            due_at="2025-07-08 17:00:00", synced_at=""),  # carry-over from an earlier month: fine
    ]
    path = write_csv(landing("dossiers_times.csv"), "dossiers", rows)
    assert load_file(con, path, MONTH).rejected_rows == 4
    got = rejections(con, "dossiers", "dossier_id")
    assert got["GOOD"] == (None, None) and got["CARRY"] == (None, None)
    rule, reason = got["SUB2031"]
    assert rule == "time_in_future" and reason.startswith("submitted_at: 2031-01-01 08:00:00 is later than the load time")
    assert got["SYNC2099"][0] == "time_in_future" and got["SYNC2099"][1].startswith("synced_at: 2099-07-01 09:05:00")
    assert got["DUE2125"] == ("time_too_far_ahead",
                              "due_at: 2125-07-08 17:00:00 is more than 3 years after received_at 2025-07-01 09:00:00")
    assert got["OLD"] == ("time_before_window",
                          "received_at: 2014-12-31 09:00:00 is before the plausible window (earliest 2015-01-01)")
    assert_reconciled_and_rerun_is_a_no_op(con, path, 6)
    # every kind's time fields have a window: a status, a complaint, a procedure's dates
    write_csv(landing("dossier_status_history_t.csv"), "dossier_status_history", [
        row("dossier_status_history", dossier_id="S-OK"),
        row("dossier_status_history", dossier_id="S-2030", status_at="2030-01-01 00:00:00")])
    write_csv(landing("complaints_t.csv"), "complaints", [
        row("complaints", complaint_id="C-OK"), row("complaints", complaint_id="C-2099", published_at="2099-01-01")])
    write_csv(landing("procedures_t.csv"), "procedures", [
        row("procedures", procedure_code="P-OK"),
        row("procedures", procedure_code="P-1989", announced_on="1989-12-31"),
        row("procedures", procedure_code="P-2045", legal_basis_effective_on="2045-01-01")])
    ingest_landing_month(con, MONTH)
    status = rejections(con, "dossier_status_history", "dossier_id")
    assert status["S-OK"] == (None, None) and status["S-2030"][0] == "time_in_future"
    assert status["S-2030"][1].startswith("status_at: 2030-01-01 00:00:00 is later than the load time")
    complaints = rejections(con, "complaints", "complaint_id")
    assert complaints["C-OK"] == (None, None) and complaints["C-2099"][0] == "time_in_future"
    procedures = rejections(con, "procedures", "procedure_code")
    assert procedures["P-OK"] == (None, None)
    assert procedures["P-1989"] == ("time_before_window",
                                    "announced_on: 1989-12-31 is before the plausible window (earliest 1990-01-01)")
    assert procedures["P-2045"] == ("time_too_far_ahead", "legal_basis_effective_on: 2045-01-01 is more than 10 years "
                                                          "after the load time")


def test_the_windows_are_configurable(con, monkeypatch):
    monkeypatch.setenv("DXMON_TIME_EARLIEST", "2025-06-01")
    monkeypatch.setenv("DXMON_DUE_MAX_YEARS", "200")
    monkeypatch.setenv("DXMON_TIME_EARLIEST_ANNOUNCED_ON", "2025-01-01")
    write_csv(landing("dossiers_cfg.csv"), "dossiers", [
        row("dossiers", dossier_id="CARRY", received_at="2025-05-30 09:00:00", submitted_at="", synced_at=""),
        row("dossiers", dossier_id="DUE2125", due_at="2125-07-08 17:00:00")])
    write_csv(landing("procedures_cfg.csv"), "procedures", [row("procedures", announced_on="2024-12-31")])
    ingest_landing_month(con, MONTH)
    got = rejections(con, "dossiers", "dossier_id")
    assert got["CARRY"] == ("time_before_window",
                            "received_at: 2025-05-30 09:00:00 is before the plausible window (earliest 2025-06-01)")
    assert got["DUE2125"] == (None, None)
    assert con.execute("SELECT rejection_rule FROM raw.procedures").fetchone()[0] == "time_before_window"


def _parquet_dossiers(path: Path, received: pa.Array, **typed: pa.Array) -> None:
    """A dossiers Parquet file: the typed time columns given, every other column text."""
    n = len(received)
    columns = {}
    for f in EXTRACT_KINDS["dossiers"].fields:
        if f.name == "received_at":
            columns[f.name] = received
        elif f.name in typed:
            columns[f.name] = typed[f.name]
        else:
            columns[f.name] = pa.array([f"P{i}" if f.name == "dossier_id" else row("dossiers")[f.name]
                                        for i in range(n)], pa.string())
    pq.write_table(pa.table(columns), path, coerce_timestamps=None, allow_truncated_timestamps=False)


def test_parquet_timestamps_of_every_precision_and_time_zone_are_read_as_local_time(con):
    local = [dt.datetime(2025, 7, 1, 9, 0, 0), dt.datetime(2025, 7, 15, 23, 30, 15)]
    utc = [t - dt.timedelta(hours=7) for t in local]  # the same instants in UTC
    week = [t + dt.timedelta(days=7) for t in local]
    # naive values are local time; values of a zoned type are instants (given here in UTC)
    _parquet_dossiers(landing("dossiers_a.parquet"), pa.array(local, pa.timestamp("ns")),
                      submitted_at=pa.array(utc, pa.timestamp("ms", tz="UTC")),
                      due_at=pa.array(week, pa.timestamp("s")),
                      synced_at=pa.array(local, pa.timestamp("us")))
    _parquet_dossiers(landing("dossiers_b.parquet"), pa.array(utc, pa.timestamp("us", tz="Asia/Ho_Chi_Minh")),
                      submitted_at=pa.array(local, pa.timestamp("s")),
                      due_at=pa.array(week, pa.timestamp("ms")),
                      synced_at=pa.array(utc, pa.timestamp("ns", tz="UTC")))
    types = {r[0]: r[1] for r in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet('{landing('dossiers_b.parquet')}')").fetchall()}
    assert types["received_at"] == "TIMESTAMP WITH TIME ZONE" and types["synced_at"] == "TIMESTAMP WITH TIME ZONE"
    report = ingest_landing_month(con, MONTH)
    assert [(Path(f.path).name, f.action, f.rows, f.rows_read, f.rejected_rows) for f in report.files] == [
        ("dossiers_a.parquet", "loaded", 2, 2, 0), ("dossiers_b.parquet", "loaded", 2, 2, 0)]
    got = con.execute("SELECT source_id, received_at, submitted_at, due_at, synced_at FROM raw.dossiers "
                      "ORDER BY 1, 2").fetchall()
    assert [r[1:] for r in got] == [(t, t, w, t) for t, w in zip(local, week)] * 2
    assert all(f.action == "unchanged" for f in ingest_landing_month(con, MONTH).files)


@pytest.mark.parametrize("folder", ["dữ liệu 'quý' [1] *", "dữ liệu 'quý' {a,b}"])
def test_a_data_folder_with_quotes_spaces_vietnamese_and_glob_characters(tmp_path, monkeypatch, folder):
    root = tmp_path / folder
    monkeypatch.setenv("DXMON_DATA_DIR", str(root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(root / "kho 'dữ liệu'" / "dxmon.duckdb"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    write_csv(landing("dossiers_a'b.csv"), "dossiers", [row("dossiers", dossier_id=f"Q{i}") for i in range(3)])
    write_csv(landing("complaints_gz.csv.gz"), "complaints", [row("complaints", complaint_id="C'1")], gzipped=True)
    write_csv(landing("procedures_utf16.csv"), "procedures", [row("procedures", procedure_name="Hộ tịch")],
              encoding="utf-16")
    _parquet_dossiers(landing("dossiers_p.parquet"), pa.array([dt.datetime(2025, 7, 2, 8, 0)], pa.timestamp("ns")))
    # trees beside it that a glob of its path would match, holding the same archive object with
    # other rows: read as a pattern, the path would load them too
    decoy_rows = write_csv(tmp_path / "decoy.csv", "dossiers", [row("dossiers", dossier_id="DECOY")])
    sha = sha256_of(landing("dossiers_a'b.csv"))
    for decoy in ("dữ liệu 'quý' 1 x", "dữ liệu 'quý' a", "dữ liệu 'quý' {a,b}x"):
        obj = tmp_path / decoy / "archive" / "raw" / "objects" / sha[:2] / f"{sha}.csv"
        obj.parent.mkdir(parents=True)
        obj.write_bytes(decoy_rows.read_bytes())
    with connect() as con:
        prepare_warehouse(con)
        report = ingest_landing_month(con, MONTH)
        assert [(Path(f.path).name, f.action, f.rows) for f in report.files] == [
            ("complaints_gz.csv.gz", "loaded", 1), ("dossiers_a'b.csv", "loaded", 3),
            ("dossiers_p.parquet", "loaded", 1), ("procedures_utf16.csv", "loaded", 1)]
        assert con.execute("SELECT count(*), count(rejection_rule), count(*) FILTER (dossier_id = 'DECOY') "
                           "FROM raw.dossiers").fetchone() == (4, 0, 0)
        assert con.execute("SELECT procedure_name FROM raw.procedures").fetchone()[0] == "Hộ tịch"
        assert con.execute("SELECT complaint_id FROM raw.complaints").fetchone()[0] == "C'1"
        assert all(f.action == "unchanged" for f in ingest_landing_month(con, MONTH).files)
        assert con.execute("SELECT current_setting('file_search_path')").fetchone()[0] == ""


BOMB_PROBE = textwrap.dedent("""
    import json, os, resource, sys, time, zlib
    from pathlib import Path
    from ingestion.core.schema import prepare_warehouse
    from ingestion.core.warehouse import connect
    from ingestion.landing.loading import load_file
    folder = Path(sys.argv[1])
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = packer.compress(b"dossier_id,procedure_code\\n" + bytes(16 << 20)) + packer.flush()
    path = folder / "dossiers_bomb.csv.gz"
    with open(path, "wb") as fh:
        for _ in range(int(sys.argv[2])):
            fh.write(member)
    del member, packer
    with connect() as con:
        prepare_warehouse(con)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.monotonic()
        outcome = load_file(con, path, "2025-07")
        seconds = time.monotonic() - start
    print(json.dumps({"rule": outcome.rule, "reason": outcome.reason, "seconds": seconds,
                      "expanded_gib": int(sys.argv[2]) * 16 / 1024,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_before_load_mb": base / 1024}))
""")


def test_a_10_gib_gzip_bomb_is_refused_within_seconds_in_bounded_memory(data_root):
    """In a process of its own, so the peak resident memory measured is the load's."""
    folder = landing_dir() / MONTH
    folder.mkdir(parents=True)
    result = subprocess.run([sys.executable, "-c", BOMB_PROBE, str(folder), "640"], capture_output=True,
                            text=True, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                            timeout=300)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    print("gzip bomb:", probe)
    assert probe["expanded_gib"] == 10
    assert probe["rule"] == "limit_exceeded_compression_ratio" and probe["reason"].startswith("compression ratio")
    assert probe["seconds"] < 10
    assert probe["peak_rss_mb"] < 1024
