"""KPI tracking on its own: the agencies' KPI reports, the KPI models and publication, as of a
month: the KPI inbox sensor's job, and what follows a DTI run or a statistics or index file
loaded by command (`dxmon kpi progress --rebuild`). The monthly service-index job runs the same
KPI assets after its own marts. The DTI job does not: its partitions are the provisional DTI of
past months, and KPI tracking is as of the latest month."""

import dagster as dg

from orchestration.kpi.assets import kpi_dbt_models, kpi_reports
from orchestration.partitions import monthly_partitions
from orchestration.publication.assets import published_kpi

kpi_tracking_job = dg.define_asset_job(
    name="kpi_tracking",
    selection=dg.AssetSelection.assets(kpi_reports, kpi_dbt_models, published_kpi),
    partitions_def=monthly_partitions,
    description="Take the agencies' KPI reports, validate them, compute every KPI's values, trends and "
                "progress against its targets as of the month's end, and publish (withheld inputs left out).",
    executor_def=dg.in_process_executor,
)
