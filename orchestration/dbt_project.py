"""The dbt project as Dagster sees it (kept apart from the @dbt_assets definitions, STACK.md)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dxmon_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dxmon_dbt_project.prepare_if_dev()
