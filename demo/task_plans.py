"""Demo task lists and monthly task status reports (docs/task_tracking.md, "Demo data").

`generate_demo_task_files(out, months=('2025-02', ..., '2025-08'), seed=...)` writes, through the
intake's own form writers (`ingestion/tasks/templates.py::write_plan_file / write_report_file`):

* `out/task_plans/2025/<issuer>/`: three assigning documents shaped like the real ones:
  - the National Committee's 2025 plan (UBQGCDS, ~80 tasks for the ministries),
  - a Đề án 06-like plan of the Project 06 working group (TCT06, ~300 tasks over the 63 provinces and a
    few ministries, dated January 2025, with deadlines before and after 1 July 2025: the tasks of
    the provinces merged that day move to the 34 units),
  - a Government Office meeting conclusion (VPCP, ~20 tasks with short deadlines);
  monthly, quarterly and recurring ('Thường xuyên') tasks, ~12 % key tasks, deadlines written in
  every accepted form (dates, dd/mm/yyyy text, 'Tháng 6/2025', 'Quý III/2025', 'Năm 2025',
  'Hằng tháng', 'Hằng quý', 'Thường xuyên');
* `out/task_reports/<YYYY-MM>/<unit>/`: each lead unit's monthly status report (the 63 provinces
  before 2025-07, the 34 from 2025-07; a few units skip a month), statuses following a plausible
  progression (progress only rises; a completed task stays completed), with planted
  contradictions the dbt models must flag (`CONTRADICTIONS`) and a few intake defects that
  quarantine must show (`INTAKE_DEFECTS`), all listed in the returned summary.

Deterministic: the same seed gives byte-identical files (XLSX packages are rewritten with fixed
zip times and document properties). Files carry their report date as modification time (their
order of receipt), as demo/kpi_reports.py does. CSV for most units, XLSX for a few.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.reports.dti.catalogue import Unit, all_units
from ingestion.tasks.templates import TEMPLATE_FORMAT_VERSION, write_plan_file, write_report_file
from ingestion.tasks.units import attributed_unit, is_valid_on

log = logging.getLogger(__name__)

DEFAULT_SEED = 2025
DEFAULT_MONTHS = ("2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")
XLSX_UNITS = ("01", "79", "BTC", "BYT")  # these units send the XLSX form; the others CSV
KEY_TASK_SHARE = 0.12
SKIP_MONTH_SHARE = 0.04      # unit-months without a report
EXPECTED_RESULT_MISSING = 3  # National Committee tasks without an expected result (a GX warning)
REPORT_DAY_RANGE = (3, 9)    # reports are dated on these days of the following month

# The planted contradictions (flagged on the report row by the dbt models, never counted) and the
# approved extension (valid, moves the deadline), each with the month it is planted in.
CONTRADICTIONS = {
    "completed_without_evidence": "2025-05",
    "unknown_task": "2025-05",
    "completed_without_date": "2025-06",
    "extension_without_approval": "2025-06",
    "task_of_other_agency": "2025-07",
    "extension_approved": "2025-07",  # not a contradiction: the control case
    "closed_without_approval": "2025-07",
    "status_backwards": "2025-08",
    "completion_after_report_date": "2025-08",
    "extension_approved_after_deadline": "2025-08",
}
# File- and row-level defects intake must reject (rule, field), planted in the last month.
INTAKE_DEFECTS = {
    "wrong_folder": ("foreign_unit", None),
    "bad_date": ("bad_date", "completion_date"),
    "unknown_status": ("unknown_status", "status"),
}

ISSUERS = {
    "UBQGCDS": "Ủy ban Quốc gia về chuyển đổi số",
    "TCT06": "Tổ công tác triển khai Đề án 06 của Chính phủ",
    "VPCP": "Văn phòng Chính phủ",
}


@dataclass
class DemoTask:
    task_code: str
    title: str
    lead_unit: str
    cooperating_units: list[str]
    deadline_cell: object          # as written in the list
    deadline: dt.date | None       # its last day (None: recurring without an end)
    recurrence: str                # once / monthly / quarterly / yearly / recurring
    expected_result: str | None
    key_task: bool
    document_number: str
    document_date: dt.date
    completion_date: dt.date | None = None  # simulated (None: still open at the end of the demo)


@dataclass
class DemoTaskFiles:
    out: Path
    plans: list[dict] = field(default_factory=list)     # issuer, document_number, path, format, tasks
    reports: list[dict] = field(default_factory=list)   # period, folder_unit, unit_code, path, format, rows
    contradictions: list[dict] = field(default_factory=list)  # contradiction, period, unit_code, task_code, file
    intake_defects: list[dict] = field(default_factory=list)  # defect, period, folder_unit, file, rule, field, ...
    warnings: list[dict] = field(default_factory=list)  # expected_result_missing: document, task_code
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (period, unit) without a report
    tasks: list[DemoTask] = field(default_factory=list)

    @property
    def plans_inbox(self) -> Path:
        return self.out / "task_plans"

    @property
    def reports_inbox(self) -> Path:
        return self.out / "task_reports"

    def as_metadata(self) -> dict:
        kinds: dict[str, int] = {}
        for t in self.tasks:
            kinds[t.recurrence] = kinds.get(t.recurrence, 0) + 1
        return {
            "plans_inbox": str(self.plans_inbox), "reports_inbox": str(self.reports_inbox),
            "documents": {p["document_number"]: p["tasks"] for p in self.plans},
            "tasks": len(self.tasks), "tasks_by_recurrence": kinds,
            "key_tasks": sum(t.key_task for t in self.tasks),
            "report_files": len(self.reports),
            "periods": sorted({r["period"] for r in self.reports}),
            "skipped_reports": [f"{p}/{u}" for p, u in self.skipped],
            "contradictions": {c["contradiction"]: f"{c['period']}/{c['unit_code']}/{c['task_code']}"
                               for c in self.contradictions},
            "intake_defects": {d["defect"]: f"{d['period']}/{d['folder_unit']}/{Path(d['file']).name}"
                               for d in self.intake_defects},
        }


# --------------------------------------------------------------------------------------------
# Words of real plans

FIELDS = ("hộ tịch", "đất đai", "bảo hiểm xã hội", "y tế", "giáo dục", "tư pháp", "thuế", "hải quan",
          "giao thông vận tải", "lao động – việc làm", "đăng ký kinh doanh", "cư trú", "xây dựng", "tài nguyên nước",
          "an sinh xã hội", "ngân hàng", "văn hóa", "du lịch", "nông nghiệp", "khoa học và công nghệ")
DA06_TITLES = (
    "Hoàn thành kết nối, chia sẻ dữ liệu {f} với Cơ sở dữ liệu quốc gia về dân cư",
    "Triển khai dịch vụ công trực tuyến toàn trình đối với thủ tục lĩnh vực {f}",
    "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính lĩnh vực {f} còn hiệu lực",
    "Làm sạch dữ liệu {f} theo phương châm “đúng, đủ, sạch, sống”",
    "Ứng dụng định danh và xác thực điện tử VNeID trong giải quyết thủ tục lĩnh vực {f}",
    "Tái cấu trúc quy trình, cắt giảm giấy tờ công dân trong thủ tục lĩnh vực {f}",
    "Thanh toán không dùng tiền mặt phí, lệ phí thủ tục lĩnh vực {f}",
)
DA06_RECURRING = (
    "Báo cáo kết quả thực hiện Đề án 06 định kỳ",
    "Tuyên truyền, hướng dẫn người dân sử dụng tài khoản định danh điện tử mức độ 2",
    "Kiểm tra, đôn đốc việc triển khai các mô hình điểm của Đề án 06 trên địa bàn",
)
UBQG_TITLES = (
    "Xây dựng, hoàn thiện cơ sở dữ liệu chuyên ngành về {f} và kết nối với các cơ sở dữ liệu quốc gia",
    "Ban hành kế hoạch chuyển đổi số lĩnh vực {f} năm 2025",
    "Rà soát, đề xuất sửa đổi văn bản quy phạm pháp luật lĩnh vực {f} tạo hành lang pháp lý cho chuyển đổi số",
    "Đưa nền tảng số dùng chung lĩnh vực {f} vào vận hành trên toàn quốc",
    "Bảo đảm an toàn thông tin hệ thống thông tin lĩnh vực {f} theo cấp độ",
    "Cung cấp dữ liệu mở lĩnh vực {f} trên Cổng dữ liệu quốc gia",
    "Đào tạo, bồi dưỡng kỹ năng số cho cán bộ, công chức ngành {f}",
)
UBQG_RECURRING = (
    "Báo cáo tình hình chuyển đổi số của bộ, ngành gửi Ủy ban Quốc gia",
    "Cập nhật số liệu Bộ chỉ số đánh giá chuyển đổi số (DTI) của bộ, ngành",
)
VPCP_TITLES = (
    "Khẩn trương hoàn thiện hồ sơ Đề án {f}, trình Thủ tướng Chính phủ",
    "Chủ trì, phối hợp xử lý dứt điểm vướng mắc về kết nối dữ liệu {f}",
    "Báo cáo Thủ tướng Chính phủ kết quả tháo gỡ khó khăn trong triển khai dịch vụ công lĩnh vực {f}",
    "Rà soát, đề xuất cắt giảm thủ tục hành chính lĩnh vực {f}",
)
RESULTS = ("Hệ thống được đưa vào vận hành chính thức", "Kế hoạch được ban hành", "Báo cáo gửi Bộ Công an",
           "Dữ liệu được kết nối, đồng bộ với Cơ sở dữ liệu quốc gia về dân cư", "Quyết định phê duyệt",
           "Tờ trình Thủ tướng Chính phủ", "Văn bản quy phạm pháp luật được ban hành",
           "Dịch vụ công trực tuyến toàn trình được cung cấp trên Cổng Dịch vụ công quốc gia")
DELAY_REASONS = ("Chờ hướng dẫn kỹ thuật kết nối của Bộ Công an", "Kinh phí chưa được bố trí",
                 "Đang hoàn thiện hồ sơ theo ý kiến thẩm định", "Sắp xếp tổ chức bộ máy, đơn vị chủ trì thay đổi",
                 "Hệ thống của đơn vị cung cấp dịch vụ chưa đáp ứng")
STATUS_TEXT = {
    "on_time": ("Đã hoàn thành", "Hoàn thành đúng hạn", "Đã hoàn thành – đúng hạn"),
    "late": ("Hoàn thành quá hạn", "Đã hoàn thành", "Hoàn thành muộn"),
    "within": ("Đang thực hiện trong hạn", "Đang thực hiện", "Đang thực hiện theo kế hoạch", "Trong hạn",
               "Đang thực hiện trung hạn"),  # the typo one agency writes
    "overdue": ("Chưa hoàn thành – quá hạn", "Quá hạn", "Chưa hoàn thành quá hạn"),
    "recurring": ("Thường xuyên", "Đang thực hiện"),
}
ROMAN_QUARTER = {1: "I", 2: "II", 3: "III", 4: "IV"}


# --------------------------------------------------------------------------------------------
# Dates and units

def month_end(key: str) -> dt.date:
    start = dt.date(int(key[:4]), int(key[5:7]), 1)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _quarter_end(year: int, quarter: int) -> dt.date:
    return month_end(f"{year}-{3 * quarter:02d}")


def lead_in(code: str, day: dt.date) -> str:
    """The unit leading on `day` the tasks assigned to `code` (2025 merger and restructure)."""
    return attributed_unit(code, day)[0]


def _units(level: str, day: dt.date) -> list[Unit]:
    return [u for u in all_units() if u.level == level and is_valid_on(u, day)]


def _name(code: str) -> str:
    return next(u.name_vi for u in all_units() if u.code == code)


# --------------------------------------------------------------------------------------------
# The task lists

def _deadline_cell(rng: random.Random, deadline: dt.date) -> tuple[object, dt.date]:
    """The deadline as an issuer writes it, and its last day."""
    form = rng.random()
    if form < 0.35:
        return deadline, deadline
    if form < 0.5:
        return deadline.strftime("%d/%m/%Y"), deadline
    if form < 0.7:
        return f"Tháng {deadline.month}/{deadline.year}", month_end(f"{deadline.year}-{deadline.month:02d}")
    if form < 0.9:
        q = (deadline.month - 1) // 3 + 1
        return f"Quý {ROMAN_QUARTER[q]}/{deadline.year}", _quarter_end(deadline.year, q)
    return f"Năm {deadline.year}", dt.date(deadline.year, 12, 31)


def _task(rng, code, title, lead, coop, document_number, document_date, deadline, recurrence="once",
          result=True, deadline_cell=None) -> DemoTask:
    if recurrence == "once":
        cell, last_day = deadline_cell or _deadline_cell(rng, deadline)
    else:
        cell, last_day = {"monthly": "Hằng tháng", "quarterly": "Hằng quý", "yearly": "Hằng năm",
                          "recurring": "Thường xuyên"}[recurrence], None
    return DemoTask(code, title, lead, coop, cell, last_day, recurrence, rng.choice(RESULTS) if result else None,
                    rng.random() < KEY_TASK_SHARE, document_number, document_date)


def _da06_plan(rng: random.Random) -> tuple[dict, list[DemoTask]]:
    number, date = "KH 02/KH-TCT06", dt.date(2025, 1, 15)
    provinces = [u.code for u in _units("province", date)]
    ministries = ["BTP", "BYT", "BGDDT", "NHNN", "BTC", "BNV"]
    tasks, n = [], 0
    for i, code in enumerate(provinces):
        for j in range(4 + (i % 3 == 0)):  # 4 or 5 tasks per province: ~300
            n += 1
            kind = rng.random()
            if j == 0 and i % 4 == 0:
                recurrence = ("monthly", "quarterly", "recurring")[i % 3]
                title = rng.choice(DA06_RECURRING)
                deadline = None
            else:
                recurrence = "once"
                title = rng.choice(DA06_TITLES).format(f=rng.choice(FIELDS))
                # before and after the merger of 1 July 2025
                deadline = date + dt.timedelta(days=int(45 + kind * 300))
            tasks.append(_task(rng, f"DA06-{n:03d}", title, code, [], number, date, deadline, recurrence))
    for code in ministries:
        for _ in range(2):
            n += 1
            deadline = date + dt.timedelta(days=rng.randint(60, 330))
            tasks.append(_task(rng, f"DA06-{n:03d}", rng.choice(DA06_TITLES).format(f=rng.choice(FIELDS)), code,
                               rng.sample(provinces, 2), number, date, deadline))
    header = {"issuer_code": "TCT06", "issuer_name": ISSUERS["TCT06"], "document_number": number, "document_date": date,
              "document_title": "Kế hoạch triển khai Đề án 06 năm 2025 (phát triển ứng dụng dữ liệu về dân cư, định "
                                "danh và xác thực điện tử phục vụ chuyển đổi số quốc gia)"}
    return header, tasks


def _ubqg_plan(rng: random.Random) -> tuple[dict, list[DemoTask]]:
    number, date = "KH 01/KH-UBQGCDS", dt.date(2025, 3, 5)
    ministries = [u.code for u in _units("ministry", date)]
    tasks = []
    for n in range(1, 81):
        lead = ministries[(n - 1) % len(ministries)]
        coop = [c for c in rng.sample(ministries, 2) if c != lead]
        if n % 10 == 0:
            recurrence, title, deadline = ("monthly", "quarterly", "recurring", "yearly")[(n // 10) % 4], \
                rng.choice(UBQG_RECURRING), None
        else:
            recurrence, title = "once", rng.choice(UBQG_TITLES).format(f=rng.choice(FIELDS))
            deadline = date + dt.timedelta(days=rng.randint(40, 300))
        tasks.append(_task(rng, f"UBQG-{n:03d}", title, lead, coop, number, date, deadline, recurrence,
                           result=n > EXPECTED_RESULT_MISSING * 7 or n % 7 != 1))
    header = {"issuer_code": "UBQGCDS", "issuer_name": ISSUERS["UBQGCDS"], "document_number": number,
              "document_date": date, "document_title": "Kế hoạch hoạt động của Ủy ban Quốc gia về chuyển đổi số năm 2025"}
    return header, tasks


def _vpcp_conclusion(rng: random.Random) -> tuple[dict, list[DemoTask]]:
    number, date = "TB 123/TB-VPCP", dt.date(2025, 4, 8)
    leads = ["BKHCN", "BCT", "BTC", "BYT", "BTP", "BXD", "01", "79", "48", "31"]
    tasks = []
    for n in range(1, 21):
        deadline = date + dt.timedelta(days=rng.choice((15, 22, 30, 45, 60)))
        cell = None
        if n % 5 == 0:
            cell = (f"Tháng {deadline.month}/{deadline.year}", month_end(f"{deadline.year}-{deadline.month:02d}"))
        elif n % 2:
            cell = (deadline, deadline)
        tasks.append(_task(rng, f"VPCP123-{n:02d}", rng.choice(VPCP_TITLES).format(f=rng.choice(FIELDS)),
                           leads[(n - 1) % len(leads)], [], number, date, deadline, deadline_cell=cell))
    header = {"issuer_code": "VPCP", "issuer_name": ISSUERS["VPCP"], "document_number": number, "document_date": date,
              "document_title": "Kết luận của Thủ tướng Chính phủ tại cuộc họp về thúc đẩy chuyển đổi số, cải cách "
                                "thủ tục hành chính"}
    return header, tasks


def _simulate(rng: random.Random, task: DemoTask, last_day: dt.date) -> None:
    """A once-task's completion: on time (~55 %), late (~15 %) or still open at the demo's end."""
    if task.recurrence != "once":
        return
    draw = rng.random()
    start = task.document_date + dt.timedelta(days=10)
    if draw < 0.55 and task.deadline > start:
        done = start + dt.timedelta(days=rng.randint(0, (task.deadline - start).days))
    elif draw < 0.7:
        done = task.deadline + dt.timedelta(days=rng.randint(5, 60))
    else:
        done = None
    task.completion_date = done if done and done <= last_day else None


# --------------------------------------------------------------------------------------------
# Reports

def _progress(task: DemoTask, day: dt.date) -> int:
    """Progress rising with time towards the planned completion (never 100 before it)."""
    target = task.completion_date or (task.deadline + dt.timedelta(days=120))
    span = max((target - task.document_date).days, 1)
    return max(0, min(95, int(100 * (day - task.document_date).days / span) // 5 * 5))


def _evidence(task: DemoTask, unit: str, day: dt.date) -> str:
    n = sum(map(ord, task.task_code)) % 900 + 100
    return f"Văn bản số {n}/BC-{unit} ngày {day:%d/%m/%Y}"


def _row(task: DemoTask, unit: str, period: str, rng: random.Random) -> dict:
    end = month_end(period)
    row = {"task_code": task.task_code, "title": task.title, "deadline": task.deadline_cell}
    if task.recurrence != "once":
        return {**row, "status": rng.choice(STATUS_TEXT["recurring"]), "evidence": _evidence(task, unit, end)}
    if task.completion_date and task.completion_date <= end:
        kind = "on_time" if task.completion_date <= task.deadline else "late"
        return {**row, "status": rng.choice(STATUS_TEXT[kind]), "completion_date": task.completion_date,
                "evidence": _evidence(task, unit, task.completion_date), "progress": 100}
    if end > task.deadline:
        return {**row, "status": rng.choice(STATUS_TEXT["overdue"]), "progress": _progress(task, end),
                "delay_reason": rng.choice(DELAY_REASONS)}
    return {**row, "status": rng.choice(STATUS_TEXT["within"]), "progress": _progress(task, end)}


def _reproducible_xlsx(path: Path, when: dt.datetime) -> None:
    """Rewrite an XLSX package with fixed zip times and document dates (openpyxl stamps the clock)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + stamp.encode()
                              + rb"\g<3>", data)
            zout.writestr(zipfile.ZipInfo(name, date_time=when.timetuple()[:6]), data, zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())


