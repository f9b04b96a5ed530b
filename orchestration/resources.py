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


class WarehouseResource(dg.ConfigurableResource):
    """Short-lived connections to the DuckDB warehouse. Ops run one at a time in process
    (dagster.yaml limits runs to one), so there is a single writer; dbt opens the file only
    after the op that wrote to it has closed its connection."""

    path: str = ""

    @property
    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else warehouse_path()

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
