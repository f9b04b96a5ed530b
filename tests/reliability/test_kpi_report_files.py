"""Agency KPI reports in the reliability corpus: what reaches the shared intake engine through the
KPI inbox (a symbolic link, a truncated XLSX, a CSV in UTF-16, a foreign unit, a formula cell
without a value). Every case asserts the named rule, a reason naming the file, that a good
report still flows, the reconciliation and that a rerun is a no-op (docs/reliability.md)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.kpi.reports.intake import ingest_kpi_inbox
from ingestion.kpi.reports.templates import KPI_SHEET, form_measures, report_csv_text, report_workbook

PERIOD = "2025-Q3"


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


@pytest.fixture
def inbox(data_root) -> Path:
    return data_root / "kpi_inbox"


def values(level: str = "province") -> dict:
    return {(m.kpi_code, m.measure): {"value": 60 if m.unit != "count" else 10} for m in form_measures(level)}


def place(inbox: Path, unit: str, name: str) -> Path:
    folder = inbox / PERIOD / unit
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def xlsx_bytes(unit: str = "01") -> bytes:
    out = io.BytesIO()
    report_workbook("province", PERIOD, unit_code=unit, report_date=dt.date(2025, 10, 2), values=values()).save(out)
    return out.getvalue()


def good_report(inbox: Path) -> Path:
    path = place(inbox, "79", "hcm.xlsx")
    path.write_bytes(xlsx_bytes("79"))
    return path


def assert_invariants(con, inbox: Path) -> None:
    """The good report flows; every submission reconciles; a rerun takes nothing new."""
    assert con.execute("SELECT status, rows_rejected FROM raw.kpi_submissions WHERE inbox_path LIKE '%hcm.xlsx'"
                       ).fetchall() == [("accepted", 0)]
    for sid, status, read, accepted, rejected, stored in con.execute(
            "SELECT s.submission_id, s.status, s.rows_read, s.rows_accepted, s.rows_rejected, count(v.submission_id) "
            "FROM raw.kpi_submissions s LEFT JOIN raw.kpi_report_values v USING (submission_id) GROUP BY ALL"
    ).fetchall():
        if read is None:
            assert status == "rejected" and stored == 0, sid
        else:
            assert read == accepted + rejected == stored, sid
    before = con.execute("SELECT * FROM raw.kpi_submissions ORDER BY submission_id").fetchall()
    files = con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone()
    again = ingest_kpi_inbox(con, inbox)
    assert {f.action for f in again.files} <= {"unchanged", "refused"}
    assert con.execute("SELECT * FROM raw.kpi_submissions ORDER BY submission_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone() == files


def outcome(summary, name: str):
    return next(f for f in summary.files if Path(f.path).name == name)


def test_a_symlink_in_the_kpi_inbox_is_refused_unread(con, inbox, tmp_path):
    good_report(inbox)
    outside = tmp_path / "outside.xlsx"
    outside.write_bytes(xlsx_bytes("01"))
    link = place(inbox, "01", "link.xlsx")
    link.symlink_to(outside)
    summary = ingest_kpi_inbox(con, inbox)
    result = outcome(summary, "link.xlsx")
    assert (result.action, result.rule) == ("refused", "not_a_regular_file")
    assert con.execute("SELECT rule, input_kind FROM quarantine.rejected_files WHERE original_location = ?",
                       [str(link)]).fetchall() == [("not_a_regular_file", "kpi_reports")]
    assert con.execute("SELECT count(*) FROM raw.kpi_submissions WHERE folder_unit_code = '01'").fetchone() == (0,)
    assert_invariants(con, inbox)


def test_a_truncated_xlsx_is_rejected_whole(con, inbox):
    good_report(inbox)
    data = xlsx_bytes("01")
    place(inbox, "01", "cut.xlsx").write_bytes(data[: len(data) // 2])
    result = outcome(ingest_kpi_inbox(con, inbox), "cut.xlsx")
    assert (result.action, result.rule) == ("rejected", "unreadable_file")
    assert result.reason.startswith("truncated XLSX workbook") and "file 'cut.xlsx'" in result.reason
    assert con.execute("SELECT rows_read FROM raw.kpi_submissions WHERE inbox_path = ?", [result.path]).fetchone() \
        == (None,)
    assert_invariants(con, inbox)


def test_a_csv_in_utf16_is_read_and_a_legacy_code_page_refused(con, inbox):
    good_report(inbox)
    text = report_csv_text("province", PERIOD, unit_code="01", report_date="02/10/2025", values=values())
    place(inbox, "01", "utf16.csv").write_text(text.replace("# unit_name: Hà Nội", "# unit_name: Thành phố Hà Nội"),
                                               encoding="utf-16")
    place(inbox, "48", "cp1258.csv").write_bytes(
        report_csv_text("province", PERIOD, unit_code="48", report_date="02/10/2025", values=values())
        .encode("cp1258", errors="replace"))
    summary = ingest_kpi_inbox(con, inbox)
    assert (outcome(summary, "utf16.csv").action, outcome(summary, "utf16.csv").rejected_rows) == ("accepted", 0)
    assert con.execute("SELECT file_encoding FROM raw.kpi_submissions WHERE inbox_path LIKE '%utf16.csv'"
                       ).fetchone() == ("utf-16",)
    bad = outcome(summary, "cp1258.csv")
    assert (bad.action, bad.rule) == ("rejected", "wrong_encoding") and "file 'cp1258.csv'" in bad.reason
    assert_invariants(con, inbox)


def test_a_foreign_units_report_is_rejected_and_its_rows_traced(con, inbox):
    good_report(inbox)
    place(inbox, "01", "da_nang.xlsx").write_bytes(xlsx_bytes("48"))
    result = outcome(ingest_kpi_inbox(con, inbox), "da_nang.xlsx")
    assert (result.action, result.rule) == ("rejected", "foreign_unit")
    assert "unit 48 (Đà Nẵng)" in result.reason and "unit 01 (Hà Nội)" in result.reason
    traced = con.execute("SELECT unit_code, rows_read FROM raw.kpi_submissions WHERE inbox_path = ?",
                         [result.path]).fetchone()
    assert traced == ("48", len(form_measures("province")))
    assert_invariants(con, inbox)


def test_a_formula_cell_without_a_value_rejects_its_row_only(con, inbox):
    good_report(inbox)
    wb = report_workbook("province", PERIOD, unit_code="01", report_date=dt.date(2025, 10, 2), values=values())
    ws = wb[KPI_SHEET]
    ws["F11"] = "=G11/H11*100"  # openpyxl writes the formula without a cached value
    out = io.BytesIO()
    wb.save(out)
    place(inbox, "01", "formula.xlsx").write_bytes(out.getvalue())
    result = outcome(ingest_kpi_inbox(con, inbox), "formula.xlsx")
    assert (result.action, result.rejected_rows) == ("accepted", 1)
    rule, field, reason = con.execute("SELECT rule, field, reason FROM quarantine.kpi_rejections WHERE file = ?",
                                      [result.path]).fetchone()
    assert (rule, field) == ("formula_without_value", "value")
    assert reason.startswith("formula without a value") and "sheet 'Chỉ tiêu KPI', row 11, field 'value'" in reason
    assert_invariants(con, inbox)


def test_a_zip_that_is_not_a_workbook_is_rejected(con, inbox):
    good_report(inbox)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    place(inbox, "01", "other.xlsx").write_bytes(buffer.getvalue())
    result = outcome(ingest_kpi_inbox(con, inbox), "other.xlsx")
    assert result.action == "rejected" and result.rule in ("unreadable_file", "missing_sheet")
    assert "file 'other.xlsx'" in result.reason
    assert_invariants(con, inbox)
