"""What the platform writes (issue 10): every CSV and XLSX cell is inert, however formula-like the
values senders gave; paths with a quote, spaces and Vietnamese letters work for publication and
audit packs (nothing pasted into SQL text); a reader of the published copy during a publication
always sees one whole copy.

The warehouse is the session's reference warehouse (real dbt seeds and `dim_units`) plus the
month marts a run would build, written here with a few columns of their real names and values a
sender controls; the DTI's rows come from the real intake of real report files. Publication,
audit packs and their verification are the real code."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect, sql_str, warehouse_path
from ingestion.reports.intake import ingest_inbox
from ingestion.reports.templates import write_templates
from publication.audit.pack import build_audit_pack, build_dti_audit_pack, verify_audit_pack
from publication.publish import publish
from publication.spreadsheet_cells import LEADERS, original_text, set_text_cell, write_csv
from tests.ingestion.test_dti_intake import GOOD, save_report
from tests.reliability.process_helpers import ROOT, formula_like_cells, is_number

# what an agency can type into an evidence cell or a file name
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1+1", "\r=1+1"]
FORMULA_FILE = "=HYPERLINK(\"x\",\"y\").csv"  # a file name cannot hold a slash
ODD_FOLDER = "dữ liệu 'Hà Nội' \"Đà Nẵng\" số 1"


@pytest.fixture
def odd_root(tmp_path, monkeypatch, reference_warehouse):
    """A DXMON_DATA_DIR whose path holds a quote, a double quote, spaces and Vietnamese letters,
    with a copy of the session's reference warehouse."""
    root = tmp_path / ODD_FOLDER / "data"
    root.mkdir(parents=True)
    monkeypatch.setenv("DXMON_DATA_DIR", str(root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    (root / "warehouse").mkdir()
    shutil.copy2(reference_warehouse, root / "warehouse" / "dxmon.duckdb")
    return root


def month_marts(con, score: float = 78.5, texts: list[str] = FORMULAS) -> None:
    """The month marts of 2025-07 as a run leaves them, with sender-controlled text in them."""
    prepare_warehouse(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    rows = [("01", "province", i + 1, score - i, text) for i, text in enumerate(texts)]
    con.execute("CREATE OR REPLACE TABLE marts.rpt_service_ranking_monthly (period_month DATE, unit_code VARCHAR, "
                "unit_level VARCHAR, rank INTEGER, total_score DOUBLE, unit_name VARCHAR, is_backcast BOOLEAN)")
    con.executemany("INSERT INTO marts.rpt_service_ranking_monthly VALUES (DATE '2025-07-01', ?, ?, ?, ?, ?, false)",
                    rows)
    con.execute("CREATE OR REPLACE TABLE marts.fct_service_index_monthly AS SELECT period_month, unit_code, "
                "total_score, '766_2022' AS methodology_version FROM marts.rpt_service_ranking_monthly")
    con.execute("CREATE OR REPLACE TABLE marts.fct_service_index_indicators_monthly AS SELECT period_month, unit_code, "
                "'2.1' AS indicator_code, -2.5 AS points, unit_name AS evidence FROM marts.rpt_service_ranking_monthly")
    con.execute("CREATE OR REPLACE TABLE marts.rpt_score_lineage AS SELECT period_month, unit_code, unit_name AS "
                "location, unit_name AS source_failed_checks, -1 AS numerator_rows FROM marts.rpt_service_ranking_monthly")
    con.execute("DELETE FROM meta.period_status")
    con.execute("INSERT INTO meta.period_status VALUES (DATE '2025-07-01', true, NULL, now(), 'run-x')")
    con.execute("DELETE FROM meta.run_provenance")
    con.execute("INSERT INTO meta.run_provenance VALUES ('run-x', 'service_index', DATE '2025-07-01', 'code-x', "
                "'hash-x', '766_2022', now())")


def csv_cells(folder: Path) -> list[str]:
    cells = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            cells += [c for row in csv.reader(fh) for c in row]
    return cells


def test_every_csv_of_both_audit_packs_is_inert_and_the_packs_verify(odd_root, dti_catalogue):
    inbox = odd_root / "inbox"
    evidence = {code: {**v, "evidence": FORMULAS[i % len(FORMULAS)]} for i, (code, v) in enumerate(GOOD.items())}
    evidence["7.2"] = {"value": "@SUM(1+1)"}  # text in a number cell: a rejected row that keeps the cell
    save_report(inbox, unit="01", year=2023, values=evidence, seconds=1)
    # a CSV keeps text as typed (an XLSX cell typed =... is a formula, read as a formula without value)
    named = save_report(inbox, unit="02", year=2023, name="bao_cao.csv", values=evidence, seconds=2)
    formula_name = named.with_name(FORMULA_FILE)
    named.rename(formula_name)
    (inbox / "2023" / "03").mkdir(parents=True)
    (inbox / "2023" / "03" / "+cmd|' -C calc'!A0.xlsx").write_bytes(b"not a workbook")  # rejected whole
    with connect() as con:
        summary = ingest_inbox(con)
        assert summary.count("accepted") == 2 and summary.count("rejected") == 1
        month_marts(con)
        # the DTI pack needs a ranking of the year; its lineage carries the evidence as received
        con.execute("CREATE TABLE marts.rpt_dti_ranking AS SELECT 2023 AS year, NULL::DATE AS period_month, "
                    "'province' AS level, '01' AS unit_code, 1 AS rank, -0.5 AS dti_value")
        con.execute("CREATE TABLE marts.fct_dti_scores AS SELECT 2023 AS year, NULL::DATE AS period_month, "
                    "'01' AS unit_code, any_value(methodology_version) AS methodology_version, -0.5 AS dti_value "
                    "FROM raw.dti_submissions WHERE status = 'accepted'")
        con.execute("CREATE TABLE marts.rpt_dti_score_lineage AS SELECT year, unit_code, indicator_code, evidence, "
                    "raw_value, rejection_reason, value FROM raw.dti_report_values")
    month_pack = build_audit_pack("2025-07")
    dti_pack = build_dti_audit_pack(2023)
    for pack in (month_pack, dti_pack):
        assert formula_like_cells(pack.folder) == []
        assert verify_audit_pack(pack.folder) == [] and verify_audit_pack(pack.zip_path) == []
        with zipfile.ZipFile(pack.zip_path) as zf:  # the zip holds the same inert bytes
            for name in zf.namelist():
                if name.endswith(".csv"):
                    rows = list(csv.reader(zf.read(name).decode("utf-8").splitlines()))
                    assert not [c for r in rows for c in r if c.startswith(LEADERS) and not is_number(c)]
    # the values are all there, protected, and come back with original_text
    month_cells, dti_cells = csv_cells(month_pack.folder), csv_cells(dti_pack.folder)
    for text in FORMULAS:
        assert "'" + text in month_cells, text
        assert text.strip() in {original_text(c) for c in dti_cells}, text  # the intake trims cells
    assert any(FORMULA_FILE in c for c in dti_cells)  # the file name, in its rows
    # numbers stay numbers
    assert "-2.5" in month_cells and "-0.5" in dti_cells and "'-2.5" not in month_cells
    # editing a file breaks the checksums, as before
    (month_pack.folder / "rankings" / "rankings.csv").write_text("altered\n")
    assert verify_audit_pack(month_pack.folder) == ["rankings/rankings.csv: sha256 differs from the manifest (altered)"]


def test_the_csv_and_xlsx_writers_make_text_inert_and_keep_numbers(tmp_path):
    target = tmp_path / ODD_FOLDER / "cells.csv"
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (id INTEGER, n DOUBLE, d DECIMAL(5,2), s VARCHAR, l VARCHAR[], seen_at TIMESTAMP)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                        [(i, -1.5 * i, -i, text, [text], dt.datetime(2025, 7, 1)) for i, text in enumerate(FORMULAS)]
                        + [(99, 2.0, 1, "plain", None, None)])
        write_csv(con, "SELECT * FROM t WHERE id >= ?", target, [0])
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["s"] for r in rows if r["id"] != "99") == sorted("'" + t for t in FORMULAS)
    assert {r["n"] for r in rows} >= {"-1.5", "-7.5"} and {r["d"] for r in rows} >= {"-5.00"}
    assert next(r for r in rows if r["id"] == "99")["s"] == "plain"
    assert formula_like_cells(target.parent) == []

    wb = openpyxl.Workbook()
    for i, text in enumerate([*FORMULAS, -3, 4.5, "plain"], 1):
        set_text_cell(wb.active.cell(i, 1), text)
    wb.save(tmp_path / ODD_FOLDER / "cells.xlsx")
    assert formula_like_cells(tmp_path / ODD_FOLDER) == []
    back = openpyxl.load_workbook(tmp_path / ODD_FOLDER / "cells.xlsx").active
    # (XML reads a carriage return in a cell as a line feed: that is the file format, not the writer)
    assert [back.cell(i, 1).value for i in range(1, len(FORMULAS) + 4)] == [
        *(t.replace("\r", "\n") for t in FORMULAS), -3, 4.5, "plain"]
    assert back.cell(len(FORMULAS) + 1, 1).data_type == "n"


def test_the_dti_templates_echo_no_formula_like_cell(tmp_path):
    for level in ("province", "ministry"):
        write_templates(level, 2023, tmp_path / "templates")
    written = sorted((tmp_path / "templates").iterdir())
    assert {p.suffix for p in written} == {".xlsx", ".csv"}
    assert formula_like_cells(tmp_path / "templates") == []


def test_publish_and_packs_work_in_a_data_folder_with_quotes_spaces_and_vietnamese_letters(odd_root):
    with connect() as con:  # connect() sets the spill folder inside that path
        month_marts(con, texts=["Hà Nội", "Đà Nẵng"])
        temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert temp == str(odd_root / "warehouse" / "duckdb_tmp")
    result = publish(run_id="run-o'clock")  # a value with a quote, where SQL text is built
    assert result.published_months == ["2025-07"]
    assert str(result.database).startswith(str(odd_root))
    with duckdb.connect(str(result.database), read_only=True) as pub:
        assert pub.execute("SELECT DISTINCT run_id FROM dim_units").fetchall() == [("run-o'clock",)]
        assert pub.execute("SELECT unit_name FROM rpt_service_ranking_monthly ORDER BY rank").fetchall() == [
            ("Hà Nội",), ("Đà Nẵng",)]
    assert {p.name for p in result.parquet_files} >= {"dim_units.parquet", "rpt_service_ranking_monthly.parquet"}
    with duckdb.connect() as mem:
        assert mem.execute(f"SELECT count(*) FROM read_parquet({sql_str(result.directory / 'dim_units.parquet')})"
                           ).fetchone()[0] > 0
    pack = build_audit_pack("2025-07")
    assert verify_audit_pack(pack.zip_path) == []
    # the benchmark's comparison reads Parquet files from such a folder too
    from benchmarks.service_index_bench import MONTH, compare

    pipeline, floor = odd_root / "pipeline's marts.parquet", odd_root / "floor's result.parquet"
    with duckdb.connect() as mem:
        mem.execute(f"COPY (SELECT '01' AS unit_code, 70.25 AS total_score_unrounded, false AS is_backcast, "
                    f"DATE {sql_str(MONTH + '-01')} AS period_month) TO {sql_str(pipeline)} (FORMAT parquet)")
        mem.execute(f"COPY (SELECT '01' AS unit_code, 70.0 AS total_score_unrounded) TO {sql_str(floor)} (FORMAT parquet)")
    assert compare(pipeline, floor) == {"unmatched_units": 0, "max_abs_score_diff": 0.25, "units": 1}


READER = r"""
import json, sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        with duckdb.connect(path, read_only=True) as con:
            tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
            run = con.execute("SELECT DISTINCT run_id FROM dim_units").fetchall()
            scores = con.execute("SELECT DISTINCT total_score FROM rpt_service_ranking_monthly").fetchall()
            facts = con.execute("SELECT DISTINCT total_score FROM fct_service_index_monthly").fetchall()
        print(json.dumps({"tables": len(tables), "run": run, "scores": scores, "facts": facts}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    time.sleep(0.02)  # a steady reader, not a flood of lines
"""


def test_a_reader_of_the_published_copy_during_publications_always_sees_one_whole_copy(odd_root):
    with connect() as con:
        month_marts(con, score=1.0, texts=["Hà Nội"])
    first = publish(run_id="publish-1")
    with duckdb.connect(str(first.database), read_only=True) as pub:
        expected_tables = pub.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
    # the reader writes to a file, not a pipe: a full pipe would stop it reading while we publish
    reads = odd_root / "reader.jsonl"
    with open(reads, "w", encoding="utf-8") as sink:
        reader = subprocess.Popen([sys.executable, "-c", READER, str(first.database), "1000"], cwd=ROOT,
                                  stdout=sink, text=True)
        try:
            for i in range(2, 7):
                with connect() as con:
                    month_marts(con, score=float(i), texts=["Hà Nội"])
                publish(run_id=f"publish-{i}")
        finally:
            reader.kill()
            reader.wait(timeout=60)
    out = reads.read_text(encoding="utf-8")
    if not out.endswith("\n"):  # killed while writing its last line
        out = out[:out.rfind("\n") + 1]
    seen = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(seen) >= 5, seen
    assert [s for s in seen if "error" in s] == []
    for s in seen:  # each read saw one publication whole: its run, its scores, every table
        assert s["tables"] == expected_tables
        (run,), (score,), (fact,) = s["run"], s["scores"], s["facts"]
        assert run == [f"publish-{int(score[0])}"] and fact == score
    assert len({s["run"][0][0] for s in seen}) >= 2  # and publications did happen while it read
    assert warehouse_path().is_file() and os.path.isdir(first.directory)
