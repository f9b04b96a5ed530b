"""Task lists and status reports in the reliability corpus: what reaches the shared intake engine
through the task inboxes (a CSV with a BOM or in UTF-16, a legacy code page, a truncated XLSX, a
zip bomb, a symbolic link, a formula cell without a value). The readers are the shared ones
(ingestion/reports/report_files.py), so a few cases suffice. Every case asserts the named rule, a
reason naming the file, that a good file still flows, reconciliation, and a rerun that is a no-op
(docs/reliability.md)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.report_intake import ingest_task_reports
from ingestion.tasks.templates import (
    REPORT_SHEET,
    plan_csv_text,
    plan_workbook,
    report_csv_text,
    report_workbook,
    write_plan_file,
)
from tests.ingestion.test_task_plan_intake import assert_reconciled, outcome

D = dt.date
PLAN_HEADER = {"issuer_code": "UBQGCDS", "document_number": "KH 05/KH-UBQGCDS", "document_date": D(2025, 4, 1),
               "document_title": "Kế hoạch năm 2025", "report_date": D(2025, 4, 2)}
PLAN_ROWS = [{"task_code": "NV-01", "title": "Số hoá hồ sơ, kết quả giải quyết thủ tục hành chính", "lead_unit": "01",
              "deadline": "Quý IV/2025"},
             {"task_code": "NV-02", "title": "Phát triển nền tảng số", "lead_unit": "BTC", "deadline": "30/11/2025"}]
REPORT_HEADER = {"unit_code": "01", "period": "2025-08", "report_date": D(2025, 9, 2)}
REPORT_ROWS = [{"task_code": "NV-01", "status": "Đang thực hiện", "progress": 30},
               {"task_code": "NV-02", "status": "Đã hoàn thành", "completion_date": D(2025, 8, 15), "evidence": "QĐ 1"}]


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


def plan_place(data_root: Path, folder: str, name: str) -> Path:
    path = data_root / "task_plans" / "2025" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def report_place(data_root: Path, folder: str, name: str) -> Path:
    path = data_root / "task_reports" / "2025-08" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def xlsx_bytes(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def assert_invariants(con, data_root: Path, kind: str) -> None:
    """The good file flows; every submission reconciles; a rerun takes nothing new."""
    ingest, table = ((ingest_task_plans, "raw.task_plan") if kind == "plans" else (ingest_task_reports,
                                                                                   "raw.task_report"))
    assert con.execute(f"SELECT status, rows_accepted FROM {table}_submissions WHERE inbox_path LIKE '%/good.xlsx'"
                       ).fetchall() == [("accepted", 2)]
    assert_reconciled(con, f"{table}_submissions", f"{table}_rows")
    before = con.execute(f"SELECT * FROM {table}_submissions ORDER BY submission_id").fetchall()
    copies = con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone()
    again = ingest(con, data_root / f"task_{kind}")
    assert {f.action for f in again.files} <= {"unchanged", "refused"}
    assert con.execute(f"SELECT * FROM {table}_submissions ORDER BY submission_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone() == copies


def test_task_lists_with_a_bom_in_utf16_and_in_a_legacy_code_page(con, data_root):
    plan_place(data_root, "UBQGCDS", "good.xlsx").write_bytes(xlsx_bytes(plan_workbook(PLAN_HEADER, PLAN_ROWS)))
    text = plan_csv_text(PLAN_HEADER, PLAN_ROWS)
    plan_place(data_root, "VPCP", "bom.csv").write_bytes(
        "\ufeff".encode() + text.replace("UBQGCDS", "VPCP").encode("utf-8"))
    plan_place(data_root, "TTG", "utf16.csv").write_text(text.replace("UBQGCDS", "TTG"), encoding="utf-16")
    plan_place(data_root, "CP", "cp1258.csv").write_bytes(text.replace("UBQGCDS", "CP").encode("cp1258",
                                                                                                errors="replace"))
    summary = ingest_task_plans(con, data_root / "task_plans")
    encodings = dict(con.execute("SELECT folder_unit_code, file_encoding FROM raw.task_plan_submissions WHERE "
                                 "status = 'accepted'").fetchall())
    assert encodings == {"UBQGCDS": None, "VPCP": "utf-8-sig", "TTG": "utf-16"}
    titles = {t for (t,) in con.execute("SELECT DISTINCT title FROM raw.task_plan_rows").fetchall()}
    assert titles == {"Số hoá hồ sơ, kết quả giải quyết thủ tục hành chính", "Phát triển nền tảng số"}
    bad = outcome(summary, "cp1258.csv")
    assert (bad.action, bad.rule) == ("rejected", "wrong_encoding") and "file 'cp1258.csv'" in bad.reason
    assert_invariants(con, data_root, "plans")


def test_a_truncated_xlsx_and_a_zip_bomb_are_refused_whole(con, data_root):
    plan_place(data_root, "UBQGCDS", "good.xlsx").write_bytes(xlsx_bytes(plan_workbook(PLAN_HEADER, PLAN_ROWS)))
    data = xlsx_bytes(plan_workbook({**PLAN_HEADER, "issuer_code": "TTG"}, PLAN_ROWS))
    plan_place(data_root, "TTG", "cut.xlsx").write_bytes(data[: len(data) // 2])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 << 20))  # 200 MiB of zeros, a few hundred KB packed
    plan_place(data_root, "CP", "bomb.xlsx").write_bytes(bomb.getvalue())
    summary = ingest_task_plans(con, data_root / "task_plans")
    cut, boom = outcome(summary, "cut.xlsx"), outcome(summary, "bomb.xlsx")
    assert (cut.action, cut.rule) == ("rejected", "unreadable_file") and cut.reason.startswith("truncated XLSX")
    assert boom.action == "rejected" and boom.rule in ("uncompressed_too_large", "compression_ratio_too_high")
    assert boom.reason.startswith("limit exceeded") and "file 'bomb.xlsx'" in boom.reason
    assert con.execute("SELECT rows_read FROM raw.task_plan_submissions WHERE inbox_path = ?", [cut.path]
                       ).fetchone() == (None,)
    assert_invariants(con, data_root, "plans")


def test_a_symlink_in_the_task_reports_inbox_is_refused_unread(con, data_root, tmp_path):
    report_place(data_root, "01", "good.xlsx").write_bytes(xlsx_bytes(report_workbook(REPORT_HEADER, REPORT_ROWS)))
    outside = tmp_path / "outside.csv"
    outside.write_text(report_csv_text({**REPORT_HEADER, "unit_code": "79"}, REPORT_ROWS), encoding="utf-8")
    link = report_place(data_root, "79", "link.csv")
    link.symlink_to(outside)
    summary = ingest_task_reports(con, data_root / "task_reports")
    result = outcome(summary, "link.csv")
    assert (result.action, result.rule) == ("refused", "not_a_regular_file")
    assert con.execute("SELECT rule, input_kind FROM quarantine.rejected_files WHERE original_location = ?",
                       [str(link)]).fetchall() == [("not_a_regular_file", "task_reports")]
    assert con.execute("SELECT count(*) FROM raw.task_report_submissions WHERE folder_unit_code = '79'"
                       ).fetchone() == (0,)
    assert_invariants(con, data_root, "reports")


def test_a_formula_without_a_value_rejects_its_row_only(con, data_root):
    report_place(data_root, "01", "good.xlsx").write_bytes(xlsx_bytes(report_workbook(REPORT_HEADER, REPORT_ROWS)))
    wb = report_workbook({**REPORT_HEADER, "unit_code": "79"}, REPORT_ROWS)
    wb[REPORT_SHEET]["E11"] = "=TODAY()"  # NV-02's completion date: no cached value
    report_place(data_root, "79", "formula.xlsx").write_bytes(xlsx_bytes(wb))
    result = outcome(ingest_task_reports(con, data_root / "task_reports"), "formula.xlsx")
    assert (result.action, result.rows, result.rejected_rows) == ("accepted", 2, 1)
    rule, field, reason = con.execute("SELECT rule, field, reason FROM quarantine.task_rejections WHERE file = ?",
                                      [result.path]).fetchone()
    assert (rule, field) == ("formula_without_value", "completion_date")
    assert reason.startswith("formula without a value") and \
        "sheet 'Báo cáo tiến độ', row 11, field 'completion_date', task NV-02" in reason
    assert_invariants(con, data_root, "reports")


def test_a_task_list_without_the_table_is_rejected_naming_the_columns(con, data_root):
    plan_place(data_root, "UBQGCDS", "good.xlsx").write_bytes(xlsx_bytes(plan_workbook(PLAN_HEADER, PLAN_ROWS)))
    write_plan_file(plan_place(data_root, "TTG", "other.csv"), {**PLAN_HEADER, "issuer_code": "TTG"}, PLAN_ROWS)
    path = plan_place(data_root, "TTG", "other.csv")
    path.write_text(path.read_text(encoding="utf-8-sig").replace("task_code,title,lead_unit", "stt,noi_dung,don_vi"),
                    encoding="utf-8")
    result = outcome(ingest_task_plans(con, data_root / "task_plans"), "other.csv")
    assert (result.action, result.rule) == ("rejected", "missing_columns")
    assert result.reason.startswith("missing columns: the table header needs the columns task_code and lead_unit "
                                    "and deadline"), result.reason
    assert_invariants(con, data_root, "plans")
