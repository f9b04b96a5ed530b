"""The period's workbook and CSV files (`dxmon export`), read back: every sheet, typed cells,
frozen headers, a planted formula stored as inert text, the provenance sheet."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from publication.exports import export_csv, export_workbook
from publication.spreadsheet_cells import original_text
from tests.publication import report_fixture as fx

TABLES = ["ranking_month", "ranking_quarter", "ranking_ytd", "ranking_year", "agency_drilldown", "agency_ranking",
          "service_history",
          "dti_ranking", "dti_history", "national_scorecard", "kpi_progress", "international", "task_status",
          "task_warnings", "quality_by_rule", "quality_by_unit", "quality_checks", "overrides", "withheld"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("workbook")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        fx.write_published(root / "data" / "published")
        yield (export_workbook(fx.MONTH, None, root / "out" / "dxmon-2025-08.xlsx"),
               export_csv(fx.MONTH, None, root / "out" / "csv"))


@pytest.fixture(scope="module")
def book(exported):
    return openpyxl.load_workbook(exported[0])


def _rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]


def test_one_sheet_per_table_after_the_about_sheet_each_with_a_frozen_bold_header(book):
    assert book.sheetnames == ["about", *TABLES]
    for name in TABLES:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert all(c.font.bold for c in sheet[1]), name
        assert sheet.max_row >= 2, name
        assert sheet.auto_filter.ref, name
    widths = book["ranking_month"].column_dimensions
    assert widths["E"].width >= len("Thành phố Hồ Chí Minh") and widths["A"].width >= 8


def test_cells_are_typed_with_number_formats(book):
    ranking = _rows(book["ranking_month"])
    hcm = next(r for r in ranking if r["Code"].value == "79")
    assert hcm["Rank"].value == 1 and hcm["Rank"].data_type == "n" and hcm["Rank"].number_format == "#,##0"
    assert hcm["Score"].value == 82.51 and hcm["Score"].number_format == "#,##0.00"
    assert hcm["Change"].value == 0 and hcm["Change"].number_format == "+0;-0;0"
    assert hcm["Unit"].value == "Thành phố Hồ Chí Minh" and hcm["Unit"].data_type == "s"
    assert hcm["Code"].data_type == "s"  # a code is text ('01' keeps its zero)
    assert next(r for r in ranking if r["Code"].value == "01")["Code"].value == "01"
    history = _rows(book["service_history"])
    first = history[0]
    assert first["Month"].is_date and first["Month"].value == dt.datetime(2025, 7, 1)  # 01 as reported from July
    assert first["Back-cast"].data_type == "b"
    assert isinstance(first["CKMB"].value, float)
    assert [c.value for c in book["service_history"][1]][7:13] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"]
    share = _rows(book["quality_by_unit"])[0]["Rejected share"]
    assert share.number_format == "0.00%" and 0 < share.value < 1
    years = _rows(book["dti_history"])
    assert years[0]["Year"].value == 2022 and years[0]["Year"].number_format == "0"


def test_a_planted_formula_is_inert_text(book):
    unit = next(r for r in _rows(book["ranking_month"]) if r["Code"].value == "99")["Unit"]
    reason = _rows(book["overrides"])[0]["Reason"]
    about_reason = next(r[1] for r in book["about"].iter_rows(min_row=2, max_col=2) if r[0].value == "Override reason")
    for cell in (unit, reason, about_reason):
        assert cell.value == fx.INJECTION
        assert cell.data_type == "s" and cell.quotePrefix
    for sheet in book.worksheets:  # no cell of the workbook is a formula
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row), sheet.title


def test_the_about_sheet_states_methodology_run_code_version_and_input_hash(book):
    about = {r[0].value: r[1].value for r in book["about"].iter_rows(min_row=2, max_col=2) if r[0].value}
    assert about["766 methodology version"] == "766_2022" and about["DTI methodology version"] == "922_2022"
    assert about["Run"] == fx.PROVENANCE["run_id"] and about["Code version"] == fx.PROVENANCE["code_version"]
    assert about["Input hash (sha256 of the month's inputs)"] == fx.PROVENANCE["input_hash"]
    assert about["Publication basis of the month"] == "override" and about["Override"] == "ovr-2025-08-fixture"
    assert about["DTI year"] == 2023 and about["Quarter"] == "2025-Q3"
    sheets = {r[0].value: r[3].value for r in book["about"].iter_rows(min_row=2) if r[0].value in TABLES}
    assert sheets["ranking_month"] == 7 and sheets["overrides"] == 1


def test_csv_files_are_inert_and_keep_vietnamese_text(exported):
    folder = exported[1]
    assert sorted(p.stem for p in folder.glob("*.csv")) == sorted([*TABLES, "about"])
    with open(folder / "ranking_month.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["unit_code"] for r in rows][:3] == ["79", "46", "01"]  # the report's order: by rank
    planted = next(r for r in rows if r["unit_code"] == "99")
    assert planted["unit_name"] == "'" + fx.INJECTION and original_text(planted["unit_name"]) == fx.INJECTION
    assert rows[0]["unit_name"] == "Thành phố Hồ Chí Minh" and rows[0]["total_score"] == "82.51"
    with open(folder / "about.csv", encoding="utf-8", newline="") as handle:
        about = {r["what"]: r["value"] for r in csv.DictReader(handle)}
    assert about["Input hash (sha256 of the month's inputs)"] == fx.PROVENANCE["input_hash"]
    assert about["table ranking_month"].startswith("7 rows from rpt_service_ranking_monthly")


def test_dxmon_export_command(tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(tmp_path / "data" / "warehouse" / "dxmon.duckdb"))
    fx.write_published(tmp_path / "data" / "published")
    assert main(["export", "--format", "xlsx", "--month", "2025-08"]) == 0
    assert (tmp_path / "data" / "exports" / "dxmon-2025-08.xlsx").is_file()
    assert main(["export", "--format", "csv", "--month", "2025-08", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "kpi_progress.csv").is_file()
    assert capsys.readouterr().out.split() == [str(tmp_path / "data" / "exports" / "dxmon-2025-08.xlsx"),
                                               str(tmp_path / "c")]


def test_write_demo_outputs_writes_the_report_and_the_workbook_silently(tmp_path, monkeypatch, capsys):
    from orchestration.cli.reports import write_demo_outputs

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    fx.write_published(tmp_path / "data" / "published")
    report, workbook = write_demo_outputs(fx.MONTH, 2023)
    assert report == tmp_path / "data" / "reports" / "report-2025-08.html" and report.is_file()
    assert workbook == tmp_path / "data" / "exports" / "dxmon-2025-08.xlsx"
    assert openpyxl.load_workbook(workbook).sheetnames[0] == "about"
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
