"""The service index's schedule: on day 2 at 03:00 Vietnam time, refresh the month that just ended."""

import dagster as dg

from orchestration.partitions import TIMEZONE, previous_month_key
from orchestration.service_index.jobs import monthly_service_index_job


@dg.schedule(
    cron_schedule="0 3 2 * *",
    execution_timezone=TIMEZONE,
    job=monthly_service_index_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def monthly_service_index_schedule(context: dg.ScheduleEvaluationContext):
    month = previous_month_key(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"scheduled:{month}", partition_key=month, tags={"dxmon/trigger": "schedule"})
