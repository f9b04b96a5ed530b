"""A small hand-made warehouse for the service index over periods (quarter, year, year to date):
2025-04 .. 2025-08 for province 01 (no merger), provinces 10 and 15 (10 merges into 15 on
2025-07-01 and still reports under its old code in July and August) and ministry BTC, with the
gate of each month (meta.period_status, one override).

Province 01 in 2025-Q2, by hand (due dates decide on time; every dossier is finished in its
month except the carry-over):
  April  2 dossiers, both on time               + the carry-over, open at April's end (on time then)
  May   10 dossiers, 2 on time, 8 late           + the carry-over, open at May's end (past due: late)
  June   4 dossiers, 3 on time, 1 late           + the carry-over, processed 5 June after its due date
  Q2 (each dossier once, the carry-over at its June state): 17 handled, 7 on time (2.1 = 7/17);
  the months' sums count the carry-over three times: 19 handled (3 + 11 + 5), 8 on time.
Gate: 2025-04, 06, 07 pass; 2025-05 fails and is overridden; 2025-08 fails (withheld)."""

from __future__ import annotations

import datetime as dt

import duckdb

from tests.dbt.fixture_data import RawWriter, _complaints, _procedures

APRIL, MAY, JUNE, JULY, AUGUST = (dt.date(2025, m, 1) for m in range(4, 9))
MONTHS = (APRIL, MAY, JUNE, JULY, AUGUST)
OVERRIDE_ID = "ovr-2025-05-fixture"
CARRY_ID = "01-carry-q2"

# province 01: (received day, days to finish, days to due) per dossier and month
UNIT_01 = {
    APRIL: [(2, 2, 10), (3, 2, 10)],
    MAY: [(1, 2, 10), (2, 2, 10)] + [(d, 5, 1) for d in range(3, 11)],
    JUNE: [(2, 2, 10), (3, 2, 10), (4, 2, 10), (5, 5, 1)],
}
# the others: (dossier count, on-time count) per month and reported code
OTHERS = {
    "10": {APRIL: (3, 3), MAY: (3, 2), JUNE: (3, 1), JULY: (2, 2), AUGUST: (2, 1)},
    "15": {APRIL: (3, 1), MAY: (3, 1), JUNE: (3, 3), JULY: (4, 2), AUGUST: (4, 4)},
    "BTC": {APRIL: (4, 4), MAY: (4, 3), JUNE: (4, 4), JULY: (4, 2), AUGUST: (4, 4)},
}
# province 01 in July and August
UNIT_01_LATER = {JULY: (5, 5), AUGUST: (5, 4)}


def _ts(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour)


def _dossier_fields(dossier_id: str, unit: str, received: dt.datetime, due: dt.datetime) -> dict:
    return dict(
        dossier_id=dossier_id, procedure_code="P1", handling_agency_code=f"{unit}-AG",
        handling_agency_level="ministry" if unit == "BTC" else "department", parent_unit_code=unit,
        submitted_at=received, received_at=received, due_at=due, channel="2",
        has_digitised_component=True, has_reused_digitised_data=True, has_personal_store_component=False,
        result_code=f"KQ-{dossier_id}", result_file_url=f"https://example.invalid/{dossier_id}.pdf",
        is_vneid_authenticated=True, fee_amount=50000, online_payment_method="1",
        is_electronic_certified_copy=False, rating="like", has_complaint=False, is_synced_to_portal=True,
    )


def _finished_dossier(raw: RawWriter, month: dt.date, unit: str, i: int, day: int, to_finish: int, to_due: int) -> None:
    received = month.replace(day=day)
    dossier_id = f"{unit}-{month:%Y%m}-{i:02d}"
    raw.add("dossiers", month, **_dossier_fields(dossier_id, unit, _ts(received),
                                                 _ts(received + dt.timedelta(days=to_due), 17)))
    raw.add("dossier_status_history", month, dossier_id=dossier_id, parent_unit_code=unit,
            status_code="processed", status_at=_ts(received + dt.timedelta(days=to_finish), 15))


def build_period_fixture(con: duckdb.DuckDBPyConnection) -> None:
    raw = RawWriter()
    for month, dossiers in UNIT_01.items():
        for i, (day, to_finish, to_due) in enumerate(dossiers):
            _finished_dossier(raw, month, "01", i, day, to_finish, to_due)
    for month, (count, good) in UNIT_01_LATER.items():
        for i in range(count):
            _finished_dossier(raw, month, "01", i, 2 + i, 2 if i < good else 5, 10 if i < good else 1)
    for unit, months in OTHERS.items():
        for month, (count, good) in months.items():
            for i in range(count):
                _finished_dossier(raw, month, unit, i, 2 + i, 2 if i < good else 5, 10 if i < good else 1)
    # the carry-over of province 01: received 20 April, due 15 May, in the April, May and June
    # extracts, processed 5 June
    carry = _dossier_fields(CARRY_ID, "01", _ts(dt.date(2025, 4, 20)), _ts(dt.date(2025, 5, 15), 17))
    for month in (APRIL, MAY, JUNE):
        raw.add("dossiers", month, **carry)
    raw.add("dossier_status_history", JUNE, dossier_id=CARRY_ID, parent_unit_code="01",
            status_code="processed", status_at=_ts(dt.date(2025, 6, 5), 15))
    # a carry-over across the merger: received 25 June under 10, in July's extract under 15 (the
    # successor's code), processed 3 July
    merger_carry = _dossier_fields("10-carry-merger", "10", _ts(dt.date(2025, 6, 25)), _ts(dt.date(2025, 7, 20), 17))
    raw.add("dossiers", JUNE, **merger_carry)
    raw.add("dossiers", JULY, **{**merger_carry, "parent_unit_code": "15"})
    raw.add("dossier_status_history", JULY, dossier_id="10-carry-merger", parent_unit_code="15",
            status_code="processed", status_at=_ts(dt.date(2025, 7, 3), 15))
    # the catalogue and one complaint per unit and month (tests/dbt/fixture_data.py's helpers)
    for month in MONTHS:
        for unit in ("01", "BTC", "15", *(("10",) if month < JULY else ())):
            _procedures(raw, month, unit, good_share=0.8 if unit != "15" else 0.5)
            _complaints(raw, month, unit, is_good=unit != "15")
    raw.write(con)
    checked = dt.datetime(2025, 9, 2, 3, 0)
    for month in MONTHS:
        publishable = month not in (MAY, AUGUST)
        failures = None if publishable else "dossiers_volume: failed"
        con.execute("INSERT INTO meta.period_status (period_month, is_publishable, blocking_failures, checked_at, run_id) "
                    "VALUES (?, ?, ?, ?, ?)", [month, publishable, failures, checked, f"run-{month:%Y-%m}"])
    con.execute("INSERT INTO meta.publication_overrides (override_id, index_name, period_month, overridden_checks, "
                "reason, overridden_by, overridden_at) VALUES (?, 'service_index', ?, 'dossiers_volume: failed', "
                "'volume drop explained by the agency', 'tester', ?)", [OVERRIDE_ID, MAY, checked])