class _Writer:
    """Writes the files in order of receipt: each one's modification time is its date, a second apart."""

    def __init__(self, result: DemoTaskFiles):
        self.result, self.tick = result, 0

    def _stamp(self, path: Path, day: dt.date) -> None:
        sent = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(seconds=self.tick)
        self.tick += 1
        if path.suffix == ".xlsx":
            _reproducible_xlsx(path, dt.datetime.combine(day, dt.time(9)))
        os.utime(path, (sent.timestamp(), sent.timestamp()))

    def plan(self, header: dict, tasks: list[DemoTask], fmt: str) -> Path:
        report_date = header["document_date"] + dt.timedelta(days=2)
        path = self.result.plans_inbox / str(header["document_date"].year) / header["issuer_code"] / \
            f"danh_muc_nhiem_vu_{header['issuer_code'].lower()}_2025.{fmt}"
        rows = [{"task_code": t.task_code, "title": t.title, "lead_unit": t.lead_unit,
                 "cooperating_units": "; ".join(t.cooperating_units) or None, "deadline": t.deadline_cell,
                 "expected_result": t.expected_result, "key_task": True if t.key_task else None} for t in tasks]
        write_plan_file(path, {**header, "report_date": report_date, "template_version": TEMPLATE_FORMAT_VERSION}, rows, fmt)
        self._stamp(path, report_date)
        self.result.plans.append({"issuer": header["issuer_code"], "document_number": header["document_number"],
                                  "path": str(path), "format": fmt, "tasks": len(tasks)})
        return path

    def report(self, period: str, folder: str, unit: str, report_date: dt.date, rows: list[dict],
               name: str | None = None) -> Path:
        fmt = "xlsx" if unit in XLSX_UNITS else "csv"
        path = self.result.reports_inbox / period / folder / (name or f"bao_cao_nhiem_vu_{period}_{unit}.{fmt}")
        unit_obj = next(u for u in all_units() if u.code == unit)
        header = {"unit_code": unit, "unit_name": unit_obj.name_vi, "level": unit_obj.level, "period": period,
                  "report_date": report_date, "template_version": TEMPLATE_FORMAT_VERSION}
        write_report_file(path, header, rows, fmt)
        self._stamp(path, report_date)
        self.result.reports.append({"period": period, "folder_unit": folder, "unit_code": unit, "path": str(path),
                                    "format": fmt, "rows": len(rows), "report_date": report_date})
        return path


