"""`dxmon explain`: where one published number comes from.

For a unit, a period and an index (optionally one indicator): the value, points, rule and
methodology version; the inputs it came from (file or API page, sha256, archived copy, rows);
their validation status; and the run and code version that produced it. Reads the warehouse
read-only: `rpt_score_lineage` and, for the exact rows, `int_audit_measure_input_rows`; for the
DTI (`index_name='dti'`), `rpt_dti_score_lineage` (one row per sub-indicator: the report cell or
the service-index measurement it came from) and the rank from `rpt_dti_ranking`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.core.warehouse import connect, table_exists

SAMPLE_ROWS = 5


class ExplainError(LookupError):
    """Nothing to explain; the message says what was looked for and what exists."""


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def explain(unit: str, period: str, index_name: str = "service_index", indicator: str | None = None,
            sample_rows: int = SAMPLE_ROWS, warehouse: Path | None = None) -> dict:
    if index_name == "dti":
        return explain_dti(unit, period, indicator, warehouse)
    if index_name != "service_index":
        raise ExplainError(f"unknown index {index_name!r}: use service_index or dti")
    month = period[:7] + "-01"
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.rpt_score_lineage"):
            raise ExplainError("marts.rpt_score_lineage is not built; run the pipeline (`dxmon run`) first")
        params = [index_name, month, unit] + ([indicator] if indicator else [])
        lineage = _rows(con, f"""
            SELECT * FROM marts.rpt_score_lineage
            WHERE index_name = ? AND period_month = CAST(? AS DATE) AND unit_code = ?
            {'AND indicator_code = ?' if indicator else ''}
            ORDER BY indicator_code, source_id""", params)
        if not lineage:
            units = [r[0] for r in con.execute(
                "SELECT DISTINCT unit_code FROM marts.rpt_score_lineage WHERE period_month = CAST(? AS DATE) "
                "ORDER BY 1 LIMIT 200", [month]).fetchall()]
            raise ExplainError(
                f"no score for unit {unit} in {period[:7]}" + (f", indicator {indicator}" if indicator else "")
                + (f"; units with scores that month: {', '.join(units)}" if units else "; that month has no scores"))
        first = lineage[0]
        result = {
            "index_name": index_name, "period": period[:7], "unit_code": unit, "unit_level": first["unit_level"],
            "total_score": first["total_score"], "rank": first["rank"],
            "methodology_version": first["methodology_version"],
            "run_id": first["run_id"], "code_version": first["code_version"], "input_hash": first["input_hash"],
            "period_is_publishable": first["period_is_publishable"],
            "period_blocking_failures": first["period_blocking_failures"],
            "indicators": [],
        }
        by_indicator: dict[str, dict] = {}
        for row in lineage:
            item = by_indicator.setdefault(row["indicator_code"], {
                k: row[k] for k in ("indicator_code", "group_code", "scoring_rule", "max_points", "target_ratio",
                                    "numerator_measure", "denominator_measure", "numerator", "denominator",
                                    "value", "points", "is_scored")
            } | {"inputs": []})
            if row["source_id"]:
                item["inputs"].append({k: row[k] for k in (
                    "source_id", "source_type", "extract_kind", "location", "original_location", "sha256",
                    "archived_path", "numerator_rows", "denominator_rows", "is_row_set_exact",
                    "source_rejected_count", "source_failed_checks")})
        result["indicators"] = list(by_indicator.values())
        if indicator and table_exists(con, "intermediate.int_audit_measure_input_rows"):
            item = result["indicators"][0]
            for role in ("numerator", "denominator"):
                measure = item[f"{role}_measure"]
                item[f"{role}_sample_rows"] = _rows(con, f"""
                    SELECT r.entity, r.entity_id, r.source_id, r.source_row, s.location, s.sha256, a.archived_path
                    FROM intermediate.int_audit_measure_input_rows r
                    LEFT JOIN raw.ingested_sources s USING (source_id)
                    LEFT JOIN meta.raw_archive a ON a.sha256 = s.sha256
                    WHERE r.period_month = CAST(? AS DATE) AND r.unit_code = ? AND r.measure_code = ?
                    ORDER BY r.source_id, r.source_row LIMIT {int(sample_rows)}""", [month, unit, measure])
    return result


def dti_context_key(period: str) -> str:
    """'2023' -> the final index of 2023 (closed year); '2023-06' -> the provisional one as of June."""
    period = period.strip()
    if len(period) == 4 and period.isdigit():
        return f"final:{period}"
    if len(period) >= 7 and period[:4].isdigit() and period[4] == "-" and period[5:7].isdigit():
        return f"provisional:{period[:7]}-01"
    raise ExplainError(f"period {period!r}: give a year (2023, the final index of a closed year) "
                       f"or a month (2023-06, the provisional index as of that month's end)")


DTI_INPUT_KEYS = ("value_source", "submission_id", "submission_version", "report_date", "received_at",
                  "archived_path", "sha256", "sheet", "source_row", "raw_value", "evidence",
                  "automatic_source", "automatic_indicator_code", "automatic_first_month",
                  "automatic_last_month", "automatic_month_is_publishable",
                  "validation_status", "rejection_rule", "rejection_reason")


def explain_dti(unit: str, period: str, indicator: str | None = None, warehouse: Path | None = None) -> dict:
    """The DTI score of `unit` for `period` (a year = final, YYYY-MM = provisional), from
    rpt_dti_score_lineage; `indicator` = a main (7) or sub-indicator (7.3) code."""
    context_key = dti_context_key(period)
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.rpt_dti_score_lineage"):
            raise ExplainError("marts.rpt_dti_score_lineage is not built; run the DTI (`dxmon dti run` or the "
                               "monthly_dti job) first")
        params = [context_key, unit] + ([indicator, indicator] if indicator else [])
        lineage = _rows(con, f"""
            SELECT * FROM marts.rpt_dti_score_lineage
            WHERE context_key = ? AND unit_code = ?
            {'AND (indicator_code = ? OR main_code = ?)' if indicator else ''}
            ORDER BY main_code, indicator_code, reporting_unit_code""", params)
        if not lineage:
            units = [r[0] for r in con.execute(
                "SELECT DISTINCT unit_code FROM marts.rpt_dti_score_lineage WHERE context_key = ? ORDER BY 1",
                [context_key]).fetchall()]
            contexts = [r[0] for r in con.execute(
                "SELECT DISTINCT context_key FROM marts.rpt_dti_score_lineage WHERE unit_code = ? ORDER BY 1",
                [unit]).fetchall()]
            raise ExplainError(
                f"no DTI score for unit {unit} in {context_key}" + (f", indicator {indicator}" if indicator else "")
                + (f"; units scored there: {', '.join(units)}" if units else "")
                + (f"; periods with a score of unit {unit}: {', '.join(contexts)}" if contexts else "")
                + ("; a year's final index exists once the year is closed (`dxmon dti close-year`)"
                   if context_key.startswith("final:") else ""))
        first = lineage[0]
        rank = None
        if table_exists(con, "marts.rpt_dti_ranking"):
            found = con.execute(
                "SELECT rank FROM marts.rpt_dti_ranking WHERE year = ? AND level = ? AND unit_code = ? "
                "AND period_month IS NOT DISTINCT FROM CAST(? AS DATE)",
                [first["year"], first["level"], unit, first["period_month"]]).fetchone()
            rank = found[0] if found else None
        publication = _dti_publication(con, first["year"])
        closure = None
        if not first["is_provisional"] and table_exists(con, "meta.dti_year_closures"):
            closure = con.execute("SELECT run_id, input_hash, closed_at, closed_by FROM meta.dti_year_closures "
                                  "WHERE year = ?", [first["year"]]).fetchone()
    result = {
        "index_name": "dti", "period": period, "context_key": context_key, "year": first["year"],
        "is_provisional": first["is_provisional"], "unit_code": unit, "unit_name": first["unit_name"],
        "level": first["level"], "dti_value": first["dti_value"], "total_points": first["total_points"], "rank": rank,
        "methodology_version": first["methodology_version"], "weights_basis": first["score_weights_basis"],
        "run_id": first["run_id"], "code_version": first["code_version"], "input_hash": first["input_hash"],
        "year_failed_checks": first["year_failed_checks"], "publication": publication, "main_indicators": [],
    }
    if closure:  # a final index: the run that closed the year and the hash of its inputs
        result.update(run_id=closure[0], input_hash=closure[1], closed_at=closure[2], closed_by=closure[3])
    mains: dict[str, dict] = {}
    for row in lineage:
        main = mains.setdefault(row["main_code"], {
            "main_code": row["main_code"], "value": row["main_value"], "points": row["main_points"],
            "weighted_points": row["main_weighted_points"], "weights_basis": row["weights_basis"],
            "sub_indicators": []})
        main["sub_indicators"].append({
            k: row[k] for k in ("indicator_code", "reporting_unit_code", "scoring_rule", "max_points", "value",
                                "points", "is_missing")} | {"input": {k: row[k] for k in DTI_INPUT_KEYS}})
    result["main_indicators"] = list(mains.values())
    return result


def _dti_publication(con, year: int) -> dict:
    """The year's publication gate (publication/publish.py): basis, failures, latest override."""
    from publication.publish import gate_basis

    status = con.execute("SELECT is_publishable, blocking_failures FROM meta.dti_year_status WHERE year = ?",
                         [year]).fetchone() if table_exists(con, "meta.dti_year_status") else None
    override = con.execute(
        "SELECT override_id, overridden_checks, overridden_by, reason FROM meta.publication_overrides "
        "WHERE index_name = 'dti' AND period_month = make_date(?, 1, 1) ORDER BY overridden_at DESC LIMIT 1",
        [year]).fetchone() if table_exists(con, "meta.publication_overrides") else None
    basis = gate_basis(status[0] if status else None, status[1] if status else None, override[1] if override else None,
                       con=con)
    return {"publication_basis": basis, "blocking_failures": status[1] if status else "not validated",
            "override_id": override[0] if override and basis == "override" else None,
            "overridden_by": override[2] if override and basis == "override" else None,
            "override_reason": override[3] if override and basis == "override" else None}


