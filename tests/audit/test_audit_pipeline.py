"""The auditors' features on the real pipeline: real demo files, GX, dbt into a temporary
DuckDB file, publication, the raw archive, explain and the audit pack."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import stat
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from demo.extracts import generate_demo

MONTH = "2025-07"
SERVICE_MARTS = ("marts.rpt_service_ranking_monthly", "marts.fct_service_index_monthly",
                 "marts.fct_service_index_indicators_monthly")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit_demo")
    generate_demo(out, [MONTH], rows_per_month=1500, seed=11, file_months=[MONTH], api_months=[],
                  file_format="csv.gz")
    return out


@pytest.fixture(scope="module")
def job(definitions):
    job = definitions.resolve_job_def("monthly_service_index")
    # the audit assets are part of the monthly job itself, not added by the test
    assert {dg.AssetKey("audit_pack"), dg.AssetKey("rpt_score_lineage")} <= set(job.asset_layer.executable_asset_keys)
    return job


def run_month(job, root: Path, monkeypatch) -> str:
    monkeypatch.setenv("DXMON_DATA_DIR", str(root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    monkeypatch.delenv("DXMON_PORTAL_URL", raising=False)
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    result = job.execute_in_process(partition_key=MONTH + "-01", raise_on_error=True)
    assert result.success
    return result.run_id


def query(root: Path, sql: str, params=None):
    with duckdb.connect(str(root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def published(root: Path, sql: str):
    with duckdb.connect(str(root / "published" / "dxmon_published.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow  # whole monthly job in process (the archive rebuild twice)
def test_planted_failures_are_recorded_gate_blocks_and_override_publishes(data_root, reference_data, demo, job,
                                                                          monkeypatch):
    # the month's dossier file replaced by one whose channel is garbage in every 4th row
    landing = data_root / "landing" / MONTH
    landing.mkdir(parents=True)
    for f in (demo / "landing" / MONTH).iterdir():
        shutil.copy(f, landing / f.name)
    dossiers = next(landing.glob("dossiers_*"))
    duckdb.sql(f"COPY (SELECT * EXCLUDE (n) REPLACE (CASE WHEN n % 4 = 0 THEN 'web' ELSE channel END AS channel) "
               f"FROM (SELECT *, row_number() OVER () AS n FROM read_csv('{dossiers}', all_varchar=true))) "
               f"TO '{landing / 'dossiers_bad.csv'}' (HEADER)")
    dossiers.unlink()
    run_id = run_month(job, data_root, monkeypatch)

    # 1. history: the planted failure, with ids of real offending rows
    failed = query(data_root, "SELECT suite_name, expectation, unexpected_count FROM meta.validation_results "
                              "WHERE run_id = ? AND NOT success AND is_blocking", [run_id])
    assert any(s == "dossiers_rejections" for s, _, _ in failed)
    samples = query(data_root, "SELECT sample_row_ids FROM meta.validation_sample_rows "
                               "WHERE run_id = ? AND suite_name = 'dossiers_rejections'", [run_id])
    ids = json.loads(samples[0][0])
    assert ids and all(i.startswith("file:2025-07:dossiers:") for i in ids)
    source_id, row = ids[0].rsplit("#", 1)
    assert query(data_root, "SELECT rejection_rule FROM raw.dossiers WHERE source_id = ? AND source_row = ?",
                 [source_id, int(row)])[0][0] is not None
    # dbt tests of the same run, per partition
    dbt_tests = query(data_root, "SELECT count(*), count(DISTINCT test_unique_id), min(period_month) "
                                 "FROM meta.dbt_test_results WHERE run_id = ?", [run_id])[0]
    assert dbt_tests[0] > 20 and str(dbt_tests[2]) == MONTH + "-01"
    sources = dict(query(data_root, "SELECT check_source, count(*) FROM marts.fct_validation_history "
                                    "WHERE run_id = ? GROUP BY 1", [run_id]))
    assert sources["great_expectations"] > 0 and sources["dbt"] > 0
    runs = query(data_root, "SELECT check_source, blocking_checks_failed, failed_checks FROM marts.rpt_data_quality_runs "
                            "WHERE run_id = ? AND check_source = 'great_expectations'", [run_id])
    assert runs[0][1] >= 1 and "dossiers_rejections" in runs[0][2]
    by_unit = query(data_root, "SELECT sum(rows_rejected), sum(rows_loaded) FROM marts.rpt_data_quality_by_unit "
                               "WHERE extract_kind = 'dossiers'")[0]
    assert by_unit[0] >= by_unit[1] // 4  # every 4th dossier row was rejected
    assert query(data_root, "SELECT count(*) FROM marts.rpt_agency_quality_scorecard "
                            "WHERE rejected_share > 0")[0][0] > 0

    # 4. the gate: the month is not published
    assert published(data_root, "SELECT count(*) FROM rpt_service_ranking_monthly")[0][0] == 0
    from orchestration.cli import main

    assert main(["publish", "--override", "--month", MONTH, "--reason", "short"]) == 2  # reason too short
    assert main(["publish", "--override", "--month", MONTH, "--by", "auditor@example.vn",
                 "--reason", "channel codes changed upstream; scores use no channel field this month"]) == 0
    rows = published(data_root, "SELECT DISTINCT publication_basis, overridden_by, override_reason, run_id, "
                                "code_version, input_hash, methodology_version FROM rpt_service_ranking_monthly")
    assert len(rows) == 1, rows
    basis, by, reason, pub_run, code, input_hash, version = rows[0]
    assert (basis, by) == ("override", "auditor@example.vn") and "channel codes" in reason
    assert pub_run == run_id and code and len(input_hash) == 64 and version == "766_2022"
    record = published(data_root, "SELECT period_month, overridden_checks, overridden_by FROM publication_overrides")
    assert len(record) == 1 and "dossiers_rejections" in record[0][1]
    manifest = json.loads((data_root / "published" / "manifest.json").read_text())
    assert MONTH in manifest["overridden_months"] and MONTH in manifest["published_months"]

    # a DTI validation recorded later on the same period_month (a DTI year's is on 1 January, a
    # service-index January's too) does not replace the month's own checks in its lineage
    lineage_checks = ("SELECT DISTINCT source_failed_checks FROM marts.rpt_score_lineage "
                      "WHERE source_failed_checks LIKE '%dossiers_rejections%'")
    before = query(data_root, lineage_checks)
    assert before
    with duckdb.connect(str(data_root / "warehouse" / "dxmon.duckdb")) as con:
        con.execute("INSERT INTO meta.validation_results VALUES ('dti-later', CAST(? AS DATE), 'dti_reports', "
                    "'dti_reports_required', 'expect_column_values_to_not_be_null', 'value', true, false, NULL, 1, 1, "
                    "NULL, now()::TIMESTAMP + INTERVAL 1 HOUR)", [MONTH + "-01"])
    from orchestration.dbt.project import dbt_command
    from orchestration.partitions import dbt_period_vars

    rebuilt = subprocess.run(dbt_command("build", "--select", "rpt_score_lineage", "--vars",
                                         json.dumps(dbt_period_vars([MONTH + "-01"]))),
                             capture_output=True, text=True)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert query(data_root, lineage_checks) == before


def _mart_hashes(root: Path, out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    hashes = {}
    with duckdb.connect(str(root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        for mart in SERVICE_MARTS:
            target = out / f"{mart}.parquet"
            con.execute(f"COPY (SELECT * FROM {mart} ORDER BY ALL) TO '{target}' (FORMAT parquet)")
            hashes[mart] = hashlib.sha256(target.read_bytes()).hexdigest()
    return hashes


@pytest.mark.slow  # whole monthly job in process (the archive rebuild twice)
def test_archive_rebuild_explain_and_audit_pack(data_root, reference_data, reference_warehouse, demo, job, monkeypatch,
                                               tmp_path):
    shutil.copytree(demo / "landing" / MONTH, data_root / "landing" / MONTH)
    run_id = run_month(job, data_root, monkeypatch)

    # 5. every input archived once, read-only; a rebuild from the archive alone is identical
    from ingestion.core.raw_archive import verify_archive
    from orchestration.cli.audit import rebuild_inputs

    archive = data_root / "archive" / "raw"
    objects = [p for p in (archive / "objects").rglob("*") if p.is_file()]
    assert len(objects) == len(list((demo / "landing" / MONTH).iterdir()))
    assert all(not (p.stat().st_mode & stat.S_IWUSR) for p in objects)
    assert verify_archive(archive) == []
    original = _mart_hashes(data_root, tmp_path / "original")

    rebuilt_root = tmp_path / "rebuilt"
    rebuilt_root.mkdir()
    shutil.copytree(archive, rebuilt_root / "archive" / "raw")  # the archive alone (and the seeds' reference data)
    (rebuilt_root / "warehouse").mkdir()
    shutil.copy2(reference_warehouse, rebuilt_root / "warehouse" / "dxmon.duckdb")
    assert rebuild_inputs(MONTH, rebuilt_root, rebuilt_root / "archive" / "raw") == [MONTH]
    run_month(job, rebuilt_root, monkeypatch)
    assert _mart_hashes(rebuilt_root, tmp_path / "rebuilt_marts") == original

    # 6. explain traces a score to the exact file row
    monkeypatch.setenv("DXMON_DATA_DIR", str(data_root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(data_root / "warehouse" / "dxmon.duckdb"))
    from publication.audit.explain import explain, format_explanation

    unit = query(data_root, "SELECT unit_code FROM marts.rpt_service_ranking_monthly WHERE NOT is_backcast "
                            "AND unit_level = 'province' ORDER BY rank, unit_code LIMIT 1")[0][0]
    e = explain(unit, MONTH, indicator="2.1", sample_rows=3)
    item = e["indicators"][0]
    assert e["run_id"] == run_id and e["methodology_version"] == "766_2022" and len(e["input_hash"]) == 64
    assert sum(s["numerator_rows"] for s in item["inputs"]) == item["numerator"]
    assert sum(s["denominator_rows"] for s in item["inputs"]) == item["denominator"]
    row = item["numerator_sample_rows"][0]
    assert row["archived_path"] and Path(row["archived_path"]).exists()
    assert hashlib.sha256(Path(row["archived_path"]).read_bytes()).hexdigest() == row["sha256"]
    with gzip.open(row["location"], "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header = lines[0].split(",")
    line = lines[row["source_row"]].split(",")  # source_row is the 1-based data row
    assert line[header.index("dossier_id")] == row["entity_id"]
    text = format_explanation(e)
    assert row["location"] in text and f"row {row['source_row']}" in text
    assert query(data_root, "SELECT count(*) FROM marts.rpt_score_lineage WHERE run_id = ?", [run_id])[0][0] > 0

    # 7. the audit pack (written by the pipeline) verifies; any change is caught
    from publication.audit.pack import verify_audit_pack

    pack = data_root / "audit_packs" / MONTH
    assert (data_root / "audit_packs" / f"{MONTH}.zip").exists()
    for rel in ("rankings/rankings.csv", "quality/scorecard.csv", "lineage/score_lineage.csv",
                "methodology/service_index_indicators_766_2022.csv", "quality/data_docs/index.html",
                "publication.json", "manifest.json", "SHA256SUMS"):
        assert (pack / rel).exists(), rel
    assert verify_audit_pack(pack) == []
    assert verify_audit_pack(data_root / "audit_packs" / f"{MONTH}.zip") == []
    with open(pack / "rankings" / "rankings.csv", "a", encoding="utf-8") as fh:
        fh.write("tampered\n")
    assert any("rankings/rankings.csv" in p for p in verify_audit_pack(pack))
