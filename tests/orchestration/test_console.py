"""The console of `dxmon` (orchestration/cli/console.py) and the tables it prints
(orchestration/cli/text_tables.py).

The run tests drive the real `reference_data` job through the CLI's own path (`main`, in this
process, stdout and stderr captured): once on a fresh warehouse (dbt builds the reference data:
its stream, a real dbt build of about a hundred nodes, must stay out of the console) and once
with `-v` (the data unchanged, so quick)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import unicodedata

import pytest

from orchestration.cli.text_tables import Column, display_width, fit_table, rank_change, render
from publication.spreadsheet_cells import original_text

RAW_EVENT_NAMES = ("RUN_START", "RUN_SUCCESS", "STEP_START", "STEP_SUCCESS", "STEP_OUTPUT", "ENGINE_EVENT",
                   "LOGS_CAPTURED", "ASSET_MATERIALIZATION", "RESOURCE_INIT_STARTED", "HANDLED_OUTPUT")
STEP_LINE = re.compile(r"^\s+-\s+reference_dbt_models\s+\d+(\.\d)? s\s+ok$")
LOG_LINE = re.compile(r"^(?:full )?log: (\S+\.log)")


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    from orchestration.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, definitions):
    """`dxmon reference` on a fresh data folder (dbt builds), then `dxmon -v reference` on it."""
    root = tmp_path_factory.mktemp("console")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root))
        mp.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        mp.delenv("DXMON_REBUILD_REFERENCE", raising=False)
        mp.delenv("DXMON_LANDING_DIR", raising=False)
        (root / "dagster_home").mkdir()
        plain = _run_cli(["reference"])
        verbose = _run_cli(["-v", "reference"])
    return {"root": root, "plain": plain, "verbose": verbose}


def _log_paths(out: str) -> list[str]:
    return [m.group(1) for line in out.splitlines() if (m := LOG_LINE.match(line))]


def test_console_of_a_small_run_names_each_step_without_debug_lines(runs):
    code, out, err = runs["plain"]
    assert code == 0, out + err
    console = out + err
    lines = console.splitlines()
    assert not [line for line in lines if "DEBUG" in line], "a DEBUG line reached the console"
    assert not [line for line in lines if any(name in line for name in RAW_EVENT_NAMES)]
    assert not [line for line in lines if re.search(r"\d+ of \d+ (START|OK|PASS)", line)], "dbt's stream leaked"
    assert [line for line in lines if STEP_LINE.match(line)], console  # the step, its seconds, ok
    assert re.search(r"^run \S+: reference data succeeded \(\d+\.\d s\)$", out, re.M)
    assert len(lines) < 40  # a screen, where the raw stream is hundreds of lines


def test_the_log_file_path_is_printed_first_and_last_and_holds_the_full_stream(runs):
    code, out, _ = runs["plain"]
    paths = _log_paths(out)
    assert len(paths) == 2 and paths[0] == paths[1]
    assert out.splitlines()[0].startswith("log: ") and out.splitlines()[-1] == f"full log: {paths[0]}"
    log = runs["root"] / "logs"
    assert paths[0].startswith(str(log)) and paths[0].endswith("-reference.log")
    text = open(paths[0], encoding="utf-8").read()
    debug = [line for line in text.splitlines() if " DEBUG dagster: " in line]
    assert len(debug) > 50  # every event of the run, at DEBUG
    for name in ("RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "RUN_SUCCESS"):
        assert f" - {name} - " in text, name
    assert re.search(r"INFO stdout: \d+ of \d+ START seed file seeds\.", text)  # dbt's own lines
    assert "Running dbt command" in text  # dagster-dbt's Python logger


def test_verbose_brings_the_stream_back(runs):
    code, out, err = runs["verbose"]
    assert code == 0, out + err
    console = out + err
    assert "DEBUG" in console and " - STEP_START - " in console and " - RUN_SUCCESS - " in console
    paths = _log_paths(out)
    assert paths and paths[0] != _log_paths(runs["plain"][1])[0]
    assert " - STEP_START - " in open(paths[0], encoding="utf-8").read()


# --- the job reporter, fed by hand --------------------------------------------------------------

def _reporter(tmp_path, monkeypatch, tty: bool):
    from orchestration.cli.console import ConsoleSession, JobReporter

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path))
    session = ConsoleSession("test", stream=io.StringIO())  # not installed: no handlers, no file
    return JobReporter(session, "monthly_service_index", "test", tty=tty)


def test_progress_counts_dbt_nodes_and_loader_rows(tmp_path, monkeypatch):
    from orchestration.cli.console import StepState

    reporter = _reporter(tmp_path, monkeypatch, tty=False)
    reporter.steps["dbt_models"] = StepState("dbt_models", started=0.0)
    for line in ("1 of 4 START sql view model staging.stg_a ...... [RUN]",
                 "1 of 4 OK created sql view model staging.stg_a ...... [OK in 0.05s]",
                 "2 of 4 START sql view model staging.stg_b ...... [RUN]",
                 "2 of 4 PASS not_null_b ...... [PASS in 0.01s]", "Done. PASS=1"):
        reporter.stdout_line(line)
    import logging

    reporter.python_record(logging.makeLogRecord({"name": "ingestion.landing.loading", "levelno": logging.INFO,
                                                  "msg": "loaded %s: %d rows (%d rejected)",
                                                  "args": ("a.csv", 1500, 3)}))
    text = reporter.progress_text()
    assert "dbt_models" in text and "dbt 2/4 nodes" in text and "1,500 rows loaded" in text and "rows/s" in text
    reporter.tick()  # plain output: nothing until PROGRESS_EVERY_S passed since the last line
    assert reporter.session.stream.getvalue() == ""
    reporter._last_progress -= 11
    reporter.tick()
    assert reporter.session.stream.getvalue() == text + "\n"  # a whole line, no \r


def test_on_a_terminal_the_progress_is_one_line_rewritten_in_place(tmp_path, monkeypatch):
    from orchestration.cli.console import StepState

    reporter = _reporter(tmp_path, monkeypatch, tty=True)
    reporter.steps["raw_extracts"] = StepState("raw_extracts", started=0.0)
    reporter.tick()
    reporter.tick()
    shown = reporter.session.stream.getvalue()
    assert shown.count("\r\033[K") == 2 and "\n" not in shown and "raw_extracts" in shown
    reporter._emit("  2025-07  raw_extracts  ok")  # a step line clears the status line first
    assert reporter.session.stream.getvalue().endswith("\r\033[K  2025-07  raw_extracts  ok\n")


def test_rows_and_partition_range_of_a_step():
    from dagster import MetadataValue

    from orchestration.cli.console import partition_label, rows_of_metadata

    months = {"2025-07": {"files": {"rows_loaded": 120, "rows_rejected": 3}, "portal_pages": {"rows_loaded": 30}}}
    assert rows_of_metadata({"months": MetadataValue.json(months)}) == (150, 3)
    assert rows_of_metadata({"dagster/row_count": MetadataValue.int(7)}) == (7, None)
    assert rows_of_metadata({"other": MetadataValue.text("x")}) == (None, None)
    assert partition_label({"dagster/partition": "2025-07-01"}) == "2025-07"
    assert partition_label({"dagster/asset_partition_range_start": "2025-02-01",
                            "dagster/asset_partition_range_end": "2025-08-01"}) == "2025-02..2025-08"
    assert partition_label({}) == "-"


# --- the tables ---------------------------------------------------------------------------------

LONG_NAME = "Ủy ban nhân dân tỉnh Bà Rịa – Vũng Tàu (trước sắp xếp)"
RANKING = [
    {"rank": 1, "rank_change": 2, "unit_code": "46", "unit_name": LONG_NAME, "dti_value": 0.712345,
     "previous_rank": 3, "level": "province", "methodology_version": "dti_2023_province"},
    {"rank": 2, "rank_change": -1, "unit_code": "79", "unit_name": "Thành phố Hồ Chí Minh", "dti_value": 0.7,
     "previous_rank": 1, "level": "province", "methodology_version": "dti_2023_province"},
    {"rank": 3, "rank_change": None, "unit_code": "BTC", "unit_name": "=HYPERLINK(\"http://x\",\"Bộ Tài chính\")",
     "dti_value": 0.5, "previous_rank": None, "level": "ministry", "methodology_version": "dti_2023_ministry"},
]
COLUMNS = [Column("rank", "rank", 0, keep=True, align="right"),
           Column("change", lambda r: rank_change(r["rank_change"]), 1, align="right"),
           Column("unit", lambda r: f"{r['unit_code']} {r['unit_name']}", 0, keep=True),
           Column("DTI", "dti_value", 0, keep=True, align="right"),
           Column("previous rank", "previous_rank", 2, align="right"),
           Column("methodology", "methodology_version", 3, min_width=8),
           Column("level", "level", 3)]


def test_a_long_vietnamese_unit_name_stays_whole_in_80_columns():
    out = fit_table(COLUMNS, RANKING, width=80)
    lines = out.splitlines()
    assert f"46 {LONG_NAME}" in out and "Thành phố Hồ Chí Minh" in out
    assert all(display_width(line) <= 80 for line in lines), out
    header = lines[0].split()
    assert header[:4] == ["rank", "change", "unit", "DTI"]  # what a person reads first, in that order
    assert "▲2" in lines[1] and "▼1" in lines[2] and "new" in lines[3] and "0.7123" in lines[1]
    note = out[out.index("(left out to fit 80 columns:"):]
    assert "previous rank" in note and "methodology" in note and "level" in note and "change" not in note
    # decomposed Vietnamese (letters + combining marks) is as wide as composed
    assert display_width(unicodedata.normalize("NFD", LONG_NAME)) == len(LONG_NAME)
    # wide enough: every column, nothing left out
    assert "left out" not in fit_table(COLUMNS, RANKING, width=200)


def test_a_terminal_narrower_than_the_unit_name_wraps_rather_than_hide_it():
    out = fit_table(COLUMNS, RANKING, width=40)
    assert f"46 {LONG_NAME}" in out and "0.7123" in out  # kept whole: the line is wider than 40
    assert "change" not in out.splitlines()[0]  # the other columns gave way first


def test_a_narrow_terminal_gives_way_with_the_least_important_columns_first():
    rows = [{"rule": "invalid_date", "rows": 12, "example_reason": "ngày tiếp nhận '31/02/2025' không hợp lệ " * 3,
             "example_file": "/data/landing/2025-07/so_tttt_thua_thien_hue.xlsx"}]
    columns = [Column("rule", "rule", 0, keep=True), Column("rows", "rows", 0, keep=True, align="right"),
               Column("example", "example_reason", 1, min_width=20), Column("file", "example_file", 2, min_width=16)]
    out = fit_table(columns, rows, width=80)
    assert all(display_width(line) <= 80 for line in out.splitlines()), out
    header, first = out.splitlines()[:2]
    assert header.split() == ["rule", "rows", "example"] and re.match(r"invalid_date +12  ngày tiếp nhận", first)
    assert first.endswith("…") and display_width(first) == 80  # the example shortened to what is left
    assert "(left out to fit 80 columns: file;" in out  # the less important file gave way first
    wide = fit_table(columns, rows, width=200)
    assert "left out" not in wide and "so_tttt_thua_thien_hue.xlsx" in wide and "…" not in wide


def test_csv_and_json_formats_and_an_injection_is_inert():
    text = render(COLUMNS, RANKING, "csv", fields=list(RANKING[0]))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["unit_code"] for r in parsed] == ["46", "79", "BTC"]
    assert parsed[0]["unit_name"] == LONG_NAME and parsed[1]["rank_change"] == "-1"  # numbers as they are
    assert parsed[2]["unit_name"].startswith("'=HYPERLINK(")  # a spreadsheet shows it as text
    assert original_text(parsed[2]["unit_name"]) == RANKING[2]["unit_name"]
    assert parsed[2]["previous_rank"] == "" and parsed[2]["rank_change"] == ""
    data = json.loads(render(COLUMNS, [{**RANKING[0], "period_month": dt.date(2023, 6, 1)}], "json"))
    assert data == [{**RANKING[0], "period_month": "2023-06-01"}]


def test_quarantine_through_the_cli_in_every_format(data_root, monkeypatch):
    from ingestion.core.schema import prepare_warehouse
    from ingestion.core.warehouse import connect

    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    with connect() as con:
        prepare_warehouse(con)
        con.execute("INSERT INTO quarantine.rejected_files (period_month, location, original_location, sha256, "
                    "reason, quarantined_at, input_kind, rule) VALUES ('2025-07-01', '/q/x.xlsx', "
                    "'=cmd|'' /C calc''!A0.xlsx', 'ab', 'not a workbook', now()::TIMESTAMP, 'landing', "
                    "'unreadable_file')")
    code, out, _ = _run_cli(["quarantine", "--month", "2025-07", "--format", "csv"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and rows[0]["what"] == "file" and rows[0]["rule"] == "unreadable_file"
    assert rows[0]["example_file"].startswith("'=cmd")
    code, out, _ = _run_cli(["quarantine", "--month", "2025-07", "--format", "json"])
    assert json.loads(out)[0]["example_file"] == "=cmd|' /C calc'!A0.xlsx"
    code, out, _ = _run_cli(["quarantine", "--month", "2025-07"])
    assert "unreadable files of 2025-07: 1" in out and "unreadable_file" in out and "not a workbook" in out


def test_tasks_and_rankings_share_the_moved_table():
    from orchestration.cli import rankings, tasks, text_tables

    assert tasks._table is text_tables.table and rankings._table is text_tables.table
    assert text_tables.table(("a", "bb"), [(1, "x" * 70)]) == "a  bb\n1  " + "x" * 60


def test_dti_ranking_through_the_cli_fits_80_columns_with_whole_unit_names(data_root, monkeypatch):
    from ingestion.core.warehouse import connect

    monkeypatch.setenv("DAGSTER_HOME", str(data_root / "dagster_home"))
    monkeypatch.setenv("COLUMNS", "80")
    with connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("""CREATE TABLE marts.rpt_dti_ranking AS SELECT * FROM (VALUES
            ('province', 'Nhóm 1', 1, '46', ?, 0.712345, 3, 2, true, DATE '2023-06-01', 'dti_2023_province'),
            ('province', 'Nhóm 1', 2, '79', 'Thành phố Hồ Chí Minh', 0.7, 1, -1, true, DATE '2023-06-01',
             'dti_2023_province'),
            ('ministry', 'Nhóm A', 1, 'BTC', '=HYPERLINK("http://x","Bộ Tài chính")', 0.5, NULL, NULL, true,
             DATE '2023-06-01', 'dti_2023_ministry'))
            t(level, unit_group, rank, unit_code, unit_name, dti_value, previous_rank, rank_change,
              is_provisional, period_month, methodology_version)""", [LONG_NAME])
        con.execute("ALTER TABLE marts.rpt_dti_ranking ADD COLUMN year INTEGER DEFAULT 2023")
    code, out, _ = _run_cli(["dti", "ranking", "--year", "2023"])
    assert code == 0
    assert "province Nhóm 1: 2 units, provisional 2023-06, dti_2023_province" in out
    assert f"46 {LONG_NAME}" in out and all(display_width(line) <= 80 for line in out.splitlines()), out
    assert re.search(r"^ +1 +▲2 +46 Ủy ban .* +0\.7123$", out, re.M)
    code, out, _ = _run_cli(["dti", "ranking", "--year", "2023", "--format", "csv"])
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [r["unit_code"] for r in parsed] == ["BTC", "46", "79"]  # level, group, rank: every column
    assert parsed[0]["unit_name"].startswith("'=HYPERLINK(") and parsed[1]["dti_value"] == "0.7123"


def test_step_lines_of_a_tiny_job_rows_failed_check_warning_and_failure(tmp_path, monkeypatch):
    """A two-asset job in memory through the same path: rows from the metadata, a failed check
    (WARN), a step's warning in plain words, a failed step with its error, once."""
    import dagster as dg

    from orchestration.cli.console import ConsoleSession, reported_job

    @dg.asset(check_specs=[dg.AssetCheckSpec("counts_not_negative", asset="loaded")])
    def loaded(context):
        context.log.warning("quarantined /landing/2025-07/x.csv (unreadable_file): not a CSV")
        yield dg.MaterializeResult(metadata={"months": dg.MetadataValue.json(
            {"2025-07": {"files": {"rows_loaded": 1200, "rows_rejected": 4}}})})
        yield dg.AssetCheckResult(check_name="counts_not_negative", passed=False,
                                  severity=dg.AssetCheckSeverity.WARN,
                                  description="4 rows: field dossier_count below 0")

    @dg.asset(deps=[loaded])
    def broken():
        raise dg.Failure(description="DTI 1999: no accepted report to score")

    job = dg.Definitions(assets=[loaded, broken], jobs=[dg.define_asset_job("tiny")]).resolve_job_def("tiny")
    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path))
    out = io.StringIO()
    session = ConsoleSession("tiny", stream=out).install()
    try:
        with reported_job(job, "tiny", "tiny job", None) as (reported, run_config, _):
            result = reported.execute_in_process(run_config=run_config, raise_on_error=False)
    finally:
        session.uninstall()
    assert not result.success
    lines = out.getvalue().splitlines()
    assert lines[0] == f"log: {session.log_path} (dxmon -v: the full stream here)"
    assert re.match(r"^\s+-\s+loaded\s+1,200 rows \(4 rejected\)\s+\d+\.\d s\s+WARN$",
                    next(line for line in lines if re.match(r"^\s+-\s+loaded ", line)))
    assert "    WARNING: quarantined /landing/2025-07/x.csv (unreadable_file): not a CSV" in lines
    assert ("    check loaded counts_not_negative failed (WARN): 4 rows: field dossier_count below 0") in lines
    assert any(line.startswith("    4 rows rejected: rule, file, row and field in `dxmon quarantine") for line in lines)
    assert re.match(r"^\s+-\s+broken\s+\d+\.\d s\s+FAILED$", next(line for line in lines if re.match(r"^\s+-\s+broken ", line)))
    assert [line for line in lines if "error:" in line] == ["    error: DTI 1999: no accepted report to score"]
    assert not [line for line in lines if "DEBUG" in line or "STEP_" in line]
    text = session.log_path.read_text(encoding="utf-8")
    assert " - STEP_FAILURE - " in text and " - ASSET_CHECK_EVALUATION - " in text