def _publication_line(p: dict) -> str:
    if p.get("publication_basis") == "checks_passed":
        return "published (the reports that count pass every blocking check)"
    if p.get("publication_basis") == "override":
        return f"published on override {p['override_id']} by {p['overridden_by']}: {p['override_reason']}"
    return f"withheld: {(p.get('blocking_failures') or '')[:300]}"


def format_dti_explanation(e: dict) -> str:
    kind = "provisional, as of the month's end" if e["is_provisional"] else "final"
    out = [
        f"dti {e['period']} ({kind}) unit {e['unit_code']} {e['unit_name'] or ''} ({e['level']}): "
        f"DTI {e['dti_value']}, total {e['total_points']} points, rank {e['rank']}",
        f"  methodology {e['methodology_version']}; weights {e['weights_basis']}",
        f"  built by run {e['run_id']} with code {e['code_version'] or 'not recorded'}; "
        f"input hash {e['input_hash']}",
        "  validation of the year's reports (every version received, superseded ones too): "
        + (f"failed checks: {e['year_failed_checks']}" if e["year_failed_checks"] else "all checks passed"),
        "  publication: " + _publication_line(e.get("publication") or {}),
    ]
    for main in e["main_indicators"]:
        out.append(f"\n  main indicator {main['main_code']}: value {main['value']} x {main['points']} points "
                   f"= {main['weighted_points']} ({main['weights_basis']})")
        for sub in main["sub_indicators"]:
            i = sub["input"]
            out.append(f"    {sub['indicator_code']}: value {sub['value']} -> {sub['points']} of {sub['max_points']} "
                       f"points; rule {sub['scoring_rule']}; {i['validation_status']}")
            if i["value_source"] == "automatic":
                out.append(f"      measured by the service index: {i['automatic_source']}"
                           + ("" if i["automatic_month_is_publishable"] is not False
                              else " (that month's blocking checks FAILED)"))
            elif i["source_row"] is not None or i["rejection_rule"]:
                where = (f"sheet '{i['sheet']}' row {i['source_row']}" if i["sheet"] else f"line {i['source_row']}")
                out.append(f"      reported by {sub['reporting_unit_code']} in {i['archived_path']} "
                           f"(version {i['submission_version']}, dated {i['report_date']}), {where}: "
                           f"cell '{i['raw_value']}'" + (f"; evidence {i['evidence']}" if i["evidence"] else ""))
                out.append(f"      sha256 {i['sha256']}")
                if i["rejection_rule"]:
                    out.append(f"      rejected ({i['rejection_rule']}): {i['rejection_reason']}")
            else:
                out.append(f"      no row in {i['archived_path']} (sha256 {i['sha256']}): missing, 0 points")
    return "\n".join(out)


