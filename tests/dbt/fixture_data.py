"""A small hand-made warehouse for the dbt project: two months around the 2025-07-01 province
merger, a few provinces and ministries, dossiers with their status history, the procedure
catalogue and complaints. Deterministic: unit U with (n, q) gets n dossiers per month of which
the first round(q * n) are handled well (on time, online, digitised, paid online...), so two
units with the same (n, q) tie."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, PROVENANCE_COLUMNS

JUNE, JULY = dt.date(2025, 6, 1), dt.date(2025, 7, 1)

# (dossier count, share handled well) per reported unit code and month.
# 2025-06: 63 provinces valid; 10 (Lào Cai) and 15 (Yên Bái) merge into 15 on 2025-07-01,
# 02 (Hà Giang) into 08 (Tuyên Quang). BKHDT merged into BTC on 2025-03-01 already.
UNITS_BY_MONTH: dict[dt.date, dict[str, tuple[int, float]]] = {
    JUNE: {
        "22": (10, 1.0),  # first
        "04": (10, 0.9), "11": (10, 0.9),  # identical data: tied second, then rank 4
        "01": (10, 0.9), "08": (10, 0.8),
        "02": (6, 0.5), "10": (8, 0.75), "15": (4, 0.25),
        "BTC": (10, 0.8), "BKHDT": (5, 0.6), "BYT": (10, 1.0),
    },
    JULY: {
        "01": (10, 1.0), "08": (8, 0.75), "02": (4, 0.5),  # 02 is an old code: attributed to 08
        "15": (10, 0.6), "10": (5, 0.8),  # 10 is an old code: attributed to 15
        "BTC": (12, 0.75), "BYT": (10, 0.9),
    },
}
MINISTRIES = {"BTC", "BKHDT", "BYT"}


def _ts(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour)


class RawWriter:
    """Collects rows per raw table, filling provenance and missing columns."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in EXTRACT_KINDS}

    def add(self, kind: str, month: dt.date, rejection_reason: str | None = None, **values: Any) -> None:
        row = dict.fromkeys(EXTRACT_KINDS[kind].field_names)
        unknown = set(values) - set(row)
        if unknown:
            raise KeyError(f"{kind} has no fields {unknown}")
        row.update(values)
        row.update({name: None for name, _ in PROVENANCE_COLUMNS})
        row.update(
            period_month=month,
            source_id=f"fixture-{kind}-{month:%Y-%m}",
            source_row=len(self.rows[kind]) + 1,
            loaded_at=dt.datetime(2025, 8, 2, 3, 0),
        )
        if rejection_reason:
            row.update(rejection_rule=rejection_reason.split(":")[0], rejection_reason=rejection_reason)
        self.rows[kind].append(row)

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        for kind, rows in self.rows.items():
            if not rows:
                continue
            columns = EXTRACT_KINDS[kind].field_names + [name for name, _ in PROVENANCE_COLUMNS]
            placeholders = ", ".join("?" for _ in columns)
            con.executemany(
                f"INSERT INTO raw.{kind} ({', '.join(columns)}) VALUES ({placeholders})",
                [[row[c] for c in columns] for row in rows],
            )


def build_fixture(con: duckdb.DuckDBPyConnection) -> None:
    raw = RawWriter()
    for month, units in UNITS_BY_MONTH.items():
        for unit, (count, quality) in units.items():
            level = "ministry" if unit in MINISTRIES else "province"
            good = round(quality * count)
            _procedures(raw, month, unit, good_share=quality)
            for i in range(count):
                _dossier(raw, month, unit, level, i, is_good=i < good)
            _complaints(raw, month, unit, is_good=quality >= 0.75)
    # A carry-over: received in June, still open at June's end, processed in July.
    carry = dict(dossier_id="01-carry", procedure_code="P1", handling_agency_code="01-SO",
                 handling_agency_level="department", parent_unit_code="01",
                 received_at=_ts(dt.date(2025, 6, 25)), due_at=_ts(dt.date(2025, 7, 10)),
                 channel="2", has_digitised_component=True, has_reused_digitised_data=False,
                 has_personal_store_component=False, is_vneid_authenticated=True,
                 is_electronic_certified_copy=False, has_complaint=False, is_synced_to_portal=True)
    raw.add("dossiers", JUNE, **carry)
    raw.add("dossiers", JULY, **carry)
    raw.add("dossier_status_history", JULY, dossier_id="01-carry", parent_unit_code="01",
            status_code="processed", status_at=_ts(dt.date(2025, 7, 3)))
    # A rejected row (unknown code): staging must drop it.
    raw.add("dossiers", JUNE, rejection_reason="unit_not_valid_in_period: parent_unit_code 'XX'",
            dossier_id="XX-1", procedure_code="P1", handling_agency_code="XX",
            handling_agency_level="province", parent_unit_code="XX", received_at=_ts(JUNE),
            has_digitised_component=False, has_reused_digitised_data=False,
            has_personal_store_component=False, is_vneid_authenticated=False,
            is_electronic_certified_copy=False, has_complaint=False, is_synced_to_portal=False)
    raw.write(con)


