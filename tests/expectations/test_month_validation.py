"""Month validation: cross-row rules, real Great Expectations suites, results and the gate."""

from __future__ import annotations

import json

import pytest

from expectations.month_validation import validate_month
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import ingest_landing_month, landing_dir
from tests.extract_rows import row, write_csv

MONTH = "2025-07"


def unit_registry(con, units=("01", "79", "BTC")):
    """The two dbt-built tables validation reads, reduced to what a test needs."""
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE intermediate.int_unit_codes_attributed (reported_unit_code VARCHAR, "
        "period_month DATE, unit_code VARCHAR, unit_level VARCHAR, backcast_unit_code VARCHAR)"
    )
    for month in ("2025-04-01", "2025-05-01", "2025-06-01", "2025-07-01"):
        for code in units:
            level = "ministry" if code.isalpha() else "province"
            con.execute("INSERT INTO intermediate.int_unit_codes_attributed VALUES (?, ?, ?, ?, ?)",
                        [code, month, code, level, code])
    con.execute(
        "CREATE OR REPLACE TABLE marts.dim_units AS SELECT DISTINCT unit_code, unit_level, "
        "true AS is_ranked_in_service_index, DATE '2020-01-01' AS valid_from, NULL::DATE AS valid_to "
        "FROM intermediate.int_unit_codes_attributed"
    )


def good_month(folder_month=MONTH, units=("01", "79", "BTC"), per_unit=30, prefix="H"):
    dossiers, history = [], []
    for unit in units:
        for i in range(per_unit):
            did = f"{prefix}{unit}.{i}"
            # every tenth dossier without channel and payment method: nullable integer columns
            empty = {"channel": "", "online_payment_method": ""} if i % 10 == 0 else {}
            dossiers.append(row("dossiers", dossier_id=did, parent_unit_code=unit, **empty,
                                received_at=f"{folder_month}-03 09:00:00", due_at=f"{folder_month}-10 17:00:00",
                                submitted_at=f"{folder_month}-03 08:00:00", synced_at=f"{folder_month}-03 09:05:00"))
            history.append(row("dossier_status_history", dossier_id=did, parent_unit_code=unit,
                               status_at=f"{folder_month}-05 10:00:00"))
    return dossiers, history


def drop(month, dossiers, history, units=("01", "79", "BTC")):
    folder = landing_dir() / month
    write_csv(folder / f"dossiers_{month}.csv", "dossiers", dossiers)
    write_csv(folder / f"dossier_status_history_{month}.csv", "dossier_status_history", history)
    write_csv(folder / f"procedures_{month}.csv", "procedures", [row("procedures", unit_code=u) for u in units])
    write_csv(folder / f"complaints_{month}.csv", "complaints",
              [row("complaints", complaint_id=f"PA{u}", unit_code=u, received_at=f"{month}-02 08:00:00",
                   processed_at=f"{month}-10 08:00:00", published_at=f"{month}-11 08:00:00") for u in units])


@pytest.fixture
def con(data_root):
    with connect() as connection:
        prepare_warehouse(connection)
        unit_registry(connection)
        yield connection


def test_clean_month_passes_every_suite_and_is_publishable(con):
    for month in ("2025-04", "2025-05", "2025-06", MONTH):
        dossiers, history = good_month(month)
        drop(month, dossiers, history)
        ingest_landing_month(con, month)
    result = validate_month(con, MONTH + "-01", run_id="t1")
    failed = [(o.suite_name, o.expectation, o.details) for o in result.outcomes if not o.success]
    assert failed == []
    assert result.is_publishable
    suites = {o.suite_name for o in result.outcomes}
    assert {"dossiers_valid_rows", "dossiers_rejections", "dossiers_volume", "dossiers_unit_completeness",
            "complaints_valid_rows", "procedures_valid_rows", "dossier_status_history_valid_rows"} <= suites
    stored = con.execute("SELECT count(*), bool_and(success) FROM meta.validation_results WHERE run_id = 't1'").fetchone()
    assert stored == (len(result.outcomes), True)
    assert con.execute("SELECT is_publishable FROM meta.period_status").fetchone() == (True,)
    assert result.docs_index and result.docs_index.endswith("index.html")


