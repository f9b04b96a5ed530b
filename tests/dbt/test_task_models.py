"""The task tracking models in dbt, for real (docs/task_tracking.md): one temporary DuckDB
warehouse seeded by tests/dbt/task_fixture.py (task lists, status reports and the tasks gate as
raw rows), one `dbt build` of the unit registry's attribution and everything tagged tasks
(seeds, models and their data tests) as of 2025-08-31, then the classes, deadlines,
contradictions, the merger, the rates, the worked examples, ageing, warnings and the publication
basis checked against values worked out by hand here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt import task_fixture as fx
from tests.dbt.dbt_runner import DbtTestWarehouse

JUNE, JULY, AUGUST = "2025-06", "2025-07", "2025-08"
D = dt.date.fromisoformat

# (task, month) -> class, from the dates of tests/dbt/task_fixture.py
EXPECTED_CLASSES = {
    "T01": ("in_progress_within_deadline", "overdue_not_completed", "overdue_not_completed"),  # due 06-30
    "T02": ("overdue_not_completed",) * 3,  # due 06-29 (v1's completed row is superseded)
    "T03": ("completed_on_time",) * 3,  # completed on its deadline
    "T04": ("completed_late",) * 3,  # the day after
    "T05": ("recurring_met", "recurring_missed", "recurring_met"),  # July: no evidence
    "T06": ("recurring_met", "recurring_not_due", "recurring_not_due"),  # quarterly, mid-Q3
    "T07": ("closed_without_completion",) * 3,  # closed citing its approval
    "T08": ("overdue_not_completed",) * 3,  # closed without approval: not counted
    "T09": ("in_progress_within_deadline",) * 3,  # extension approved before the deadline
    "T10": ("overdue_not_completed",) * 3,  # extension without approval
    "T11": ("overdue_not_completed",) * 3,  # extension approved after the deadline
    "T12": ("in_progress_within_deadline",) * 3,
    "T13": ("in_progress_within_deadline", "in_progress_within_deadline", "overdue_not_completed"),  # due 07-31
    "T14": ("overdue_not_completed",) * 3,  # completion without evidence is not counted
    "T15": ("in_progress_within_deadline",) * 3,  # due 08-31: on the as-of date, within
    "T16": ("completed_on_time", "overdue_not_completed", "overdue_not_completed"),  # backwards in July
    "T17": ("in_progress_within_deadline",) * 3,
    "T18": ("in_progress_within_deadline",) * 3,
    "T20": (None, "in_progress_within_deadline", "in_progress_within_deadline"),  # assigned 2025-07-10
}

# (submission, source_row, task, contradiction)
EXPECTED_CONTRADICTIONS = {
    (fx.S08_06, 5, "T01", "task_of_other_agency"),
    (fx.S01_06, 12, "T08", "closed_without_approval"),
    (fx.S01_06, 14, "T10", "extension_without_approval"),
    (fx.S01_06, 15, "T11", "extension_approved_after_deadline"),
    (fx.S01_06, 16, "T13", "completed_without_date"),
    (fx.S01_06, 17, "T14", "completed_without_evidence"),
    (fx.S01_06, 18, "T15", "completion_after_report_date"),
    (fx.S01_06, 21, "T99", "unknown_task"),
    (fx.S01_07, 8, "T16", "status_backwards"),  # completed in June, in progress in July
    (fx.S01_07, 9, "T17", "status_backwards"),  # progress 60 then 30
}


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> DbtTestWarehouse:
    wh = DbtTestWarehouse(Path(tmp_path_factory.mktemp("task_warehouse")))
    fx.seed(wh.path)
    # the unit attribution is the reference selector's (built before task tracking in the pipeline)
    wh.dbt("build", "--select", "+int_unit_codes_attributed", "tag:tasks",
           "--vars", json.dumps({"kpi_as_of": fx.AS_OF.isoformat()}))
    return wh


def records(wh: DbtTestWarehouse, sql: str, *params) -> list[dict]:
    with duckdb.connect(str(wh.path), read_only=True) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def agency(wh, grouping: str, code: str, period: str) -> dict:
    (row,) = records(wh, "select * from marts.rpt_task_status_by_agency where grouping = ? and group_code = ? "
                         "and period = ?", grouping, code, period)
    return row


def test_every_class_from_the_dates(warehouse):
    got = {(task, period): class_code for task, period, class_code in warehouse.rows(
        "select task_code, period, class_code from marts.fct_tasks")}
    expected = {(task, period): class_code for task, classes in EXPECTED_CLASSES.items()
                for period, class_code in zip((JUNE, JULY, AUGUST), classes, strict=True) if class_code}
    assert got == expected


def test_exactly_one_class_per_task_per_month(warehouse):
    assert warehouse.rows("select task_code, period_month, count(*) from marts.fct_tasks "
                          "group by all having count(*) <> 1") == []
    # every task assigned by the month's end, and only those: T50 (a rejected row) is no task
    per_month = dict(warehouse.rows("select period, count(*) from marts.fct_tasks group by period"))
    assert per_month == {JUNE: 18, JULY: 19, AUGUST: 19}
    assert warehouse.rows("select distinct period, evaluation_date, as_of_date from marts.fct_tasks order by 1") == [
        (JUNE, D("2025-06-30"), fx.AS_OF), (JULY, D("2025-07-31"), fx.AS_OF), (AUGUST, fx.AS_OF, fx.AS_OF)]


def test_deadline_day_is_within_and_the_day_after_overdue(warehouse):
    rows = {(r["task_code"], r["period"]): r for r in records(
        warehouse, "select task_code, period, deadline_in_force, days_overdue, completion_date_counted "
                   "from marts.fct_tasks where task_code in ('T01', 'T02', 'T03', 'T04')")}
    assert rows[("T01", JUNE)]["deadline_in_force"] == D("2025-06-30")  # version 2 of the list, not 1 or 3
    assert rows[("T01", JUNE)]["days_overdue"] is None
    assert rows[("T02", JUNE)]["days_overdue"] == 1
    assert rows[("T01", JULY)]["days_overdue"] == 31
    assert rows[("T03", JUNE)]["completion_date_counted"] == D("2025-06-20")
    assert rows[("T04", JUNE)]["completion_date_counted"] == D("2025-06-21")


def test_an_extension_moves_the_deadline_only_when_approved_before_it(warehouse):
    in_force = dict(warehouse.rows("select task_code, deadline_in_force from marts.fct_tasks "
                                   "where period = ? and task_code in ('T09', 'T10', 'T11')", JUNE))
    assert in_force == {"T09": D("2025-09-30"), "T10": D("2025-06-15"), "T11": D("2025-06-15")}
    history = {(r["task_code"], r["change_kind"], r["submission_id"]): r for r in records(
        warehouse, "select * from intermediate.int_task_deadline_history")}
    t09 = history[("T09", "extension", fx.S01_06)]
    assert (t09["deadline_before"], t09["deadline_after"], t09["is_counted"]) == (
        D("2025-06-15"), D("2025-09-30"), True)
    assert (t09["approval_document"], t09["approval_date"]) == ("CV 10/VPCP", D("2025-06-10"))
    for task, reason in (("T10", "extension_without_approval"), ("T11", "extension_approved_after_deadline")):
        row = history[(task, "extension", fx.S01_06)]
        assert (row["is_counted"], row["not_counted_reason"], row["deadline_after"]) == (
            False, reason, D("2025-06-15"))
        assert row["extension_deadline"] == D("2025-09-30")
    # the history keeps both versions of the list: T01 due 06-15 in version 1, 06-30 in version 2
    t01 = sorted((r["change_sequence"], r["deadline_after"], r["is_in_effect"]) for key, r in history.items()
                 if key[:2] == ("T01", "registry_version"))
    assert t01 == [(1, D("2025-06-15"), False), (2, D("2025-06-30"), True)]
    assert warehouse.scalar("select count(*) from intermediate.int_task_deadline_history "
                            "where submission_id = ?", fx.PLAN_A_V3) == 0  # a rejected version


def test_every_contradiction_is_flagged_once(warehouse):
    rows = warehouse.rows("select submission_id, source_row, task_code, contradiction_code "
                          "from intermediate.int_task_report_contradictions")
    assert len(rows) == len(set(rows))
    assert set(rows) == EXPECTED_CONTRADICTIONS
    # the same on the status-report rows, as flags; superseded rows are kept, not judged
    flagged = {(r["submission_id"], r["source_row"], r["task_code"], r["contradictions"]) for r in records(
        warehouse, "select * from marts.fct_task_status_reports where contradiction_count > 0")}
    assert flagged == EXPECTED_CONTRADICTIONS
    (t16,) = records(warehouse, "select * from marts.fct_task_status_reports where submission_id = ? and task_code = "
                                "'T16'", fx.S01_07)
    assert t16["has_status_backwards"] and not t16["has_unknown_task"] and t16["contradiction_count"] == 1
    superseded = records(warehouse, "select * from marts.fct_task_status_reports where row_status = 'superseded'")
    assert [(r["submission_id"], r["task_code"], r["is_deciding_row"]) for r in superseded] == [
        (fx.S01_06_V1, "T02", False)]
    # rows of a rejected file and rejected rows never count
    assert warehouse.scalar("select count(*) from marts.fct_task_status_reports where submission_id = ? "
                            "or (submission_id = ? and source_row = 10)", fx.S01_06_V3, fx.S01_07) == 0


def test_the_deciding_row_is_the_latest_counted_row_of_the_lead_unit(warehouse):
    rows = {(r["task_code"], r["period"]): r for r in records(warehouse, "select * from marts.fct_tasks")}
    assert (rows[("T02", JUNE)]["deciding_submission_id"], rows[("T02", JUNE)]["deciding_source_row"]) == (fx.S01_06, 6)
    assert rows[("T02", JUNE)]["deciding_inbox_path"] == "data/task_reports/2025-06/01/v2.xlsx"
    assert (rows[("T02", AUGUST)]["deciding_submission_id"], rows[("T02", AUGUST)]["deciding_sheet"]) == (
        fx.S01_07, "Báo cáo")
    assert rows[("T06", JULY)]["deciding_submission_id"] is None  # no report of the quarter yet
    assert rows[("T18", AUGUST)]["deciding_submission_id"] is None
    assert (rows[("T03", JUNE)]["registry_submission_id"], rows[("T03", JUNE)]["registry_source_row"]) == (
        fx.PLAN_A_V2, 7)
    assert rows[("T01", JUNE)]["cooperating_unit_codes"] == "08;46"
    decided = warehouse.scalar("select decided_months from marts.fct_task_status_reports "
                               "where submission_id = ? and task_code = 'T03'", fx.S01_06)
    assert decided == 3


def test_the_province_merger_moves_a_task_from_02_to_08_in_2025_07(warehouse):
    rows = {r["period"]: r for r in records(warehouse, "select * from marts.fct_tasks where task_code = 'T12'")}
    assert {p: (r["lead_unit_code"], r["lead_unit_attribution"]) for p, r in rows.items()} == {
        JUNE: ("02", "self"), JULY: ("08", "province_merger_2025"), AUGUST: ("08", "province_merger_2025")}
    assert rows[JUNE]["lead_unit_note"] is None
    assert rows[JULY]["lead_unit_note"] == (
        "moved from 02 Hà Giang to 08 Tỉnh Tuyên Quang by the province merger of 1 July 2025")
    assert rows[JULY]["assigned_lead_unit_code"] == "02"
    # 02's June report is the task's, and 08's July report decides it from then on
    assert rows[JUNE]["deciding_submission_id"] == fx.S02_06
    assert rows[JULY]["deciding_submission_id"] == fx.S08_07
    assert agency(warehouse, "agency", "02", JUNE)["assigned_tasks"] == 1
    assert agency(warehouse, "agency", "08", JULY)["assigned_tasks"] == 2  # T12 and T20
    assert warehouse.rows("select period from marts.rpt_task_status_by_agency where grouping = 'agency' "
                          "and group_code = '02'") == [(JUNE,)]


def test_both_rates_on_a_small_case(warehouse):
    row = agency(warehouse, "agency", "01", JUNE)
    # 01 in June: on time T03 T16, late T04, within T01 T09 T13 T15 T17 T18, overdue T02 T08 T10 T11 T14,
    # recurring met T05 T06, closed T07: 17 assigned, 3 + 5 = 8 due
    counts = {k: row[k] for k in ("completed_on_time", "completed_late", "completed_tasks",
                                  "in_progress_within_deadline", "overdue_not_completed", "recurring_met",
                                  "recurring_missed", "recurring_not_due", "closed_without_completion",
                                  "assigned_tasks", "due_tasks")}
    assert counts == {"completed_on_time": 2, "completed_late": 1, "completed_tasks": 3,
                      "in_progress_within_deadline": 6, "overdue_not_completed": 5, "recurring_met": 2,
                      "recurring_missed": 0, "recurring_not_due": 0, "closed_without_completion": 1,
                      "assigned_tasks": 17, "due_tasks": 8}
    assert row["completion_rate_of_due_tasks"] == pytest.approx(100 * 3 / 8)
    assert row["completion_rate_of_assigned"] == pytest.approx(100 * 3 / 17)
    assert row["overdue_share_of_assigned"] == pytest.approx(100 * 5 / 17)
    assert row["overdue_share_of_due_tasks"] == pytest.approx(100 * 5 / 8)
    assert row["within_deadline_share_of_assigned"] == pytest.approx(100 * 6 / 17)
    assert row["overdue_share_of_assigned_change_points"] is None  # its first month
    assert (row["key_tasks"], row["key_tasks_overdue"], row["as_of_date"]) == (1, 1, D("2025-06-30"))
    july = agency(warehouse, "agency", "01", JULY)
    assert july["overdue_share_of_assigned_change_points"] == pytest.approx(100 * 7 / 17 - 100 * 5 / 17)
    # one row per document and one national total beside the agencies
    assert agency(warehouse, "document", fx.DOC_A, JUNE)["assigned_tasks"] == 18
    national = agency(warehouse, "national", "national", JULY)
    assert (national["assigned_tasks"], national["due_tasks"]) == (19, 9)
    assert national["completion_rate_of_due_tasks"] == pytest.approx(100 * 2 / 9)


def test_the_worked_examples_recomputed_with_the_marts_macro(warehouse):
    rows = {(r["example"], r["published_rate_kind"]): r for r in records(
        warehouse, "select * from intermediate.int_task_worked_example_rates")}
    rate = rows[("2017", "completion_rate")]
    assert rate["recomputed_rate_name"] == "completion_rate_of_due_tasks"
    assert (rate["due_tasks"], round(rate["recomputed_rate"], 2)) == (16274, 98.63)  # published 98.62: truncated
    assert rate["match_status"] == "matches" and rate["published_precision"] == pytest.approx(0.01)
    rate = rows[("2021_4_months", "overdue_share")]
    assert (rate["recomputed_rate_name"], round(rate["recomputed_rate"], 1)) == ("overdue_share_of_assigned", 2.2)
    rate = rows[("2025_version_a", "completion_rate")]
    assert (rate["recomputed_rate_name"], round(rate["recomputed_rate"], 1)) == ("completion_rate_of_assigned", 80.3)
    assert {key for key, r in rows.items() if r["match_status"] == "unmatched"} == {
        ("2016_to_10_26", "overdue_share"), ("2025_version_a", "within_deadline_share"),
        ("2025_version_a", "overdue_share")}
    assert {r["match_status"] for r in rows.values()} == {"matches", "unmatched"}


def test_overdue_ageing_buckets(warehouse):
    rows = {(r["task_code"], r["period"]): r for r in records(warehouse, "select * from marts.rpt_overdue_tasks")}
    assert set(rows) == {(task, period) for (task, period), class_code in (
        ((t, p), c) for t, cs in EXPECTED_CLASSES.items() for p, c in zip((JUNE, JULY, AUGUST), cs, strict=True))
        if class_code == "overdue_not_completed"}
    assert (rows[("T02", JUNE)]["days_overdue"], rows[("T02", JUNE)]["ageing_bucket_code"]) == (1, "d001_030")
    assert rows[("T02", JUNE)]["is_key_task"] is True
    assert (rows[("T08", JUNE)]["days_overdue"], rows[("T08", JUNE)]["ageing_bucket_code"]) == (20, "d001_030")
    assert (rows[("T01", JULY)]["days_overdue"], rows[("T01", JULY)]["ageing_bucket_code"]) == (31, "d031_090")
    assert rows[("T08", AUGUST)]["days_overdue"] == 82


def test_the_warnings(warehouse):
    rows = {(r["period"], r["warning_kind"], r["unit_code"], r["task_code"]): r for r in records(
        warehouse, "select * from marts.rpt_task_warnings")}
    assert set(rows) == {
        (JUNE, "key_task_overdue", "01", "T02"), (JULY, "key_task_overdue", "01", "T02"),
        (AUGUST, "key_task_overdue", "01", "T02"),
        (JULY, "overdue_share_rose", "01", None), (AUGUST, "overdue_share_rose", "01", None),
        (AUGUST, "due_soon_without_progress", "01", "T18"),  # due 09-10, 10 days after the as-of date
        (AUGUST, "missing_status_report", "08", None),  # 08 leads T12 and T20, sent nothing for August
    }
    assert rows[(AUGUST, "due_soon_without_progress", "01", "T18")]["message"] == (
        "Task T18 (QĐ 1/QĐ-TTg) of 01 Thành phố Hà Nội is due on 2025-09-10, 10 days after 2025-08-31, "
        "and no progress was reported on it for 2025-08")
    rose = rows[(JULY, "overdue_share_rose", "01", None)]
    assert rose["measured_value"] == pytest.approx(100 * 2 / 17)
    assert "from 29.41 % in 2025-06 to 41.18 % in 2025-07 (7 overdue of 17 assigned)" in rose["message"]
    assert rows[(AUGUST, "missing_status_report", "08", None)]["message"] == (
        "08 Tỉnh Tuyên Quang sent no accepted status report for 2025-08 and leads 2 open tasks")
    assert "is 1 day past its deadline of 2025-06-29" in rows[(JUNE, "key_task_overdue", "01", "T02")]["message"]


@pytest.mark.parametrize("mart", ["fct_tasks", "fct_task_status_reports", "rpt_task_status_by_agency",
                                  "rpt_overdue_tasks", "rpt_task_warnings"])
def test_a_withheld_month_is_withheld_in_every_mart(warehouse, mart):
    bases = dict(warehouse.rows(f"select period, string_agg(distinct publication_basis) from marts.{mart} "
                                "group by period"))
    # 2025-06 and 2025-07 passed their checks; 2025-08 was never validated
    assert bases.get(AUGUST) == "withheld"
    assert {period: basis for period, basis in bases.items() if period != AUGUST} == {
        period: "checks_passed" for period in bases if period != AUGUST}
