"""The benchmark floor (one hand-written DuckDB statement, benchmarks/floor_service_index.sql)
gives the same scores as the real pipeline (Dagster: load, row rules, GX, dbt build) on the same
landing files: every as-reported unit of the month, total_score_unrounded and the group points
within 1e-9, and the same set of scored units.

Months: 2025-08 (34 merged provinces, carry-over from a month the warehouse never saw) and
2025-06 (63 provinces, before the merger) from Parquet files, 2025-08 from csv.gz (every value
read as text: unreadable timestamps and the text parsing of the row rules), and 2025-08 with a
second, hand-made file of each kind holding the cases the generator does not plant (old unit
codes attributed to their successor, duplicates that differ, statuses rejected for another row
of the same id, statutory deadlines, supplements, Vietnamese numbers and booleans, complaints)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks.floor import run_floor
from demo.extracts import generate_demo
from ingestion.core.extract_contract import EXTRACT_KINDS

# every case runs the whole monthly job in process on 20 000 rows: make test-slow
pytestmark = pytest.mark.slow

ROWS = 20_000
TOLERANCE = 1e-9
SCORE_COLUMNS = (
    "ckmb_points", "tdgq_points", "clgq_points", "tttt_points", "mdsh_points", "mdhl_points",
    "group_1_points", "group_2_points", "group_3_points", "group_4_points", "group_5_points",
    "applicable_max_points", "total_score_unrounded",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One generation per format: 2025-06 and 2025-08 with the generator's planted defects."""
    out = {}
    for fmt in ("parquet", "csv.gz"):
        target = tmp_path_factory.mktemp(f"floor-demo-{fmt.replace('.', '-')}")
        generate_demo(target, ["2025-06", "2025-08"], rows_per_month=ROWS, seed=766,
                      file_format=fmt, defects=True)
        out[fmt] = target
    return out


@pytest.fixture(scope="module")
def job(definitions):
    return definitions.resolve_job_def("monthly_service_index")


