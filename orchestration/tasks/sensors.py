"""The task inbox sensor: a task list dropped into data/task_plans/<year>/<issuer>/ or a status
report dropped into data/task_reports/<YYYY-MM>/<unit>/ whose bytes the ingestion log does not hold
(`raw.task_plan_submissions`, `raw.task_report_submissions`, or `quarantine.rejected_files` for an
entry refused unread) triggers the task_tracking job as of the last complete month
(orchestration/loaded_inputs.py). Starting the daemon on a warehouse that took every file requests
nothing."""

import hashlib
import json

import dagster as dg

from ingestion.tasks.plan_intake import default_plans_dir
from ingestion.tasks.report_intake import default_reports_dir
from orchestration.loaded_inputs import dump_cache, load_cache, read_ingestion_log_at_tick, scan_inputs
from orchestration.partitions import monthly_partitions
from orchestration.tasks.jobs import task_tracking_job


def task_inbox_inputs(cache: dict) -> list[tuple[str, str, str, object]]:
    """(form 'plan' | 'report', period folder, unit folder, InputFile) of every file in the two
    task inboxes, at <inbox>/<period>/<unit>/<file>."""
    found = []
    for form, inbox in (("plan", default_plans_dir()), ("report", default_reports_dir())):
        if not inbox.is_dir():
            continue
        for f in scan_inputs(inbox, inbox, cache, recursive=True):
            parts = f.rel.split("/")
            if len(parts) == 3 and not f.rel.endswith(".reason.json"):
                found.append((form, parts[0], parts[1], f))
    return found


@dg.sensor(job=task_tracking_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def task_inbox_sensor(context: dg.SensorEvaluationContext):
    """A task list or status report dropped into (or replaced in) its inbox: take it in and recount."""
    cache = load_cache(context.cursor)
    present = task_inbox_inputs(cache)
    log, busy = read_ingestion_log_at_tick()
    if busy:
        return dg.SkipReason(busy)
    context.update_cursor(dump_cache(cache, [f for *_, f in present]))
    new = [f for form, period, unit, f in present
           if not (log.task_plan_known(period, unit, f) if form == "plan" else log.task_report_known(period, unit, f))]
    if not new:
        return dg.SkipReason("every task list and status report in the task inboxes is in the ingestion log")
    partition = monthly_partitions.get_last_partition_key()
    if partition is None:
        return dg.SkipReason("no monthly partition yet")
    digest = hashlib.sha256(json.dumps(sorted((f.rel, f.sha256) for f in new)).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"task-inbox:{digest}", partition_key=partition,
                         tags={"dxmon/trigger": "task_inbox",
                               "dxmon/files": ",".join(sorted(f.rel for f in new))[:1000]})
