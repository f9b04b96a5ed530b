"""Sensors keyed on what was loaded (issue 10): the late-file sensor and the DTI inbox sensor compare
each file's name and sha256 with the ingestion log, evaluated by Dagster's real sensor evaluation
on a warehouse loaded by the real loaders. A daemon started on a loaded warehouse requests nothing;
only a new or changed file requests a run, of its month (or DTI year) only."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pytest

from demo.extracts import generate_demo
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import ingest_landing_month, landing_dir
from ingestion.reports.intake import ingest_inbox
from orchestration.dti.sensors import dti_inbox_sensor, partition_for_year
from orchestration.partitions import monthly_partitions
from orchestration.service_index.sensors import late_landing_file_sensor
from orchestration.warehouse_lock import WRITE
from tests.ingestion.test_dti_intake import GOOD, save_report
from tests.reliability.process_helpers import hold_lock, stop


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensor_demo")
    generate_demo(out, ["2025-06", "2025-07"], rows_per_month=200, seed=11, file_format="csv")
    return out / "landing"


@pytest.fixture
def repository(definitions):
    return definitions.get_repository_def()


def tick(sensor, repository, instance, cursor=None):
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository))


def load_months(*months):
    with connect() as con:
        prepare_warehouse(con)
        for month in months:
            ingest_landing_month(con, month)


def drop(extracts, month: str, prefix: str, name: str | None = None, extra: bytes = b"") -> Path:
    """Copy the demo's `prefix` file of `month` into the landing month (renamed, bytes appended)."""
    source = next(p for p in sorted((extracts / month).iterdir()) if p.name.startswith(prefix))
    target = landing_dir() / month / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes() + extra)
    return target


def test_late_file_sensor_on_a_loaded_warehouse_requests_nothing_and_then_only_the_changed_months(
        data_root, extracts, repository):
    drop(extracts, "2025-07", "complaints")
    july = drop(extracts, "2025-07", "procedures")
    (landing_dir() / "2025-07" / "notes_from_the_agency.txt").write_text("not an extract\n")  # quarantined
    load_months("2025-07")
    with dg.instance_for_test() as instance:
        started = tick(late_landing_file_sensor, repository, instance)  # the daemon starts: no cursor
        assert started.run_requests == []
        assert "every landing file is in the ingestion log" in started.skip_message
        cursor = started.cursor

        # touched but identical bytes: nothing
        os.utime(july, ns=(int(dt.datetime(2030, 1, 1).timestamp() * 1e9),) * 2)
        assert tick(late_landing_file_sensor, repository, instance, cursor).run_requests == []

        # a late file for June, and July's procedures file corrected
        june = drop(extracts, "2025-06", "complaints", "complaints_late.csv")
        july.write_bytes(july.read_bytes() + b"\n")
        changed = tick(late_landing_file_sensor, repository, instance, cursor)
        requests = {r.partition_key: r for r in changed.run_requests}
        assert set(requests) == {"2025-06-01", "2025-07-01"}
        assert requests["2025-06-01"].tags["dxmon/files"] == f"2025-06/{june.name}"
        assert requests["2025-07-01"].tags["dxmon/files"] == f"2025-07/{july.name}"
        # the next tick, before the runs: the same run keys (Dagster adds no second run)
        again = tick(late_landing_file_sensor, repository, instance, changed.cursor)
        assert sorted(r.run_key for r in again.run_requests) == sorted(r.run_key for r in changed.run_requests)

        load_months("2025-07")  # July's run took the corrected file in
        after = tick(late_landing_file_sensor, repository, instance, again.cursor)
        assert [r.partition_key for r in after.run_requests] == ["2025-06-01"]
        load_months("2025-06")
        assert tick(late_landing_file_sensor, repository, instance, after.cursor).run_requests == []


def test_late_file_sensor_skips_its_tick_while_a_run_writes_the_warehouse(data_root, extracts, repository):
    drop(extracts, "2025-07", "complaints")
    load_months("2025-07")
    drop(extracts, "2025-07", "complaints", "complaints_new.csv", extra=b"\n")
    holder = hold_lock(WRITE, run_id="run-sensor-holder")
    try:
        with dg.instance_for_test() as instance:
            busy = tick(late_landing_file_sensor, repository, instance)
            assert busy.run_requests == []
            assert busy.skip_message.startswith("the warehouse is being written")
            assert "run run-sensor-holder" in busy.skip_message
    finally:
        stop(holder)
    with dg.instance_for_test() as instance:
        free = tick(late_landing_file_sensor, repository, instance)
        assert [r.tags["dxmon/files"] for r in free.run_requests] == ["2025-07/complaints_new.csv"]


def test_inbox_sensor_on_a_loaded_warehouse_requests_nothing_and_a_new_report_its_year_only(
        data_root, dti_catalogue, repository):
    inbox = data_root / "inbox"
    save_report(inbox, unit="01", year=2023, seconds=1)
    save_report(inbox, unit="02", year=2023, name="bao_cao.csv", seconds=2)
    (inbox / "2023" / "02" / "ghi_chu.txt").write_text("not a report\n")  # rejected by the intake
    (inbox / "loose_file.xlsx").write_bytes(b"not in a year/unit folder")  # skipped by the intake
    with connect() as con:
        prepare_warehouse(con)
        summary = ingest_inbox(con)
    assert summary.count("accepted") == 2 and summary.count("rejected") == 1
    with dg.instance_for_test() as instance:
        started = tick(dti_inbox_sensor, repository, instance)
        assert started.run_requests == []
        assert "every DTI report in the inbox is in the ingestion log" in started.skip_message

        # a resubmission for 2023 (new bytes): one run, of 2023
        save_report(inbox, unit="01", year=2023, name="bao_cao_v2.xlsx",
                    values={**GOOD, "7.2": {"value": 13}}, seconds=4)
        changed = tick(dti_inbox_sensor, repository, instance, started.cursor)
        assert [r.partition_key for r in changed.run_requests] == [partition_for_year(2023, monthly_partitions.get_last_partition_key())]
        assert changed.run_requests[0].partition_key == "2023-12-01"
        assert changed.run_requests[0].tags["dxmon/files"] == "2023/01/bao_cao_v2.xlsx"
        with connect() as con:
            ingest_inbox(con)
        assert tick(dti_inbox_sensor, repository, instance, changed.cursor).run_requests == []
