"""The task forms' vocabulary: statuses through the alias seed, deadlines and recurrence as plans
write them, the key-task flag, progress, unit lists and task codes (ingestion/tasks/vocabulary.py)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from ingestion.reports.cell_parsing import CellError
from ingestion.tasks.units import attributed_unit, successor_on
from ingestion.tasks.vocabulary import (
    Deadline,
    deadline_shown,
    issuers,
    parse_code,
    parse_deadline,
    parse_key_task,
    parse_progress,
    parse_status,
    reported_statuses,
    split_units,
)

D = dt.date


@pytest.mark.parametrize("cell, expected", [
    ("30/06/2025", Deadline(D(2025, 6, 30), "once")),
    ("1-7-2025", Deadline(D(2025, 7, 1), "once")),
    ("2025-06-30", Deadline(D(2025, 6, 30), "once")),
    (dt.datetime(2025, 6, 30), Deadline(D(2025, 6, 30), "once")),
    (45838, Deadline(D(2025, 6, 30), "once")),  # an Excel serial day
    ("Tháng 6/2025", Deadline(D(2025, 6, 30), "once")),
    ("tháng 02/2024", Deadline(D(2024, 2, 29), "once")),
    ("THANG 6 năm 2025", Deadline(D(2025, 6, 30), "once")),
    ("T6/2025", Deadline(D(2025, 6, 30), "once")),
    ("Quý III/2025", Deadline(D(2025, 9, 30), "once")),
    ("quý iv / 2025", Deadline(D(2025, 12, 31), "once")),
    ("QUY 1/2026", Deadline(D(2026, 3, 31), "once")),
    ("Quý II năm 2025", Deadline(D(2025, 6, 30), "once")),
    ("Năm 2025", Deadline(D(2025, 12, 31), "once")),
    ("nam 2026", Deadline(D(2026, 12, 31), "once")),
    (2025, Deadline(D(2025, 12, 31), "once")),
    ("Trước ngày 15/7/2025", Deadline(D(2025, 7, 15), "once")),
    ("Trong năm 2025", Deadline(D(2025, 12, 31), "once")),
    ("Chậm nhất là tháng 9/2025", Deadline(D(2025, 9, 30), "once")),
    ("Hằng tháng", Deadline(None, "monthly")),
    ("Hàng tháng", Deadline(None, "monthly")),
    ("HẰNG QUÝ", Deadline(None, "quarterly")),
    ("hang nam", Deadline(None, "yearly")),
    ("Thường xuyên", Deadline(None, "recurring")),
    ("thuong xuyen", Deadline(None, "recurring")),
])
def test_deadlines_as_plans_write_them(cell, expected):
    assert parse_deadline(cell) == expected


@pytest.mark.parametrize("cell, cause", [
    (None, "missing deadline: the cell is empty"),
    ("sớm nhất có thể", "unreadable deadline 'sớm nhất có thể'"),
    ("Tháng 13/2025", "deadline 'Tháng 13/2025': there is no month 13"),
    ("Quý V/2025", "unreadable deadline 'Quý V/2025'"),
    ("Năm 1890", "deadline 'Năm 1890': the year 1890 is out of range"),
    ("31/02/2025", "unreadable deadline"),
])
def test_unreadable_deadlines_say_what_is_expected(cell, cause):
    with pytest.raises(CellError) as exc:
        parse_deadline(cell)
    assert exc.value.rule == "bad_deadline"
    assert str(exc.value).startswith(cause) and "'Quý III/2025'" in str(exc.value), str(exc.value)


def test_deadline_shown_in_a_report_template():
    assert deadline_shown(D(2025, 9, 30), "once") == D(2025, 9, 30)
    assert deadline_shown(None, "quarterly") == "Hằng quý"
    assert parse_deadline(deadline_shown(None, "recurring")) == Deadline(None, "recurring")


@pytest.mark.parametrize("cell, code", [
    ("Đã hoàn thành – đúng hạn", "completed_on_time"),
    ("đã hoàn thành - đúng hạn", "completed_on_time"),
    ("DA HOAN THANH DUNG HAN", "completed_on_time"),
    ("Hoàn thành muộn", "completed_late"),
    ("đã hoàn thành", "completed"),
    ("Đang thực hiện trung hạn", "in_progress_within_deadline"),  # the published typo
    ("Chưa hoàn thành – trong hạn (đang thực hiện trong hạn)", "in_progress_within_deadline"),  # the list's text
    ("quá hạn", "overdue_not_completed"),
    ("Chưa hoàn thành", "not_completed"),
    ("chậm tiến độ", "behind_schedule"),
    ("thường xuyên", "recurring"),
    ("completed_late", "completed_late"),
    (None, None),
    ("  ", None),
])
def test_statuses_through_the_alias_seed(cell, code):
    assert parse_status(cell) == code


def test_an_unknown_status_names_the_allowed_spellings_and_key_task_is_not_a_status():
    with pytest.raises(CellError) as exc:
        parse_status("xong rồi")
    assert exc.value.rule == "unknown_status"
    assert str(exc.value).startswith("unknown status 'xong rồi': choose one of the template's list ('Đã hoàn thành – "
                                     "đúng hạn'"), str(exc.value)
    with pytest.raises(CellError):
        parse_status("key_task")
    assert "key_task" not in {c.status_code for c in reported_statuses()}
    assert len(reported_statuses()) == 10 and issuers()["TCT06"].issuer_kind == "committee"


@pytest.mark.parametrize("cell, flag", [("x", True), ("X", True), ("có", True), ("Co", True), ("yes", True),
                                        (1, True), ("true", True), (True, True), (None, False), ("", False),
                                        ("không", False), ("0", False), ("no", False)])
def test_key_task_flag(cell, flag):
    assert parse_key_task(cell) is flag


def test_key_task_flag_refuses_other_text():
    with pytest.raises(CellError) as exc:
        parse_key_task("quan trọng")
    assert exc.value.rule == "bad_key_task"


@pytest.mark.parametrize("cell, percent_formatted, value", [
    ("45", False, 45.0), ("45%", False, 45.0), ("45,5", False, 45.5), ("45,5 %", False, 45.5), (100, False, 100.0),
    (0.455, True, 45.5), (None, False, None), ("0", False, 0.0)])
def test_progress(cell, percent_formatted, value):
    assert parse_progress(cell, percent_formatted) == value


@pytest.mark.parametrize("cell, rule", [("140", "out_of_range"), ("-5", "out_of_range"), ("120%", "out_of_range"),
                                        ("gần xong", "not_a_number")])
def test_progress_refusals(cell, rule):
    with pytest.raises(CellError) as exc:
        parse_progress(cell)
    assert exc.value.rule == rule


def test_unit_lists_and_codes():
    assert split_units("08; 01,BTC") == ["08", "01", "BTC"]
    assert split_units("btc;\n 1 ; BTC") == ["BTC", "01"]
    assert split_units(None) == [] and split_units(8) == ["08"]
    with pytest.raises(CellError) as exc:
        split_units("Bộ Tài chính")
    assert exc.value.rule == "not_a_unit_code"
    assert parse_code(" nv 01 ") == "NV01" and parse_code("Đa-06") == "ĐA-06" and parse_code(None) is None
    decomposed = unicodedata.normalize("NFD", "đa-06")
    assert parse_code(decomposed) == "ĐA-06"


def test_the_crosswalks_of_2025():
    assert attributed_unit("02", D(2025, 6, 30)) == ("02", None)
    lead, moved = attributed_unit("02", D(2025, 7, 31))
    assert (lead, moved.effective_date, moved.crosswalk) == ("08", D(2025, 7, 1), "units_province_merger_2025")
    assert successor_on("BKHDT", D(2025, 3, 31)).new_code == "BTC"
    assert successor_on("01", D(2025, 8, 31)) is None  # Hà Nội keeps its code
