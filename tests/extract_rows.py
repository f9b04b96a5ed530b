"""Hand-made extract rows for tests: every contract field as text, overridable."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from ingestion.core.extract_contract import EXTRACT_KINDS

DEFAULTS = {
    "dossiers": {
        "dossier_id": "H01.001", "procedure_code": "1.000001", "handling_agency_code": "01-STP",
        "handling_agency_level": "department", "handling_agency_name": "Sở Tư pháp", "parent_unit_code": "01",
        "submitted_at": "2025-07-01 08:00:00", "received_at": "2025-07-01 09:00:00",
        "due_at": "2025-07-08 17:00:00", "statutory_duration": "5", "statutory_duration_unit": "working_day",
        "channel": "2", "has_digitised_component": "true", "has_reused_digitised_data": "false",
        "has_personal_store_component": "false", "result_code": "KQ1", "result_file_url": "https://kq/1.pdf",
        "is_vneid_authenticated": "true", "population_db_code": "", "fee_amount": "50000",
        "online_payment_method": "1", "is_electronic_certified_copy": "false", "rating": "like",
        "has_complaint": "false", "is_synced_to_portal": "true", "synced_at": "2025-07-01 09:05:00",
    },
    "dossier_status_history": {
        "dossier_id": "H01.001", "parent_unit_code": "01", "status_code": "processed",
        "status_at": "2025-07-03 10:00:00",
    },
    "procedures": {
        "unit_code": "01", "procedure_code": "1.000001", "procedure_name": "Cấp phiếu lý lịch tư pháp",
        "announcement_decision_no": "123/QĐ-UBND", "announced_on": "2025-06-01",
        "legal_basis_effective_on": "2025-06-20", "published_on": "2025-06-03",
        "mandatory_parts_present": "7", "online_service_level": "full", "is_full_online_eligible": "true",
        "has_fee": "true", "requires_paper_result": "true", "serves_citizens": "true",
        "is_certification_procedure": "false",
    },
    "complaints": {
        "complaint_id": "PA1", "unit_code": "01", "complaint_type": "regulation",
        "received_at": "2025-07-02 08:00:00", "transferred_at": "", "rejected_at": "",
        "first_supplement_request_at": "", "processed_at": "2025-07-10 08:00:00",
        "published_at": "2025-07-11 08:00:00", "likes": "3", "dislikes": "0", "is_re_raised": "false",
        "dossier_id": "",
    },
}


def row(kind: str, **overrides) -> dict[str, str]:
    values = dict(DEFAULTS[kind])
    unknown = set(overrides) - set(values)
    if unknown:
        raise KeyError(f"not {kind} fields: {unknown}")
    values.update({k: str(v) for k, v in overrides.items()})
    return values


def csv_text(kind: str, rows: list[dict[str, str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXTRACT_KINDS[kind].field_names, delimiter=delimiter,
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, kind: str, rows: list[dict[str, str]], encoding: str = "utf-8",
              delimiter: str = ",", gzipped: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = csv_text(kind, rows, delimiter).encode(encoding)
    if gzipped:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path
