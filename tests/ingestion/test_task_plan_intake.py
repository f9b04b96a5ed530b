"""Task lists through the shared intake engine (ingestion/tasks/plan_intake.py): one inbox holding
every file rule and every row rule once, taken once per module and asserted many ways; versions,
the merged province, reconciliation and an idempotent rerun. The helpers here are shared by the
other task tests."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.registry import tasks_of_unit
from ingestion.tasks.templates import PLAN_SHEET, plan_workbook, write_plan_file

D = dt.date
DOCUMENT_DATE = D(2025, 3, 15)
BASE_TIME = 1_750_000_000


def stamp(path: Path, seconds: int) -> Path:
    """Order of receipt: the engine takes files by modification time."""
    os.utime(path, (BASE_TIME + seconds, BASE_TIME + seconds))
    return path


def plan_header(issuer="UBQGCDS", number="KH 01/KH-UBQGCDS", day=DOCUMENT_DATE, prepared=None, **extra) -> dict:
    return {"issuer_code": issuer, "document_number": number, "document_date": day,
            "document_title": "Kế hoạch hoạt động năm 2025 của Ủy ban Quốc gia về chuyển đổi số",
            "report_date": prepared or day + dt.timedelta(days=2), **extra}


def task(code, lead="01", deadline="Quý III/2025", title=None, **extra) -> dict:
    return {"task_code": code, "title": title or f"Nhiệm vụ {code}: hoàn thiện thể chế số", "lead_unit": lead,
            "deadline": deadline, "expected_result": "Báo cáo", **extra}


def put_plan(inbox: Path, year: int, folder: str, name: str, header: dict, rows: list[dict], seconds: int,
             fmt: str | None = None) -> Path:
    return stamp(write_plan_file(inbox / str(year) / folder / name, header, rows, fmt), seconds)


def outcome(summary, name: str):
    found = [f for f in summary.files if Path(f.path).name == name]
    assert len(found) == 1, [(f.path, f.action) for f in summary.files]
    return found[0]


def assert_reconciled(con, submissions: str, rows: str) -> None:
    """rows_read = rows_accepted + rows_rejected = rows stored; NULL counts for a file rejected whole."""
    for sid, status, read, accepted, rejected, stored, flagged in con.execute(
            f"SELECT s.submission_id, s.status, s.rows_read, s.rows_accepted, s.rows_rejected, count(v.submission_id), "
            f"count(v.rejection_rule) FROM {submissions} s LEFT JOIN {rows} v USING (submission_id) GROUP BY ALL"
    ).fetchall():
        if read is None:
            assert status == "rejected" and stored == 0 and accepted is None, sid
        else:
            assert read == accepted + rejected == stored and rejected == flagged, (sid, read, accepted, rejected)


ROW_RULE_ROWS = [
    task("NV-01", title="Xây dựng Chiến lược dữ liệu quốc gia", key_task=True, cooperating_units=["BTC", "79"]),
    {"title": "I. NHIỆM VỤ VỀ THỂ CHẾ"},  # a section heading: layout, not a task
    task(None, title="Nhiệm vụ không có mã"),
    task(" nv-01 ", title="Trùng mã"),
    {**task("NV-03"), "title": None},
    task("NV-04", lead=""),
    task("NV-05", lead="01, 79"),
    task("NV-06", lead="99"),
    task("NV-07", cooperating_units="BTC; ZZZ"),
    task("NV-08", lead="BKHDT"),
    task("NV-09", deadline="sớm nhất có thể"),
    task("NV-10", deadline=D(2025, 1, 31)),
    task("NV-11", expected_result=None, deadline="Hằng quý"),
    task("NV-12", key_task="quan trọng"),
    task("NV-13", deadline="Thường xuyên", lead="BTC"),
    task("NV-14"),  # its deadline becomes a formula without a value
]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    root = tmp_path_factory.mktemp("task_plans")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        mp.setenv("DXMON_WAREHOUSE", str(root / "data" / "warehouse" / "dxmon.duckdb"))
        inbox = root / "data" / "task_plans"
        # every row rule once, in one XLSX
        wb = plan_workbook(plan_header(), ROW_RULE_ROWS)
        ws = wb[PLAN_SHEET]
        ws.cell(10 + len(ROW_RULE_ROWS), 5).value = "=DATE(2025,9,30)"  # openpyxl keeps no cached value
        folder = inbox / "2025" / "UBQGCDS"
        folder.mkdir(parents=True)
        out = io.BytesIO()
        wb.save(out)
        (folder / "rules.xlsx").write_bytes(out.getvalue())
        stamp(folder / "rules.xlsx", 0)
        # the same document again, corrected: version 2 takes over
        put_plan(inbox, 2025, "UBQGCDS", "rules_v2.csv", plan_header(), [task("NV-01", title="Bản sửa: Chiến lược "
                                                                             "dữ liệu quốc gia")], 1)
        # the merged province: 02 leads a task of May, not one of August
        put_plan(inbox, 2025, "TTG", "may.csv", plan_header("TTG", "QĐ 100/QĐ-TTg", D(2025, 5, 20)),
                 [task("HG-01", lead="02", deadline="Tháng 12/2025")], 2)
        put_plan(inbox, 2025, "TTG", "august.csv", plan_header("TTG", "QĐ 200/QĐ-TTg", D(2025, 8, 5)),
                 [task("HG-02", lead="02", deadline="Năm 2025"), task("TQ-01", lead="08", deadline="Năm 2025")], 3)
        # file rules, one file each
        files = {
            "missing_header.csv": (2025, "CP", plan_header("CP", day=None, prepared=D(2025, 3, 1))),
            "bad_header.csv": (2025, "CP", plan_header("CP", day="hôm qua", prepared=D(2025, 3, 1))),
            "foreign_issuer.csv": (2025, "CP", plan_header("TTG")),
            "foreign_year.csv": (2025, "VPCP", plan_header("VPCP", day=D(2024, 12, 20))),
            "unknown_issuer.csv": (2025, "XYZ", plan_header("XYZ")),
            "implausible.csv": (2025, "VPCP", plan_header("VPCP", prepared=D(2025, 1, 2))),
            "old_template.csv": (2025, "BTC", plan_header("BTC", template_version="0.9")),
        }
        for i, (name, (year, folder_name, header)) in enumerate(files.items()):
            put_plan(inbox, year, folder_name, name, header, [task("NV-01")], 10 + i)
        with connect() as con:
            prepare_warehouse(con)
            summary = ingest_task_plans(con, inbox)
            yield {"con": con, "summary": summary, "inbox": inbox, "root": root}


def rejections(con, name: str) -> dict:
    return {code: (rule, field, reason) for code, rule, field, reason in con.execute(
        "SELECT task_code, rule, field, reason FROM quarantine.task_rejections WHERE rejection_level = 'row' AND "
        "file LIKE ?", [f"%/{name}"]).fetchall()}


def test_every_file_is_taken_and_every_submission_reconciles(plans):
    meta = plans["summary"].as_metadata()
    assert (meta["files"], meta["accepted"], meta["rejected"]) == (11, 4, 7)
    assert_reconciled(plans["con"], "raw.task_plan_submissions", "raw.task_plan_rows")
    assert plans["con"].execute("SELECT DISTINCT submission_id LIKE 'taskplan:2025:%:%' FROM "
                                "raw.task_plan_submissions").fetchall() == [(True,)]


@pytest.mark.parametrize("name, rule, cause", [
    ("missing_header.csv", "missing_header", "missing header: header cell(s) 'Ngày ban hành văn bản (dd/mm/yyyy)'"),
    ("bad_header.csv", "bad_header", "unreadable header 'Ngày ban hành văn bản (dd/mm/yyyy)': expected a date"),
    ("foreign_issuer.csv", "foreign_issuer", "the file is the task list of issuer TTG (Thủ tướng Chính phủ) but was "
                                             "submitted into the folder of CP (Chính phủ); send it to "
                                             "task_plans/2025/TTG/"),
    ("foreign_year.csv", "foreign_year", "the document KH 01/KH-UBQGCDS is dated 20/12/2024 but was submitted into "
                                         "task_plans/2025/; send it to task_plans/2024/VPCP/"),
    ("unknown_issuer.csv", "unknown_issuer", "unknown issuer: code XYZ is neither an issuer of task_issuers.csv nor "
                                             "a unit of the unit registry"),
    ("implausible.csv", "implausible_report_date", "implausible date prepared 02/01/2025: the task list of a "
                                                   "document dated 15/03/2025 is prepared from that day"),
    ("old_template.csv", "wrong_template_version", "wrong template version: the file fills in version 0.9"),
])
def test_file_rules_reject_the_file_naming_it(plans, name, rule, cause):
    result = outcome(plans["summary"], name)
    assert (result.action, result.rule) == ("rejected", rule), result.reason
    assert result.reason.startswith(cause) and f"file '{name}'" in result.reason, result.reason
    copy = plans["con"].execute("SELECT rule, input_kind, location FROM quarantine.rejected_files WHERE "
                                "original_location = ?", [result.path]).fetchone()
    assert copy[:2] == (rule, "task_plans") and Path(copy[2]).is_file() and "/task_plans/2025/" in copy[2]


def test_a_misplaced_list_is_still_read_so_its_rows_can_be_traced(plans):
    for name, issuer in (("foreign_issuer.csv", "TTG"), ("foreign_year.csv", "VPCP")):
        got = plans["con"].execute("SELECT unit_code, rows_read, document_number FROM raw.task_plan_submissions "
                                   "WHERE inbox_path LIKE ?", [f"%/{name}"]).fetchone()
        assert got == (issuer, 1, "KH 01/KH-UBQGCDS")


EXPECTED_ROW_RULES = {
    None: ("missing_task_code", "task_code", "missing task code: every task needs a code"),
    "NV-01": ("duplicate_task_code", "task_code", "duplicate task code: NV-01 appears again (first on row 11); only "
                                                  "the first row counts"),
    "NV-03": ("missing_title", "title", "missing title"),
    "NV-04": ("missing_lead_unit", "lead_unit", "missing lead unit: every task has exactly one lead agency"),
    "NV-05": ("several_lead_units", "lead_unit", "several lead units: the lead cell names 01 (Hà Nội), 79 (Hồ Chí "
                                                 "Minh); a task has exactly one lead agency (Decree 39/2022/NĐ-CP)"),
    "NV-06": ("unknown_unit", "lead_unit", "unknown unit: lead unit 99 is not in the unit registry"),
    "NV-07": ("unknown_unit", "cooperating_units", "unknown unit: co-operating unit(s) ZZZ not in the unit registry"),
    "NV-08": ("unit_not_valid", "lead_unit", "lead unit not valid: BKHDT (Bộ Kế hoạch và Đầu tư) did not exist on the "
                                             "document date 15/03/2025 (it ended on 28/02/2025); its tasks passed to "
                                             "BTC (Bộ Tài chính) on 01/03/2025"),
    "NV-09": ("bad_deadline", "deadline", "unreadable deadline 'sớm nhất có thể'"),
    "NV-10": ("deadline_before_document", "deadline", "deadline before the document: the deadline 31/01/2025 is "
                                                      "before the document's date 15/03/2025"),
    "NV-12": ("bad_key_task", "key_task", "unreadable key-task flag 'quan trọng'"),
    "NV-14": ("formula_without_value", "deadline", "formula without a value"),
}


def test_every_row_rule_once_with_file_sheet_row_and_field(plans):
    got = rejections(plans["con"], "rules.xlsx")
    assert set(got) == set(EXPECTED_ROW_RULES)
    for code, (rule, field, cause) in EXPECTED_ROW_RULES.items():
        g_rule, g_field, reason = got[code]
        assert (g_rule, g_field) == (rule, field), (code, got[code])
        assert reason.startswith(cause), reason
        assert "file 'rules.xlsx', sheet 'Nhiệm vụ', row " in reason and f"field '{field}'" in reason, reason


def test_good_rows_flow_beside_the_bad_ones(plans):
    rows = {r[0]: r[1:] for r in plans["con"].execute(
        "SELECT r.task_code, r.title, r.lead_unit_code, r.cooperating_unit_codes, r.deadline, r.recurrence, "
        "r.raw_deadline, r.expected_result, r.is_key_task, r.document_number, r.issuer_code FROM raw.task_plan_rows r "
        "JOIN raw.task_plan_submissions s USING (submission_id) WHERE s.inbox_path LIKE '%/rules.xlsx' "
        "AND r.rejection_rule IS NULL").fetchall()}
    assert set(rows) == {"NV-01", "NV-11", "NV-13"}
    assert rows["NV-01"] == ("Xây dựng Chiến lược dữ liệu quốc gia", "01", "BTC;79", D(2025, 9, 30), "once",
                             "Quý III/2025", "Báo cáo", True, "KH 01/KH-UBQGCDS", "UBQGCDS")
    # a missing expected result is not a rejection; recurring tasks have no date
    assert rows["NV-11"][3:7] == (None, "quarterly", "Hằng quý", None)
    assert rows["NV-13"][1:6] == ("BTC", None, None, "recurring", "Thường xuyên")
    assert plans["con"].execute("SELECT rows_read, rows_accepted, rows_rejected, level, document_date FROM "
                                "raw.task_plan_submissions WHERE inbox_path LIKE '%/rules.xlsx'").fetchone() == \
        (len(ROW_RULE_ROWS) - 1, 3, 12, "committee", D(2025, 3, 15))


def test_the_resubmitted_list_takes_over_in_the_registry(plans):
    con = plans["con"]
    assert con.execute("SELECT version, inbox_path LIKE '%rules_v2.csv' FROM raw.task_plan_submissions WHERE "
                       "folder_unit_code = 'UBQGCDS' ORDER BY version").fetchall() == [(1, False), (2, True)]
    tasks = tasks_of_unit(con, "01", "2025-08")
    assert [(t["task_code"], t["title"]) for t in tasks] == [("NV-01", "Bản sửa: Chiến lược dữ liệu quốc gia")]
    assert tasks_of_unit(con, "01", "2025-02") == []  # assigned from the document's date


def test_the_merged_province(plans):
    con = plans["con"]
    # a document of May naming 02 (Hà Giang) is accepted; from July its task is led by 08 (Tuyên Quang)
    may = rejections(con, "may.csv")
    assert may == {}
    august = rejections(con, "august.csv")
    rule, field, reason = august["HG-02"]
    assert (rule, field) == ("unit_not_valid", "lead_unit")
    assert reason.startswith("lead unit not valid: 02 (Hà Giang) did not exist on the document date 05/08/2025 (it "
                             "ended on 30/06/2025); its tasks passed to 08 (Tuyên Quang) on 01/07/2025 "
                             "(units_province_merger_2025): assign the task to 08"), reason
    assert "file 'august.csv', line " in reason
    assert [(t["task_code"], t["moved_from"]) for t in tasks_of_unit(con, "02", "2025-06")] == [("HG-01", None)]
    assert [(t["task_code"], t["lead_unit_code"], t["moved_from"]) for t in tasks_of_unit(con, "08", "2025-08")] == \
        [("HG-01", "08", "02"), ("TQ-01", "08", None)]
    assert tasks_of_unit(con, "02", "2025-08") == []


def test_a_rerun_takes_nothing_new(plans):
    con = plans["con"]
    before = con.execute("SELECT * FROM raw.task_plan_submissions ORDER BY submission_id").fetchall()
    rows = con.execute("SELECT * FROM raw.task_plan_rows ORDER BY submission_id, source_row").fetchall()
    copies = con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone()
    again = ingest_task_plans(con, plans["inbox"])
    assert {f.action for f in again.files} == {"unchanged"} and len(again.files) == 11
    assert con.execute("SELECT * FROM raw.task_plan_submissions ORDER BY submission_id").fetchall() == before
    assert con.execute("SELECT * FROM raw.task_plan_rows ORDER BY submission_id, source_row").fetchall() == rows
    assert con.execute("SELECT count(*) FROM quarantine.rejected_files").fetchone() == copies


def test_the_inboxes_default_to_the_data_folder_or_their_variables(data_root, monkeypatch, tmp_path):
    from ingestion.tasks.plan_intake import default_plans_dir
    from ingestion.tasks.report_intake import default_reports_dir

    monkeypatch.delenv("DXMON_TASK_PLANS_INBOX", raising=False)
    monkeypatch.delenv("DXMON_TASK_REPORTS_INBOX", raising=False)
    assert (default_plans_dir(), default_reports_dir()) == (data_root / "task_plans", data_root / "task_reports")
    monkeypatch.setenv("DXMON_TASK_PLANS_INBOX", str(tmp_path / "lists"))
    monkeypatch.setenv("DXMON_TASK_REPORTS_INBOX", str(tmp_path / "reports"))
    assert (default_plans_dir(), default_reports_dir()) == (tmp_path / "lists", tmp_path / "reports")
