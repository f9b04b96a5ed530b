"""The DTI inbox sensor: a report dropped into (or replaced in) the inbox triggers the DTI job."""

import hashlib
import json

import dagster as dg

from ingestion.reports.intake import default_inbox_dir, list_inbox_files
from orchestration.dti.jobs import monthly_dti_job
from orchestration.partitions import monthly_partitions


def inbox_snapshot() -> dict[str, str]:
    """{path relative to the inbox: 'size:mtime_ns'} of every file in the DTI inbox."""
    inbox = default_inbox_dir()
    snapshot = {}
    if inbox.is_dir():
        for _year, _unit, path in list_inbox_files(inbox):
            stat = path.stat()
            snapshot[str(path.relative_to(inbox))] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return snapshot


@dg.sensor(
    job=monthly_dti_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def dti_inbox_sensor(context: dg.SensorEvaluationContext):
    """A report dropped into (or replaced in) the DTI inbox: take it in and rescore the
    provisional DTI as of the last complete month."""
    previous = json.loads(context.cursor) if context.cursor else {}
    current = inbox_snapshot()
    changed = sorted(rel for rel, signature in current.items() if previous.get(rel) != signature)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason("no new or changed DTI reports")
    partition = monthly_partitions.get_last_partition_key()
    digest = hashlib.sha256(json.dumps({f: current[f] for f in changed}, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"dti-inbox:{digest}",
        partition_key=partition,
        tags={"dxmon/trigger": "dti_inbox", "dxmon/files": ",".join(changed)[:1000]},
    )
