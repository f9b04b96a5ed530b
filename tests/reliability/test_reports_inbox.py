"""Agency reports (DTI inbox), what reaches the reader: links and special files, file names
that look like formulas, control characters in codes, implausible report dates. Every input is
generated here; each case asserts the named rule and a reason that starts with its cause, that
the good reports still flow, the per-file reconciliation, and that a rerun is a no-op (issue 10;
docs/reliability.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from ingestion.core.quarantine import quarantine_root
from ingestion.core.raw_archive import raw_archive_dir
from ingestion.reports.intake import ingest_inbox
from tests.reliability.reports_helpers import (
    FORMULA_LEAD,
    GOOD,
    assert_good_flow,
    assert_no_reason_leads_with_sender_text,
    assert_reconciled,
    assert_rejected,
    assert_rerun_is_a_no_op,
    csv_report,
    drop,
    good_reports,
    outcome,
    template_bytes,
)


def archived_objects() -> set[str]:
    objects = raw_archive_dir() / "objects"
    return {p.name.split(".")[0] for p in objects.rglob("*") if p.is_file()} if objects.exists() else set()


def assert_refused(con, summary, path: Path, kind: str) -> None:
    """Refused unread: rule not_a_regular_file, a reason file and a row, no copy, no submission."""
    result = outcome(summary, path.name)
    assert (result.action, result.rule) == ("refused", "not_a_regular_file"), result
    assert result.reason.startswith(kind), result.reason
    row = con.execute("SELECT rule, reason, location, input_kind, sha256 FROM quarantine.rejected_files "
                      "WHERE original_location = ?", [str(path)]).fetchall()
    assert len(row) == 1 and row[0][:2] == ("not_a_regular_file", result.reason) and row[0][3] == "dti_reports"
    record = json.loads(Path(row[0][2]).read_text(encoding="utf-8"))
    assert record["details"] == {"copied": False} and record["size_bytes"] == 0
    folder = Path(row[0][2]).parent
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".reason.json")] == []  # no copy
    assert con.execute("SELECT count(*) FROM raw.dti_submissions WHERE inbox_path LIKE ?",
                       [f"{path}%"]).fetchone() == (0,)


def test_a_symlink_to_a_file_outside_the_inbox_is_refused_and_the_outside_file_untouched(con, inbox, tmp_path):
    good_reports(inbox)
    outside = tmp_path / "elsewhere" / "secret.xlsx"
    outside.parent.mkdir()
    outside.write_bytes(template_bytes("02"))  # a perfectly good report: still not taken through a link
    before = (outside.read_bytes(), outside.stat().st_mtime_ns)
    link = drop(inbox, 2023, "02", "link.xlsx")
    link.symlink_to(outside)
    summary = ingest_inbox(con, inbox)
    assert_refused(con, summary, link, "symbolic link refused")
    assert (outside.read_bytes(), outside.stat().st_mtime_ns) == before and outside.parent.iterdir()
    assert hashlib.sha256(before[0]).hexdigest() not in archived_objects()
    assert not [p for p in quarantine_root().rglob("*") if p.is_file() and not p.name.endswith(".reason.json")]
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())


def test_a_symlinked_unit_folder_is_refused_never_entered(con, inbox, tmp_path):
    good_reports(inbox)
    outside = tmp_path / "other_folder"
    outside.mkdir()
    (outside / "bao_cao.csv").write_text(csv_report("04"), encoding="utf-8")
    (inbox / "2023").mkdir(parents=True, exist_ok=True)
    unit_link = inbox / "2023" / "04"
    unit_link.symlink_to(outside, target_is_directory=True)
    summary = ingest_inbox(con, inbox)
    assert_refused(con, summary, unit_link, "symbolic link refused")
    assert not [f for f in summary.files if "bao_cao.csv" in f.path]
    assert con.execute("SELECT count(*) FROM raw.dti_submissions WHERE folder_unit_code = '04'").fetchone() == (0,)
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())


def test_a_fifo_in_the_inbox_is_refused_without_blocking(con, inbox):
    good_reports(inbox)
    fifo = drop(inbox, 2023, "02", "pipe.csv")
    os.mkfifo(fifo)
    summary = ingest_inbox(con, inbox)  # opening a FIFO would block forever: it is never opened
    assert_refused(con, summary, fifo, "FIFO refused")
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())


def test_file_names_that_look_like_formulas_never_lead_a_reason(con, inbox):
    """Reasons start with their cause: a file named =HYPERLINK(...).csv cannot make a reason (and so
    a cell of the DTI audit pack's rejections.csv / inputs.csv) start with '='."""
    good_reports(inbox)
    formula = '=HYPERLINK("http:evil","y").csv'
    values = {**GOOD, "7.2": {"value": "=cmd|' /C calc'!A0"}, "1.2": {"value": "@SUM(1+1)"}}
    drop(inbox, 2023, "02", formula).write_text(csv_report("79", values=values), encoding="utf-8")  # foreign unit
    drop(inbox, 2023, "04", "+cmd.xlsx").write_bytes(b"+cmd|' /C calc'!A0")  # not a zip
    drop(inbox, 2023, "06", "@SUM(1+1).csv").write_bytes(csv_report("06").encode("cp1258", errors="replace"))
    drop(inbox, 2023, "08", "-2+3.csv").write_text(csv_report("08", values=values), encoding="utf-8")
    summary = ingest_inbox(con, inbox)
    reason = assert_rejected(con, summary, formula, "foreign_unit", "the file is the report of unit 79")
    assert "file '=HYPERLINK(\"http:evil\",\"y\").csv'" in reason
    assert_rejected(con, summary, "+cmd.xlsx", "unreadable_file", "not an XLSX workbook")
    assert_rejected(con, summary, "@SUM(1+1).csv", "wrong_encoding", "not valid UTF-8")
    assert outcome(summary, "-2+3.csv").action == "accepted"
    rows = dict(con.execute(
        "SELECT v.indicator_code, v.rejection_reason FROM raw.dti_report_values v JOIN raw.dti_submissions s "
        "USING (submission_id) WHERE s.folder_unit_code = '08' AND v.rejection_rule IS NOT NULL").fetchall())
    assert set(rows) == {"1.2", "7.2"}
    assert rows["7.2"].startswith("expected a number") and "found \"=cmd|' /C calc'!A0\"" in rows["7.2"]
    line = next(i for i, t in enumerate(csv_report("08", values=values).splitlines(), start=1) if t.startswith("7.2,"))
    assert rows["7.2"].endswith(f"(file '-2+3.csv', line {line}, field 'value', indicator 7.2)")
    assert_no_reason_leads_with_sender_text(con)
    # the sources of the DTI audit pack's rejections.csv and inputs.csv: no cell but the sender's
    # own values (raw_value, evidence: made inert by the writers) starts like a formula
    for table, columns in (("quarantine.dti_rejections", "file, archived_path, sheet, field, rule, reason"),
                           ("raw.dti_submissions", "inbox_path, archived_path, file_format, status, "
                                                   "rejection_reason, rejection_rule")):
        cells = [c for row in con.execute(f"SELECT {columns} FROM {table}").fetchall() for c in row if c]
        assert cells and not [c for c in cells if str(c).startswith(FORMULA_LEAD)], table
    for reason_file in quarantine_root().rglob("*.reason.json"):
        assert not json.loads(reason_file.read_text(encoding="utf-8"))["reason"].startswith(FORMULA_LEAD)
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())


