"""A small DTI catalogue with the real catalogue's columns, for intake tests; and checks that it
(and the real seed, once it exists) can be loaded.

The `dti_catalogue` fixture (tests/conftest.py) writes this catalogue for the DTI test modules.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingestion.reports.dti import catalogue as catalogue_module
from ingestion.reports.dti.catalogue import CATALOGUE_COLUMNS, load_catalogue, reported_indicators

FIXTURE_ROWS = [
    # methodology_version, level, code, parent, node_type, name_vi, max_points, rule, checklist_items,
    # value_unit, value_min, value_max, source_kind, evidence_required, display_order
    # (the conventions of the real seed: ratios as a share in [0, 1], thresholds in percent or
    # counts, source_kind self_report / automatic / survey, 'aggregate' for pillar and main rows)
    ("922_2022", "province", "1", "", "main", "Nhận thức số", 100, "aggregate", "", "share", 0, 1, "", "false", 100),
    ("922_2022", "province", "1.1", "1", "sub", "Người đứng đầu chủ trì Ban chỉ đạo", 20, "boolean", "", "yes_no", 0, 1, "self_report", "true", 110),
    ("922_2022", "province", "1.2", "1", "sub", "Nghị quyết chuyên đề về chuyển đổi số", 20, "checklist", 4, "items", 0, 4, "self_report", "false", 120),
    ("922_2022", "province", "1.3", "1", "sub", "Tỷ lệ cán bộ được tập huấn", 60, "ratio", "", "share", 0, 1, "self_report", "false", 130),
    ("922_2022", "province", "6", "", "main", "Đô thị thông minh", 0, "aggregate", "", "share", 0, 1, "", "false", 600),
    ("922_2022", "province", "6.1", "6", "sub", "Có đề án đô thị thông minh", 1, "boolean", "", "yes_no", 0, 1, "self_report", "false", 610),
    ("922_2022", "province", "7", "", "main", "Hoạt động chính quyền số", 200, "aggregate", "", "share", 0, 1, "", "false", 700),
    ("922_2022", "province", "7.1", "7", "sub", "Tỷ lệ hồ sơ xử lý trực tuyến toàn trình", 100, "ratio", "", "share", 0, 1, "self_report", "true", 710),
    ("922_2022", "province", "7.2", "7", "sub", "Số hệ thống thông tin kết nối LGSP", 50, "threshold", "", "count", 0, 1000, "self_report", "false", 720),
    ("922_2022", "province", "7.3", "7", "sub", "Tỷ lệ hồ sơ giải quyết đúng hạn", 50, "ratio", "", "share", 0, 1, "automatic", "false", 730),
    ("922_2022", "province", "8", "", "main", "Hoạt động kinh tế số", 150, "aggregate", "", "share", 0, 1, "", "false", 800),
    ("922_2022", "province", "8.1", "8", "sub", "Tỷ trọng kinh tế số trong GRDP", 150, "threshold", "", "percent", 0, 100, "survey", "false", 810),
    ("922_2022", "ministry", "1", "", "main", "Nhận thức số", "", "aggregate", "", "share", 0, 1, "", "false", 100),
    ("922_2022", "ministry", "1.1", "1", "sub", "Người đứng đầu chủ trì Ban chỉ đạo", 1, "boolean", "", "yes_no", 0, 1, "self_report", "true", 110),
    ("922_2022", "ministry", "1.2", "1", "sub", "Tỷ lệ văn bản điện tử", 1, "ratio", "", "share", 0, 1, "self_report", "false", 120),
    ("1726_2020", "province", "1", "", "pillar", "Chính quyền số", 400, "aggregate", "", "share", 0, 1, "", "false", 100),
    ("1726_2020", "province", "2", "", "pillar", "Kinh tế số", 300, "aggregate", "", "share", 0, 1, "", "false", 200),
    ("1726_2020", "province", "3", "", "pillar", "Xã hội số", 300, "aggregate", "", "share", 0, 1, "", "false", 300),
]
for main in ("2", "3", "4", "5", "9"):
    points = {"9": 150}.get(main, 100)
    FIXTURE_ROWS.append(("922_2022", "province", main, "", "main", f"Chỉ số chính {main}", points,
                         "aggregate", "", "share", 0, 1, "", "false", int(main) * 100))


def write_fixture_catalogue(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CATALOGUE_COLUMNS)
        for (version, level, code, parent, node, name, points, rule, items, unit, vmin, vmax, source,
             evidence, order) in FIXTURE_ROWS:
            w.writerow([version, level, code, parent, node, name, f"{name} (en)", points, rule, "", items, unit,
                        vmin, vmax, source, "on_time_handling_share" if source == "automatic" else "", evidence,
                        "true", order])
    return path


def test_fixture_catalogue_loads_and_lists_template_rows(dti_catalogue):
    rows = reported_indicators("922_2022", "province")
    assert [r.code for r in rows] == ["1.1", "1.2", "1.3", "6.1", "7.1", "7.2", "7.3", "8.1"]
    ratio = next(r for r in rows if r.code == "7.1")
    assert ratio.allowed_range() == (0.0, 1.0) and not ratio.is_percent and ratio.evidence_required
    assert next(r for r in rows if r.code == "7.3").is_automatic
    assert next(r for r in rows if r.code == "8.1").is_percent_number
    assert next(r for r in rows if r.code == "1.2").allowed_range() == (0.0, 4.0)
    version_for = catalogue_module.methodology_version_for_year
    assert version_for(2023) == "922_2022" and version_for(2020) == "1726_2020" and version_for(2024) == "405_2025"


def test_a_missing_years_file_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DXMON_DTI_YEARS", str(tmp_path / "dti_years.csv"))
    with pytest.raises(catalogue_module.CatalogueError, match=r"dti_years.csv: the DTI years file"):
        catalogue_module.methodology_version_for_year(2023)


def test_catalogue_error_names_file_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(CATALOGUE_COLUMNS) + "\n922_2022,province,1.1,1,sub,x,x,abc,ratio,,,,,,self_report,,false,true,1\n",
                    encoding="utf-8")
    with pytest.raises(catalogue_module.CatalogueError, match=r"bad.csv: row 2: field max_points"):
        load_catalogue(path)


def test_real_catalogue_has_the_columns_and_province_rows():
    path = catalogue_module.SEEDS / "methodology" / "dti" / "dti_indicators.csv"
    assert path.is_file(), f"{path}: the DTI catalogue seed is missing"
    with open(path, encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert set(CATALOGUE_COLUMNS) <= set(header)
    rows = load_catalogue(path)
    assert reported_indicators("922_2022", "province", path=path)
    assert {r.rule for r in rows if r.node_type == "sub"} <= set(catalogue_module.RULES)
