"""DTI report intake from the inbox: real template files, real DuckDB, every messy format."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ingestion.core.raw_archive import read_index, restore_month, verify_archive
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.reports.intake import ingest_inbox, quarantine_dir
from ingestion.reports.templates import (
    FIRST_DATA_ROW,
    INDICATOR_SHEET,
    report_csv_text,
    report_workbook,
    write_templates,
)

GOOD = {
    "1.1": {"value": "Có", "evidence": "QĐ 123/QĐ-UBND"},
    "1.2": {"value": 3},
    "1.3": {"numerator": 45, "denominator": 60},
    "6.1": {"value": "Không"},
    "7.1": {"value": "85%", "evidence": "https://dichvucong.gov.vn"},
    "7.2": {"value": 12},
    "8.1": {"value": "1,2%"},
}


@pytest.fixture
def con(data_root, dti_catalogue):
    with connect() as connection:
        prepare_warehouse(connection)
        yield connection


@pytest.fixture
def inbox(data_root):
    return data_root / "inbox"


def drop(inbox: Path, year: int, unit: str, name: str) -> Path:
    path = inbox / str(year) / unit / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def stamp(path: Path, seconds: int) -> Path:
    """Set the file's modification time: intake versions files in order of receipt."""
    t = dt.datetime(2024, 1, 1).timestamp() + seconds
    os.utime(path, (t, t))
    return path


def save_report(inbox, unit="01", year=2023, name="bao_cao.xlsx", values=GOOD, report_date=dt.date(2024, 1, 15),
                level="province", header_unit=None, seconds=0) -> Path:
    path = drop(inbox, year, unit, name)
    if name.endswith(".xlsx"):
        report_workbook(level, year, unit_code=header_unit or unit, report_date=report_date, values=values).save(path)
    else:
        path.write_text(report_csv_text(level, year, unit_code=header_unit or unit, report_date=report_date,
                                        values=values), encoding="utf-8")
    return stamp(path, seconds)


def values_of(con, submission_id=None) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT indicator_code, value, numerator, denominator, evidence, rejection_rule FROM raw.dti_report_values "
        + ("WHERE submission_id = ?" if submission_id else ""), [submission_id] if submission_id else []).fetchall()
    return {r[0]: r[1:] for r in rows}


def submission(con, **where):
    clause = " AND ".join(f"{k} = ?" for k in where) or "true"
    return con.execute(
        f"SELECT submission_id, status, version, unit_code, level, report_year, report_date, file_format, "
        f"file_encoding, rejection_rule, rejection_reason, methodology_version, archived_path FROM raw.dti_submissions "
        f"WHERE {clause} ORDER BY version", list(where.values())).fetchall()


# --------------------------------------------------------------------------------------------
# Templates filled as an official would, then ingested

