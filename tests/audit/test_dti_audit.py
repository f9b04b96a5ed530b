"""The auditors' DTI features on the real pipeline: a service-index month, real report files in
the inbox (one planted resubmission), intake, GX and the DTI dbt build; then the lineage mart,
`dxmon explain --index dti` and the agency scorecard; and a year failing a blocking check:
withheld, published on a recorded override, and its audit pack verified."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from demo.dti_reports import generate_demo_reports
from demo.extracts import generate_demo
from ingestion.reports.intake import default_inbox_dir
from orchestration import cli

UNITS = ("01", "79")  # provinces: official weights, no supplement needed
PLANTED_INDICATOR = "3.1"  # a self-reported ratio (not replaced by a service-index measurement)
PLANTED_CELL = "77,5%"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("dti_audit_demo")
    generate_demo(out, ["2023-06"], rows_per_month=1500, seed=11, file_months=["2023-06"], api_months=[],
                  file_format="csv")
    generate_demo_reports(out / "dti", years=(2023,), unit_codes=UNITS)
    return out


def stage_inputs(data_root, demo, monkeypatch):
    """The demo's landing files and report inbox in the test's data folder; the inbox."""
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    shutil.copytree(demo / "landing", data_root / "landing")
    inbox = default_inbox_dir()
    shutil.copytree(demo / "dti" / "inbox", inbox)
    return inbox


def plant_resubmission(inbox) -> tuple[str, int]:
    """Unit 01 re-sends its April progress report with indicator 3.1 typed as '77,5%': the file
    is received last (newest modification time), so it is the highest version dated by June."""
    folder = inbox / "2023" / "01"
    april = next(folder.glob("*_20230414.xlsx"))
    book = openpyxl.load_workbook(april)
    sheet = book["Chỉ tiêu"]
    row = next(r for r in range(10, sheet.max_row + 1) if str(sheet.cell(r, 1).value).strip() == PLANTED_INDICATOR)
    sheet.cell(row, 6).value = PLANTED_CELL
    sheet.cell(row, 7).value = sheet.cell(row, 8).value = None  # counts would take precedence over the share
    target = folder / "bao_cao_quy_1_gui_lai.xlsx"
    book.save(target)
    return hashlib.sha256(target.read_bytes()).hexdigest(), row


def rows(data_root, sql: str, params=None):
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow  # the service-index and DTI jobs in process
def test_dti_lineage_names_the_file_cell_and_the_scorecard_counts_the_resubmission(
        data_root, reference_data, demo, definitions, monkeypatch, capsys):
    inbox = stage_inputs(data_root, demo, monkeypatch)
    planted_sha, planted_row = plant_resubmission(inbox)

    assert definitions.resolve_job_def("monthly_service_index").execute_in_process(partition_key="2023-06-01").success
    assert definitions.resolve_job_def("monthly_dti").execute_in_process(partition_key="2023-06-01").success

    # the lineage row of 01's indicator 3.1 in June 2023 is the planted file's cell
    lineage = rows(data_root, """
        SELECT sha256, sheet, source_row, raw_value, value, validation_status, value_source, submission_version,
               archived_path, run_id, code_version, weights_basis, methodology_version
        FROM marts.rpt_dti_score_lineage
        WHERE context_key = 'provisional:2023-06-01' AND unit_code = '01' AND indicator_code = ?""",
                   [PLANTED_INDICATOR])
    assert len(lineage) == 1
    sha, sheet, source_row, raw_value, value, status, source, version, archived, run_id, code, basis, method = lineage[0]
    assert (sha, sheet, source_row, raw_value) == (planted_sha, "Chỉ tiêu", planted_row, PLANTED_CELL)
    assert abs(value - 0.775) < 1e-12 and status == "passed" and source == "self_report"
    assert archived.endswith(planted_sha + ".xlsx") and run_id and code and basis == "official"
    assert method == "922_2022"
    # automatic sub-indicators name the service-index measurement instead of a cell
    measured = rows(data_root, "SELECT automatic_source, automatic_last_month FROM marts.rpt_dti_score_lineage "
                               "WHERE context_key = 'provisional:2023-06-01' AND validation_status = 'measured'")
    assert measured and all(m[0] and str(m[1]) == "2023-06-01" for m in measured)
    # the lineage adds up to the published score
    totals = rows(data_root, """
        SELECT l.unit_code, s.total_points, sum(DISTINCT l.main_weighted_points) AS from_lineage
        FROM marts.rpt_dti_score_lineage l JOIN marts.fct_dti_scores s
          ON s.period_month = l.period_month AND s.unit_code = l.unit_code AND s.level = l.level
        WHERE l.period_month = DATE '2023-06-01' GROUP BY ALL""")
    assert {t[0] for t in totals} == set(UNITS) and all(abs(t[1] - t[2]) < 1e-6 for t in totals)

    # explain prints the same: file, sha256, sheet, row, cell
    assert cli.main(["explain", "--index", "dti", "--unit", "01", "--period", "2023-06",
                     "--indicator", PLANTED_INDICATOR]) == 0
    out = capsys.readouterr().out
    assert planted_sha in out and f"sheet 'Chỉ tiêu' row {planted_row}" in out and f"'{PLANTED_CELL}'" in out
    assert "922_2022" in out and "weights official" in out
    # a year not closed has no final index: explain says so
    assert cli.main(["explain", "--index", "dti", "--unit", "01", "--period", "2023"]) == 1
    assert "close-year" in capsys.readouterr().err

    # the scorecard counts the planted resubmission (every file of the folder after the first)
    files_in_folder = len([p for p in (inbox / "2023" / "01").iterdir() if p.is_file()])
    card = dict(zip(
        ("resubmissions", "files_received", "submitted_on_time", "first_accepted_report_date",
         "is_report_dated_on_time", "completeness_ratio", "rows_rejected"),
        rows(data_root, """
            SELECT resubmissions, files_received, submitted_on_time, first_accepted_report_date,
                   is_report_dated_on_time, completeness_ratio, rows_rejected
            FROM marts.rpt_dti_agency_quality_scorecard WHERE year = 2023 AND unit_code = '01'""")[0]))
    assert card["files_received"] == files_in_folder and card["resubmissions"] == files_in_folder - 1 >= 1
    # received by intake today, long after the 2023 deadline (31/03/2024); dated on time in the file
    assert card["submitted_on_time"] is False and card["is_report_dated_on_time"] is True
    assert str(card["first_accepted_report_date"]) == "2023-04-14"
    assert 0 < card["completeness_ratio"] <= 1
    assert rows(data_root, "SELECT count(*) FROM marts.rpt_dti_agency_quality_scorecard WHERE year = 2023")[0][0] \
        == len(UNITS)


def plant_blocking_failure(inbox) -> str:
    """Unit 79 re-sends its latest report with indicator 3.1's numerator above its denominator:
    intake rejects the row, so the required indicator is missing (a blocking check). Received
    last, it is the report of 79 that counts for the year."""
    folder = inbox / "2023" / "79"
    latest = max(folder.glob("*.xlsx"), key=lambda p: p.stat().st_mtime)
    book = openpyxl.load_workbook(latest)
    sheet = book["Chỉ tiêu"]
    row = next(r for r in range(10, sheet.max_row + 1) if str(sheet.cell(r, 1).value).strip() == PLANTED_INDICATOR)
    sheet.cell(row, 6).value = None
    sheet.cell(row, 7).value, sheet.cell(row, 8).value = 80, 60
    target = folder / "bao_cao_ca_nam_gui_lai.xlsx"
    book.save(target)
    return hashlib.sha256(target.read_bytes()).hexdigest()


def published(data_root, sql: str):
    with duckdb.connect(str(data_root / "published" / "dxmon_published.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow  # the service-index and DTI jobs in process
def test_a_dti_year_failing_blocking_checks_is_withheld_until_overridden_and_its_audit_pack_verifies(
        data_root, reference_data, demo, definitions, monkeypatch, capsys):
    inbox = stage_inputs(data_root, demo, monkeypatch)
    planted_sha = plant_blocking_failure(inbox)

    assert definitions.resolve_job_def("monthly_service_index").execute_in_process(partition_key="2023-06-01").success
    dti_run = definitions.resolve_job_def("monthly_dti").execute_in_process(partition_key="2023-06-01")
    assert dti_run.success  # withholding is the gate working, not a failed run

    # the gate: 2023 withheld, the reason names the report that counts and the failed field
    manifest = json.loads((data_root / "published" / "manifest.json").read_text(encoding="utf-8"))
    why = manifest["dti_withheld_years"]["2023"]
    assert ":79:" in why and "bao_cao_ca_nam_gui_lai.xlsx: indicator 3.1 is missing or its row was rejected" in why
    assert manifest["dti_published_years"] == []
    assert published(data_root, "SELECT count(*) FROM rpt_dti_ranking") == [(0,)]
    assert published(data_root, "SELECT count(*) FROM rpt_dti_score_lineage") == [(0,)]
    assert published(data_root, "SELECT publication_basis FROM dti_publication_status WHERE year = 2023") \
        == [("withheld",)]
    # quality reports are never withheld: they say why
    assert published(data_root, "SELECT count(*) FROM rpt_dti_agency_quality_scorecard WHERE year = 2023")[0][0] == 2
    # the asset check is ERROR and links its Data Docs page, which exists on disk
    check = next(e for e in dti_run.get_asset_check_evaluations() if e.check_name == "dti_reports_valid")
    assert not check.passed and check.severity.value == "ERROR"
    page = check.metadata["data_docs"].url
    assert "dti_reports_required" in page and Path(page.removeprefix("file://")).is_file()
    # the validation history holds the DTI's GX checks with the offending row and its dbt tests
    history = rows(data_root, """
        SELECT check_source, suite_or_test, success, sample_row_ids FROM marts.fct_validation_history
        WHERE index_name = 'dti'""")
    failed = [h for h in history if h[0] == "great_expectations" and not h[2]]
    assert any(h[1] == "dti_reports_required" and ":79:" in (h[3] or "") and ":3.1" in h[3] for h in failed)
    assert any(h[0] == "dbt" for h in history)

    # an override needs a reason; with one, it is recorded and shown beside the ranking
    assert cli.main(["publish", "--override", "--index", "dti", "--year", "2023", "--reason", "ok"]) == 2
    assert cli.main(["publish", "--override", "--index", "dti", "--year", "2023", "--by", "kiem.toan",
                     "--reason", "the council accepted 79's figures after checking the source documents"]) == 0
    out = capsys.readouterr().out
    assert "DTI 2023 published on override ovr-dti-2023-" in out
    ranked = published(data_root, """
        SELECT DISTINCT publication_basis, overridden_by, override_reason IS NOT NULL, run_id IS NOT NULL,
               code_version IS NOT NULL, input_hash IS NOT NULL FROM rpt_dti_ranking WHERE year = 2023""")
    assert ranked == [("override", "kiem.toan", True, True, True, True)]
    assert published(data_root, "SELECT count(DISTINCT unit_code) FROM rpt_dti_ranking WHERE year = 2023") == [(2,)]
    overrides = published(data_root, "SELECT index_name, overridden_checks FROM publication_overrides")
    assert overrides == [("dti", why)]
    # explain says how the year is published
    assert cli.main(["explain", "--index", "dti", "--unit", "79", "--period", "2023-06"]) == 0
    assert "publication: published on override ovr-dti-2023-" in capsys.readouterr().out

    # the DTI audit pack of 2023: the override, the planted file, the failed check; verifies
    assert cli.main(["audit-pack", "--index", "dti", "--period", "2023"]) == 0
    pack = data_root / "audit_packs" / "dti-2023"
    publication = json.loads((pack / "publication.json").read_text(encoding="utf-8"))
    assert publication["publication_basis"] == "override" and publication["overrides"][0]["overridden_by"] == "kiem.toan"
    assert planted_sha in (pack / "lineage" / "inputs.csv").read_text(encoding="utf-8")
    # (the June provisional index reads the reports dated by June: the year-end resend is not in it)
    lineage_csv = (pack / "lineage" / "score_lineage.csv").read_text(encoding="utf-8")
    assert "provisional:2023-06-01" in lineage_csv and planted_sha not in lineage_csv
    assert "dti_reports_required" in (pack / "quality" / "validation_history.csv").read_text(encoding="utf-8")
    assert list((pack / "quality" / "data_docs" / "validations").rglob("*.html"))
    assert (pack / "methodology" / "dti_indicators.csv").is_file()
    assert cli.main(["audit-pack", "--verify", str(data_root / "audit_packs" / "dti-2023.zip")]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    # an altered file is caught
    scorecard = pack / "quality" / "scorecard.csv"
    scorecard.write_text(scorecard.read_text(encoding="utf-8").replace("79", "78"), encoding="utf-8")
    assert cli.main(["audit-pack", "--verify", str(pack)]) == 1
    assert "quality/scorecard.csv: sha256 differs" in capsys.readouterr().out
