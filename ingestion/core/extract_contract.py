"""The contract of every national extract the platform ingests.

One definition per field, used by every path that touches the data: the bulk-file loader
(casts and row rules in DuckDB), the portal API client (page shape checks), the demo data
generator, the Great Expectations suites and the dbt sources. The portal's own
synchronisation field name (`portal_field`) is kept beside ours so an adapter for the real
portal can map one to the other (see docs/portal_api.md and shared research on index 766).

Types are DuckDB/ANSI SQL type names. Every raw table also carries the provenance columns in
`PROVENANCE_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    sql_type: str  # VARCHAR, BIGINT, SMALLINT, INTEGER, DOUBLE, DECIMAL(18,2), BOOLEAN, DATE, TIMESTAMP
    required: bool
    description: str
    portal_field: str | None = None
    allowed_values: tuple[str, ...] | None = None  # textual values accepted (after trimming)
    # A column a source may leave out entirely (read as NULL): only for fields added to the
    # contract after sources were already written without them (e.g. handling_agency_name).
    # Every other field, required or not, must be present as a column.
    may_be_absent: bool = False


@dataclass(frozen=True)
class ExtractKind:
    name: str  # also the raw table name: raw.<name>
    description: str
    key: tuple[str, ...]  # unique within one period_month
    fields: tuple[Field, ...]
    file_prefix: str  # landing file names start with this prefix
    api_endpoint: str  # path on the portal API
    unit_field: str  # the field that names the ranked unit (province or ministry code)
    time_field: str | None = None  # the field whose month must match the extract month, if any
    extra: dict = field(default_factory=dict)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


# Levels of the agency that handles a dossier. 'district' (UBND cấp huyện) exists until the
# two-level local government of 2025-07-01; it is last so the earlier levels keep their position.
# What each level is, which unit level it sits below, its validity and ranking group:
# dbt_project/seeds/units/units_agency_levels.csv (docs/service_index_agencies.md).
AGENCY_LEVELS = ("ministry", "ministry_branch", "province", "department", "commune", "district")
CHANNELS = ("1", "2", "3")  # 1 in person, 2 online, 3 post (KenhThucHien)
DURATION_UNITS = ("hour", "day", "working_day", "month")
PAYMENT_METHODS = ("0", "1", "2")  # 0 none, 1 national portal, 2 ministry/province gateway
RATINGS = ("like", "dislike")
DOSSIER_STATUSES = (
    "supplement_requested",  # Yêu cầu bổ sung
    "supplement_completed",  # Hoàn thành bổ sung
    "processed",  # Đã xử lý xong
    "result_returned",  # Đã trả kết quả
    "stopped",  # Dừng xử lý
    "refused",  # Từ chối
    "withdrawn",  # Công dân rút
)
ONLINE_LEVELS = ("none", "partial", "full")
UNIT_LEVELS = ("ministry", "province")
COMPLAINT_TYPES = ("regulation", "conduct")

DOSSIERS = ExtractKind(
    name="dossiers",
    description="Administrative-procedure dossiers (hồ sơ TTHC): one row per dossier in a monthly "
    "extract. A month's extract holds the dossiers received in the month and those received "
    "earlier that were still open at the start of the month (carry-over).",
    key=("dossier_id",),
    file_prefix="dossiers",
    api_endpoint="/api/v1/dossiers",
    unit_field="parent_unit_code",
    fields=(
        Field("dossier_id", "VARCHAR", True, "Dossier id", "MaHoSo"),
        Field("procedure_code", "VARCHAR", True, "Procedure code (1.xxxxx / 2.xxxxxx)", "MaTTHC"),
        Field("handling_agency_code", "VARCHAR", True, "Agency that handles the dossier", "MaCoQuan"),
        Field("handling_agency_level", "VARCHAR", True, "Level of the handling agency", None, AGENCY_LEVELS),
        Field("handling_agency_name", "VARCHAR", False, "Name of the handling agency (Vietnamese); "
              "a source may omit the column", "TenCoQuan", may_be_absent=True),
        Field("parent_unit_code", "VARCHAR", True,
              "Ranked unit the agency rolls up to: province code (2 digits) or ministry code", "MaDonViCha"),
        Field("submitted_at", "TIMESTAMP", False, "Submission time", "NgayNopHoSo"),
        Field("received_at", "TIMESTAMP", True, "Reception time; defines the period", "NgayTiepNhan"),
        Field("due_at", "TIMESTAMP", False, "Appointment (due) time", "NgayHenTra"),
        Field("statutory_duration", "DOUBLE", False, "Statutory processing time", "ThoiGianGiaiQuyet"),
        Field("statutory_duration_unit", "VARCHAR", False, "Unit of the statutory time", "DonViTinh",
              DURATION_UNITS),
        Field("channel", "SMALLINT", False, "1 in person, 2 online, 3 post; empty = in person",
              "KenhThucHien", CHANNELS),
        Field("has_digitised_component", "BOOLEAN", True, "At least one attachment digitised",
              "HoSoCoThanhPhanSoHoa"),
        Field("has_reused_digitised_data", "BOOLEAN", True, "Re-uses already digitised data",
              "TaiLieuNop.DuocSoHoa"),
        Field("has_personal_store_component", "BOOLEAN", True,
              "A component taken from (or the result synced to) the citizen's personal data store",
              "TaiLieuNop.DuocLayTuKhoDMQG"),
        Field("result_code", "VARCHAR", False, "Electronic result code", "MaKetQua"),
        Field("result_file_url", "VARCHAR", False, "Link to the electronic result file",
              "DuongDanTepTinKetQua"),
        Field("is_vneid_authenticated", "BOOLEAN", True, "Applicant authenticated with VNeID",
              "TaiKhoanDuocXacThucVoiVNeID"),
        Field("population_db_code", "VARCHAR", False, "Population database record used", "MaCSDL"),
        Field("fee_amount", "DECIMAL(18,2)", False,
              "Sum of the synced fee list; empty = no fee data synced", "DanhSachPhiLePhi[].Gia"),
        Field("online_payment_method", "SMALLINT", False, "0 none, 1 national portal, 2 local gateway",
              "DuocThanhToanTrucTuyen", PAYMENT_METHODS),
        Field("is_electronic_certified_copy", "BOOLEAN", True,
              "Dossier issued an electronic certified copy from an original", None),
        Field("rating", "VARCHAR", False, "Applicant's rating of the handling", "DanhGia", RATINGS),
        Field("has_complaint", "BOOLEAN", True, "A complaint (PAKN) is linked to the dossier", None),
        Field("is_synced_to_portal", "BOOLEAN", True, "Synchronised to the national portal", None),
        Field("synced_at", "TIMESTAMP", False, "Time of synchronisation", None),
    ),
)

DOSSIER_STATUS_HISTORY = ExtractKind(
    name="dossier_status_history",
    description="Status changes of dossiers after reception, one row per change. Reception itself "
    "is dossiers.received_at.",
    key=("dossier_id", "status_code", "status_at"),
    file_prefix="dossier_status_history",
    api_endpoint="/api/v1/dossier-status-history",
    unit_field="parent_unit_code",
    fields=(
        Field("dossier_id", "VARCHAR", True, "Dossier id", "MaHoSo"),
        Field("parent_unit_code", "VARCHAR", True, "Ranked unit of the dossier", "MaDonViCha"),
        Field("status_code", "VARCHAR", True, "New status", "TrangThaiHoSo", DOSSIER_STATUSES),
        Field("status_at", "TIMESTAMP", True, "When the status was set", "ThoiGian"),
    ),
)

PROCEDURES = ExtractKind(
    name="procedures",
    description="The procedure catalogue (CSDL quốc gia về TTHC) as implemented by each ranked unit, "
    "a snapshot as of the extract month's end.",
    key=("unit_code", "procedure_code"),
    file_prefix="procedures",
    api_endpoint="/api/v1/procedures",
    unit_field="unit_code",
    fields=(
        Field("unit_code", "VARCHAR", True, "Ministry or province that announces and runs it", "MaDonVi"),
        Field("procedure_code", "VARCHAR", True, "Procedure code", "MaTTHC"),
        Field("procedure_name", "VARCHAR", True, "Procedure name (Vietnamese)", "TenTTHC"),
        Field("announcement_decision_no", "VARCHAR", False, "Announcing decision (QĐ công bố)", "SoQuyetDinh"),
        Field("announced_on", "DATE", False, "Date of the announcing decision", "NgayQuyetDinh"),
        Field("legal_basis_effective_on", "DATE", False, "Latest effective date of its legal basis",
              "NgayHieuLuc"),
        Field("published_on", "DATE", False, "Date published on the national procedure database",
              "NgayCongKhai"),
        Field("mandatory_parts_present", "SMALLINT", True,
              "How many of the 7 mandatory parts are published (NĐ 63/2010, Điều 8.2)", None),
        Field("online_service_level", "VARCHAR", True, "Online service offered", "MucDoDVC", ONLINE_LEVELS),
        Field("is_full_online_eligible", "BOOLEAN", True, "Eligible for full-process online", None),
        Field("has_fee", "BOOLEAN", True, "Carries a fee or charge", None),
        Field("requires_paper_result", "BOOLEAN", True, "The result is a paper document by law", None),
        Field("serves_citizens", "BOOLEAN", True, "Applicants include citizens (population DB relevant)",
              "DoiTuongThucHien"),
        Field("is_certification_procedure", "BOOLEAN", True, "A certified-copy procedure", None),
    ),
)

COMPLAINTS = ExtractKind(
    name="complaints",
    description="Complaints and feedback (phản ánh, kiến nghị, PAKN) with their step timeline.",
    key=("complaint_id",),
    file_prefix="complaints",
    api_endpoint="/api/v1/complaints",
    unit_field="unit_code",
    fields=(
        Field("complaint_id", "VARCHAR", True, "Complaint id", "MaPAKN"),
        Field("unit_code", "VARCHAR", True, "Ministry or province handling it", "MaDonVi"),
        Field("complaint_type", "VARCHAR", True, "regulation/procedure or staff conduct", "PhanLoai",
              COMPLAINT_TYPES),
        Field("received_at", "TIMESTAMP", True, "First reception", "NgayTiepNhan"),
        Field("transferred_at", "TIMESTAMP", False, "Latest transfer (deadlines restart)", "NgayChuyen"),
        Field("rejected_at", "TIMESTAMP", False, "Rejected", None),
        Field("first_supplement_request_at", "TIMESTAMP", False, "First request for more information", None),
        Field("processed_at", "TIMESTAMP", False, "Answer ready (chờ công khai)", None),
        Field("published_at", "TIMESTAMP", False, "Answer published", None),
        Field("likes", "INTEGER", True, "Likes on the answer", None),
        Field("dislikes", "INTEGER", True, "Dislikes on the answer", None),
        Field("is_re_raised", "BOOLEAN", True, "Raised again after an answer", None),
        Field("dossier_id", "VARCHAR", False, "Dossier the complaint is about, if any", "MaHoSo"),
    ),
)

EXTRACT_KINDS: dict[str, ExtractKind] = {
    k.name: k for k in (DOSSIERS, DOSSIER_STATUS_HISTORY, PROCEDURES, COMPLAINTS)
}

# Columns every raw table carries beside the contract fields.
PROVENANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("period_month", "DATE"),  # first day of the extract month
    ("source_id", "VARCHAR"),  # id of the landed file or archived API page
    ("source_row", "BIGINT"),  # 1-based data row within that file or page
    ("rejection_rule", "VARCHAR"),  # null = valid; else the rule that rejected the row
    ("rejection_reason", "VARCHAR"),  # null = valid; else a message naming the field and value
    ("raw_record", "VARCHAR"),  # rejected rows only: the original values as JSON text
    ("loaded_at", "TIMESTAMP"),
)


def kind_for_filename(filename: str) -> ExtractKind | None:
    """The extract kind of a landing file, by its name prefix (longest prefix wins)."""
    base = filename.lower()
    for kind in sorted(EXTRACT_KINDS.values(), key=lambda k: -len(k.file_prefix)):
        if base.startswith(kind.file_prefix):
            return kind
    return None