def fill_template_xlsx(template: Path, target: Path, unit: str, report_date, inputs: dict[str, dict]) -> Path:
    wb = openpyxl.load_workbook(template)
    ws = wb[INDICATOR_SHEET]
    names = dict(wb.defined_names.items())
    for name, value in (("dxmon_unit_code", unit), ("dxmon_report_date", report_date)):
        title, coord = next(names[name].destinations)
        wb[title][coord.replace("$", "")] = value
    header = [c.value for c in ws[9]]
    cols = {label: i + 1 for i, label in enumerate(header)}
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        code = ws.cell(row, 1).value
        for field, label in (("value", "Giá trị"), ("numerator", "Tử số"), ("denominator", "Mẫu số"),
                             ("evidence", "Minh chứng")):
            if code in inputs and field in inputs[code]:
                ws.cell(row, cols[label], inputs[code][field])
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def test_template_has_named_header_cells_validation_and_one_row_per_reported_indicator(tmp_path, dti_catalogue):
    xlsx, csv_path = write_templates("province", 2023, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:2] == ["Hướng dẫn", "Chỉ tiêu"]
    assert {"dxmon_unit_code", "dxmon_year", "dxmon_report_date", "dxmon_methodology_version",
            "dxmon_unit_name", "dxmon_level"} <= set(wb.defined_names.keys())
    ws = wb[INDICATOR_SHEET]
    assert ws["B5"].value == 2023 and ws["B7"].value == "922_2022"
    codes = [ws.cell(r, 1).value for r in range(FIRST_DATA_ROW, ws.max_row + 1)]
    # section rows for the main indicators; the automatic 7.3 is asked for too (self-assessment)
    assert codes == ["1", "1.1", "1.2", "1.3", "6", "6.1", "7", "7.1", "7.2", "7.3", "8", "8.1"]
    kinds = {(dv.type, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert ("list", '"Có,Không"') in kinds and ("whole", "0") in kinds and ("decimal", "0.0") in kinds
    boolean_cells = next(dv for dv in ws.data_validations.dataValidation if dv.formula1 == '"Có,Không"').sqref
    assert "F11" in str(boolean_cells)  # 1.1 is a yes/no indicator: its value cell offers Có/Không
    text = csv_path.read_text(encoding="utf-8")
    assert text.startswith("# dxmon_dti_report: 1\n# unit_code: \n")
    assert "# year: 2023" in text and "# methodology_version: 922_2022" in text
    assert "indicator_code,name_vi,value_unit,allowed_range,rule,value,numerator,denominator,evidence" in text


def test_template_round_trip_xlsx_and_csv(tmp_path, con, inbox):
    xlsx, csv_path = write_templates("province", 2023, tmp_path / "templates")
    fill_template_xlsx(xlsx, inbox / "2023" / "01" / "hanoi.xlsx", "01", dt.datetime(2024, 1, 15),
                       {"1.1": {"value": "Có", "evidence": "QĐ 1/QĐ-UBND"}, "1.2": {"value": 4},
                        "1.3": {"numerator": 45, "denominator": 60}, "6.1": {"value": "Không"},
                        "7.1": {"value": 0.85, "evidence": "link"}, "7.2": {"value": 12},
                        "8.1": {"value": "1,2%"}})
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    filled = []
    for line in lines:
        line = line.replace("# unit_code: ", "# unit_code: 79").replace("# report_date: ", "# report_date: 20/01/2024")
        fills = {"1.1": "Có,,,VB 2", "1.2": "2,,,", "1.3": ",30,40,", "6.1": "Có,,,", "7.1": "\"72,5%\",,,x",
                 "7.2": "\"1.000\",,,", "8.1": "\"0,8\",,,"}
        code = line.split(",", 1)[0]
        if code in fills:
            line = line.rsplit(",", 4)[0] + "," + fills[code]
        filled.append(line)
    target = inbox / "2023" / "79" / "hcm.csv"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(filled) + "\n", encoding="utf-8")
    summary = ingest_inbox(con, inbox)
    assert summary.as_metadata()["accepted"] == 2, summary.files
    hanoi = values_of(con, submission(con, unit_code="01")[0][0])
    assert hanoi == {"1.1": (1.0, None, None, "QĐ 1/QĐ-UBND", None), "1.2": (4.0, None, None, None, None),
                     "1.3": (0.75, 45.0, 60.0, None, None), "6.1": (0.0, None, None, None, None),
                     "7.1": (0.85, None, None, "link", None), "7.2": (12.0, None, None, None, None),
                     "7.3": (None, None, None, None, None), "8.1": (1.2, None, None, None, None)}
    hcm = values_of(con, submission(con, unit_code="79")[0][0])
    assert hcm["7.1"][0] == pytest.approx(0.725) and hcm["7.2"][0] == 1000.0 and hcm["1.3"][0] == 0.75
    assert hcm["6.1"][0] == 1.0 and hcm["8.1"][0] == pytest.approx(0.8)
    sub = submission(con, unit_code="79")[0]
    assert sub[1:9] == ("accepted", 1, "79", "province", 2023, dt.date(2024, 1, 20), "csv", "utf-8")
    assert sub[11] == "922_2022"
    row_of = dict(con.execute("SELECT indicator_code, source_row FROM raw.dti_report_values WHERE unit_code = '79'").fetchall())
    assert row_of["1.1"] == 9  # CSV: line number in the file (7 header lines + table header)
    sheets = con.execute("SELECT DISTINCT sheet FROM raw.dti_report_values WHERE unit_code = '01'").fetchall()
    assert sheets == [("Chỉ tiêu",)]


# --------------------------------------------------------------------------------------------
# Encodings

@pytest.mark.parametrize("encoding, recorded", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("utf-16-le", "utf-16"), ("utf-16-be", "utf-16")])
def test_csv_encodings_by_bom(con, inbox, encoding, recorded):
    """UTF-16 of either byte order is read by its byte-order mark."""
    text = report_csv_text("province", 2023, unit_code="01", report_date="15/01/2024", values=GOOD, delimiter=";")
    path = drop(inbox, 2023, "01", "bao_cao.csv")
    bom = "\ufeff".encode(encoding) if encoding.startswith("utf-16") else b""  # utf-16-le/-be write none
    path.write_bytes(bom + text.encode(encoding))
    ingest_inbox(con, inbox)
    sub = submission(con)[0]
    assert (sub[1], sub[8]) == ("accepted", recorded)
    got = values_of(con)
    assert got["1.1"][:1] == (1.0,) and got["7.1"][0] == pytest.approx(0.85)
    assert con.execute("SELECT count(*) FROM raw.dti_report_values WHERE evidence = 'QĐ 123/QĐ-UBND'").fetchone() == (1,)