def run_pipeline(job, landing: Path, month: str, tmp_path: Path, monkeypatch, reference_warehouse: Path) -> Path:
    """The whole monthly job in process on a copy of `landing`, in a fresh data folder whose
    warehouse starts with the session's reference data."""
    data_root = tmp_path / "data"
    monkeypatch.setenv("DXMON_DATA_DIR", str(data_root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(data_root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    (data_root / "dagster_home").mkdir(parents=True)
    (data_root / "warehouse").mkdir()
    shutil.copy2(reference_warehouse, data_root / "warehouse" / "dxmon.duckdb")
    shutil.copytree(landing, data_root / "landing" / month)
    result = job.execute_in_process(partition_key=f"{month}-01", raise_on_error=True)
    assert result.success
    return data_root


def pipeline_scores(data_root: Path, month: str) -> tuple[dict, dict]:
    """Scored and unscored as-reported units of the month in marts.fct_service_index_monthly."""
    cols = ", ".join(SCORE_COLUMNS)
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        rows = con.execute(
            f"SELECT unit_code, unit_level, {cols} FROM marts.fct_service_index_monthly "
            f"WHERE NOT is_backcast AND period_month = DATE '{month}-01'"
        ).fetchall()
    scored = {r[0]: r[1:] for r in rows if r[-1] is not None}
    unscored = {r[0]: r[1] for r in rows if r[-1] is None}
    return scored, unscored


def rejections(data_root: Path) -> dict[tuple[str, str], int]:
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT extract_kind, rule, count(*) FROM quarantine.rejected_rows GROUP BY ALL").fetchall()
    return {(k, r): n for k, r, n in rows}


def floor_scores(path: Path) -> dict:
    cols = ", ".join(SCORE_COLUMNS)
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT unit_code, unit_level, {cols} FROM read_parquet('{path}')").fetchall()
    return {r[0]: r[1:] for r in rows}


def differences(pipeline: dict, floor: dict) -> list[str]:
    out = []
    for unit in sorted(pipeline.keys() & floor.keys()):
        p, f = pipeline[unit], floor[unit]
        if p[0] != f[0]:
            out.append(f"{unit}: unit_level {p[0]} != {f[0]}")
        for name, a, b in zip(SCORE_COLUMNS, p[1:], f[1:]):
            if (a is None) != (b is None) or (a is not None and abs(a - b) > TOLERANCE):
                out.append(f"{unit}: {name} pipeline {a} floor {b}")
    return out


def assert_same_scores(data_root: Path, landing: Path, month: str, tmp_path: Path) -> dict:
    floor_path = tmp_path / "floor.parquet"
    run = run_floor(landing, month, floor_path)
    assert run["notes"] == []
    pipeline, unscored = pipeline_scores(data_root, month)
    floor = floor_scores(floor_path)
    assert set(floor) == set(pipeline), (
        f"only in pipeline: {sorted(set(pipeline) - set(floor))}; only in floor: {sorted(set(floor) - set(pipeline))}"
    )
    assert not (set(floor) & set(unscored))
    assert differences(pipeline, floor) == []
    return {"scored": pipeline, "unscored": unscored}


@pytest.mark.parametrize(
    ("month", "fmt", "provinces"),
    [("2025-08", "parquet", 34), ("2025-06", "parquet", 63), ("2025-08", "csv.gz", 34)],
)
def test_floor_gives_the_pipeline_scores(month, fmt, provinces, demo, job, reference_warehouse, tmp_path, monkeypatch):
    landing = demo[fmt] / "landing" / month
    data_root = run_pipeline(job, landing, month, tmp_path, monkeypatch, reference_warehouse)
    rejected = rejections(data_root)
    for rule in ("duplicate_key", "unit_not_valid_in_period", "completed_before_received",
                 "missing_required_field", "value_not_allowed"):
        assert rejected.get(("dossiers", rule), 0) > 0, rule  # the planted defects are in play
    if fmt != "parquet":
        assert rejected.get(("dossiers", "invalid_value"), 0) > 0

    units = assert_same_scores(data_root, landing, month, tmp_path)
    # the month's registry: 63 provinces before the merger, 34 after (the generator's anomaly
    # month leaves one without dossiers, hence unscored)
    levels = [v[0] for v in units["scored"].values()] + list(units["unscored"].values())
    assert levels.count("province") == provinces
    assert sum(1 for v in units["scored"].values() if v[0] == "province") >= provinces - 1


# ---------------------------------------------------------------------------------------------
# Hand-made cases, as a second CSV file of each kind beside the generated month

def _dossier(dossier_id, unit, procedure, received, **values) -> dict:
    row = {
        "dossier_id": dossier_id, "procedure_code": procedure, "handling_agency_code": "AG.1",
        "handling_agency_level": "department", "handling_agency_name": "Sở Nội vụ", "parent_unit_code": unit, "submitted_at": received,
        "received_at": received, "due_at": "", "statutory_duration": "", "statutory_duration_unit": "",
        "channel": "1", "has_digitised_component": "true", "has_reused_digitised_data": "false",
        "has_personal_store_component": "false", "result_code": "", "result_file_url": "",
        "is_vneid_authenticated": "false", "population_db_code": "", "fee_amount": "",
        "online_payment_method": "", "is_electronic_certified_copy": "false", "rating": "",
        "has_complaint": "false", "is_synced_to_portal": "true", "synced_at": "",
    }
    row.update(values)
    return row


def edge_case_files(landing: Path, month: str) -> None:
    """Write dossiers/…/complaints_<month>_extra.csv into `landing` (a copy of a generated month)."""
    with duckdb.connect() as con:
        procs = dict(con.execute(
            f"SELECT unit_code, min(procedure_code) FROM read_csv('{landing}/procedures_*.csv.gz', all_varchar = true) "
            "WHERE unit_code IN ('01', '08', 'BTC') GROUP BY unit_code"
        ).fetchall())
    p01, p08, pbtc = procs["01"], procs["08"], procs["BTC"]
    nbsp = "\u00a0"
    dossiers = [
        # leading apostrophe + one digit (Excel) -> '01'; working-day statute; supplement answered;
        # Vietnamese booleans and number; online, paid, disliked
        _dossier("HS-X-001", "'1", p01, "2025-08-05 09:00:00", statutory_duration="3",
                 statutory_duration_unit="working_day", channel="2", has_digitised_component="có",
                 has_reused_digitised_data="x", has_personal_store_component="không", fee_amount="1.234,5",
                 online_payment_method="1", rating="dislike", result_code="R1", result_file_url="http://r/1"),
        # old province code (Hà Giang -> Tuyên Quang '08' from 2025-07); day-first time; 1.5 months
        # (rounded to 2); open supplement request
        _dossier("HS-X-002", "02", p08, "05/08/2025 10:30", statutory_duration="1,5", statutory_duration_unit="month"),
        # old ministry code (BKHDT -> BTC); two supplement requests = overdue
        _dossier("HS-X-003", "BKHDT", pbtc, "2025-08-03 08:00:00", due_at="2025-08-04 08:00:00",
                 statutory_duration="8", statutory_duration_unit="hour"),
        # duplicates that differ: the first is rejected (channel), the second stays, the third goes
        _dossier("HS-X-004", "01", p01, "2025-08-06 09:00:00", channel="web"),
        _dossier("HS-X-004", "01", p01, "2025-08-06 09:00:00", channel="2", has_complaint="true"),
        _dossier("HS-X-004", "01", p01, "2025-08-07 09:00:00", channel="1", is_synced_to_portal="false"),
        # one id twice with different receptions: the later row has a status before it (both go),
        # the earlier row stays without that status, so it misses its due date
        _dossier("HS-X-005", "08", p08, "2025-08-01 08:00:00", due_at="2025-08-06 08:00:00"),
        _dossier("HS-X-005", "08", p08, "2025-08-10 08:00:00"),
        # non-breaking spaces around the id; a day statute met
        _dossier(f"{nbsp}HS-X-006 ", "01", p01, "2025-08-02 08:00:00", statutory_duration="2", statutory_duration_unit="day"),
        # carried over: finished before the month (not handled) and finished in it
        _dossier("HS-X-007", "08", p08, "2025-07-28 09:00:00", statutory_duration="10", statutory_duration_unit="working_day"),
        _dossier("HS-X-008", "08", p08, "2025-07-29 09:00:00", statutory_duration="10", statutory_duration_unit="working_day"),
        # received after the month; unreadable submitted_at; unreadable boolean
        _dossier("HS-X-009", "01", p01, "2025-09-02 00:00:00"),
        _dossier("HS-X-010", "01", p01, "2025-08-02 00:00:00", submitted_at="2025-13-01 00:00:00"),
        _dossier("HS-X-011", "01", p01, "2025-08-02 00:00:00", has_complaint="maybe"),
        # its only status carries an unknown unit code: rejected, the dossier stays open
        _dossier("HS-X-012", "BTC", pbtc, "2025-08-20 00:00:00", due_at="2025-08-25 00:00:00"),
        # a due date missed; no deadline at all; a fee of zero; statute without unit (rejected)
        _dossier("HS-X-013", "01", p01, "2025-08-04 00:00:00", due_at="2025-08-05 00:00:00", fee_amount="0"),
        _dossier("HS-X-014", "01", p01, "2025-08-04 00:00:00", fee_amount="15000.50", online_payment_method="2"),
        _dossier("HS-X-015", "01", p01, "2025-08-04 00:00:00", statutory_duration="4"),
        # carried over, still open: on time only because 1.5 months round to 2
        _dossier("HS-X-016", "08", p08, "2025-07-05 10:00:00", statutory_duration="1.5", statutory_duration_unit="month"),
    ]
    history = [
        ("HS-X-001", "01", "supplement_requested", "2025-08-06 10:00:00"),
        ("HS-X-001", "01", "supplement_completed", "2025-08-08 09:00:00"),
        ("HS-X-001", "01", "processed", "2025-08-12 10:00:00"),
        ("HS-X-001", "01", "processed", "2025-08-12 10:00:00"),  # duplicate status
        ("HS-X-002", "02", "supplement_requested", "2025-08-10 10:00:00"),
        ("HS-X-003", "BKHDT", "supplement_requested", "2025-08-03 09:00:00"),
        ("HS-X-003", "BKHDT", "supplement_completed", "2025-08-03 12:00:00"),
        ("HS-X-003", "BKHDT", "supplement_requested", "2025-08-03 13:00:00"),
        ("HS-X-003", "BKHDT", "supplement_completed", "2025-08-03 14:00:00"),
        ("HS-X-003", "BKHDT", "result_returned", "2025-08-03 15:00:00"),
        ("HS-X-004", "01", "processed", "2025-08-20 10:00:00"),
        ("HS-X-005", "08", "processed", "2025-08-05 10:00:00"),
        ("HS-X-006", "01", "stopped", "2025-08-03 08:00:00"),
        ("HS-X-006", "01", "processed", "2025-08-03 09:00:00"),
        ("HS-X-007", "08", "processed", "2025-07-30 10:00:00"),
        ("HS-X-008", "08", "processed", "2025-08-13 10:00:00"),
        ("HS-X-008", "08", "result_returned", "2025-08-14 10:00:00"),
        ("HS-X-012", "XYZ", "processed", "2025-08-21 00:00:00"),
        ("HS-X-013", "01", "processed", "2025-08-07 00:00:00"),
        ("HS-X-014", "01", "withdrawn", "2025-08-05 00:00:00"),
        ("HS-X-014", "01", "bogus_status", "2025-08-06 00:00:00"),
    ]
    procedures = [
        # an old province listing a procedure its successor also lists: the successor's row wins
        ("02", p08, "Thủ tục, trùng", "1/QĐ", "2025-08-01", "2025-09-15", "", "3", "none", "true", "true", "true", "true", "true"),
        # an old province's own procedure: counted for the successor (announced and published in the month)
        ("02", "9.999999", "Thủ tục riêng", "2/QĐ", "2025-08-04", "2025-08-30", "2025-08-06", "7", "full", "true", "true", "false", "true", "false"),
        # the same key as a generated row: the file whose source id sorts first keeps it
        ("01", p01, "Thủ tục khác", "3/QĐ", "2025-08-11", "2025-08-12", "", "2", "none", "false", "false", "true", "false", "true"),
        ("01", "9.999998", "Không đủ", "4/QĐ", "", "", "", "9", "partial", "true", "true", "true", "true", "true"),  # 9 parts: rejected
    ]
    complaints = [
        ("PAKN-X-1", "02", "regulation", "2025-08-05 09:00:00", "2025-08-07 09:00:00", "", "", "2025-08-20 09:00:00", "2025-08-21 09:00:00", "1", "3", "false", "HS-X-002"),
        ("PAKN-X-2", "BKHDT", "conduct", "2025-08-04 09:00:00", "", "2025-08-05 09:00:00", "", "", "", "0", "0", "true", ""),
        ("PAKN-X-3", "01", "regulation", "2025-07-20 09:00:00", "", "", "2025-07-29 09:00:00", "", "", "0", "0", "false", ""),
        ("PAKN-X-4", "01", "regulation", "2025-08-10 09:00:00", "", "", "", "2025-08-01 09:00:00", "", "0", "0", "false", ""),
        ("PAKN-X-5", "01", "regulation", "2025-08-10 09:00:00", "", "", "", "", "", "-1", "0", "false", ""),
        ("PAKN-X-6", "08", "conduct", "2025-08-28 09:00:00", "", "", "", "2025-09-03 09:00:00", "", "2", "0", "false", ""),
    ]

    def write(kind: str, rows: list) -> None:
        names = EXTRACT_KINDS[kind].field_names
        with open(landing / f"{EXTRACT_KINDS[kind].file_prefix}_{month}_extra.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(names)
            for r in rows:
                w.writerow([r[n] for n in names] if isinstance(r, dict) else r)

    write("dossiers", dossiers)
    write("dossier_status_history", history)
    write("procedures", procedures)
    write("complaints", complaints)


def test_floor_gives_the_pipeline_scores_on_hand_made_cases(demo, job, reference_warehouse, tmp_path, monkeypatch):
    month = "2025-08"
    landing = tmp_path / "landing"
    shutil.copytree(demo["csv.gz"] / "landing" / month, landing)
    edge_case_files(landing, month)
    data_root = run_pipeline(job, landing, month, tmp_path, monkeypatch, reference_warehouse)
    rejected = rejections(data_root)
    for kind, rule in [("dossier_status_history", "completed_before_received"),
                       ("dossier_status_history", "unit_not_valid_in_period"),
                       ("dossier_status_history", "value_not_allowed"),
                       ("procedures", "duplicate_key"), ("procedures", "mandatory_parts_out_of_range"),
                       ("complaints", "completed_before_received"), ("complaints", "negative_reactions"),
                       ("dossiers", "received_after_period"), ("dossiers", "statutory_duration_without_unit")]:
        assert rejected.get((kind, rule), 0) > 0, (kind, rule)
    assert_same_scores(data_root, landing, month, tmp_path)
