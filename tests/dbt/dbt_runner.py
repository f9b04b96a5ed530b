"""A warehouse file of its own and the real `dbt` CLI on it: what the dbt tests share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
# DXMON_TEST_DBT_PROJECT_DIR: run against a copy of the project (e.g. while a sibling model in the
# shared tree does not parse); the repository project by default.
PROJECT_DIR = Path(os.environ.get("DXMON_TEST_DBT_PROJECT_DIR", REPO / "dbt_project"))


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    found = str(beside_python) if beside_python.exists() else shutil.which("dbt")
    if not found:
        pytest.fail("dbt is not installed: the dbt tests need the project's environment (make setup)")
    return found


class DbtTestWarehouse:
    """`root/dxmon.duckdb`, with dbt's target and logs under `root` (tests run side by side)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "dxmon.duckdb"
        self.env = {
            **os.environ,
            "DXMON_WAREHOUSE": str(self.path),
            "DXMON_DUCKDB_MEMORY_LIMIT": "1GB",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def run_dbt(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`env`: extra environment, e.g. the period window as the Dagster assets pass it
        (DXMON_PERIOD_START / DXMON_PERIOD_END: a partial reparse where `--vars` reparse all)."""
        command = [
            dbt_executable(), *args,
            "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(self.root / "target"), "--log-path", str(self.root / "logs"),
        ]
        return subprocess.run(command, env={**self.env, **(env or {})}, cwd=REPO, capture_output=True, text=True,
                              timeout=900)

    def dbt(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run dbt; fail the test with dbt's output when it fails."""
        result = self.run_dbt(*args, env=env)
        if result.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed (exit {result.returncode}):\n"
                        f"{result.stdout[-8000:]}\n{result.stderr[-2000:]}")
        return result.stdout

    def execute(self, sql: str, *params) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(sql, params)

    def rows(self, sql: str, *params) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params):
        return self.rows(sql, *params)[0][0]
