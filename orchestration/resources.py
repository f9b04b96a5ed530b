"""Resources: the warehouse (one writer at a time) and the national portal client."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect, warehouse_path
from orchestration.warehouse_lock import WRITE, warehouse_lock


class WarehouseResource(dg.ConfigurableResource):
    """Short-lived connections to the DuckDB warehouse, under the warehouse's write lock for the
    whole run (orchestration/warehouse_lock.py). The jobs run one step at a time in one process
    (in-process executor), so the resource is set up once per run: a run launched by the daemon
    while `dxmon run` writes fails at its start with the holder named, instead of a DuckDB lock
    error in the middle of a step; under `dxmon`, which holds the lock already, the run's id is
    recorded in the lock file. dbt opens the file only after the op that wrote to it has closed
    its connection."""

    path: str = ""

    @property
    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else warehouse_path()

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        run = context.dagster_run
        command = f"dagster run of job {run.job_name}" if run else "dagster run"
        with warehouse_lock(WRITE, warehouse=self.resolved_path, command=command, run_id=context.run_id):
            yield self

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.resolved_path) as con:
            prepare_warehouse(con)
            yield con


class PortalResource(dg.ConfigurableResource):
    """The national portal's API. Empty base_url means no API source is configured."""

    base_url: str = ""
    token_env_var: str = "DXMON_PORTAL_TOKEN"

    def configured_url(self) -> str:
        return self.base_url or os.environ.get("DXMON_PORTAL_URL", "")

    def token(self) -> str:
        token = os.environ.get(self.token_env_var, "").strip()
        if not token:
            raise ValueError(f"the portal at {self.configured_url()} needs a bearer token: set {self.token_env_var}")
        return token