def test_codes_made_of_nul_bytes_are_missing_and_evidence_keeps_its_content(con, inbox):
    good_reports(inbox)
    # a unit code of NULs in the header: the header cell is empty
    drop(inbox, 2023, "02", "nul_unit.csv").write_text(csv_report("\x00\x00"), encoding="utf-8")
    # the same in an XLSX, where Excel writes control characters as _xHHHH_
    drop(inbox, 2023, "04", "nul_unit.xlsx").write_bytes(template_bytes("_x0000__x0000_"))
    # an indicator code of NULs on a row with a value, and evidence that looks like a formula
    evidence = '=HYPERLINK("http://x","y")'
    text = csv_report("06", values={**GOOD, "7.1": {"value": "85%", "evidence": evidence + "\x00"}})
    text += "\x00\x00,,,,,5,,,\n"
    drop(inbox, 2023, "06", "nul_code.csv").write_text(text, encoding="utf-8")
    summary = ingest_inbox(con, inbox)
    assert_rejected(con, summary, "nul_unit.csv", "missing_header", "missing header: header cell(s) 'Mã đơn vị'")
    assert_rejected(con, summary, "nul_unit.xlsx", "missing_header", "missing header: header cell(s) 'Mã đơn vị'")
    assert outcome(summary, "nul_code.csv").action == "accepted"
    got = con.execute("SELECT v.indicator_code, v.rejection_rule, v.rejection_reason, v.evidence FROM raw.dti_report_values "
                      "v JOIN raw.dti_submissions s USING (submission_id) WHERE s.folder_unit_code = '06' "
                      "AND (v.indicator_code IS NULL OR v.indicator_code = '7.1') ORDER BY 1 NULLS FIRST").fetchall()
    assert got[0][:2] == (None, "unknown_indicator") and got[0][2].startswith("unknown indicator: the row has values "
                                                                              "but no indicator code")
    assert got[1] == ("7.1", None, None, evidence)  # kept as sent (the writers make it inert), NUL removed
    assert con.execute("SELECT rows_read, rows_accepted, rows_rejected FROM raw.dti_submissions "
                       "WHERE folder_unit_code = '06'").fetchone() == (9, 8, 1)
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())


