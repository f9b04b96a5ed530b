"""One writer at a time, refused cleanly (issue 10, "One writer"): a second writer, through the
CLI or a Dagster run, is refused naming the holder and exits 75; the holder is unaffected; a lock
left by a process killed with -9 is taken over with a message; readers and writers share fairly."""

from __future__ import annotations

import json
import os
import signal
import time

import duckdb
import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect, warehouse_path
from orchestration.cli import main
from orchestration.warehouse_lock import EXIT_BUSY, READ, WRITE, WarehouseBusy, lock_path, read_holder, warehouse_lock
from tests.reliability.process_helpers import hold_lock, stop


@pytest.fixture
def cli_env(data_root, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    monkeypatch.setenv("DXMON_LOCK_WAIT_SECONDS", "0")
    with connect() as con:
        prepare_warehouse(con)
    return data_root


def test_a_second_writer_is_refused_naming_the_holder_with_exit_75(cli_env, capsys):
    holder = hold_lock(WRITE, run_id="run-0001-first")
    try:
        for argv in (["run", "--month", "2025-07"], ["status"], ["publish"], ["dti", "run", "--month", "2023-06"]):
            assert main(argv) == EXIT_BUSY, argv
            err = capsys.readouterr().err
            assert err.startswith("dxmon: warehouse busy: another writer holds "), err
            for fact in ("run run-0001-first", f"PID {holder.pid}", "command 'dxmon run --month 2025-07'",
                         "started 20", f"(exit {EXIT_BUSY})"):
                assert fact in err, (fact, err)
        # a reader of the live warehouse is refused the same way (DuckDB would refuse its open)
        assert main(["explain", "--unit", "01", "--period", "2025-07"]) == EXIT_BUSY
        assert "run run-0001-first" in capsys.readouterr().err
        # the holder is unaffected: still running, still named in the lock file
        assert holder.poll() is None
        assert read_holder(lock_path())["run_id"] == "run-0001-first"
    finally:
        stop(holder)
    # good data still flows: once the holder is gone the same command runs
    assert main(["status"]) == 0
    assert read_holder(lock_path()) is None  # released cleanly: nothing left to take over


def test_a_dagster_run_started_while_the_warehouse_is_held_fails_at_its_start_naming_the_holder(
        cli_env, reference_data, definitions, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(cli_env / "dagster_home"))
    (cli_env / "dagster_home").mkdir(exist_ok=True)
    job = definitions.resolve_job_def("reference_data")
    before = os.stat(warehouse_path()).st_mtime_ns
    holder = hold_lock(WRITE, run_id="run-0002-holder")
    try:
        result = job.execute_in_process(raise_on_error=False)
        assert not result.success
        messages = " ".join(
            (e.message or "") + " " + str(getattr(e.event_specific_data, "error", "") or "") for e in result.all_events)
        assert "warehouse busy: another writer holds" in messages
        assert f"PID {holder.pid}" in messages and "run run-0002-holder" in messages
        assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]  # nothing ran
        assert os.stat(warehouse_path()).st_mtime_ns == before  # the warehouse was not touched
    finally:
        stop(holder)
    again = job.execute_in_process(raise_on_error=False)
    assert again.success  # and the run goes through once the holder is gone


def test_a_lock_left_by_a_killed_holder_is_taken_over_with_a_message(cli_env, capsys):
    holder = hold_lock(WRITE, run_id="run-0003-killed")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    left = read_holder(lock_path())
    assert left["run_id"] == "run-0003-killed" and left["pid"] == holder.pid  # its note stays behind
    assert main(["status"]) == 0
    err = capsys.readouterr().err
    assert "stale warehouse lock taken over: run run-0003-killed" in err
    assert f"PID {holder.pid}" in err and "is no longer running" in err
    assert read_holder(lock_path()) is None
    # and the next writer has nothing to take over
    assert main(["status"]) == 0
    assert "stale" not in capsys.readouterr().err


def test_readers_share_the_warehouse_and_a_writer_waits_for_them_not_for_another_writer(cli_env, monkeypatch):
    reader = hold_lock(READ, seconds=1.5)
    try:
        with warehouse_lock(READ, wait=0):  # readers share
            pass
        with pytest.raises(WarehouseBusy, match="is being read by another process"):
            with warehouse_lock(WRITE, wait=0):
                pass
        started = time.monotonic()
        with warehouse_lock(WRITE, wait=20, run_id="run-0004-waited") as info:
            waited = time.monotonic() - started
            assert info["run_id"] == "run-0004-waited"
    finally:
        stop(reader)
    assert 0.5 < waited < 15
    writer = hold_lock(WRITE, run_id="run-0005-writer", seconds=30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="run run-0005-writer"):
            with warehouse_lock(WRITE, wait=20):
                pass
        assert time.monotonic() - started < 5  # a live writer is not waited for
    finally:
        stop(writer)


def test_the_lock_is_reentrant_in_one_process_and_records_the_run(cli_env):
    with warehouse_lock(WRITE, command="dxmon run --month 2025-07") as info:
        assert info["run_id"] is None and info["pid"] == os.getpid()
        with warehouse_lock(WRITE, run_id="run-0006-inner"):  # the job's resource inside the command
            assert read_holder(lock_path())["run_id"] == "run-0006-inner"
            with connect() as con:  # the process writes as usual
                con.execute("CREATE TABLE IF NOT EXISTS meta.lock_probe AS SELECT 1 AS x")
        assert json.loads(lock_path().read_text())["command"] == "dxmon run --month 2025-07"
    assert read_holder(lock_path()) is None
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        assert con.execute("SELECT x FROM meta.lock_probe").fetchone() == (1,)
