"""`dxmon explain`: where one published number comes from.

For a unit, a period and an index (optionally one indicator): the value, points, rule and
methodology version; the inputs it came from (file or API page, sha256, archived copy, rows);
their validation status; and the run and code version that produced it. Reads the warehouse
read-only: `rpt_score_lineage` and, for the exact rows, `int_audit_measure_input_rows`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.warehouse import connect

SAMPLE_ROWS = 5


class ExplainError(LookupError):
    """Nothing to explain; the message says what was looked for and what exists."""


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _exists(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def explain(unit: str, period: str, index_name: str = "service_index", indicator: str | None = None,
            sample_rows: int = SAMPLE_ROWS, warehouse: Path | None = None) -> dict:
    if index_name != "service_index":
        raise ExplainError(f"explain for index {index_name!r} is not built yet: its lineage mart "
                           f"(rpt_score_lineage rows with index_name = {index_name!r}) does not exist")
    month = period[:7] + "-01"
    with connect(warehouse, read_only=True) as con:
        if not _exists(con, "marts.rpt_score_lineage"):
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
        if indicator and _exists(con, "intermediate.int_audit_measure_input_rows"):
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


def format_explanation(e: dict) -> str:
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