def _dossier(raw: RawWriter, month: dt.date, unit: str, level: str, i: int, is_good: bool) -> None:
    received = month + dt.timedelta(days=i % 20)
    dossier_id = f"{unit}-{month:%Y%m}-{i:03d}"
    procedure = "P1" if i % 2 == 0 else "P2"
    raw.add(
        "dossiers", month,
        dossier_id=dossier_id, procedure_code=procedure,
        handling_agency_code=f"{unit}-AG", handling_agency_level="department" if level == "province" else "ministry",
        parent_unit_code=unit, submitted_at=_ts(received, 8), received_at=_ts(received),
        # every other dossier has no due date: the statutory 8 working days apply
        due_at=_ts(received + dt.timedelta(days=10), 17) if i % 2 == 0 else None,
        statutory_duration=8.0, statutory_duration_unit="working_day",
        channel="2" if is_good else "1",
        has_digitised_component=is_good, has_reused_digitised_data=is_good,
        has_personal_store_component=is_good and i % 2 == 0,
        result_code=f"KQ-{dossier_id}" if is_good else None,
        result_file_url=f"https://example.invalid/{dossier_id}.pdf" if is_good else None,
        is_vneid_authenticated=is_good, population_db_code=None,
        fee_amount=50000 if procedure == "P1" else None,
        online_payment_method="1" if is_good else "0",
        is_electronic_certified_copy=False,
        rating="like" if is_good else "dislike",
        has_complaint=False, is_synced_to_portal=True, synced_at=_ts(received, 10),
    )
    # Good dossiers finish after 2 days; the others after 20 days (overdue, or still open at
    # the month's end when that falls later).
    finished = received + dt.timedelta(days=2 if is_good else 20)
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if finished < next_month:
        raw.add("dossier_status_history", month, dossier_id=dossier_id, parent_unit_code=unit,
                status_code="processed", status_at=_ts(finished, 15))
    if not is_good and i % 3 == 0:
        # two supplement requests: overdue whatever the dates
        for day in (1, 2):
            raw.add("dossier_status_history", month, dossier_id=dossier_id, parent_unit_code=unit,
                    status_code="supplement_requested", status_at=_ts(received + dt.timedelta(days=day), 10))
            raw.add("dossier_status_history", month, dossier_id=dossier_id, parent_unit_code=unit,
                    status_code="supplement_completed", status_at=_ts(received + dt.timedelta(days=day), 16))


def _procedures(raw: RawWriter, month: dt.date, unit: str, good_share: float) -> None:
    ministry = unit in MINISTRIES
    lead = 25 if good_share >= 0.75 else 2  # calendar days between announcement and effect
    announced = month + dt.timedelta(days=3)
    for code, has_fee in (("P1", True), ("P2", False)):
        raw.add(
            "procedures", month,
            unit_code=unit, procedure_code=code, procedure_name=f"Thủ tục {code}",
            announcement_decision_no=f"QĐ-{unit}-{month:%m}",
            announced_on=announced,
            legal_basis_effective_on=announced + dt.timedelta(days=lead if not ministry else lead + 10),
            published_on=announced + dt.timedelta(days=2),
            mandatory_parts_present=7 if good_share >= 0.5 else 6,
            online_service_level="full" if code == "P1" else "partial",
            is_full_online_eligible=code == "P1", has_fee=has_fee, requires_paper_result=code == "P1",
            serves_citizens=True, is_certification_procedure=False,
        )


def _complaints(raw: RawWriter, month: dt.date, unit: str, is_good: bool) -> None:
    received = month + dt.timedelta(days=2)
    raw.add(
        "complaints", month,
        complaint_id=f"PAKN-{unit}-{month:%Y%m}", unit_code=unit, complaint_type="regulation",
        received_at=_ts(received),
        processed_at=_ts(received + dt.timedelta(days=3 if is_good else 25)),
        published_at=_ts(received + dt.timedelta(days=4 if is_good else 27)),
        likes=3 if is_good else 0, dislikes=0 if is_good else 2, is_re_raised=not is_good,
    )
