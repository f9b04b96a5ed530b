"""The monthly schedules and the late-file sensor, evaluated as Dagster evaluates them."""

import datetime as dt
import os
import time
import zoneinfo

import dagster as dg
import pytest

from ingestion.landing.loading import landing_dir
from orchestration.service_index.schedules import monthly_service_index_schedule
from orchestration.service_index.sensors import late_landing_file_sensor


@pytest.fixture(scope="module")
def repository(definitions):
    """The real definitions: the jobs' selections name the DTI's assets, so a stand-in
    repository cannot resolve them."""
    return definitions.get_repository_def()


def test_schedule_tick_on_the_second_requests_the_previous_month(repository):
    tz = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2025, 8, 2, 3, 0, tzinfo=tz), repository_def=repository)
    request = monthly_service_index_schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2025-07-01"
    assert request.run_key == "scheduled:2025-07-01"
    assert monthly_service_index_schedule.cron_schedule == "0 3 2 * *"
    assert monthly_service_index_schedule.execution_timezone == "Asia/Ho_Chi_Minh"


def test_sensor_requests_a_run_per_month_of_files_not_in_the_ingestion_log(data_root, repository):
    # no warehouse yet: every file is new. (On a loaded warehouse only new or changed files are:
    # tests/reliability/test_process_sensors.py.)
    folder = landing_dir() / "2025-07"
    folder.mkdir(parents=True)
    (folder / "dossiers_2025-07.csv").write_text("a\n")
    first = late_landing_file_sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    assert [r.partition_key for r in first.run_requests] == ["2025-07-01"]
    cursor = first.cursor

    # the same files at the next tick: the same run key, so Dagster launches no second run
    same = late_landing_file_sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, repository_def=repository))
    assert [r.run_key for r in same.run_requests] == [first.run_requests[0].run_key]

    # a late file lands for an earlier month, and the July file is replaced
    late = landing_dir() / "2025-05"
    late.mkdir()
    (late / "complaints_2025-05.csv").write_text("b\n")
    time.sleep(0.01)
    (folder / "dossiers_2025-07.csv").write_text("changed\n")
    os.utime(folder / "dossiers_2025-07.csv", ns=(time.time_ns(), time.time_ns()))
    again = late_landing_file_sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, repository_def=repository))
    requests = {r.partition_key: r for r in again.run_requests}
    assert set(requests) == {"2025-05-01", "2025-07-01"}
    assert requests["2025-05-01"].tags["dxmon/files"] == "2025-05/complaints_2025-05.csv"
    assert requests["2025-07-01"].run_key != first.run_requests[0].run_key


def test_dti_schedule_ticks_after_the_service_index_for_the_previous_month(repository):
    from orchestration.dti.schedules import monthly_dti_schedule

    tz = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 1, 2, 5, 0, tzinfo=tz), repository_def=repository)
    request = monthly_dti_schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2025-12-01"
    assert monthly_dti_schedule.cron_schedule == "0 5 2 * *"
    assert repository.get_schedule_def("monthly_dti_schedule").job_name == "monthly_dti"
