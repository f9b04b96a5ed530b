"""Late files: rerun a month when a file lands (or changes) in its landing folder after the
month's run. The cursor keeps each file's size and modification time; the loader itself is
idempotent by content, so a touched-but-identical file costs a no-op run."""

import hashlib
import json
import re

import dagster as dg

from ingestion.landing.loading import landing_dir
from orchestration.partitions import FIRST_MONTH, month_key
from orchestration.service_index.jobs import monthly_service_index_job

MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


def landing_snapshot() -> dict[str, str]:
    """{relative path: 'size:mtime_ns'} of every file in the landing month folders."""
    root = landing_dir()
    snapshot = {}
    if not root.is_dir():
        return snapshot
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and MONTH_FOLDER.match(p.name)):
        if month_key(folder.name) < FIRST_MONTH:
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                snapshot[f"{folder.name}/{path.name}"] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return snapshot


def changed_months(previous: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    """Months with new or changed files since the previous snapshot."""
    months: dict[str, list[str]] = {}
    for rel, signature in current.items():
        if previous.get(rel) != signature:
            months.setdefault(rel.split("/")[0], []).append(rel)
    return months


@dg.sensor(
    job=monthly_service_index_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def late_landing_file_sensor(context: dg.SensorEvaluationContext):
    previous = json.loads(context.cursor) if context.cursor else {}
    current = landing_snapshot()
    changed = changed_months(previous, current)
    for month, files in sorted(changed.items()):
        digest = hashlib.sha256(json.dumps({f: current[f] for f in files}, sort_keys=True).encode()).hexdigest()[:16]
        yield dg.RunRequest(
            run_key=f"landing:{month}:{digest}",
            partition_key=month_key(month),
            tags={"dxmon/trigger": "late_file", "dxmon/files": ",".join(sorted(files))[:1000]},
        )
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason("no new or changed landing files")
