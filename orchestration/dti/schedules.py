"""The DTI's schedule: on day 2 at 05:00 Vietnam time, two hours after the service index (whose
facts feed the automatic DTI indicators), the provisional DTI of the month that just ended."""

import dagster as dg

from orchestration.dti.jobs import monthly_dti_job
from orchestration.partitions import TIMEZONE, previous_month_key


@dg.schedule(
    cron_schedule="0 5 2 * *",
    execution_timezone=TIMEZONE,
    job=monthly_dti_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def monthly_dti_schedule(context: dg.ScheduleEvaluationContext):
    month = previous_month_key(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"scheduled-dti:{month}", partition_key=month, tags={"dxmon/trigger": "schedule"})
