"""The one Definitions object: assets, checks, job, schedule, sensor and resources."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ingestion.core.warehouse import warehouse_path
from orchestration.assets.audit import audit_dbt_models, audit_pack, dti_audit_pack
from orchestration.assets.dbt_models import reference_dbt_models, service_index_dbt_models
from orchestration.assets.dti import dti_dbt_models, dti_reports
from orchestration.assets.extracts import raw_extracts
from orchestration.assets.publication import published_dti, published_service_index
from orchestration.dbt_project import dxmon_dbt_project
from orchestration.jobs import monthly_dti_job, monthly_service_index_job, reference_data_job_def
from orchestration.resources import PortalResource, WarehouseResource
from orchestration.schedules import monthly_dti_schedule, monthly_service_index_schedule
from orchestration.sensors import dti_inbox_sensor, late_landing_file_sensor

# dbt (a subprocess) finds the warehouse through the profile's env var.
os.environ.setdefault("DXMON_WAREHOUSE", str(warehouse_path()))


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


defs = dg.Definitions(
    assets=[reference_dbt_models, raw_extracts, service_index_dbt_models, published_service_index,
            audit_dbt_models, audit_pack, dti_reports, dti_dbt_models, published_dti, dti_audit_pack],
    jobs=[monthly_service_index_job, monthly_dti_job, reference_data_job_def()],
    schedules=[monthly_service_index_schedule, monthly_dti_schedule],
    sensors=[late_landing_file_sensor, dti_inbox_sensor],
    resources={
        "dbt": DbtCliResource(project_dir=dxmon_dbt_project, dbt_executable=dbt_executable()),
        "warehouse": WarehouseResource(),
        "portal": PortalResource(),
    },
)
