"""The demo task lists and status reports: their shape, their determinism, and the real intake
taking them in with exactly the planted defects rejected."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from pathlib import Path

import pytest

from demo.task_plans import CONTRADICTIONS, INTAKE_DEFECTS, generate_demo_task_files
from expectations.task_validation import validate_task_period
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.reports.dti.catalogue import all_units
from ingestion.tasks.plan_intake import ingest_task_plans
from ingestion.tasks.report_intake import ingest_task_reports

MERGER_DAY = dt.date(2025, 7, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo_task_files(tmp_path_factory.mktemp("task_demo") / "demo")


@pytest.fixture(scope="module")
def ingested(demo, tmp_path_factory):
    """The demo's files taken in once by the real intake (a warehouse of the module's own)."""
    root = tmp_path_factory.mktemp("task_demo_data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root))
        mp.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
        with connect() as con:
            prepare_warehouse(con)
            plans = ingest_task_plans(con, demo.plans_inbox)
            reports = ingest_task_reports(con, demo.reports_inbox)
            august = validate_task_period(con, "2025-08", run_id="demo", root=root / "quality", build_docs=False)
            yield con, plans, reports, august


def sha256s(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_plans_are_shaped_like_the_real_ones(demo):
    tasks = demo.tasks
    assert len(tasks) >= 350
    assert {p["document_number"]: p["tasks"] for p in demo.plans} == {
        "KH 02/KH-TCT06": 285, "KH 01/KH-UBQGCDS": 80, "TB 123/TB-VPCP": 20}
    assert {Path(p["path"]).parent.relative_to(demo.plans_inbox).as_posix() for p in demo.plans} == {
        "2025/TCT06", "2025/UBQGCDS", "2025/VPCP"}
    da06 = [t for t in tasks if t.document_number == "KH 02/KH-TCT06"]
    provinces_63 = {u.code for u in all_units() if u.level == "province"}
    assert provinces_63 <= {t.lead_unit for t in da06}
    # the tasks of a province merged on 1 July fall due on both sides of the merger
    merged = [t for t in da06 if t.lead_unit == "02" and t.deadline]
    assert min(t.deadline for t in merged) < MERGER_DAY < max(t.deadline for t in merged)
    assert {t.recurrence for t in tasks} == {"once", "monthly", "quarterly", "yearly", "recurring"}
    assert 0.08 <= sum(t.key_task for t in tasks) / len(tasks) <= 0.16
    cells = [t.deadline_cell for t in tasks]
    assert any(isinstance(c, dt.date) for c in cells)
    for form in (r"^\d\d/\d\d/2025$", r"^Tháng \d+/2025$", r"^Quý (I|II|III|IV)/2025$", r"^Năm 2025$",
                 r"^Hằng tháng$", r"^Hằng quý$", r"^Thường xuyên$"):
        assert any(isinstance(c, str) and re.match(form, c) for c in cells), form
    assert all(unicodedata.is_normalized("NFC", t.title) for t in tasks)
    assert any("Cơ sở dữ liệu quốc gia về dân cư" in t.title for t in da06)
    assert [w["task_code"] for w in demo.warnings] == ["UBQG-001", "UBQG-008", "UBQG-015"]


def test_the_reports_follow_the_units_of_each_month_with_every_planted_case_listed(demo):
    by_period: dict[str, set[str]] = {}
    for r in demo.reports:
        by_period.setdefault(r["period"], set()).add(r["folder_unit"])
    assert sorted(by_period) == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]
    provinces = lambda units: {u for u in units if u[0].isdigit()}  # noqa: E731
    assert "02" in by_period["2025-06"] and "02" not in by_period["2025-07"]
    assert 55 <= len(provinces(by_period["2025-06"])) <= 63 and 30 <= len(provinces(by_period["2025-08"])) <= 34
    assert 5 <= len(demo.skipped) <= 40
    assert {r["format"] for r in demo.reports} == {"csv", "xlsx"}
    # files are received in the order of their report dates
    for r in demo.reports:
        mtime = dt.datetime.fromtimestamp(Path(r["path"]).stat().st_mtime)
        assert mtime.date() == r["report_date"]
    assert [c["contradiction"] for c in demo.contradictions] == list(CONTRADICTIONS)
    assert all(Path(c["file"]).is_file() and c["period"] == CONTRADICTIONS[c["contradiction"]]
               for c in demo.contradictions)
    assert {d["defect"] for d in demo.intake_defects} == set(INTAKE_DEFECTS)
    metadata = demo.as_metadata()
    assert metadata["tasks"] == len(demo.tasks) and set(metadata["contradictions"]) == set(CONTRADICTIONS)


def test_the_same_seed_gives_byte_identical_files(demo, tmp_path):
    again = generate_demo_task_files(tmp_path / "again")
    first, second = sha256s(demo.out), sha256s(again.out)
    assert len(first) == len(demo.plans) + len(demo.reports) and first == second
    other = generate_demo_task_files(tmp_path / "other", months=("2025-02", "2025-03", "2025-04", "2025-05", "2025-06",
                                                                 "2025-07", "2025-08"), seed=7)
    assert sha256s(other.out) != first


def test_the_intake_takes_the_demo_in_rejecting_exactly_the_planted_defects(demo, ingested):
    con, plans, reports, august = ingested
    assert plans.count("accepted") == 3 and plans.count("rejected") == 0
    assert reports.count("rejected") == 1 and reports.count("accepted") == len(demo.reports) - 1
    rejected = con.execute("""SELECT rejection_level, period, folder_unit_code, task_code, field, rule
                              FROM quarantine.task_rejections ORDER BY rule""").fetchall()
    defects = {d["defect"]: d for d in demo.intake_defects}
    assert rejected == [
        ("row", "2025-08", defects["bad_date"]["folder_unit"], defects["bad_date"]["task_code"], "completion_date",
         "bad_date"),
        ("file", "2025-08", defects["wrong_folder"]["folder_unit"], None, None, "foreign_unit"),
        ("row", "2025-08", defects["unknown_status"]["folder_unit"], defects["unknown_status"]["task_code"], "status",
         "unknown_status")]
    assert [d["expected_rule"] for d in sorted(demo.intake_defects, key=lambda d: d["expected_rule"])] == \
        [r[5] for r in rejected]
    assert con.execute("SELECT count(*), count(rejection_rule) FROM raw.task_plan_rows").fetchone() == (385, 0)
    # the planted contradictions reach the raw rows untouched (the dbt models flag them)
    for c in demo.contradictions:
        assert con.execute("SELECT count(*) FROM raw.task_report_rows WHERE period = ? AND unit_code = ? "
                           "AND task_code = ? AND rejection_rule IS NULL",
                           [c["period"], c["unit_code"], c["task_code"]]).fetchone() == (1,), c
    # progress only rises and a completed task stays completed, but where a regression is planted
    backwards = [(c["period"], c["task_code"]) for c in demo.contradictions
                 if c["contradiction"] in ("status_backwards", "task_of_other_agency", "closed_without_approval")]
    regressions = con.execute("""
        WITH r AS (
          SELECT r.period, r.task_code, r.progress_percent,
                 r.reported_status IN ('completed', 'completed_on_time', 'completed_late') AS is_completed
          FROM raw.task_report_rows r WHERE r.rejection_rule IS NULL
        )
        SELECT a.period, a.task_code FROM r a JOIN r b ON a.task_code = b.task_code AND b.period < a.period
        WHERE a.progress_percent < b.progress_percent OR (b.is_completed AND NOT a.is_completed)
        GROUP BY ALL ORDER BY ALL""").fetchall()
    assert set(regressions) <= set(backwards) and ("2025-08", next(
        c["task_code"] for c in demo.contradictions if c["contradiction"] == "status_backwards")) in regressions
    # GX: the demo month is publishable; its warnings are the planted ones and the skipped units
    assert august.is_publishable and august.submissions == len(
        {r["folder_unit"] for r in demo.reports if r["period"] == "2025-08"})
    warned = {o.suite_name: o.unexpected_count for o in august.warnings}
    assert warned["task_plans_expected_result"] == 3
    assert warned.get("task_reports_coverage", 0) == sum(p == "2025-08" for p, _ in demo.skipped)