class _NoCandidate(LookupError):
    """No report row of the month suits a planted case (a demo window without such tasks)."""


def _pick(rows: dict[str, list[dict]], tasks: dict[str, DemoTask], used: set[str], test) -> tuple[str, dict]:
    """The first (unit, row) in a stable order whose task passes `test` and is not planted yet."""
    for unit in sorted(rows):
        for row in rows[unit]:
            task = tasks.get(row["task_code"])
            if task and task.task_code not in used and unit not in used and test(task, row):
                used.update((task.task_code, unit))
                return unit, row
    raise _NoCandidate


def generate_demo_task_files(out: Path, months: tuple[str, ...] = DEFAULT_MONTHS,
                             seed: int = DEFAULT_SEED) -> DemoTaskFiles:
    out = Path(out)
    rng = random.Random(seed)
    result = DemoTaskFiles(out)
    writer = _Writer(result)
    last_day = month_end(months[-1])
    plans = [_da06_plan(rng), _ubqg_plan(rng), _vpcp_conclusion(rng)]
    for (header, tasks), fmt in zip(plans, ("xlsx", "xlsx", "csv"), strict=True):
        for t in tasks:
            _simulate(rng, t, last_day)
        writer.plan(header, tasks, fmt)
        result.tasks.extend(tasks)
        result.warnings.extend({"warning": "expected_result_missing", "document": header["document_number"],
                                "task_code": t.task_code} for t in tasks if t.expected_result is None)
    by_code = {t.task_code: t for t in result.tasks}
    used: set[str] = set()
    extended: dict[str, dict] = {}  # task code -> the approved extension, repeated in later reports
    for period in months:
        end = month_end(period)
        units_now = {u.code for u in all_units() if is_valid_on(u, end)}
        rows: dict[str, list[dict]] = {}
        for t in result.tasks:
            if t.document_date <= end:
                unit = lead_in(t.lead_unit, end)
                if unit in units_now:
                    rows.setdefault(unit, []).append(_row(t, unit, period, rng))
        for code, ext in extended.items():
            unit = lead_in(by_code[code].lead_unit, end)
            for row in rows.get(unit, []):
                if row["task_code"] == code and not row.get("completion_date"):
                    row.update(ext, status=STATUS_TEXT["within"][0])
        planted = [c for c, m in CONTRADICTIONS.items() if m == period]
        for contradiction in planted:
            try:
                unit, row = _plant(contradiction, rows, by_code, used, period, end, extended)
            except _NoCandidate:
                log.warning("task demo: no report row of %s suits %s; not planted", period, contradiction)
                continue
            result.contradictions.append({"contradiction": contradiction, "period": period, "unit_code": unit,
                                          "task_code": row["task_code"], "is_contradiction":
                                          contradiction != "extension_approved"})
        defects = {}
        if period == months[-1]:
            try:
                defects = _plant_defects(rows, by_code, used)
            except _NoCandidate:
                log.warning("task demo: the reports of %s cannot carry the intake defects; not planted", period)
        report_day = {u: end + dt.timedelta(days=rng.randint(*REPORT_DAY_RANGE)) for u in sorted(rows)}
        for unit in sorted(rows):
            if unit not in used and rng.random() < SKIP_MONTH_SHARE:
                result.skipped.append((period, unit))
                continue
            path = writer.report(period, unit, unit, report_day[unit], rows[unit])
            for c in result.contradictions:
                if c["period"] == period and c["unit_code"] == unit:
                    c["file"] = str(path)
            for name, d in defects.items():
                if name != "wrong_folder" and d["folder_unit"] == unit:
                    result.intake_defects.append({**d, "defect": name, "period": period, "file": str(path)})
        if defects:
            # unit A's report also dropped into unit B's folder, after B's own: B's version 2, rejected
            source, target = defects["wrong_folder"]["unit_code"], defects["wrong_folder"]["folder_unit"]
            path = writer.report(period, target, source, report_day[target] + dt.timedelta(days=1), rows[source],
                                 name=f"bao_cao_{source}.{'xlsx' if source in XLSX_UNITS else 'csv'}")
            result.intake_defects.append({**defects["wrong_folder"], "defect": "wrong_folder", "period": period,
                                          "file": str(path)})
    return result


