"""The DTI materialized in process: real report files in the inbox, real intake and GX, the
service index of the same month as the automatic source, real dbt builds, closing a year and the
history import through the command line."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from demo.dti_reports import (
    DEMO_WEIGHTS_SOURCE,
    generate_demo_reports,
    write_demo_history,
    write_demo_weight_supplement,
)
from demo.extracts import generate_demo
from ingestion.reports.intake import default_inbox_dir
from orchestration import cli
from orchestration.cli.dti import close_year
from orchestration.dti.jobs import monthly_dti_job
from orchestration.dti.sensors import dti_inbox_sensor
from orchestration.partitions import monthly_partitions

UNITS = ("01", "79", "31", "48", "BTC", "BTP", "VOV")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("dti_demo")
    generate_demo(out, ["2023-06"], rows_per_month=2000, seed=11, file_months=["2023-06"], api_months=[],
                  file_format="csv")
    generate_demo_reports(out / "dti", years=(2023,), unit_codes=UNITS)
    write_demo_history(out / "dti")
    write_demo_weight_supplement(out / "dti")
    return out


def rows(data_root, sql: str, params=None):
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow  # the service-index and DTI jobs, closing a year
def test_provisional_dti_scores_reports_with_automatic_measures_then_a_closed_year(
        data_root, reference_data, demo, definitions, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    shutil.copytree(demo / "landing", data_root / "landing")
    shutil.copytree(demo / "dti" / "inbox", default_inbox_dir())

    # the service index of June 2023 first: its facts are the DTI's automatic measurements
    assert definitions.resolve_job_def("monthly_service_index").execute_in_process(partition_key="2023-06-01").success
    # ministries' points under 922_2022 are not public: without a supplement scoring refuses
    refused = definitions.resolve_job_def("monthly_dti").execute_in_process(
        partition_key="2023-06-01", raise_on_error=False)
    assert not refused.success
    failure = next(e for e in refused.all_events if e.is_step_failure).step_failure_data.error.message
    assert "main-indicator points are unset for methodology_version 922_2022, level ministry" in failure
    weights = next((demo / "dti").rglob("dti_weights_demo.csv"))
    assert cli.main(["dti", "load-weights", str(weights), "--source", DEMO_WEIGHTS_SOURCE]) == 0

    result = definitions.resolve_job_def("monthly_dti").execute_in_process(partition_key="2023-06-01")
    assert result.success

    # intake: every demo unit's reports in, the wrong-folder file rejected with that reason
    accepted_units = {r[0] for r in rows(data_root, "SELECT DISTINCT unit_code FROM raw.dti_submissions "
                                                    "WHERE status = 'accepted'")}
    assert accepted_units == set(UNITS)
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert "dti_reports_valid" in {e.event_specific_data.check_name for e in checks}  # + the dbt tests

    # provisional scores of June 2023, from the April reports, for every demo unit
    scores = rows(data_root, "SELECT level, unit_code, dti_value, is_provisional, methodology_version "
                             "FROM marts.fct_dti_scores WHERE period_month = DATE '2023-06-01'")
    assert {s[1] for s in scores} == set(UNITS)
    assert all(s[3] and s[4] == "922_2022" and 0 <= s[2] <= 1 for s in scores)
    bases = dict(rows(data_root, "SELECT level, any_value(weights_basis) FROM marts.fct_dti_scores GROUP BY 1"))
    assert bases["province"] == "official" and bases["ministry"].startswith("supplemented: DEMO ASSUMPTION")
    # the province scores follow the formula: dti_value = sum(value x points) / 1000
    recomputed = rows(data_root, """
        SELECT s.unit_code, s.dti_value, sum(v.value * v.points) / 1000
        FROM marts.fct_dti_scores s JOIN marts.fct_dti_main_indicator_values v
          ON v.period_month = s.period_month AND v.unit_code = s.unit_code AND v.level = s.level
        WHERE s.period_month = DATE '2023-06-01' AND s.level = 'province' GROUP BY ALL""")
    assert recomputed and all(abs(r[1] - r[2]) < 1e-9 for r in recomputed)
    # automatic sub-indicators took the service index's measurement for provinces it measured
    sources = rows(data_root, "SELECT DISTINCT value_source FROM intermediate.int_dti_sub_indicator_scores "
                              "WHERE level = 'province'")
    assert ("automatic",) in sources
    ranking = rows(data_root, "SELECT level, unit_group, rank FROM marts.rpt_dti_ranking "
                              "WHERE period_month = DATE '2023-06-01' ORDER BY 1, 2, 3")
    assert {(r[0], r[1]) for r in ranking} >= {("province", "all"), ("ministry", "dvc")}
    assert min(r[2] for r in ranking if r[0] == "province") == 1

    # closing 2023 freezes the final scores with the version and a hash of the inputs
    assert close_year(2023) == 0
    closure = rows(data_root, "SELECT methodology_version, input_hash, run_id, code_version FROM meta.dti_year_closures "
                              "WHERE year = 2023")
    assert closure[0][0] == "922_2022" and len(closure[0][1]) == 64
    # the close is a Dagster run of the close_dti_year job, recorded in DAGSTER_HOME like every run
    with dg.DagsterInstance.get() as instance:
        close_run = instance.get_run_by_id(closure[0][2])
    assert close_run is not None and close_run.job_name == "close_dti_year" and closure[0][3]
    # the final index's lineage names the close: its run, code version and input hash
    final_lineage = rows(data_root, "SELECT DISTINCT run_id, code_version, input_hash FROM marts.rpt_dti_score_lineage "
                                    "WHERE context_key = 'final:2023'")
    assert final_lineage == [tuple(closure[0][2:4]) + (closure[0][1],)]
    final = rows(data_root, "SELECT count(*) FROM marts.rpt_dti_ranking WHERE year = 2023 AND NOT is_provisional")
    assert final[0][0] == len(UNITS)
    assert close_year(2023) == 1  # already closed: only --force closes it again
    assert rows(data_root, "SELECT input_hash FROM meta.dti_year_closures WHERE year = 2023") == [(closure[0][1],)]


@pytest.mark.slow  # the service-index and DTI jobs, closing a year
def test_import_history_prints_the_planted_discrepancy_and_exits_zero(data_root, reference_data, demo, definitions, monkeypatch,
                                                                      capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    assert cli.main(["reference"]) == 0
    history = demo / "dti" / "history"
    code = cli.main(["dti", "import-history", "--values", str(history / "dti_history_values.csv"),
                     "--published", str(history / "dti_history_published.csv")])
    out = capsys.readouterr().out
    assert code == 0
    line = next(line for line in out.splitlines() if line.strip().startswith("2021 | province | 31 |"))
    assert "dti_value" in line
    found = rows(data_root, "SELECT year, unit_code, kind FROM marts.rpt_dti_history_discrepancies")
    assert (2021, "31", "dti_value") in found


def test_inbox_sensor_requests_the_reports_year_once_per_change(data_root, definitions):
    # no warehouse yet, so the report is new; on a loaded warehouse only new or changed reports
    # are (tests/reliability/test_process_sensors.py)
    repository = definitions.get_repository_def()
    assert repository.get_sensor_def("dti_inbox_sensor").job_name == monthly_dti_job.name
    folder = default_inbox_dir() / "2025" / "01"
    folder.mkdir(parents=True)
    (folder / "bao_cao_dti_2025.xlsx").write_bytes(b"PK...")
    first = dti_inbox_sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    # the year's last month, or the last complete month while the year runs
    expected = min("2025-12-01", monthly_partitions.get_last_partition_key())
    assert [r.partition_key for r in first.run_requests] == [expected]
    assert first.run_requests[0].tags["dxmon/files"] == "2025/01/bao_cao_dti_2025.xlsx"
    again = dti_inbox_sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor, repository_def=repository))
    # the same report at the next tick: the same run key, so Dagster launches no second run
    assert [r.run_key for r in again.run_requests] == [first.run_requests[0].run_key]
