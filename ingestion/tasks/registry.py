"""The registry of assigned tasks as intake knows it (docs/task_tracking.md): what a unit's status
report template lists for a month.

The registry in effect is, per document_number, the latest accepted task-list submission (max
version, then received_at) and its rows without a rejection_rule; a task is assigned from its
document_date. Its lead unit in a month is the registry's lead unit through the crosswalks of 2025
(`ingestion/tasks/units.py`): a task assigned to province 02 (Hà Giang) is led by 08 (Tuyên Quang)
from 2025-07, as dbt's int_unit_codes_attributed attributes it.
"""

from __future__ import annotations

import duckdb

from ingestion.kpi.reports.periods import KpiPeriod, parse_period
from ingestion.tasks.units import attributed_unit

REGISTRY_SQL = """
WITH latest AS (
  SELECT submission_id, document_number, document_date
  FROM raw.task_plan_submissions
  WHERE status = 'accepted'
  QUALIFY row_number() OVER (PARTITION BY document_number ORDER BY version DESC, received_at DESC) = 1
)
SELECT r.task_code, r.title, r.lead_unit_code, r.cooperating_unit_codes, r.deadline, r.recurrence,
       r.raw_deadline, r.expected_result, r.is_key_task, r.issuer_code, l.document_number, l.document_date,
       r.submission_id, r.source_row
FROM raw.task_plan_rows r
JOIN latest l USING (submission_id)
WHERE r.rejection_rule IS NULL AND l.document_date <= ?
ORDER BY l.document_date, l.document_number, r.source_row
"""


def _has_registry(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name IN "
                       "('task_plan_submissions', 'task_plan_rows')").fetchone()[0] == 2


def tasks_of_unit(con: duckdb.DuckDBPyConnection, unit_code: str, period: KpiPeriod | str) -> list[dict]:
    """The registry rows whose lead unit in the month `period` (YYYY-MM) is `unit_code`, assigned
    by the month's last day, in document order. Each a dict of the raw.task_plan_rows columns
    (task_code, title, lead_unit_code: the unit leading it that month, cooperating_unit_codes,
    deadline, recurrence, raw_deadline, expected_result, is_key_task, issuer_code), the document's
    number and date, and `moved_from`: the registry's lead unit when the task moved to
    `unit_code` through a crosswalk (None when it did not)."""
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    if not _has_registry(con):
        return []
    cursor = con.execute(REGISTRY_SQL, [period.end])
    names = [d[0] for d in cursor.description]
    out = []
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        lead, moved = attributed_unit(row["lead_unit_code"], period.end)
        if lead != unit_code:
            continue
        row["moved_from"] = row["lead_unit_code"] if moved else None
        row["lead_unit_code"] = lead
        out.append(row)
    return out


def lead_units_of_month(con: duckdb.DuckDBPyConnection, period: KpiPeriod | str) -> list[str]:
    """Every unit that leads at least one task of the registry in the month `period` (YYYY-MM),
    through the crosswalks: the units whose status report templates `dxmon tasks templates
    --all-units` writes."""
    period = period if isinstance(period, KpiPeriod) else parse_period(period)
    if not _has_registry(con):
        return []
    leads = {attributed_unit(code, period.end)[0]
             for (code, *_rest) in con.execute(REGISTRY_SQL, [period.end]).fetchall()}
    return sorted(leads)