def _plant(contradiction: str, rows, tasks, used, period, end, extended) -> tuple[str, dict]:
    """Change one report row (or add one) so that it carries `contradiction`."""
    open_once = lambda t, r: t.recurrence == "once" and not r.get("completion_date")  # noqa: E731
    done = lambda t, r: t.recurrence == "once" and bool(r.get("completion_date"))  # noqa: E731
    if contradiction == "completed_without_evidence":
        unit, row = _pick(rows, tasks, used, done)
        row["evidence"] = None
    elif contradiction == "completed_without_date":
        unit, row = _pick(rows, tasks, used, done)
        row["completion_date"] = None
    elif contradiction == "completion_after_report_date":
        unit, row = _pick(rows, tasks, used, lambda t, r: open_once(t, r) and t.deadline > end)
        row.update(status=STATUS_TEXT["on_time"][0], completion_date=end + dt.timedelta(days=25),
                   evidence=_evidence(tasks[row["task_code"]], unit, end), progress=100)
    elif contradiction == "status_backwards":
        # completed before this month, reported in progress again with a lower progress
        unit, row = _pick(rows, tasks, used, lambda t, r: done(t, r) and t.completion_date < end.replace(day=1))
        row.update(status=STATUS_TEXT["within"][1], completion_date=None, evidence=None, progress=80)
    elif contradiction == "unknown_task":
        unit = next((u for u in sorted(rows) if u not in used), None)
        if unit is None:
            raise _NoCandidate
        used.add(unit)
        row = {"task_code": "DA06-999", "title": "Nhiệm vụ không có trong danh mục", "deadline": None,
               "status": STATUS_TEXT["within"][0], "progress": 50}
        rows[unit].append(row)
    elif contradiction == "task_of_other_agency":
        other, theirs = _pick(rows, tasks, used, lambda t, r: t.recurrence == "once")
        unit = next((u for u in sorted(rows) if u not in used and u != other), None)
        if unit is None:
            raise _NoCandidate
        used.add(unit)
        row = {**theirs, "status": STATUS_TEXT["within"][0], "completion_date": None, "progress": 40}
        rows[unit].append(row)
    elif contradiction == "extension_without_approval":
        unit, row = _pick(rows, tasks, used, lambda t, r: open_once(t, r) and t.deadline < end.replace(day=1))
        row.update(extension_deadline=end + dt.timedelta(days=90))
    elif contradiction == "extension_approved":
        unit, row = _pick(rows, tasks, used, lambda t, r: open_once(t, r) and end.replace(day=1) <= t.deadline <= end
                          and t.completion_date is None)
        deadline = tasks[row["task_code"]].deadline
        ext = {"extension_deadline": deadline + dt.timedelta(days=92), "delay_reason": DELAY_REASONS[0],
               "approval_document": "Công văn số 4567/VPCP-KSTT", "approval_date": deadline - dt.timedelta(days=3)}
        row.update(ext, status=STATUS_TEXT["within"][0])
        extended[row["task_code"]] = ext
    elif contradiction == "extension_approved_after_deadline":
        unit, row = _pick(rows, tasks, used, lambda t, r: open_once(t, r) and t.deadline < end - dt.timedelta(days=40))
        deadline = tasks[row["task_code"]].deadline
        row.update(extension_deadline=end + dt.timedelta(days=60), approval_document="Công văn số 5123/UBND-KGVX",
                   approval_date=deadline + dt.timedelta(days=20))
    elif contradiction == "closed_without_approval":
        unit, row = _pick(rows, tasks, used, open_once)
        row.update(status="Dừng thực hiện", progress=None, note="Nhiệm vụ không còn phù hợp")
    else:
        raise ValueError(f"unknown contradiction {contradiction!r}")
    return unit, row


