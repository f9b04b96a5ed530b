"""Pure parsing of DTI report cells: Vietnamese numbers, percentages, yes/no, dates, codes, text."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.reports.cell_parsing import (
    CellError,
    EncodingError,
    clean_text,
    decode_report_text,
    fold,
    parse_bool,
    parse_date,
    parse_indicator_code,
    parse_number,
    parse_quantity,
    parse_unit_code,
    parse_year,
    sniff_delimiter,
)


@pytest.mark.parametrize("text, expected", [
    ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("12,5", 12.5), ("12.5", 12.5), ("0.85", 0.85),
    ("15.000", 15000.0), ("1.234.567", 1234567.0), ("1,234,567", 1234567.0), ("1 234,5", 1234.5),
    ("1\u00a0234,5", 1234.5), ("\u00a012\u00a0", 12.0), ("'42", 42.0), ("-3", -3.0), ("+7,25", 7.25),
    (",5", 0.5), (42, 42.0), (0.125, 0.125), ("0.125", 0.125), ("1.234.567,89", 1234567.89),
])
def test_vietnamese_and_english_numbers(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text, expected", [("85%", 0.85), ("85 %", 0.85), ("85\u00a0%", 0.85),
                                            ("85,5%", 0.855), ("100%", 1.0), ("0%", 0.0)])
def test_percentages_become_shares(text, expected):
    q = parse_quantity(text)
    assert q.is_percent and q.value == pytest.approx(expected)


@pytest.mark.parametrize("text", ["đang cập nhật", "n/a", "12,5,3", "1.23.4", "--", "12a", "1.2345,6,7", "x", True])
def test_text_in_a_number_cell_is_a_clear_error(text):
    with pytest.raises(CellError) as exc:
        parse_number(text)
    assert exc.value.rule == "not_a_number"


def test_empty_number_is_missing_not_zero():
    for empty in (None, "", "  ", "\u00a0", "'"):
        with pytest.raises(CellError) as exc:
            parse_number(empty)
        assert exc.value.rule == "missing_value"


@pytest.mark.parametrize("text, expected", [
    ("Có", True), ("có", True), ("CÓ", True), ("co", True), ("x", True), ("X", True), ("Yes", True),
    ("Đạt", True), (1, True), (True, True), ("Không", False), ("không", False), ("khong", False),
    ("No", False), ("Chưa", False), (0, False), (False, False), ("Co\u0301", True),  # decomposed Unicode
])
def test_yes_no(text, expected):
    assert parse_bool(text) is expected


def test_yes_no_refuses_other_words():
    with pytest.raises(CellError, match="expected Có or Không"):
        parse_bool("có lẽ")
    with pytest.raises(CellError):
        parse_bool(2)


@pytest.mark.parametrize("value, expected", [
    ("15/01/2024", dt.date(2024, 1, 15)), ("5/1/2024", dt.date(2024, 1, 5)), ("15-01-2024", dt.date(2024, 1, 15)),
    ("15.01.2024", dt.date(2024, 1, 15)), ("2024-01-15", dt.date(2024, 1, 15)),
    (dt.datetime(2024, 1, 15, 0, 0), dt.date(2024, 1, 15)), (dt.date(2024, 1, 15), dt.date(2024, 1, 15)),
    (45306, dt.date(2024, 1, 15)), ("'15/01/2024", dt.date(2024, 1, 15)),
])
def test_dates_day_first_and_excel_cells(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2024", "01/15/2024", "tháng 1", "2024"])
def test_impossible_dates_are_refused(value):
    with pytest.raises(CellError):
        parse_date(value)


def test_years_units_and_codes():
    assert parse_year(2023) == parse_year(2023.0) == parse_year("2023") == parse_year("Năm 2023") == 2023
    with pytest.raises(CellError):
        parse_year("23")
    assert parse_unit_code(1) == parse_unit_code("1") == parse_unit_code("'01") == parse_unit_code(" 01\u00a0") == "01"
    assert parse_unit_code("btc") == "BTC"
    with pytest.raises(CellError):
        parse_unit_code("01-HN")
    assert parse_indicator_code("7.3.") == parse_indicator_code(" 7.3 ") == parse_indicator_code(7.3) == "7.3"
    assert parse_indicator_code(None) is None


def test_clean_text_and_fold():
    assert clean_text("'\u00a0abc\u200b ") == "abc"
    assert clean_text("   ") is None
    assert fold("Mã chỉ tiêu") == fold("MA CHI TIEU") == "ma chi tieu"
    assert fold("Đơn vị:") == "don vi"


def test_encodings_detected_by_bom_and_legacy_code_pages_refused():
    text = "# unit_code: 01\nindicator_code,value\n1.1,Có\n"
    assert decode_report_text(text.encode("utf-8")) == (text, "utf-8")
    assert decode_report_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    assert decode_report_text(text.encode("utf-16")) == (text, "utf-16")
    with pytest.raises(EncodingError, match="legacy code page"):
        decode_report_text(text.encode("cp1258"))
    with pytest.raises(EncodingError, match="UTF-16 without a byte-order mark"):
        decode_report_text(text.encode("utf-16-le"))


def test_delimiter_sniffing():
    assert sniff_delimiter("indicator_code;name_vi;value") == ";"
    assert sniff_delimiter("indicator_code,name_vi,value") == ","
    assert sniff_delimiter("indicator_code\tvalue") == "\t"
