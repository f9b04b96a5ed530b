"""The body every partitioned dbt asset shares: build the run's months with dbt, stream dbt's
events to Dagster, record every dbt test's result in the validation history, then fail the step
if dbt failed (after recording, so a failed test is in the history too)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from expectations.validation_history import record_dbt_invocation
from orchestration.partitions import dbt_period_vars


def build_partitions(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse_path: Path,
                     extra_args: Sequence[str] = ()) -> Iterator:
    """`dbt build --vars {period_start, period_end}` over the run's partition range (one
    invocation for a backfill), with the selection of the asset it runs in."""
    period_vars = dbt_period_vars(context.partition_keys)
    context.log.info(f"dbt build for {period_vars}")
    invocation = dbt.cli(["build", "--vars", json.dumps(period_vars), *extra_args], context=context,
                         raise_on_error=False)
    yield from invocation.stream()
    record_dbt_invocation(invocation, context.run_id, context.partition_keys, warehouse_path)
    if not invocation.is_successful():
        raise invocation.get_error()


def run_dbt_build(dbt: DbtCliResource, select: str, dbt_vars: dict, exclude: str | None = None,
                  log=None) -> None:
    """A `dbt build` outside an asset (an op of an admin job): no Dagster outputs per node, the
    step fails with dbt's own error message when dbt fails. `--indirect-selection cautious`: a
    test that also reads a model outside the selection waits for that model's build."""
    from orchestration.dbt.project import dxmon_dbt_project

    args = ["build", "--select", select, "--vars", json.dumps(dbt_vars), "--indirect-selection", "cautious"]
    if exclude:
        args += ["--exclude", exclude]
    if log:
        log.info(f"dbt {' '.join(args)}")
    invocation = dbt.cli(args, manifest=dxmon_dbt_project.manifest_path, raise_on_error=False)
    invocation.wait()
    if not invocation.is_successful():
        raise dg.Failure(description=f"dbt build --select {select} failed: {invocation.get_error()}")
