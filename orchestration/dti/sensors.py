"""The DTI inbox sensor: a report dropped into the inbox whose bytes the ingestion log does not
hold (`raw.dti_submissions` for its year and folder, `quarantine.rejected_files` for an entry
refused unread) triggers the DTI job for its year: the year's last month, or the last complete
month for the current year (orchestration/loaded_inputs.py). Starting the daemon on a warehouse
that took every report requests nothing."""

import datetime as dt
import hashlib
import json
import re

import dagster as dg

from ingestion.reports.intake import default_inbox_dir
from orchestration.dti.jobs import monthly_dti_job
from orchestration.loaded_inputs import dump_cache, load_cache, read_ingestion_log_at_tick, scan_inputs
from orchestration.partitions import FIRST_MONTH, monthly_partitions

YEAR_FOLDER = re.compile(r"^\d{4}$")


def inbox_inputs(cache: dict) -> list[tuple[int, str, object]]:
    """(year, folder unit, InputFile) of every report in inbox/<year>/<unit>/ (others are not
    submissions: the intake skips them)."""
    inbox = default_inbox_dir()
    found = []
    if not inbox.is_dir():
        return found
    for f in scan_inputs(inbox, inbox, cache, recursive=True):
        parts = f.rel.split("/")
        if len(parts) == 3 and YEAR_FOLDER.match(parts[0]) and not f.rel.endswith(".reason.json"):
            found.append((int(parts[0]), parts[1], f))
    return found


def partition_for_year(year: int, last_key: str | None) -> str | None:
    """The DTI run of a year's reports: its December, or the last complete month when the year
    is not over; never before the first partition."""
    if last_key is None:
        return None
    key = min(dt.date(year, 12, 1).isoformat(), last_key)
    return max(key, FIRST_MONTH)


@dg.sensor(
    job=monthly_dti_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def dti_inbox_sensor(context: dg.SensorEvaluationContext):
    """A report dropped into (or replaced in) the DTI inbox: take it in and rescore the
    provisional DTI of its year."""
    cache = load_cache(context.cursor)
    present = inbox_inputs(cache)
    log, busy = read_ingestion_log_at_tick()
    if busy:
        return dg.SkipReason(busy)
    context.update_cursor(dump_cache(cache, [f for _, _, f in present]))
    by_year: dict[int, list] = {}
    for year, unit, f in present:
        if not log.dti_known(year, unit, f):
            by_year.setdefault(year, []).append(f)
    if not by_year:
        return dg.SkipReason("every DTI report in the inbox is in the ingestion log")
    last_key = monthly_partitions.get_last_partition_key()
    requests = []
    for year, files in sorted(by_year.items()):
        partition = partition_for_year(year, last_key)
        if partition is None:
            continue
        digest = hashlib.sha256(json.dumps(sorted((f.rel, f.sha256) for f in files)).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(
            run_key=f"dti-inbox:{year}:{digest}",
            partition_key=partition,
            tags={"dxmon/trigger": "dti_inbox", "dxmon/files": ",".join(sorted(f.rel for f in files))[:1000]},
        ))
    return requests or dg.SkipReason("no monthly partition yet for the years of the new reports")
