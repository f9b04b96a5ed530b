"""A small hand-made warehouse for the handling-agency grain of the 766 index: June and July
2025 around the two-level local government of 2025-07-01 (no district after 2025-06-30).

Agency A with (n, q) gets n dossiers of which the first round(q * n) are handled well (on time,
online, digitised, liked), the others overdue and disliked, so two agencies with the same (n, q)
tie. The rows go through RawWriter (tests/dbt/fixture_data.py); the fixture of the unit grain is
left as it is."""

from __future__ import annotations

import datetime as dt

import duckdb

from tests.dbt.fixture_data import JULY, JUNE, RawWriter, _ts

# (agency code, level, parent unit, name or None) -> (dossier count, share handled well), per month
AGENCIES_BY_MONTH: dict[dt.date, dict[tuple[str, str, str, str | None], tuple[int, float]]] = {
    JUNE: {
        # Hà Nội: departments and the province office rank together (rank group
        # provincial_agencies): S01 first, S02 and S03 identical (tied 2nd), UBND 4th
        ("01.S01", "department", "01", "Sở Tư pháp Hà Nội"): (10, 1.0),
        ("01.S02", "department", "01", "Sở Tài chính"): (10, 0.8),
        ("01.S03", "department", "01", None): (10, 0.8),
        ("01.UBND", "province", "01", "UBND thành phố Hà Nội"): (10, 0.5),
        # its districts rank apart, and so do its communes
        ("01.H01", "district", "01", "Huyện Ba Vì"): (6, 1.0),
        ("01.H02", "district", "01", "Huyện Sóc Sơn"): (6, 0.5),
        ("01.X0001", "commune", "01", "Xã Minh Châu"): (4, 0.5),
        ("01.X0002", "commune", "01", "Xã Ba Trại"): (4, 1.0),
        # Hồ Chí Minh City's departments rank among themselves (S02 first there)
        ("79.S01", "department", "79", "Sở Y tế"): (10, 0.5),
        ("79.S02", "department", "79", "Sở Nội vụ"): (10, 0.9),
        # a ministry's own offices, and its branch apart
        ("BTC.BO", "ministry", "BTC", "Văn phòng Bộ Tài chính"): (10, 0.9),
        ("BTC.CUC01", "ministry", "BTC", "Cục Thuế"): (10, 0.6),
        ("BTC.ND01", "ministry_branch", "BTC", "Chi nhánh Kho bạc tại Hà Nội"): (6, 0.5),
    },
    JULY: {
        ("01.S01", "department", "01", "Sở Tư pháp thành phố Hà Nội"): (10, 0.8),  # renamed
        ("01.S02", "department", "01", None): (10, 1.0),  # keeps June's name
        # a district's dossier after the district level was abolished: kept, not ranked
        ("01.H01", "district", "01", "Huyện Ba Vì"): (2, 1.0),
        # the merged commune is a new unit with a new code
        ("01.XM001", "commune", "01", "Xã Minh Châu"): (4, 0.75),
        ("BTC.BO", "ministry", "BTC", None): (10, 0.5),  # 1st in June, 2nd now
        ("BTC.CUC01", "ministry", "BTC", None): (10, 1.0),  # 2nd in June, 1st now
    },
}


def build_agency_fixture(con: duckdb.DuckDBPyConnection) -> None:
    raw = RawWriter()
    for month, agencies in AGENCIES_BY_MONTH.items():
        for (code, level, parent, name), (count, quality) in agencies.items():
            good = round(quality * count)
            for i in range(count):
                _dossier(raw, month, code, level, parent, name, i, is_good=i < good)
    raw.write(con)


def _dossier(raw: RawWriter, month: dt.date, agency: str, level: str, parent: str, name: str | None,
             i: int, is_good: bool) -> None:
    received = month + dt.timedelta(days=i % 10)
    dossier_id = f"{agency}-{month:%Y%m}-{i:03d}"
    raw.add(
        "dossiers", month,
        dossier_id=dossier_id, procedure_code="P1",
        handling_agency_code=agency, handling_agency_level=level, handling_agency_name=name,
        parent_unit_code=parent, submitted_at=_ts(received, 8), received_at=_ts(received),
        due_at=_ts(received + dt.timedelta(days=10), 17),
        statutory_duration=8.0, statutory_duration_unit="working_day",
        channel="2" if is_good else "1",
        has_digitised_component=is_good, has_reused_digitised_data=is_good,
        has_personal_store_component=is_good,
        result_code=f"KQ-{dossier_id}" if is_good else None,
        result_file_url=f"https://example.invalid/{dossier_id}.pdf" if is_good else None,
        is_vneid_authenticated=is_good, population_db_code=None,
        fee_amount=50000, online_payment_method="1" if is_good else "0",
        is_electronic_certified_copy=False,
        rating="like" if is_good else "dislike",
        has_complaint=False, is_synced_to_portal=True, synced_at=_ts(received, 10),
    )
    # good dossiers are processed after 2 days, the others after 15 (past the due date), all
    # within the month (received on days 1-10)
    finished = received + dt.timedelta(days=2 if is_good else 15)
    raw.add("dossier_status_history", month, dossier_id=dossier_id, parent_unit_code=parent,
            status_code="processed", status_at=_ts(finished, 15))
