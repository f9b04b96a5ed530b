"""What every `dxmon` command shares: the environment defaults, a current dbt manifest, and
running a Dagster job in this process (recorded in DAGSTER_HOME like any other run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ingestion.core.warehouse import PROJECT_ROOT, data_dir, warehouse_path
from orchestration.dbt.project import DBT_PROJECT_DIR, dbt_command


def setup_environment() -> None:
    """Defaults every command shares: Dagster home inside the project, the warehouse path."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(data_dir() / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    template = PROJECT_ROOT / "dagster.yaml"
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    os.environ.setdefault("DXMON_WAREHOUSE", str(warehouse_path()))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def dbt_manifest_is_current() -> bool:
    """True when target/manifest.json is newer than every file of the dbt project."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    for folder in ("models", "seeds", "macros", "tests", "snapshots", "analyses"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*") if (DBT_PROJECT_DIR / folder).exists() else ():
            if path.is_file() and path.stat().st_mtime > built:
                return False
    return all(not (DBT_PROJECT_DIR / f).exists() or (DBT_PROJECT_DIR / f).stat().st_mtime <= built
               for f in ("dbt_project.yml", "profiles.yml", "selectors.yml"))


def prepare_dbt(force: bool = False) -> None:
    """`dbt parse` writes the manifest the Dagster definitions are built from; skipped when the
    manifest is newer than every file of the project."""
    setup_environment()
    if force or not dbt_manifest_is_current():
        subprocess.run(dbt_command("parse", "--quiet"), check=True, cwd=PROJECT_ROOT)


def execute_job(name: str, label: str, **kwargs):
    """Run the Dagster job `name` in this process on the instance of DAGSTER_HOME, with the
    command's console (orchestration/cli/console.py: one line per step, warnings in plain words,
    progress; the full event stream in the log file); print the outcome (and each failed step's
    message); return the result."""
    from dagster import DagsterInstance

    from orchestration.cli.console import reported_job

    prepare_dbt()
    from orchestration.definitions import defs

    job = defs.resolve_job_def(name)
    started = time.monotonic()
    with reported_job(job, name, label, kwargs.pop("run_config", None)) as (reported, run_config, reporter):
        reporter.session.print(f"job {name} ({label})")
        with DagsterInstance.get() as instance:
            result = reported.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                                 **kwargs)
    print(f"run {result.run_id}: {label} {'succeeded' if result.success else 'FAILED'} "
          f"({time.monotonic() - started:.1f} s)")
    if not result.success and reporter.session.verbose:  # without -v the reporter printed them
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
                print(f"  {event.step_key}: {event.step_failure_data.error.message.strip()[:2000]}")
    return result


def partition_kwargs(first: str, last: str) -> dict:
    """execute_in_process arguments for one month, or a range of months in one run."""
    from orchestration.partitions import month_key, range_tags

    if month_key(first) == month_key(last):
        return {"partition_key": month_key(first)}
    return {"tags": range_tags(first, last)}
