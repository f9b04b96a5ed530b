"""The dbt project as Dagster sees it, kept apart from the `@dbt_assets` definitions: importing
it must not need a parsed manifest's assets (dagster-dbt reads the manifest when the assets are
defined, so tests and the CLI run `dbt parse` first: `dxmon prepare`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dxmon_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dxmon_dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The `dbt` beside this Python (the project's venv), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def dbt_command(*args: str) -> list[str]:
    """A `dbt` command line on the project (for the CLI's own dbt calls and for tests)."""
    return [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
