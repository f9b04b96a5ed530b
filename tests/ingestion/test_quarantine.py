"""One quarantine for every input kind: a copy, a reason file of one format, one row."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ingestion.core.quarantine import (
    DTI_REPORTS,
    INPUT_KINDS,
    LANDING,
    PORTAL_PAGES,
    quarantine_dir,
    quarantine_file,
    record_quarantined,
)
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect

REASON_KEYS = {"input_kind", "period", "original_location", "location", "sha256", "size_bytes", "rule", "reason",
               "quarantined_at", "details"}


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


@pytest.mark.parametrize("input_kind, period, folder, period_month", [
    (LANDING, "2025-07", ("2025-07",), dt.date(2025, 7, 1)),
    (DTI_REPORTS, "2023", ("2023", "01"), dt.date(2023, 1, 1)),
    (PORTAL_PAGES, "2025-08", ("2025-08", "dossiers"), dt.date(2025, 8, 1)),
])
def test_every_input_kind_is_a_copy_a_reason_file_and_a_row(con, tmp_path, input_kind, period, folder, period_month):
    original = tmp_path / "sent" / "bad.bin"
    original.parent.mkdir()
    original.write_bytes(b"\x00 not what was expected")
    # the portal client has no warehouse open: its row is recorded when the month is loaded
    done = quarantine_file(None if input_kind == PORTAL_PAGES else con, original, input_kind=input_kind, period=period,
                           folder=folder, sha256="ab" * 32, rule="unreadable_file", reason="bad.bin: cannot be read",
                           details={"page": 3})
    if input_kind == PORTAL_PAGES:
        assert record_quarantined(con, PORTAL_PAGES, "2025-08") == 1
    assert record_quarantined(con, input_kind) == 0  # recorded once
    assert original.exists() and done.location.read_bytes() == original.read_bytes()
    assert done.location.parent == quarantine_dir(input_kind).joinpath(*folder)
    assert done.location.name.endswith("-bad.bin") and done.reason_path.name == done.location.name + ".reason.json"
    record = json.loads(done.reason_path.read_text(encoding="utf-8"))
    assert set(record) == REASON_KEYS and record["input_kind"] == input_kind and record["details"] == {"page": 3}
    rows = con.execute("SELECT period_month, location, original_location, sha256, input_kind, rule, reason "
                       "FROM quarantine.rejected_files").fetchall()
    assert rows == [(period_month, str(done.location), str(original), "ab" * 32, input_kind, "unreadable_file",
                     "bad.bin: cannot be read")]


def test_the_input_kinds_are_the_quarantines_folders(data_root):
    assert {quarantine_dir(k).name for k in INPUT_KINDS} == {
        "landing", "dti_reports", "portal_pages", "kpi_reports", "kpi_statistics", "international_indices",
        "task_plans", "task_reports"}
    assert all(quarantine_dir(k).parent == data_root / "quarantine" for k in INPUT_KINDS)
    with pytest.raises(ValueError, match="unknown input kind"):
        quarantine_dir("files")


def test_handed_a_link_or_a_fifo_the_quarantine_copies_nothing_and_follows_nothing(con, tmp_path):
    """`quarantine_file` copies only the regular file it was given (O_NOFOLLOW); a link or a FIFO
    handed to it is recorded as refused (a reason file and a row), its target never read or moved."""
    import os

    outside = tmp_path / "elsewhere" / "secret.csv"
    outside.parent.mkdir()
    outside.write_bytes(b"private\n")
    sent = tmp_path / "sent"
    sent.mkdir()
    link, fifo = sent / "dossiers_link.csv", sent / "dossiers_fifo.csv"
    os.symlink(outside, link)
    os.mkfifo(fifo)
    for entry in (link, fifo):
        done = quarantine_file(con, entry, input_kind=LANDING, period="2025-07", folder=("2025-07",),
                               sha256="cd" * 32, rule="unreadable_file", reason="cannot be read")
        assert done.location == done.reason_path and done.location.name.endswith(".reason.json")
        assert done.record["rule"] == "not_a_regular_file" and done.record["details"] == {"copied": False}
        assert done.record["reason"].endswith("(instead of unreadable_file: cannot be read)")
    copies = [p for p in quarantine_dir(LANDING).rglob("*") if p.is_file() and not p.name.endswith(".reason.json")]
    assert copies == []
    assert outside.read_bytes() == b"private\n" and link.is_symlink() and fifo.is_fifo()
    assert con.execute("SELECT count(*), min(rule), max(rule) FROM quarantine.rejected_files").fetchone() == (
        2, "not_a_regular_file", "not_a_regular_file")
