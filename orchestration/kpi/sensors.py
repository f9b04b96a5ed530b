"""The KPI inbox sensor: an agency KPI report dropped into data/kpi_inbox/<period>/<unit>/ whose
bytes the ingestion log does not hold (`raw.kpi_submissions`, or `quarantine.rejected_files` for
an entry refused unread) triggers the kpi_tracking job as of the last complete month
(orchestration/loaded_inputs.py). Starting the daemon on a warehouse that took every report
requests nothing."""

import hashlib
import json

import dagster as dg

from ingestion.kpi.reports.intake import default_inbox_dir as default_kpi_inbox_dir
from orchestration.kpi.jobs import kpi_tracking_job
from orchestration.loaded_inputs import dump_cache, load_cache, read_ingestion_log_at_tick, scan_inputs
from orchestration.partitions import monthly_partitions


def kpi_inbox_inputs(cache: dict) -> list[tuple[str, str, object]]:
    """(period folder, unit folder, InputFile) of every report in kpi_inbox/<period>/<unit>/."""
    inbox = default_kpi_inbox_dir()
    if not inbox.is_dir():
        return []
    found = []
    for f in scan_inputs(inbox, inbox, cache, recursive=True):
        parts = f.rel.split("/")
        if len(parts) == 3 and not f.rel.endswith(".reason.json"):
            found.append((parts[0], parts[1], f))
    return found


@dg.sensor(job=kpi_tracking_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def kpi_inbox_sensor(context: dg.SensorEvaluationContext):
    """A KPI report dropped into (or replaced in) the KPI inbox: take it in and recompute progress."""
    cache = load_cache(context.cursor)
    present = kpi_inbox_inputs(cache)
    log, busy = read_ingestion_log_at_tick()
    if busy:
        return dg.SkipReason(busy)
    context.update_cursor(dump_cache(cache, [f for _, _, f in present]))
    new = [f for period, unit, f in present if not log.kpi_known(period, unit, f)]
    if not new:
        return dg.SkipReason("every KPI report in the KPI inbox is in the ingestion log")
    partition = monthly_partitions.get_last_partition_key()
    if partition is None:
        return dg.SkipReason("no monthly partition yet")
    digest = hashlib.sha256(json.dumps(sorted((f.rel, f.sha256) for f in new)).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"kpi-inbox:{digest}", partition_key=partition,
                         tags={"dxmon/trigger": "kpi_inbox",
                               "dxmon/files": ",".join(sorted(f.rel for f in new))[:1000]})
