"""Task tracking materialized in process: the demo task plan and the agencies' status reports of
2025-02 … 2025-08 in the two task inboxes, the task_tracking job as of 2025-08 (real intake, real
GX, a real dbt build, real publication), then the classes, the contradictions, the warnings check,
the provenance, explain, a rerun and the inbox sensor checked on what it wrote."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from demo.task_plans import INTAKE_DEFECTS, generate_demo_task_files
from orchestration.cli.tasks import format_status, print_task_outputs, status_rows, warning_rows
from orchestration.tasks.sensors import task_inbox_sensor
from publication.audit.explain_tasks import TaskExplainError, explain_task, format_task_explanation

AS_OF = "2025-08-01"
SEED = 766  # make run's


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    return generate_demo_task_files(tmp_path_factory.mktemp("task_demo"), seed=SEED)


@pytest.fixture
def tracked(data_root, reference_data, demo_files, definitions, monkeypatch):
    """A warehouse after one task_tracking run as of 2025-08; returns (run the job again, result)."""
    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    (data_root / "dagster_home").mkdir()
    shutil.copytree(demo_files.plans_inbox, data_root / "task_plans", copy_function=shutil.copy2)
    shutil.copytree(demo_files.reports_inbox, data_root / "task_reports", copy_function=shutil.copy2)
    job = definitions.resolve_job_def("task_tracking")

    def run():
        result = job.execute_in_process(partition_key=AS_OF, raise_on_error=True)
        assert result.success
        return result

    return run, run()


def rows(path, sql: str, params=()):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_task_tracking_classifies_every_task_flags_warns_publishes_and_reruns_alike(data_root, tracked, demo_files,
                                                                                     definitions, capsys):
    rerun, result = tracked
    warehouse = data_root / "warehouse" / "dxmon.duckdb"
    published = data_root / "published" / "dxmon_published.duckdb"

    # intake: exactly the planted file and row defects are rejected, in quarantine with their reasons
    rejected = rows(warehouse, "SELECT input, rejection_level, rule FROM quarantine.task_rejections "
                               "WHERE rule NOT LIKE 'gx_%' ORDER BY ALL")
    assert sorted(r[2] for r in rejected) == sorted(INTAKE_DEFECTS[d["defect"]][0] for d in demo_files.intake_defects)

    # every demo task has exactly one class in every month from the first reported one to the as-of month
    months = [r[0] for r in rows(warehouse, "SELECT DISTINCT period FROM marts.fct_tasks ORDER BY 1")]
    assert months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]
    per_month = rows(warehouse, "SELECT period, count(*), count(DISTINCT task_code), count(class_code) "
                                "FROM marts.fct_tasks GROUP BY 1 ORDER BY 1")
    assert all(n == distinct == classed for _, n, distinct, classed in per_month)
    assert per_month[-1][1] == len(demo_files.tasks)
    classes = dict(rows(warehouse, "SELECT class_code, count(*) FROM marts.fct_tasks WHERE period = '2025-08' "
                                   "GROUP BY 1"))
    assert {"completed_on_time", "in_progress_within_deadline", "overdue_not_completed", "recurring_met"} <= set(classes)

    # the merger: tasks assigned to the 63 provinces are led by the 34 from July, and say so
    moved = rows(warehouse, "SELECT assigned_lead_unit_code, lead_unit_code, lead_unit_note FROM marts.fct_tasks "
                            "WHERE period = '2025-08' AND assigned_lead_unit_code = '02' LIMIT 1")
    assert moved and moved[0][1] == "08" and "02" in moved[0][2] and "08" in moved[0][2]
    assert rows(warehouse, "SELECT count(*) FROM marts.fct_tasks WHERE period = '2025-06' "
                           "AND lead_unit_code <> assigned_lead_unit_code AND assigned_lead_unit_code ~ '^[0-9]+$'") \
        == [(0,)]

    # every planted contradiction is flagged on its report row
    flagged = {r[0] for r in rows(warehouse, "SELECT DISTINCT unnest(string_split(contradictions, '; ')) "
                                             "FROM marts.fct_task_status_reports WHERE contradictions IS NOT NULL")}
    planted = {c["contradiction"] for c in demo_files.contradictions} - {"extension_approved"}  # the control case
    assert planted and planted <= flagged, (planted, flagged)

    # the counts reconcile: classes add up to assigned, both rates from the counts
    national = rows(warehouse, """SELECT assigned_tasks, completed_on_time + completed_late, overdue_not_completed,
           in_progress_within_deadline + recurring_met + recurring_missed + recurring_not_due + closed_without_completion,
           completion_rate_of_due_tasks, completion_rate_of_assigned
           FROM marts.rpt_task_status_by_agency WHERE grouping = 'national' AND period = '2025-08'""")[0]
    assigned, completed, overdue, rest, of_due, of_assigned = national
    assert assigned == completed + overdue + rest == len(demo_files.tasks)
    assert of_due == pytest.approx(100 * completed / (completed + overdue))
    assert of_assigned == pytest.approx(100 * completed / assigned)
    agencies = rows(warehouse, "SELECT sum(assigned_tasks) FROM marts.rpt_task_status_by_agency "
                               "WHERE grouping = 'agency' AND period = '2025-08'")
    assert agencies == [(assigned,)]

    # the as-of month's warnings: a warning asset check on rpt_task_warnings, never a failure
    checks = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    warnings_check = next(e for (key, name), e in checks.items()
                          if key == "rpt_task_warnings" and "warnings_of_the_as_of_month" in name)
    assert not warnings_check.passed and warnings_check.severity == dg.AssetCheckSeverity.WARN
    gx_check = checks[("raw_task_report_rows", "task_inputs_valid")]
    assert gx_check.severity == dg.AssetCheckSeverity.WARN  # only warnings fail: every month is published
    kinds = {r[0] for r in rows(warehouse, "SELECT DISTINCT warning_kind FROM marts.rpt_task_warnings "
                                           "WHERE period = '2025-08'")}
    assert {"key_task_overdue", "overdue_share_rose", "missing_status_report"} <= kinds

    # published with the task build's provenance; the CLI reads the published copy
    provenance = rows(warehouse, "SELECT run_id, input_hash FROM meta.run_provenance WHERE index_name = 'tasks' "
                                 "AND period_month = ?", [AS_OF])
    assert provenance == [(result.run_id, provenance[0][1])] and len(provenance[0][1]) == 64
    for mart in ("fct_tasks", "fct_task_status_reports", "rpt_task_status_by_agency", "rpt_overdue_tasks",
                 "rpt_task_warnings"):
        assert rows(published, f"SELECT DISTINCT run_id, input_hash FROM {mart}") == [provenance[0]], mart
        assert rows(published, f"SELECT count(*) FROM {mart}") == rows(warehouse, f"SELECT count(*) FROM marts.{mart} "
                                                                                 "WHERE publication_basis <> 'withheld'")
    assert status_rows("2025-08", by="national", database=published)[0]["assigned_tasks"] == assigned
    assert warning_rows("2025-08", database=published)
    assert "completed/due" in format_status(status_rows("2025-08", database=published), 5)
    print_task_outputs("2025-08", database=published)
    printed = capsys.readouterr().out
    assert f"{assigned} assigned" in printed and "warnings 2025-08" in printed

    # explain: the class to its registry row and the report row that decided it
    decided = rows(warehouse, "SELECT task_code, deciding_source_row FROM marts.fct_tasks WHERE period = '2025-08' "
                              "AND class_code = 'completed_on_time' AND deciding_submission_id IS NOT NULL "
                              "ORDER BY task_code LIMIT 1")[0]
    e = explain_task(decided[0], "2025-08", warehouse)
    assert e["deciding_row"]["source_row"] == decided[1] and e["deciding_row"]["sha256"]
    assert e["registry_row"]["task_code"] == decided[0] and e["registry_row"]["inbox_path"]
    text = format_task_explanation(e)
    assert "completed_on_time" in text and "decided by:" in text and e["deciding_row"]["inbox_path"] in text
    assert "gate of 2025-08: checks_passed" in text
    with pytest.raises(TaskExplainError, match="no task"):
        explain_task("NO-SUCH-TASK", "2025-08", warehouse)

    # a rerun on the same inputs gives the same marts
    def snapshot():
        return {m: rows(warehouse, f"SELECT * FROM marts.{m} ORDER BY ALL") for m in
                ("fct_tasks", "fct_task_status_reports", "rpt_task_status_by_agency", "rpt_overdue_tasks",
                 "rpt_task_warnings")}

    before = snapshot()
    rerun()
    assert snapshot() == before

    # (one job run serves the sensor too: a run as of a month costs about half a minute)
    the_task_inbox_sensor_asks_only_for_files_not_in_the_ingestion_log(data_root, definitions)


def the_task_inbox_sensor_asks_only_for_files_not_in_the_ingestion_log(data_root, definitions):
    repository = definitions.get_repository_def()
    quiet = task_inbox_sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    assert not quiet.run_requests and "every task list" in quiet.skip_message
    folder = data_root / "task_reports" / "2025-08" / "79"
    sent = next(folder.iterdir())
    (folder / f"resent_{sent.name}").write_bytes(sent.read_bytes() + b"\n")
    tick = task_inbox_sensor.evaluate_tick(dg.build_sensor_context(cursor=quiet.cursor, repository_def=repository))
    assert len(tick.run_requests) == 1
    assert tick.run_requests[0].tags["dxmon/files"] == f"2025-08/79/resent_{sent.name}"