def test_legacy_code_page_is_a_clear_rejection_not_mojibake(con, inbox, data_root):
    text = report_csv_text("province", 2023, unit_code="01", report_date="15/01/2024", values=GOOD)
    path = drop(inbox, 2023, "01", "ansi.csv")
    path.write_bytes(text.encode("cp1258", errors="replace"))  # what Notepad "ANSI" saves
    summary = ingest_inbox(con, inbox)
    assert summary.files[0].action == "rejected"
    sub = submission(con)[0]
    assert sub[1] == "rejected" and sub[9] == "wrong_encoding"
    assert "ansi.csv" in sub[10] and "CSV UTF-8" in sub[10]
    assert values_of(con) == {}
    reasons = list((quarantine_dir() / "2023" / "01").glob("*.reason.json"))
    assert len(reasons) == 1 and json.loads(reasons[0].read_text(encoding="utf-8"))["rule"] == "wrong_encoding"


# --------------------------------------------------------------------------------------------
# XLSX oddities

def _patch_sheet_xml(path: Path, sheet_title: str, patch) -> None:
    """Rewrite one worksheet's XML inside the xlsx (zip) with `patch(xml_text) -> xml_text`."""
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    workbook = items["xl/workbook.xml"].decode()
    rels = items["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet[^>]*name="{sheet_title}"[^>]*r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'Id="{rid}"[^>]*Target="/?(?:xl/)?([^"]+)"', rels) or \
        re.search(rf'Target="/?(?:xl/)?([^"]+)"[^>]*Id="{rid}"', rels)
    name = "xl/" + target.group(1)
    items[name] = patch(items[name].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in items.items():
            zf.writestr(n, data)


def test_formula_cells_read_their_cached_values_and_a_formula_without_one_rejects_its_row(con, inbox):
    """openpyxl writes formulas without results (it does not calculate); Excel stores the result
    as <v> beside <f>. We write the workbook, then add the cached <v> to two formula cells as Excel
    would, and leave a third formula without one."""
    values = {**GOOD, "1.2": {"value": "=1+2"}, "7.2": {"value": "=SUM(6,6)"}, "7.1": {"value": "=0.5+0.35"}}
    path = save_report(inbox, values=values)
    rows = {c: FIRST_DATA_ROW + i for i, c in enumerate(["1", "1.1", "1.2", "1.3", "6", "6.1", "7", "7.1", "7.2"])}

    def add_cached(xml: str) -> str:
        for code, cached in (("1.2", "3"), ("7.2", "12")):
            ref = f"F{rows[code]}"
            xml, n = re.subn(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?', rf"\1\2<v>{cached}</v>", xml)
            assert n == 1, ref
        return xml

    _patch_sheet_xml(path, INDICATOR_SHEET, add_cached)
    ingest_inbox(con, inbox)
    got = values_of(con)
    assert got["1.2"][0] == 3.0 and got["7.2"][0] == 12.0
    assert got["7.1"][0] is None and got["7.1"][4] == "formula_without_value"
    reason = con.execute("SELECT rejection_reason FROM raw.dti_report_values WHERE indicator_code = '7.1'").fetchone()[0]
    assert f"sheet 'Chỉ tiêu', row {rows['7.1']}, field 'value'" in reason and "bao_cao.xlsx" in reason
    assert submission(con)[0][1] == "accepted"


def test_merged_cells_extra_sheets_apostrophes_nbsp_and_thousands(con, inbox):
    values = {**GOOD, "7.2": {"value": "'1.000"}, "1.2": {"value": "\u00a03\u00a0"},
              "1.3": {"numerator": "1.234", "denominator": "2\u00a0468"}}
    path = drop(inbox, 2023, "01", "bao_cao.xlsx")
    wb = report_workbook("province", 2023, unit_code="01", report_date="15/01/2024", values=values)
    ws = wb[INDICATOR_SHEET]
    ws["B2"] = "'01"
    ws["I17"] = "CV 5/STTTT"  # evidence merged over the rows of 7.1 and 7.2
    ws.merge_cells("I17:I18")
    ws.merge_cells("B11:E11")  # a name merged over the descriptive columns
    notes = wb.create_sheet("Ghi chú")
    notes["A1"], notes["A2"] = "Mã chỉ tiêu", "Giá trị"
    copy = wb.copy_worksheet(ws)
    copy.title = "Chỉ tiêu (bản nháp)"
    copy["F11"] = "đang cập nhật"
    wb.save(path)
    summary = ingest_inbox(con, inbox)
    assert summary.files[0].action == "accepted" and summary.files[0].rejected_rows == 0
    got = values_of(con)
    assert got["7.2"][0] == 1000.0 and got["1.2"][0] == 3.0 and got["1.3"][0] == pytest.approx(0.5)
    assert got["7.1"][3] == "CV 5/STTTT" and got["7.2"][3] == "CV 5/STTTT"
    assert got["1.1"][0] == 1.0 and got["8.1"][0] == pytest.approx(1.2)
    assert con.execute("SELECT count(*) FROM raw.dti_report_values").fetchone() == (8,)


def test_text_in_a_number_cell_unknown_code_and_out_of_range_reject_rows_not_the_file(con, inbox):
    path = drop(inbox, 2023, "01", "bao_cao.xlsx")
    values = {**GOOD, "7.2": {"value": "đang cập nhật"}, "1.2": {"value": 7}, "1.1": {"value": "có lẽ"},
              "1.3": {"value": "125%"}}
    wb = report_workbook("province", 2023, unit_code="01", report_date="15/01/2024", values=values)
    ws = wb[INDICATOR_SHEET]
    ws.append(["9.9", "Chỉ tiêu tự thêm", "", "", "", 5])
    wb.save(path)
    summary = ingest_inbox(con, inbox)
    assert summary.files[0].action == "accepted" and summary.files[0].rejected_rows == 5
    rules = dict(con.execute("SELECT indicator_code, rejection_rule FROM raw.dti_report_values").fetchall())
    assert rules == {"1.1": "not_a_boolean", "1.2": "out_of_range", "1.3": "out_of_range", "6.1": None,
                     "7.1": None, "7.2": "not_a_number", "7.3": None, "8.1": None, "9.9": "unknown_indicator"}
    view = con.execute(
        "SELECT file, sheet, source_row, field, rule, reason FROM quarantine.dti_rejections "
        "WHERE indicator_code = '7.2'").fetchone()
    assert view[0].endswith("bao_cao.xlsx") and view[1] == "Chỉ tiêu" and view[3] == "value"
    assert view[4] == "not_a_number" and "'đang cập nhật'" in view[5] and f"row {view[2]}" in view[5]
    checklist_reason = con.execute(
        "SELECT rejection_reason FROM raw.dti_report_values WHERE indicator_code = '1.2'").fetchone()[0]
    assert checklist_reason.startswith("outside the allowed range 0–4: found '7'")


# --------------------------------------------------------------------------------------------
# File-level rejections

def test_truncated_and_missing_sheet_files_are_rejected_and_quarantined(con, inbox):
    good = save_report(inbox, unit="01")
    truncated = drop(inbox, 2023, "02", "cat_ngang.xlsx")
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    missing = drop(inbox, 2023, "04", "doi_ten.xlsx")
    wb = report_workbook("province", 2023, unit_code="04", report_date="15/01/2024", values=GOOD)
    wb[INDICATOR_SHEET].title = "Sheet1"
    wb.save(missing)
    no_header = drop(inbox, 2023, "06", "khong_tieu_de.xlsx")
    wb = report_workbook("province", 2023, unit_code="06", report_date="15/01/2024", values=GOOD)
    for name in list(wb.defined_names.keys()):
        del wb.defined_names[name]
    wb[INDICATOR_SHEET]["A2"] = None
    wb[INDICATOR_SHEET]["B2"] = None
    wb.save(no_header)
    summary = ingest_inbox(con, inbox)
    actions = {Path(f.path).name: (f.action, f.reason) for f in summary.files}
    assert actions["bao_cao.xlsx"][0] == "accepted"
    assert actions["cat_ngang.xlsx"][0] == "rejected" and "truncated" in actions["cat_ngang.xlsx"][1]
    assert actions["doi_ten.xlsx"][0] == "rejected" and "no sheet 'Chỉ tiêu'" in actions["doi_ten.xlsx"][1]
    assert "'Sheet1'" in actions["doi_ten.xlsx"][1]
    assert actions["khong_tieu_de.xlsx"][0] == "rejected" and "'Mã đơn vị'" in actions["khong_tieu_de.xlsx"][1]
    rules = dict(con.execute("SELECT folder_unit_code, rejection_rule FROM raw.dti_submissions").fetchall())
    assert rules == {"01": None, "02": "unreadable_file", "04": "missing_sheet", "06": "missing_header"}
    for unit, name in (("02", "cat_ngang.xlsx"), ("04", "doi_ten.xlsx"), ("06", "khong_tieu_de.xlsx")):
        copies = list((quarantine_dir() / "2023" / unit).glob(f"*-{name}"))
        assert len(copies) == 1
        reason = json.loads(Path(str(copies[0]) + ".reason.json").read_text(encoding="utf-8"))
        assert reason["original_location"].endswith(name) and reason["reason"]
    assert (inbox / "2023" / "02" / "cat_ngang.xlsx").exists()  # the inbox is never changed
    # the one quarantine of every input kind (ingestion/core/quarantine.py) has their rows too
    assert con.execute("SELECT input_kind, period_month, rule FROM quarantine.rejected_files ORDER BY rule").fetchall() \
        == [("dti_reports", dt.date(2023, 1, 1), r) for r in ("missing_header", "missing_sheet", "unreadable_file")]
    view = con.execute("SELECT rejection_level, folder_unit_code, rule FROM quarantine.dti_rejections "
                       "ORDER BY folder_unit_code").fetchall()
    assert view == [("file", "02", "unreadable_file"), ("file", "04", "missing_sheet"), ("file", "06", "missing_header")]


# --------------------------------------------------------------------------------------------
# Versions, archive and the folder check

def test_versions_in_order_of_receipt_same_bytes_are_a_no_op_and_the_archive_is_read_only(con, inbox, data_root):
    v1 = save_report(inbox, name="v1.xlsx", report_date=dt.date(2024, 1, 10), seconds=0)
    first = ingest_inbox(con, inbox)
    assert [f.action for f in first.files] == ["accepted"]
    again = ingest_inbox(con, inbox)
    assert [f.action for f in again.files] == ["unchanged"]
    fixed = {**GOOD, "7.2": {"value": 15}}
    save_report(inbox, name="v2.xlsx", values=fixed, report_date=dt.date(2024, 1, 20), seconds=100)
    shutil.copy(v1, drop(inbox, 2023, "01", "v1_copy.xlsx"))
    stamp(inbox / "2023" / "01" / "v1_copy.xlsx", 200)
    second = ingest_inbox(con, inbox)
    assert sorted(f.action for f in second.files) == ["accepted", "unchanged", "unchanged"]
    subs = submission(con)
    assert [(s[1], s[2], s[6]) for s in subs] == [("accepted", 1, dt.date(2024, 1, 10)),
                                                  ("accepted", 2, dt.date(2024, 1, 20))]
    assert all(s[0].startswith("dti:2023:01:") for s in subs)
    assert values_of(con, subs[1][0])["7.2"][0] == 15.0 and values_of(con, subs[0][0])["7.2"][0] == 12.0
    archived = Path(subs[0][12])
    # the one raw archive of every input kind, indexed under dti-<year>, verified like the others
    assert archived.is_relative_to(data_root / "archive" / "raw" / "objects") and archived.read_bytes() == v1.read_bytes()
    assert {r["inbox_path"] for r in read_index("dti-2023")} == {"2023/01/v1.xlsx", "2023/01/v2.xlsx"}
    assert verify_archive() == []
    # a rebuild from the archive alone gets the same files back, in the same order of receipt
    rebuilt = data_root.parent / "rebuilt"
    assert restore_month("dti-2023", rebuilt) == {"files": 0, "pages": 0, "reports": 2}
    back = [rebuilt / "inbox" / "2023" / "01" / n for n in ("v1.xlsx", "v2.xlsx")]
    assert [p.read_bytes() for p in back] == [v1.read_bytes(), (inbox / "2023" / "01" / "v2.xlsx").read_bytes()]
    assert back[0].stat().st_mtime < back[1].stat().st_mtime
    assert not os.access(archived, os.W_OK) or os.geteuid() == 0
    assert archived.stat().st_mode & 0o222 == 0


def test_a_report_in_another_units_folder_is_rejected_naming_both_units(con, inbox):
    save_report(inbox, unit="01", header_unit="79", name="nham_thu_muc.xlsx")
    save_report(inbox, unit="02", year=2023, name="nam_sai.csv", values=GOOD, seconds=5)
    path = inbox / "2023" / "02" / "nam_sai.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("# year: 2023", "# year: 2022"), encoding="utf-8")
    summary = ingest_inbox(con, inbox)
    assert [f.action for f in summary.files] == ["rejected", "rejected"]
    subs = {s[3]: s for s in submission(con)}
    foreign = subs["79"]
    assert foreign[9] == "foreign_unit"
    assert "unit 79 (Hồ Chí Minh)" in foreign[10] and "folder of unit 01" in foreign[10]
    assert "inbox/2023/79/" in foreign[10]
    assert con.execute("SELECT folder_unit_code, version FROM raw.dti_submissions WHERE unit_code = '79'").fetchone() == ("01", 1)
    # Its rows are kept (traceable) under the rejected submission.
    assert con.execute("SELECT count(*) FROM raw.dti_report_values WHERE submission_id = ?", [foreign[0]]).fetchone() == (8,)
    assert subs["02"][9] == "foreign_year" and "reports year 2022" in subs["02"][10]


def test_wrong_level_template_and_unknown_methodology_are_file_rejections(con, inbox):
    save_report(inbox, unit="BTC", level="province", header_unit="BTC", name="sai_cap.xlsx",
                values={"1.1": {"value": "Có"}})
    path = save_report(inbox, unit="01", name="cu.csv", seconds=3)
    path.write_text(path.read_text(encoding="utf-8").replace("922_2022", "1726_2020"), encoding="utf-8")
    ingest_inbox(con, inbox)
    rules = dict(con.execute("SELECT folder_unit_code, rejection_rule FROM raw.dti_submissions").fetchall())
    assert rules == {"BTC": "wrong_level", "01": "wrong_methodology"}


def test_ministry_report_and_files_outside_unit_folders(con, inbox):
    save_report(inbox, unit="BTC", level="ministry", name="btc.xlsx",
                values={"1.1": {"value": "x", "evidence": "QĐ 9"}, "1.2": {"numerator": 90, "denominator": 100}})
    stray = inbox / "2023" / "lac.xlsx"
    stray.write_bytes(b"not a report")
    (inbox / "2023" / "BTC" / "~$btc.xlsx").write_bytes(b"lock")
    summary = ingest_inbox(con, inbox)
    actions = sorted((Path(f.path).name, f.action) for f in summary.files)
    assert actions == [("btc.xlsx", "accepted"), ("lac.xlsx", "skipped")]
    assert values_of(con) == {"1.1": (1.0, None, None, "QĐ 9", None), "1.2": (0.9, 90.0, 100.0, None, None)}
    assert submission(con)[0][4] == "ministry"


def test_a_year_without_methodology_is_a_file_rejection(con, inbox):
    save_report(inbox, unit="01", year=2023, name="bao_cao.csv")
    moved = drop(inbox, 2019, "01", "bao_cao.csv")
    (inbox / "2023" / "01" / "bao_cao.csv").rename(moved)
    text = moved.read_text(encoding="utf-8").replace("# year: 2023", "# year: 2019")
    moved.write_text(text.replace("15/01/2024", "15/01/2020"), encoding="utf-8")
    summary = ingest_inbox(con, inbox)
    assert summary.files[0].action == "rejected"
    assert submission(con)[0][9] == "unknown_year"
