"""The national DTI level in dbt, for real (docs/methodology_dti.md, "The national level").

The catalogue carries the national structure the public record gives (405_2025: pillars 400 /
300 / 300 holding 4 / 3 / 5 indicators; 922_2022: 24 indicators) but not the indicators nor
their points. One warehouse with a national report of 2023 (922_2022) and one of 2024
(405_2025), one `dbt build`: scoring refuses, naming what is missing, and nothing is scored.
Then the same warehouse, built from a copy of the project whose catalogue has 12 made-up
national indicators (TEST DATA, not the annex): the refusal goes away and the national report
scores by the ordinary formula. (That a warehouse with no national report still scores is what
every test of tests/dbt/test_dti_models.py builds.)
"""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from tests.dbt import dbt_runner
from tests.dbt.test_dti_models import SELECT, DtiWarehouse

WINDOW = {"period_start": "2023-12-01", "period_end": "2024-02-01"}
NATIONAL_UNIT = "VN"

# Made-up national indicators for 405_2025 (TEST DATA): boolean, points adding up to the pillar.
TEST_INDICATOR_POINTS = {"1": (4, 100), "2": (3, 100), "3": (5, 60)}  # pillar -> (count, points each)


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> DtiWarehouse:
    wh = DtiWarehouse(tmp_path_factory.mktemp("dti_national"))
    wh.submit(2023, "national", NATIONAL_UNIT, 1, "2023-03-01", {"1": 1})
    wh.submit(2024, "national", NATIONAL_UNIT, 1, "2024-01-10", {"1.1": 1, "1.2": 1, "2.1": 1, "3.1": 1})
    wh.refused = wh.run_dbt("build", *SELECT, "--vars", json.dumps(WINDOW))
    wh.refused_output = plain(wh.refused.stdout)
    return wh


def test_national_report_refuses_naming_what_is_missing(national):
    assert national.refused.returncode != 0
    assert (
        "DTI scoring refused (scoring DTI reports): the indicator list is incomplete for "
        "methodology_version 405_2025, level national: "
        "pillar 1 Chính quyền số (400 points): 0 of 4 indicators in the catalogue, "
        "pillar 2 Kinh tế số (300 points): 0 of 3 indicators in the catalogue, "
        "pillar 3 Xã hội số (300 points): 0 of 5 indicators in the catalogue; "
        "methodology_version 922_2022, level national: top level: 0 of 24 main indicators in the catalogue. "
        "These indicators and their points are not public"
    ) in national.refused_output
    # nothing is scored with a guessed list: the scores and everything downstream are not built
    tables = {r[0] for r in national.rows("select table_name from information_schema.tables")}
    assert not tables & {"int_dti_scores", "fct_dti_scores", "rpt_dti_ranking"}


def test_the_national_report_reaches_scoring_as_the_country(national):
    rows = national.rows(
        "select year, methodology_version, unit_code, unit_key, unit_name, unit_group "
        "from intermediate.int_dti_reports_selected where level = 'national' order by all")
    assert rows == [(2023, "922_2022", "VN", "national-VN", "Việt Nam", "all"),
                    (2024, "405_2025", "VN", "national-VN", "Việt Nam", "all")]


def test_structure_is_data_and_checked(national):
    rows = national.rows(
        "select methodology_version, parent_code, child_node_type, expected_children, catalogue_children, "
        "missing_children from intermediate.int_dti_indicator_structure_checked order by all")
    assert rows == [("405_2025", "1", "sub", 4, 0, 4), ("405_2025", "2", "sub", 3, 0, 3),
                    ("405_2025", "3", "sub", 5, 0, 5), ("405_2025", None, "pillar", 3, 3, 0),
                    ("922_2022", None, "main", 24, 0, 24)]


def test_loading_the_indicators_is_a_seed_change_only(national, tmp_path, monkeypatch):
    # a copy of the project whose catalogue has the 12 national indicators (made up: TEST DATA)
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_runner.PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    catalogue = project / "seeds" / "methodology" / "dti" / "dti_indicators.csv"
    with open(catalogue, encoding="utf-8", newline="") as fh:
        columns = next(csv.reader(fh))
    with open(catalogue, "a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        for pillar, (count, points) in TEST_INDICATOR_POINTS.items():
            for n in range(1, count + 1):
                writer.writerow({
                    "methodology_version": "405_2025", "level": "national", "indicator_code": f"{pillar}.{n}",
                    "parent_code": pillar, "node_type": "sub", "name_vi": "DỮ LIỆU THỬ",
                    "name_en": f"TEST DATA: made-up national indicator {pillar}.{n}", "max_points": points,
                    "rule": "boolean", "value_unit": "yes_no", "value_min": 0, "value_max": 1,
                    "source_kind": "self_report", "evidence_required": "false", "is_representative": "true",
                    "display_order": int(pillar) * 100 + n * 10})
    monkeypatch.setattr(dbt_runner, "PROJECT_DIR", project)
    # the 922_2022 national list is still unset: score January 2024 (405_2025) only
    national.dbt("build", *SELECT, "--vars", json.dumps({"period_start": "2024-01-01", "period_end": "2024-02-01"}))
    score = national.rows(
        "select unit_name, total_points, dti_value, weights_basis, completeness, methodology_version "
        "from marts.fct_dti_scores where level = 'national' and period_month = '2024-01-01'")
    # pillar 1: 2 of 4 x 100 -> 0.5 x 400; pillar 2: 1/3 x 300; pillar 3: 1/5 x 300 -> 360 points
    assert score == [("Việt Nam", pytest.approx(360), pytest.approx(0.36), "official", pytest.approx(4 / 12),
                      "405_2025")]
    assert national.rows("select unit_code, rank from marts.rpt_dti_ranking where level = 'national'") == [("VN", 1)]
