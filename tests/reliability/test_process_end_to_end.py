"""The process end to end through the real `dxmon` commands in a data folder whose path holds a
quote, a double quote, spaces and Vietnamese letters: prepare, a one-month run while a second run
is refused (exit 75, naming the first run's id and PID) and the first goes on unaffected, publish,
the audit pack and its verification, explain, and a rerun that leaves the marts identical."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from demo.extracts import generate_demo
from orchestration.warehouse_lock import EXIT_BUSY, lock_path, read_holder
from tests.reliability.process_helpers import ROOT, wait_until
from tests.reliability.test_process_outputs import ODD_FOLDER


def dxmon(env, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200, **kwargs)


@pytest.mark.slow  # two whole monthly runs and eight commands through the CLI (12 min on the shared 2 cores)
def test_every_command_in_an_odd_data_folder_and_a_second_run_refused_while_the_first_runs(
        tmp_path, reference_warehouse):
    root = tmp_path / ODD_FOLDER / "data"
    warehouse = root / "warehouse" / "dxmon.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy2(reference_warehouse, warehouse)  # the reference data is built: the run skips it
    generate_demo(tmp_path / "demo", ["2025-07"], rows_per_month=2000, seed=5, file_format="csv.gz")
    shutil.copytree(tmp_path / "demo" / "landing", root / "landing")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXMON_", "DAGSTER_"))}
    env.update(DXMON_DATA_DIR=str(root), DXMON_WAREHOUSE=str(warehouse), DAGSTER_HOME=str(root / "dagster_home"),
               GX_ANALYTICS_ENABLED="False", DAGSTER_DISABLE_TELEMETRY="1", DXMON_LOCK_WAIT_SECONDS="5")

    prepared = dxmon(env, "prepare")
    assert prepared.returncode == 0, prepared.stderr[-3000:]

    first = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "run", "--month", "2025-07"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the run is under way once its Dagster run id is in the lock file
        assert wait_until(lambda: (read_holder(lock_path(warehouse)) or {}).get("run_id") or first.poll() is not None,
                          timeout=300)
        assert first.poll() is None, first.communicate()[1][-3000:]
        holder = read_holder(lock_path(warehouse))
        assert holder["pid"] == first.pid and holder["command"] == "dxmon run --month 2025-07"
        second = dxmon(env, "run", "--month", "2025-07")
        assert second.returncode == EXIT_BUSY
        assert second.stderr.startswith("dxmon: warehouse busy: another writer holds ")
        assert f"run {holder['run_id']}" in second.stderr and f"PID {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr and "IOException" not in second.stderr
        out, err = first.communicate(timeout=1200)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err[-3000:]
    assert f"run {holder['run_id']}: for 2025-07..2025-07 succeeded" in out
    assert read_holder(lock_path(warehouse)) is None

    def marts():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT * FROM marts.fct_service_index_monthly ORDER BY ALL").fetchall()

    ranked = marts()
    assert len(set(ranked)) > 30
    published = root / "published" / "dxmon_published.duckdb"
    ranking = ("SELECT unit_code, rank, total_score FROM {} WHERE period_month = DATE '2025-07-01' "
               "AND unit_level = 'province' AND NOT is_backcast ORDER BY ALL")
    with duckdb.connect(str(published), read_only=True) as con:
        in_published = con.execute(ranking.format("rpt_service_ranking_monthly")).fetchall()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert in_published == con.execute(ranking.format("marts.rpt_service_ranking_monthly")).fetchall()
    assert 30 <= len(in_published) <= 34  # the 34 provinces of July 2025 (the demo may plant a silent one)

    for args in (["publish"], ["audit-pack", "--period", "2025-07"],
                 ["audit-pack", "--verify", str(root / "audit_packs" / "2025-07.zip")],
                 ["explain", "--unit", "01", "--period", "2025-07", "--indicator", "2.1"],
                 ["status"], ["quarantine", "--month", "2025-07"]):
        done = dxmon(env, *args)
        assert done.returncode == 0, (args, done.stderr[-3000:])
    assert "VERIFIED" in dxmon(env, "audit-pack", "--verify", str(root / "audit_packs" / "2025-07")).stdout
    explained = dxmon(env, "explain", "--unit", "01", "--period", "2025-07")
    assert str(root / "landing" / "2025-07") in explained.stdout  # the inputs, named by their odd path

    rerun = dxmon(env, "run", "--month", "2025-07")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert marts() == ranked  # a rerun on the same files leaves the marts identical
