"""Late files: rerun a month when a landing file is new, or changed since it was loaded.

The decision compares each file of `data/landing/<YYYY-MM>/` (its name and sha256) with the
ingestion log (`raw.ingested_sources`: the month's current file sources; `quarantine.rejected_files`:
files refused before, left in place), not with a cursor that starts empty: a daemon started on a
warehouse that `make run` just built requests nothing, and a new or replaced file requests a run
of its month only (orchestration/loaded_inputs.py). The run key is the month and the sha256 of
its files not yet loaded, so a tick that sees the same files again adds no second run."""

import hashlib
import json
import re

import dagster as dg

from ingestion.landing.loading import landing_dir
from orchestration.loaded_inputs import dump_cache, load_cache, read_ingestion_log_at_tick, scan_inputs
from orchestration.partitions import FIRST_MONTH, month_key
from orchestration.service_index.jobs import monthly_service_index_job

MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


def landing_inputs(cache: dict) -> dict[str, list]:
    """{month: [InputFile]} of every landing month folder (from FIRST_MONTH on)."""
    root = landing_dir()
    months: dict[str, list] = {}
    if not root.is_dir():
        return months
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and MONTH_FOLDER.match(p.name)):
        if month_key(folder.name) < FIRST_MONTH:
            continue
        months[folder.name] = scan_inputs(folder, root, cache)
    return months


def unloaded_files(months: dict[str, list], log) -> dict[str, list]:
    """{month: [InputFile]} of files whose bytes the log does not hold for that month."""
    pending = {}
    for month, files in months.items():
        new = [f for f in files if not log.landing_known(month, f)]
        if new:
            pending[month] = new
    return pending


@dg.sensor(
    job=monthly_service_index_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def late_landing_file_sensor(context: dg.SensorEvaluationContext):
    cache = load_cache(context.cursor)
    months = landing_inputs(cache)
    log, busy = read_ingestion_log_at_tick()
    if busy:
        return dg.SkipReason(busy)
    pending = unloaded_files(months, log)
    context.update_cursor(dump_cache(cache, [f for files in months.values() for f in files]))
    if not pending:
        return dg.SkipReason("every landing file is in the ingestion log (loaded or quarantined)")
    requests = []
    for month, files in sorted(pending.items()):
        digest = hashlib.sha256(json.dumps(sorted((f.rel, f.sha256) for f in files)).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(
            run_key=f"landing:{month}:{digest}",
            partition_key=month_key(month),
            tags={"dxmon/trigger": "late_file", "dxmon/files": ",".join(sorted(f.rel for f in files))[:1000]},
        ))
    return requests
