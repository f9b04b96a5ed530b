"""The DTI demo: reports with planted defects go through intake and validation as documented;
the demo history carries its one planted discrepancy. Runs on the real catalogue seed."""

from __future__ import annotations

import json

import pytest

from demo.dti_reports import DISCREPANCY, generate_demo_reports, write_demo_history, write_demo_weight_supplement
from expectations.dti_validation import validate_dti_reports
from ingestion.core.warehouse import connect
from ingestion.reports.dti.catalogue import indicators
from ingestion.reports.dti.history import import_history, load_weight_supplements
from ingestion.reports.intake import ingest_inbox

# 14 provinces and 4 ministries: enough units for every planted defect
UNITS = ("01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "79", "31", "48", "BTC", "BYT", "VTV", "BNV")


@pytest.fixture
def con(data_root):
    with connect() as connection:
        yield connection


def test_demo_reports_go_through_intake_and_validation_as_documented(tmp_path, con):
    demo = generate_demo_reports(tmp_path / "demo", unit_codes=UNITS)
    manifest = json.loads(demo.manifest.read_text(encoding="utf-8"))
    kinds = {d["defect"] for d in manifest["defects"]}
    assert {"resubmission", "wrong_folder", "missing_sheet", "text_in_number", "csv_utf16", "csv_utf8_bom",
            "csv_semicolon"} <= kinds
    assert all(p.is_relative_to(demo.inbox) for p in demo.files)
    summary = ingest_inbox(con, demo.inbox)
    meta = summary.as_metadata()
    planted_rejections = sum(d["defect"] in ("wrong_folder", "missing_sheet") for d in manifest["defects"])
    assert meta["rejected"] == planted_rejections and meta["accepted"] == len(demo.files) - planted_rejections
    text_defects = sum(d["defect"] == "text_in_number" for d in manifest["defects"])
    assert meta["rows_rejected"] == text_defects
    # Every unit has an accepted final report each year; 2023 has quarterly progress versions.
    per_year = dict(con.execute(
        "SELECT year, count(DISTINCT unit_code) FROM raw.dti_submissions WHERE status = 'accepted' GROUP BY year").fetchall())
    assert per_year == {2022: len(UNITS), 2023: len(UNITS)}
    encodings = {r[0] for r in con.execute("SELECT DISTINCT file_encoding FROM raw.dti_submissions").fetchall()}
    assert {"utf-16", "utf-8-sig", None} <= encodings
    # The provisional index grows during 2023: mean ratio value per report month rises.
    means = con.execute(
        """SELECT month(s.report_date) AS m, avg(v.value) FROM raw.dti_report_values v JOIN raw.dti_submissions s
           USING (submission_id) WHERE s.year = 2023 AND s.report_date < DATE '2024-01-01' AND v.value <= 1
           AND v.rejection_rule IS NULL GROUP BY m ORDER BY m""").fetchall()
    assert [m for m, _ in means] == [4, 7, 10] and means[0][1] < means[1][1] < means[2][1]
    # Resubmitted units have a version 2 that wins.
    assert con.execute("SELECT max(version) FROM raw.dti_submissions WHERE year = 2022").fetchone()[0] >= 2
    result = validate_dti_reports(con, 2022)
    # A row rejected for 'đang cập nhật' leaves its report incomplete (blocking), but the unit
    # resubmitted: the reports that count are clean.
    assert len(result.blocking_by_submission) == sum(
        d["defect"] == "text_in_number" and "/2022/" in d["file"] for d in manifest["defects"])
    assert result.blocking_in_latest == {}


def test_demo_history_imports_and_keeps_its_planted_discrepancy(tmp_path, con):
    values, published = write_demo_history(tmp_path / "demo")
    summary = import_history(con, values, published)
    assert summary.years == [2020, 2021] and summary.published_rows == 126
    assert summary.value_rows == 63 * 3 + 63 * 9
    points = {i.code: i.max_points for i in indicators("922_2022", "province", node_type="main")}
    recomputed = dict(con.execute(
        "SELECT unit_code, sum(value * CASE indicator_code " + " ".join(
            f"WHEN '{c}' THEN {p}" for c, p in points.items()) + " END) / 1000 FROM raw.dti_history_values "
        "WHERE year = 2021 GROUP BY unit_code").fetchall())
    published_2021 = dict(con.execute(
        "SELECT unit_code, dti_value FROM raw.dti_history_published WHERE year = 2021").fetchall())
    off = {u: round(published_2021[u] - recomputed[u], 4) for u in recomputed if abs(published_2021[u] - recomputed[u]) > 1e-4}
    assert off == {DISCREPANCY["unit_code"]: DISCREPANCY["delta"]}
    weights = write_demo_weight_supplement(tmp_path / "demo")
    assert load_weight_supplements(con, weights, "demo assumption").rows == 6