def test_a_report_date_outside_its_plausible_window_is_a_named_rule(con, inbox, monkeypatch):
    good_reports(inbox)
    drop(inbox, 2023, "02", "future.csv").write_text(csv_report("02", report_date="15/01/2099"), encoding="utf-8")
    drop(inbox, 2023, "04", "before.xlsx").write_bytes(template_bytes("04", report_date=dt.date(2022, 12, 31)))
    summary = ingest_inbox(con, inbox)
    reason = assert_rejected(con, summary, "future.csv", "implausible_report_date", "implausible report date 15/01/2099")
    assert "from 01/01/2023 to 31/12/2025" in reason and "DXMON_REPORT_DATE_YEARS_AFTER" in reason
    assert_rejected(con, summary, "before.xlsx", "implausible_report_date", "implausible report date 31/12/2022")
    assert_good_flow(con)
    assert_reconciled(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())
    # never dated after the day it is received (plus DXMON_REPORT_DATE_DAYS_AHEAD, 1 day)
    monkeypatch.setenv("DXMON_REPORT_DATE_YEARS_AFTER", "20")
    ahead = dt.date.today() + dt.timedelta(days=5)
    drop(inbox, 2023, "06", "ahead.csv").write_text(csv_report("06", report_date=f"{ahead:%d/%m/%Y}"), encoding="utf-8")
    later = ingest_inbox(con, inbox)
    reason = assert_rejected(con, later, "ahead.csv", "implausible_report_date", f"implausible report date {ahead:%d/%m/%Y}")
    assert f"to {dt.date.today() + dt.timedelta(days=1):%d/%m/%Y}" in reason
    # configurable: with no year after the reported one allowed, a January report is implausible
    monkeypatch.setenv("DXMON_REPORT_DATE_YEARS_AFTER", "0")
    drop(inbox, 2023, "08", "january.csv").write_text(csv_report("08"), encoding="utf-8")
    later = ingest_inbox(con, inbox)
    assert_rejected(con, later, "january.csv", "implausible_report_date", "implausible report date 15/01/2024")
    assert_good_flow(con)
    assert_reconciled(con)


def test_the_whole_corpus_at_once_reruns_identically(con, inbox, tmp_path):
    """Every kind of bad input of this corpus in one inbox with the good reports: one pass takes
    the good ones, refuses or rejects each bad one by its rule, and a second pass changes nothing."""
    good_reports(inbox)
    outside = tmp_path / "outside.csv"
    outside.write_text(csv_report("02"), encoding="utf-8")
    drop(inbox, 2023, "02", "link.csv").symlink_to(outside)
    os.mkfifo(drop(inbox, 2023, "04", "pipe.csv"))
    whole = template_bytes("06")
    drop(inbox, 2023, "06", "cut.xlsx").write_bytes(whole[: len(whole) // 2])
    drop(inbox, 2023, "08", '=HYPERLINK("x","y").csv').write_text(csv_report("08", report_date="01/01/2099"),
                                                                   encoding="utf-8")
    drop(inbox, 2023, "10", "latin1.csv").write_bytes(csv_report("10").encode("latin-1", errors="replace"))
    drop(inbox, 2023, "11", "utf16be.csv").write_bytes("\ufeff".encode("utf-16-be") + csv_report("11").encode("utf-16-be"))
    summary = ingest_inbox(con, inbox)
    rules = sorted((Path(f.path).name, f.action, f.rule) for f in summary.files)
    assert rules == [('=HYPERLINK("x","y").csv', "rejected", "implausible_report_date"),
                     ("cut.xlsx", "rejected", "unreadable_file"),
                     ("ha_noi.xlsx", "accepted", None), ("hcm.csv", "accepted", None),
                     ("latin1.csv", "rejected", "wrong_encoding"),
                     ("link.csv", "refused", "not_a_regular_file"),
                     ("pipe.csv", "refused", "not_a_regular_file"),
                     ("utf16be.csv", "accepted", None)]
    assert_good_flow(con)
    assert_reconciled(con)
    assert_no_reason_leads_with_sender_text(con)
    assert_rerun_is_a_no_op(con, inbox, quarantine_root())
