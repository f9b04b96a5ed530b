"""The body every partitioned dbt asset shares: build the run's months with dbt, stream dbt's
events to Dagster, record every dbt test's result in the validation history, then fail the step
if dbt failed (after recording, so a failed test is in the history too).

The period window reaches dbt as the environment variables DXMON_PERIOD_START and
DXMON_PERIOD_END (read by macros/period_window.sql, falling back to the vars period_start and
period_end), not as `--vars`: dbt reparses the whole project whenever `--vars` change (about
15 s per invocation here), but only the files that read an environment variable when its value
changes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from expectations.validation_history import record_dbt_invocation
from orchestration.dbt.project import dxmon_dbt_project
from orchestration.dbt.translator import translator
from orchestration.partitions import dbt_period_vars, monthly_partitions

PERIOD_ENVIRONMENT = {"period_start": "DXMON_PERIOD_START", "period_end": "DXMON_PERIOD_END"}
ISO_MONTH_START = re.compile(r"\d{4}-\d{2}-01")


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def period_environment(period_vars: Mapping[str, str]) -> Iterator[None]:
    """The period window in the environment of the dbt processes started inside the block
    (dagster-dbt starts dbt with this process's environment); restored afterwards. Steps run
    one at a time in process (the warehouse has one writer), so no other step sees it.

    macros/period_window.sql puts these values inside SQL text (`cast('<value>' as date)`), so
    only a first day of a month in ISO form (YYYY-MM-01) is accepted: anything else is refused
    here, before dbt sees it."""
    for key, value in period_vars.items():
        if key not in PERIOD_ENVIRONMENT:
            raise ValueError(f"unknown period variable {key!r}; expected {', '.join(PERIOD_ENVIRONMENT)}")
        if not (isinstance(value, str) and ISO_MONTH_START.fullmatch(value) and _is_date(value)):
            raise ValueError(f"period variable {key} must be the first day of a month (YYYY-MM-01), not {value!r}")
    saved = {name: os.environ.get(name) for name in PERIOD_ENVIRONMENT.values()}
    os.environ.update({PERIOD_ENVIRONMENT[key]: value for key, value in period_vars.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def monthly_dbt_assets(selection: Mapping[str, str], name: str):
    """The `@dbt_assets` decorator of a monthly dbt asset: the project's manifest, the asset's
    selector (orchestration/dbt/selections.py), monthly partitions built in one run per backfill,
    the shared translator. Its body calls `build_partitions`."""
    return dbt_assets(
        manifest=dxmon_dbt_project.manifest_path,
        **selection,
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=translator,
        name=name,
    )


def build_partitions(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse_path: Path,
                     extra_args: Sequence[str] = ()) -> Iterator:
    """`dbt build` over the run's partition range (one invocation for a backfill), with the
    selection of the asset it runs in."""
    period_vars = dbt_period_vars(context.partition_keys)
    context.log.info(f"dbt build for {period_vars}")
    with period_environment(period_vars):
        invocation = dbt.cli(["build", *extra_args], context=context, raise_on_error=False)
        yield from invocation.stream()
    record_dbt_invocation(invocation, context.run_id, context.partition_keys, warehouse_path)
    if not invocation.is_successful():
        raise invocation.get_error()


def run_dbt_build(dbt: DbtCliResource, select: str, dbt_vars: dict, exclude: str | None = None,
                  log=None) -> None:
    """A `dbt build` outside an asset (an op of an admin job): no Dagster outputs per node, the
    step fails with dbt's own error message when dbt fails. `--indirect-selection cautious`: a
    test that also reads a model outside the selection waits for that model's build."""
    args = ["build", "--select", select, "--vars", json.dumps(dbt_vars), "--indirect-selection", "cautious"]
    if exclude:
        args += ["--exclude", exclude]
    if log:
        log.info(f"dbt {' '.join(args)}")
    invocation = dbt.cli(args, manifest=dxmon_dbt_project.manifest_path, raise_on_error=False)
    invocation.wait()
    if not invocation.is_successful():
        raise dg.Failure(description=f"dbt build --select {select} failed: {invocation.get_error()}")