def format_explanation(e: dict) -> str:
    if e.get("index_name") == "dti":
        return format_dti_explanation(e)
    out = [
        f"{e['index_name']} {e['period']} unit {e['unit_code']} ({e['unit_level']}): "
        f"total {e['total_score']}, rank {e['rank']}",
        f"  methodology {e['methodology_version']}; built by run {e['run_id']} with code {e['code_version']}",
        f"  input hash {e['input_hash']}",
        "  validation: " + ("blocking checks passed" if e["period_is_publishable"]
                            else f"BLOCKING CHECKS FAILED: {e['period_blocking_failures']}"),
    ]
    for item in e["indicators"]:
        out.append(
            f"\n  indicator {item['indicator_code']} ({item['group_code']}): value {item['value']} -> "
            f"{item['points']} of {item['max_points']} points; rule {item['scoring_rule']}"
            + (f" (target {item['target_ratio']})" if item["target_ratio"] is not None else "")
            + f"; {item['numerator_measure']} {item['numerator']} / {item['denominator_measure']} {item['denominator']}")
        for src in item["inputs"]:
            out.append(
                f"    from {src['source_type']} {src['location']}\n"
                f"         sha256 {src['sha256']}  archived {src['archived_path']}\n"
                f"         rows counted: numerator {src['numerator_rows']}, denominator {src['denominator_rows']}"
                + ("" if src["is_row_set_exact"] else " (derived measure: rows are its population)")
                + f"; source rows rejected {src['source_rejected_count']}"
                + (f"; failed checks on {src['extract_kind']}: {src['source_failed_checks']}"
                   if src["source_failed_checks"] else f"; {src['extract_kind']} checks passed"))
        for role in ("numerator", "denominator"):
            for r in item.get(f"{role}_sample_rows", []):
                out.append(f"    {role} row: {r['entity']} {r['entity_id']} = {r['location']} row {r['source_row']} "
                           f"(sha256 {r['sha256'][:16]}…)")
    return "\n".join(out)


def is_locked(exc: Exception) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()
