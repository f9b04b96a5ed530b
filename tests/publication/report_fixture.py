"""A small published database for the period report and the workbook, written in well under a
second: the published marts' real column sets (published_schema.json: every column and type of
each published table, as a demo run's `data/published/dxmon_published.duckdb` has them, and the
issue-13 marts' final select with what publication adds) and a handful of hand-made rows.

Every column a row does not name is NULL. `test_the_fixture_schema_has_every_declared_column`
(test_period_report.py) checks that the schema still holds every column the marts' dbt YAML
declares, so the fixture cannot drift from the marts without a failing test.

Regenerate the schema from a full publication:
    .venv/bin/python -m tests.publication.report_fixture data/published/dxmon_published.duckdb
(then add the columns of marts that publication did not hold, as for the two issue-13 marts).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import duckdb

SCHEMA_PATH = Path(__file__).with_name("published_schema.json")
MONTH = "2025-08"
INJECTION = '=HYPERLINK("http://x","y")'   # a formula a spreadsheet must never run
# (code, name, level): today's provinces and two ministries; '99' carries the planted formula
UNITS = [("79", "Thành phố Hồ Chí Minh", "province"), ("01", "Thành phố Hà Nội", "province"),
         ("46", "Thành phố Huế", "province"), ("24", "Tỉnh Bắc Ninh", "province"), ("99", INJECTION, "province"),
         ("BTC", "Bộ Tài chính", "ministry"), ("BCT", "Bộ Công Thương", "ministry")]
SCORES = {  # month -> unit -> total (as reported); the back-cast series is 1.5 points lower
    "2025-05": {"79": 80.1, "01": 77.3, "46": 70.2, "24": 66.0, "99": 55.5, "BTC": 71.0, "BCT": 64.2},
    "2025-07": {"79": 81.0, "01": 78.5, "46": 72.4, "24": 60.1, "99": 58.0, "BTC": 72.0, "BCT": 66.6},
    "2025-08": {"79": 82.51, "01": 75.56, "46": 76.98, "24": 74.66, "99": 50.25, "BTC": 70.0, "BCT": 69.1},
}
OLD_PROVINCES = [("26", "Tỉnh Vĩnh Phúc", 63.4), ("27", "Tỉnh Bắc Ninh (cũ)", 65.2)]  # before 2025-07 only
GROUPS = [("CKMB", 18), ("TDGQ", 20), ("CLGQ", 12), ("TTTT", 10), ("MDSH", 22), ("MDHL", 18)]
PROVENANCE = {"run_id": "run-fixture-0825", "code_version": "abc123fixture", "input_hash": "f" * 64}


def schema() -> dict[str, list[list[str]]]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def dump_schema(database: Path, path: Path = SCHEMA_PATH, tables: list[str] | None = None) -> None:
    """Write the column sets of `database`'s tables (the published copy of a full run)."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = tables or sorted(schema())
        found = {t: [[c[0], c[1]] for c in con.execute(f'DESCRIBE "{t}"').fetchall()] for t in names
                 if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [t]).fetchone()[0]}
    merged = {**schema(), **found}
    path.write_text("{\n" + ",\n".join(f"  {json.dumps(t)}: {json.dumps(c, ensure_ascii=False)}"
                                       for t, c in merged.items()) + "\n}\n", encoding="utf-8")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        names = list(row)
        con.execute(f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})',
                    [row[n] for n in names])


def _ranks(scores: dict[str, float], level: str) -> dict[str, int]:
    ordered = sorted((c for c, _, lv in UNITS if lv == level and c in scores), key=lambda c: -scores[c])
    return {c: i + 1 for i, c in enumerate(ordered)}


def _band(score: float) -> str:
    return "Tốt" if score >= 80 else "Khá" if score >= 65 else "Trung bình"