def _plant_defects(rows, tasks, used) -> dict[str, dict]:
    """The intake defects of the last month: a bad date and an unknown status (rows rejected), and
    a report dropped into another unit's folder (file rejected). Every place is chosen before any
    row is changed, so a month that cannot carry them all carries none."""
    date_unit, date_row = _pick(rows, tasks, used, lambda t, r: bool(r.get("completion_date")))
    status_unit, status_row = _pick(rows, tasks, used, lambda t, r: t.recurrence == "once")
    candidates = [u for u in sorted(rows) if u not in used and u[0].isdigit()][:2]
    if len(candidates) < 2:
        raise _NoCandidate
    source, target = candidates
    used.update((source, target))
    date_row["completion_date"], status_row["status"] = "31/02/2025", "Đang chờ phê duyệt"
    return {
        "bad_date": {"folder_unit": date_unit, "unit_code": date_unit, "task_code": date_row["task_code"],
                     "typed": "31/02/2025", "expected_rule": INTAKE_DEFECTS["bad_date"][0],
                     "expected_field": INTAKE_DEFECTS["bad_date"][1]},
        "unknown_status": {"folder_unit": status_unit, "unit_code": status_unit, "task_code": status_row["task_code"],
                           "typed": "Đang chờ phê duyệt", "expected_rule": INTAKE_DEFECTS["unknown_status"][0],
                           "expected_field": INTAKE_DEFECTS["unknown_status"][1]},
        "wrong_folder": {"folder_unit": target, "unit_code": source, "task_code": None,
                         "expected_rule": INTAKE_DEFECTS["wrong_folder"][0], "expected_field": None},
    }
