"""The one Definitions object, assembled from the per-domain modules: reference data, the service
index, the DTI, KPI tracking, task tracking, the auditors' assets and publication."""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from ingestion.core.warehouse import warehouse_path
from orchestration.audit.assets import audit_dbt_models, audit_pack, dti_audit_pack
from orchestration.dbt.project import dbt_executable, dxmon_dbt_project
from orchestration.dti.assets import dti_dbt_models, dti_reports
from orchestration.dti.jobs import close_dti_year, monthly_dti_job
from orchestration.dti.schedules import monthly_dti_schedule
from orchestration.dti.sensors import dti_inbox_sensor
from orchestration.kpi.assets import kpi_dbt_models, kpi_reports
from orchestration.kpi.jobs import kpi_tracking_job
from orchestration.kpi.sensors import kpi_inbox_sensor
from orchestration.publication.assets import published_dti, published_kpi, published_service_index, published_tasks
from orchestration.reference.assets import reference_data_job, reference_dbt_models
from orchestration.resources import PortalResource, WarehouseResource
from orchestration.service_index.assets import raw_extracts, service_index_dbt_models
from orchestration.service_index.jobs import monthly_service_index_job
from orchestration.service_index.schedules import monthly_service_index_schedule
from orchestration.service_index.sensors import late_landing_file_sensor
from orchestration.tasks.assets import task_dbt_models, task_inputs
from orchestration.tasks.jobs import task_tracking_job
from orchestration.tasks.sensors import task_inbox_sensor

# dbt (a subprocess) finds the warehouse through the profile's env var.
os.environ.setdefault("DXMON_WAREHOUSE", str(warehouse_path()))

defs = dg.Definitions(
    assets=[reference_dbt_models, raw_extracts, service_index_dbt_models, published_service_index,
            audit_dbt_models, audit_pack, dti_reports, dti_dbt_models, published_dti, dti_audit_pack,
            kpi_reports, kpi_dbt_models, published_kpi, task_inputs, task_dbt_models, published_tasks],
    jobs=[monthly_service_index_job, monthly_dti_job, reference_data_job, close_dti_year, kpi_tracking_job,
          task_tracking_job],
    schedules=[monthly_service_index_schedule, monthly_dti_schedule],
    sensors=[late_landing_file_sensor, dti_inbox_sensor, kpi_inbox_sensor, task_inbox_sensor],
    resources={
        "dbt": DbtCliResource(project_dir=dxmon_dbt_project, dbt_executable=dbt_executable()),
        "warehouse": WarehouseResource(),
        "portal": PortalResource(),
    },
)