def write_published(directory: Path, tables: list[str] | None = None) -> Path:
    """`directory/dxmon_published.duckdb` (+ manifest.json) with the fixture's rows; `tables`:
    only these published tables (the others absent, as before their marts land)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "dxmon_published.duckdb"
    path.unlink(missing_ok=True)
    declared = {t: c for t, c in schema().items() if tables is None or t in tables}
    with duckdb.connect(str(path)) as con:
        for table, columns in declared.items():
            con.execute(f'CREATE TABLE "{table}" ({", ".join(f"{n} {t}" for n, t in columns)})')
        rows = _rows()
        for table in declared:
            _insert(con, table, rows.get(table, []))
    (directory / "manifest.json").write_text(json.dumps({
        "published_at": "2025-09-02T03:15:00", "run_id": "pub-fixture", "code_version": PROVENANCE["code_version"],
        "published_months": ["2025-05", "2025-07", "2025-08"], "withheld_months": {"2025-06": "dossiers_volume: failed"},
    }, indent=2), encoding="utf-8")
    return path


def _rows() -> dict[str, list[dict]]:
    names = {c: n for c, n, _ in UNITS}
    levels = {c: lv for c, _, lv in UNITS}
    gate = {"publication_basis": "checks_passed", **PROVENANCE}
    override = {"publication_basis": "override", "override_id": "ovr-2025-08-fixture", "overridden_by": "auditor",
                "override_reason": INJECTION}
    out: dict[str, list[dict]] = {k: [] for k in schema()}
    previous: dict[tuple[str, bool], int] = {}
    for month, scores in SCORES.items():
        start = dt.date.fromisoformat(f"{month}-01")
        basis = override if month == MONTH else gate
        for backcast in (False, True):
            month_scores = {c: round(s - (1.5 if backcast else 0), 2) for c, s in scores.items()}
            ranks = {**_ranks(month_scores, "province"), **_ranks(month_scores, "ministry")}
            for code, score in month_scores.items():
                level = levels[code]
                as_reported_exists = backcast or level == "ministry" or month >= "2025-07"
                if not as_reported_exists:
                    continue
                prev = previous.get((code, backcast))
                out["rpt_service_ranking_monthly"].append({
                    "period_month": start, "unit_code": code, "unit_name": names[code], "unit_level": level,
                    "is_backcast": backcast, "total_score": score, "rank": ranks[code],
                    "ranked_unit_count": sum(1 for c in month_scores if levels[c] == level),
                    "previous_rank": prev, "rank_change": None if prev is None else prev - ranks[code],
                    "band": _band(score), "methodology_version": "766_2022", **PROVENANCE,
                    **{k: v for k, v in basis.items() if k not in PROVENANCE}})
                points = [round(score * p / 100, 6) for _, p in GROUPS]
                out["fct_service_index_monthly"].append({
                    "period_month": start, "unit_code": code, "unit_name": names[code], "unit_level": level,
                    "is_backcast": backcast, "unit_valid_from": dt.date(2025, 7, 1) if level == "province" else dt.date(2025, 3, 1),
                    "is_ranked_in_service_index": True, "methodology_version": "766_2022", "dossier_count": 1000,
                    **{f"{g.lower()}_points": p for (g, _), p in zip(GROUPS, points)},
                    "total_score_unrounded": score, "total_score": score, **PROVENANCE})
            for code in month_scores:
                if backcast or levels[code] == "ministry" or month >= "2025-07":
                    previous[(code, backcast)] = ranks[code]
        if month < "2025-07":  # the old provinces, as reported before the reorganisation
            for i, (code, name, score) in enumerate(OLD_PROVINCES):
                out["fct_service_index_monthly"].append({
                    "period_month": start, "unit_code": code, "unit_name": name, "unit_level": "province",
                    "is_backcast": False, "unit_valid_from": dt.date(2008, 8, 1), "total_score": score, **PROVENANCE})
                out["rpt_service_ranking_monthly"].append({
                    "period_month": start, "unit_code": code, "unit_name": name, "unit_level": "province",
                    "is_backcast": False, "total_score": score, "rank": i + 1, "ranked_unit_count": 2,
                    "band": _band(score), "methodology_version": "766_2022", **gate})
    for order, (group, _) in enumerate(GROUPS):
        out["fct_service_index_indicators_monthly"].append({
            "period_month": dt.date(2025, 8, 1), "unit_code": "01", "unit_level": "province", "is_backcast": False,
            "methodology_version": "766_2022", "group_code": group, "decision_group_no": min(order + 1, 4),
            "indicator_code": f"{order + 1}.1", "indicator_order": order + 1, **gate})
    period_rows = [("quarter", "2025-Q3", False, "2025-09"), ("year_to_date", "2025-08-YTD", True, ""),
                   ("year", "2025", False, "2025-09,2025-10,2025-11,2025-12")]
    for kind, period, complete, missing in period_rows:
        scores = {c: round(s + 0.3, 2) for c, s in SCORES[MONTH].items()}
        ranks = {**_ranks(scores, "province"), **_ranks(scores, "ministry")}
        for code, score in scores.items():
            out["rpt_service_ranking_period"].append({
                "period_kind": kind, "period": period, "unit_code": code, "unit_name": names[code],
                "unit_level": levels[code], "is_backcast": False, "total_score": score, "rank": ranks[code],
                "rank_change": 1 if code == "46" else 0, "band": _band(score), "is_complete": complete,
                "months_missing": missing, "publication_basis": "override", "methodology_version": "766_2022"})
    agencies = [  # (code, name, level, total of at most 70 points, rank, ranked in its group)
        ("01.S02", "Sở Tài chính", "department", 55.0, 1, 4), ("01.S07", "Sở Y tế", "department", 50.0, 2, 4),
        ("01.S09", "Sở Xây dựng", "department", 45.0, 3, 4), ("01.S05", "Sở Tư pháp", "department", 40.0, 4, 4),
        ("01.X0001", "Phường Hoàn Kiếm", "commune", 60.0, 1, 2), ("01.X0123", "Phường Ba Đình", "commune", 30.0, 2, 2),
        ("79.X0007", "Xã Bình Chánh", "commune", 49.35, 1, 1)]
    for code, name, level, score, rank, count in agencies:
        parent = code.split(".")[0]
        share = round(score / 70 * 100, 2)
        out["rpt_agency_ranking_monthly"].append({
            "period_month": dt.date(2025, 8, 1), "agency_code": code, "agency_name": name, "agency_level": level,
            "rank_group": level, "parent_unit_code": parent, "parent_unit_name": names[parent],
            "parent_unit_level": "province", "total_score": score, "score_percent_of_applicable": share,
            "rank": rank, "ranked_agency_count": count, "rank_change": -2 if code == "01.S05" else 0,
            "band": _band(share), "methodology_version": "766_2022", **PROVENANCE,
            **{k: v for k, v in override.items() if k not in PROVENANCE}})
    for year, bump in ((2022, 0.0), (2023, 0.04)):
        for i, (code, name, level) in enumerate(UNITS):
            value = round(0.80 - 0.05 * i + bump, 4)
            common = {"year": year, "level": level, "unit_code": code, "unit_name": name, "dti_value": value,
                      "dti_value_4dp": value, "is_provisional": False, "methodology_version": "922_2022",
                      "publication_basis": "checks_passed", **PROVENANCE}
            out["fct_dti_scores"].append({**common, "completeness": 1.0})
            out["rpt_dti_ranking"].append({**common, "rank": i + 1 if level == "province" else i - 4,
                                           "rank_change": 0 if year == 2023 else None, "completeness": 0.95,
                                           "as_of_date": dt.date(year, 12, 31)})
    kpis = [("DG-06", "Tỷ lệ hồ sơ TTHC được xử lý hoàn toàn trực tuyến", "national", None, 80.0, 29.9, "off_track",
             "Chệch hướng", 4), ("DE-01", "Tỷ trọng kinh tế số trong GDP (GRDP)", "national", None, 20.5, 18.3,
                                 "on_track", "Có khả năng đạt", 2),
            ("DG-01", "Tỷ lệ dịch vụ công trực tuyến toàn trình", "province", "01", 100.0, 100.0, "achieved", "Đã đạt", 1),
            ("DG-02", "Tỷ lệ hồ sơ công việc xử lý trên môi trường mạng", "ministry", "BTC", 90.0, 65.5,
             "at_risk", "Có nguy cơ không đạt", 3)]
    for code, name, level, unit, target, latest, status, status_vi, status_order in kpis:
        row = {"kpi_code": code, "measure": "main", "level": level, "unit_code": unit, "name_vi": name,
               "series": "platform" if code.startswith("DG") else "GSO", "source_document": "Quyết định 749/QĐ-TTg",
               "target_id": f"T-{code}", "target_year": 2025, "comparator": ">=", "target_value": target,
               "as_of_date": dt.date(2025, 8, 31), "latest_value": latest, "latest_period": "2025-08",
               "projection": latest + 5, "gap_to_target": target - latest, "status_code": status,
               "status_order": status_order, "status_name_vi": status_vi, "publication_basis": "checks_passed",
               "methodology_version": "kpi_2025", **PROVENANCE}
        out["rpt_kpi_progress"].append(row)
        if level == "national":
            out["rpt_national_scorecard"].append({
                **row, "target_order": 1, "normalised_gap": round((target - latest) / abs(target), 4),
                "off_track_rank": 1 if status == "off_track" else None})
    for edition, vn_rank, sg_rank in ((2022, 86.0, 12.0), (2024, 71.0, 3.0)):
        for country, name, home, rank, peer in (("VNM", "Viet Nam", True, vn_rank, 2), ("SGP", "Singapore", False, sg_rank, 1)):
            out["rpt_international_comparison"].append({
                "index_code": "EGDI", "edition": edition, "country_code": country, "country_name": name,
                "is_home_country": home, "is_peer": True, "score": round(1 - rank / 200, 4), "world_rank": rank,
                "peer_rank": peer, "publication_basis": "checks_passed", **PROVENANCE})
    for code, on_time, late, progress, overdue in (("01", 4, 1, 2, 1), ("79", 2, 0, 1, 3), ("BTC", 5, 0, 0, 0)):
        due = on_time + late + overdue
        out["rpt_task_status_by_agency"].append({
            "period_month": dt.date(2025, 8, 1), "period": MONTH, "as_of_date": dt.date(2025, 8, 31),
            "grouping": "agency", "group_code": code, "group_name": names[code], "unit_code": code,
            "completed_on_time": on_time, "completed_late": late, "in_progress_within_deadline": progress,
            "overdue_not_completed": overdue, "assigned_tasks": due + progress, "due_tasks": due,
            "completion_rate_of_due_tasks": 100.0 * (on_time + late) / due, "overdue_share_of_assigned":
                100.0 * overdue / (due + progress), "key_tasks_overdue": min(overdue, 1),
            "publication_basis": "checks_passed", **PROVENANCE})
    out["rpt_task_warnings"].append({
        "period": MONTH, "period_month": dt.date(2025, 8, 1), "as_of_date": dt.date(2025, 8, 31),
        "warning_kind": "key_task_overdue", "unit_code": "79", "unit_name": names["79"], "task_code": "DA06-215",
        "document_number": "KH 02/KH-TCT06", "measured_value": 167.0,
        "message": f"Key task DA06-215 of 79 {names['79']} is 167 days past its deadline",
        "publication_basis": "checks_passed", **PROVENANCE})
    for code, loaded, rejected, rules in (("01", 8041, 12, "missing_required_field: 6; duplicate_key: 6"),
                                          ("79", 9000, 3, "value_not_allowed: 3"), ("46", 500, 0, None)):
        base = {"index_name": "service_index", "period_month": dt.date(2025, 8, 1), "reported_unit_code": code,
                "rows_loaded": loaded, "rows_rejected": rejected, "rejected_share": rejected / loaded,
                "rejections_by_rule": rules}
        out["rpt_data_quality_by_unit"].append({**base, "extract_kind": "dossiers", **PROVENANCE})
        out["rpt_agency_quality_scorecard"].append({**base, "extracts_submitted": 2, "submitted_on_time": code != "79",
                                                    **PROVENANCE})
    out["rpt_data_quality_runs"].append({
        "index_name": "service_index", "run_id": PROVENANCE["run_id"], "period_month": dt.date(2025, 8, 1),
        "check_source": "gx", "checks": 40, "checks_passed": 39, "checks_failed": 1, "blocking_checks_failed": 1,
        "warnings": 0, "failed_checks": "dossiers_volume: failed", "last_checked_at": dt.datetime(2025, 9, 2, 3, 10),
        "is_latest_run": True})
    for month, basis in (("2025-05", "checks_passed"), ("2025-06", "withheld"), ("2025-07", "checks_passed"),
                         ("2025-08", "override")):
        out["publication_status"].append({
            "period_month": dt.date.fromisoformat(f"{month}-01"), "is_publishable": basis == "checks_passed",
            "blocking_failures": None if basis == "checks_passed" else "dossiers_volume: failed",
            "checked_at": dt.datetime(2025, 9, 2, 3, 10), "publication_basis": basis,
            **({"override_id": "ovr-2025-08-fixture", "overridden_by": "auditor", "override_reason": INJECTION}
               if basis == "override" else {}), **PROVENANCE})
    out["publication_overrides"].append({
        "override_id": "ovr-2025-08-fixture", "index_name": "service_index", "period_month": dt.date(2025, 8, 1),
        "overridden_checks": "dossiers_volume: failed", "reason": INJECTION, "overridden_by": "auditor",
        "overridden_at": dt.datetime(2025, 9, 2, 3, 12)})
    for year in (2022, 2023):
        out["dti_publication_status"].append({"year": year, "is_publishable": True, "publication_basis": "checks_passed"})
    return out


def write_audit_pack(data_root: Path, month: str = MONTH) -> Path:
    """The two files of an audit pack the report links to (the real pack has more)."""
    pack = data_root / "audit_packs" / month
    (pack / "quality").mkdir(parents=True, exist_ok=True)
    (pack / "README.txt").write_text("fixture audit pack\n", encoding="utf-8")
    (pack / "quality" / "scorecard.csv").write_text("reported_unit_code\n01\n", encoding="utf-8")
    return pack


if __name__ == "__main__":
    dump_schema(Path(sys.argv[1]))