def test_planted_defects_are_quarantined_and_flagged(con):
    for month in ("2025-04", "2025-05", "2025-06"):
        drop(month, *good_month(month))
        ingest_landing_month(con, month)
    dossiers, history = good_month(MONTH, units=("01", "BTC"))  # unit 79 sends nothing this month
    dossiers.append(row("dossiers", dossier_id="BAD.UNIT", parent_unit_code="99", received_at="2025-07-03 09:00:00"))
    dossiers.append(dict(dossiers[0]))  # exact duplicate
    dossiers.append(row("dossiers", dossier_id="EARLY", parent_unit_code="01", received_at="2025-07-20 09:00:00",
                        due_at="2025-07-25 09:00:00"))
    history.append(row("dossier_status_history", dossier_id="EARLY", status_at="2025-07-10 09:00:00"))
    drop(MONTH, dossiers, history)
    ingest_landing_month(con, MONTH)
    result = validate_month(con, MONTH + "-01", run_id="t2")
    rules = dict(con.execute(
        "SELECT dossier_id, rejection_rule FROM raw.dossiers WHERE rejection_rule IS NOT NULL AND period_month = '2025-07-01'"
    ).fetchall())
    assert rules == {"BAD.UNIT": "unit_not_valid_in_period", "H01.0": "duplicate_key", "EARLY": "completed_before_received"}
    reason = con.execute("SELECT reason FROM quarantine.rejected_rows WHERE rule = 'duplicate_key'").fetchone()[0]
    assert "first seen in file:2025-07:dossiers" in reason and "row 1" in reason
    assert con.execute(
        "SELECT rejection_rule FROM raw.dossier_status_history WHERE dossier_id = 'EARLY'").fetchone()[0] == "completed_before_received"
    # 3 rejected of 63 dossiers (> 1 %): a warning; each rule is under 5 %: not blocking
    completeness = [o for o in result.outcomes if o.suite_name == "dossiers_unit_completeness" and not o.success]
    flagged = json.loads(completeness[0].details)["flagged_units"]
    assert {u["unit_code"] for u in flagged} == {"79"}
    assert all(not o.is_blocking for o in result.outcomes if not o.success)
    assert result.is_publishable


def test_a_broken_month_is_blocked_with_the_reason(con):
    dossiers, history = good_month(MONTH, per_unit=10)
    for d in dossiers[:5]:
        d["channel"] = "9"  # 5 of 30 rows: 17 % rejected by one rule
    drop(MONTH, dossiers, history)
    ingest_landing_month(con, MONTH)
    result = validate_month(con, MONTH + "-01", run_id="t3")
    assert not result.is_publishable
    blocking = {(o.suite_name, o.column) for o in result.blocking_failures}
    assert ("dossiers_rejections", "rejected_share") in blocking
    why = con.execute("SELECT is_publishable, blocking_failures FROM meta.period_status").fetchone()
    assert why[0] is False and "dossiers_rejections" in why[1]


def test_rerun_gives_the_same_result(con):
    dossiers, history = good_month(MONTH)
    dossiers.append(dict(dossiers[0]))
    drop(MONTH, dossiers, history)
    ingest_landing_month(con, MONTH)
    first = validate_month(con, MONTH + "-01", run_id="a")
    snapshot = con.execute("SELECT source_row, rejection_rule FROM raw.dossiers ORDER BY ALL").fetchall()
    ingest_landing_month(con, MONTH)
    second = validate_month(con, MONTH + "-01", run_id="b")
    assert con.execute("SELECT source_row, rejection_rule FROM raw.dossiers ORDER BY ALL").fetchall() == snapshot
    assert [(o.suite_name, o.expectation, o.success) for o in first.outcomes] == [
        (o.suite_name, o.expectation, o.success) for o in second.outcomes]
