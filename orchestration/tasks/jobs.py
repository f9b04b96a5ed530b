"""Task tracking on its own: the task lists, the status reports, the task models and publication,
as of a month: the task inbox sensor's job, and `dxmon tasks status --rebuild`. The monthly
service-index job runs the same task assets after its own marts."""

import dagster as dg

from orchestration.partitions import monthly_partitions
from orchestration.publication.assets import published_tasks
from orchestration.tasks.assets import task_dbt_models, task_inputs

task_tracking_job = dg.define_asset_job(
    name="task_tracking",
    selection=dg.AssetSelection.assets(task_inputs, task_dbt_models, published_tasks),
    partitions_def=monthly_partitions,
    description="Take the task lists and the agencies' status reports, validate them, classify every task in "
                "every month from its dates as of the month's end, count per agency and warn, and publish "
                "(withheld months left out).",
    executor_def=dg.in_process_executor,
)
