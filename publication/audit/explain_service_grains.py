"""`dxmon explain` of the service index above and below the month's unit grain:

* a period (`--unit 01 --period 2025-Q3`, `2025`, `2025-08-YTD`): the period row of
  `fct_service_index_period` (the months it covers, the missing and withheld ones, how it is
  published), its rank, every indicator's numerator and denominator summed over the period's
  distinct dossiers, procedures and complaints beside the sum of the monthly ones (the difference
  is what was counted once: a dossier carried over between months), the mean of the monthly
  totals beside the period's total (a period is never that mean), and per covered month the
  inputs that counted (file or page, sha256, archived copy) and the run that built it;
* a handling agency (`--agency 01.S05 --period 2025-08`): the agency's row of
  `fct_service_index_agency_monthly`, its rank within its parent unit and level, every
  indicator (or why it is not applicable at the agency grain), the month's gate, and the dossier
  rows it was computed from, per source file with sample rows.

Reads the warehouse read-only."""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.core.warehouse import connect, table_exists
from publication.audit.explain import ExplainError, _rows
from publication.audit.provenance import hash_of_hashes

PERIOD_PATTERNS = (
    (re.compile(r"^\d{4}-Q[1-4]$"), "quarter"),
    (re.compile(r"^\d{4}$"), "year"),
    (re.compile(r"^\d{4}-\d{2}-YTD$"), "year_to_date"),
)


def period_kind(period: str) -> str | None:
    """'2025-Q3' -> quarter, '2025' -> year, '2025-08-YTD' -> year_to_date; a month -> None."""
    text = period.strip().upper()
    return next((kind for pattern, kind in PERIOD_PATTERNS if pattern.match(text)), None)


def _indicator_columns(con, relation: str) -> list[str]:
    """The indicator prefixes of a wide mart ('i2_1', ...) in column order."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()]
    return [c[: -len("_points")] for c in cols if re.match(r"^i[0-9a-z_]+_points$", c)]


def _indicator_meta(con) -> dict[str, dict]:
    """Indicator prefix -> code, group, rule, max points, measures (the seed, latest version first)."""
    rows = _rows(con, """
        SELECT indicator_code, group_code, scoring_rule, max_points, target_ratio, numerator_measure,
               denominator_measure, methodology_version
        FROM staging.stg_methodology__service_index_indicators ORDER BY methodology_version DESC, indicator_order""", [])
    meta: dict[str, dict] = {}
    for r in rows:
        meta.setdefault("i" + r["indicator_code"].lower().replace(".", "_"), r)
    return meta


def explain_period(unit: str, period: str, backcast: bool = False, warehouse: Path | None = None) -> dict:
    period = period.strip().upper()
    kind = period_kind(period)
    if kind is None:
        raise ExplainError(f"period {period!r}: a quarter (2025-Q3), a year (2025) or a year to date (2025-08-YTD)")
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.fct_service_index_period"):
            raise ExplainError("marts.fct_service_index_period is not built; run the pipeline (`dxmon run`) first")
        rows = _rows(con, "SELECT * FROM marts.fct_service_index_period WHERE period = ? AND unit_code = ? "
                          "AND is_backcast = ?", [period, unit, backcast])
        if not rows:
            units = [r[0] for r in con.execute(
                "SELECT DISTINCT unit_code FROM marts.fct_service_index_period WHERE period = ? AND is_backcast = ? "
                "ORDER BY 1", [period, backcast]).fetchall()]
            periods = [r[0] for r in con.execute(
                "SELECT DISTINCT period FROM marts.fct_service_index_period ORDER BY 1").fetchall()]
            raise ExplainError(
                f"no {kind.replace('_', ' ')} row for unit {unit} in {period}"
                + (f"; units of {period}: {', '.join(units)}" if units
                   else f"; periods computed: {', '.join(periods) or 'none'}"))
        row = rows[0]
        rank = _rows(con, "SELECT rank, ranked_unit_count, previous_period, previous_rank, rank_change, band "
                          "FROM marts.rpt_service_ranking_period WHERE period = ? AND unit_code = ? AND is_backcast = ?",
                     [period, unit, backcast]) if table_exists(con, "marts.rpt_service_ranking_period") else []
        months = [m for m in (row["months_covered"] or "").split(",") if m]
        withheld = [m for m in (row["months_withheld"] or "").split(",") if m]
        month_dates = [f"{m}-01" for m in months + withheld]
        basis_clause = "is_backcast" if backcast else "NOT is_backcast"
        # the same unit's monthly rows (the units valid at the period's end may not exist in its
        # earlier months: those months are summed from their predecessors, shown by the period row)
        monthly = _rows(con, f"""
            SELECT strftime(period_month, '%Y-%m') AS month, * EXCLUDE (period_month)
            FROM marts.fct_service_index_monthly
            WHERE unit_code = ? AND {basis_clause}
              AND period_month IN (SELECT CAST(unnest(?::VARCHAR[]) AS DATE))
            ORDER BY 1""", [unit, month_dates]) if month_dates else []
        prefixes = _indicator_columns(con, "marts.fct_service_index_period")
        meta = _indicator_meta(con)
        indicators = []
        for prefix in prefixes:
            m = meta.get(prefix, {})
            monthly_num = [r.get(f"{prefix}_numerator") for r in monthly]
            monthly_den = [r.get(f"{prefix}_denominator") for r in monthly]
            indicators.append({
                "indicator_code": m.get("indicator_code", prefix), "group_code": m.get("group_code"),
                "scoring_rule": m.get("scoring_rule"), "max_points": m.get("max_points"),
                "target_ratio": m.get("target_ratio"),
                "numerator_measure": m.get("numerator_measure"), "denominator_measure": m.get("denominator_measure"),
                "numerator": row.get(f"{prefix}_numerator"), "denominator": row.get(f"{prefix}_denominator"),
                "ratio": row.get(f"{prefix}_ratio"), "points": row.get(f"{prefix}_points"),
                "sum_of_monthly_numerators": _sum(monthly_num), "sum_of_monthly_denominators": _sum(monthly_den),
            })
        monthly_totals = [r["total_score"] for r in monthly if r["total_score"] is not None]
        sources = _rows(con, """
            SELECT strftime(s.period_month, '%Y-%m') AS month, s.extract_kind, s.source_type, s.location,
                   s.sha256, a.archived_path, s.row_count, s.rejected_count
            FROM raw.ingested_sources s LEFT JOIN meta.raw_archive a USING (sha256)
            WHERE s.superseded_at IS NULL AND s.period_month IN (SELECT CAST(unnest(?::VARCHAR[]) AS DATE))
            ORDER BY 1, 2, 4""", [month_dates]) if month_dates else []
        builds = _rows(con, """
            SELECT strftime(period_month, '%Y-%m') AS month, run_id, code_version, input_hash, recorded_at
            FROM meta.run_provenance WHERE index_name = 'service_index'
              AND period_month IN (SELECT CAST(unnest(?::VARCHAR[]) AS DATE))
            QUALIFY row_number() OVER (PARTITION BY period_month ORDER BY recorded_at DESC, run_id) = 1
            ORDER BY 1""", [[f"{m}-01" for m in months]]) if months else []
    return {
        "index_name": "service_index", "kind": kind, "period": period, "unit_code": unit,
        "unit_name": row.get("unit_name"), "unit_level": row.get("unit_level"), "is_backcast": backcast,
        "period_start_month": row.get("period_start_month"), "period_end_month": row.get("period_end_month"),
        "months_expected": row.get("months_expected"), "months_covered": months, "months_withheld": withheld,
        "months_missing": [m for m in (row.get("months_missing") or "").split(",") if m],
        "is_complete": row.get("is_complete"), "publication_basis": row.get("publication_basis"),
        "override_ids": row.get("override_ids"), "methodology_version": row.get("methodology_version"),
        "dossier_count": row.get("dossier_count"), "total_score": row.get("total_score"),
        "applicable_max_points": row.get("applicable_max_points"),
        "rank": rank[0] if rank else None,
        "monthly_totals": {r["month"]: r["total_score"] for r in monthly},
        "mean_of_monthly_totals": round(sum(monthly_totals) / len(monthly_totals), 2) if monthly_totals else None,
        "indicators": indicators, "sources": sources, "builds": builds,
        "input_hash": hash_of_hashes([b["input_hash"] for b in builds]) if builds else None,
    }


def _sum(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def explain_agency(agency: str, period: str, sample_rows: int = 5, warehouse: Path | None = None) -> dict:
    month = period.strip()[:7]
    if not re.match(r"^\d{4}-\d{2}$", month):
        raise ExplainError(f"--agency takes a month, YYYY-MM, not {period!r}")
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.fct_service_index_agency_monthly"):
            raise ExplainError("marts.fct_service_index_agency_monthly is not built; run the pipeline (`dxmon run`) first")
        rows = _rows(con, "SELECT * FROM marts.fct_service_index_agency_monthly "
                          "WHERE agency_code = ? AND period_month = CAST(? AS DATE)", [agency, f"{month}-01"])
        if not rows:
            similar = [r[0] for r in con.execute(
                "SELECT DISTINCT agency_code FROM marts.fct_service_index_agency_monthly "
                "WHERE period_month = CAST(? AS DATE) AND agency_code LIKE ? ORDER BY 1 LIMIT 40",
                [f"{month}-01", agency.split(".")[0] + "%"]).fetchall()]
            raise ExplainError(f"no agency {agency} in {month}"
                               + (f"; agencies of that unit that month: {', '.join(similar)}" if similar else ""))
        row = rows[0]
        rank = _rows(con, "SELECT rank, ranked_agency_count, previous_rank, rank_change, band "
                          "FROM marts.rpt_agency_ranking_monthly WHERE agency_code = ? AND period_month = CAST(? AS DATE)",
                     [agency, f"{month}-01"]) if table_exists(con, "marts.rpt_agency_ranking_monthly") else []
        meta = _indicator_meta(con)
        indicators = []
        for prefix in _indicator_columns(con, "marts.fct_service_index_agency_monthly"):
            m = meta.get(prefix, {})
            applicable = row.get(f"{prefix}_numerator") is not None or row.get(f"{prefix}_points") is not None
            indicators.append({
                "indicator_code": m.get("indicator_code", prefix), "group_code": m.get("group_code"),
                "scoring_rule": m.get("scoring_rule"), "max_points": m.get("max_points"),
                "numerator_measure": m.get("numerator_measure"), "denominator_measure": m.get("denominator_measure"),
                "numerator": row.get(f"{prefix}_numerator"), "denominator": row.get(f"{prefix}_denominator"),
                "ratio": row.get(f"{prefix}_ratio"), "points": row.get(f"{prefix}_points"),
                "applicable": applicable,
            })
        gate = _rows(con, "SELECT publication_basis, blocking_failures, override_id FROM meta.publication_gate "
                          "WHERE index_name = 'service_index' AND period_key = ?", [month])
        inputs = _rows(con, """
            SELECT d.source_id, s.location, s.sha256, a.archived_path, count(*) AS dossier_rows,
                   count(*) FILTER (WHERE d.is_handled_in_period) AS handled_rows
            FROM intermediate.int_dossiers_timed d
            LEFT JOIN raw.ingested_sources s USING (source_id)
            LEFT JOIN meta.raw_archive a ON a.sha256 = s.sha256
            WHERE d.period_month = CAST(? AS DATE) AND d.handling_agency_code = ?
            GROUP BY ALL ORDER BY 1""", [f"{month}-01", agency])
        samples = _rows(con, f"""
            SELECT dossier_id, source_id, source_row, is_received_in_period, is_handled_in_period, is_on_time
            FROM intermediate.int_dossiers_timed
            WHERE period_month = CAST(? AS DATE) AND handling_agency_code = ?
            ORDER BY source_id, source_row LIMIT {int(sample_rows)}""", [f"{month}-01", agency])
    return {
        "index_name": "service_index", "kind": "agency_month", "period": month, "agency_code": agency,
        "agency_name": row.get("agency_name"), "agency_level": row.get("agency_level"),
        "parent_unit_code": row.get("parent_unit_code"), "parent_unit_name": row.get("parent_unit_name"),
        "is_ranked": row.get("is_ranked"), "not_ranked_reason": row.get("not_ranked_reason"),
        "dossier_count": row.get("dossier_count"), "total_score": row.get("total_score"),
        "applicable_max_points": row.get("applicable_max_points"),
        "methodology_version": row.get("methodology_version"), "rank": rank[0] if rank else None,
        "publication": gate[0] if gate else {"publication_basis": "withheld", "blocking_failures": "never validated"},
        "indicators": indicators, "inputs": inputs, "sample_rows": samples,
    }


def _num(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_period_explanation(e: dict) -> str:
    r = e["rank"] or {}
    basis = e["publication_basis"]
    out = [
        f"service_index {e['kind'].replace('_', ' ')} {e['period']} ({e['period_start_month']:%Y-%m}.."
        f"{e['period_end_month']:%Y-%m}) unit {e['unit_code']} {e['unit_name'] or ''} ({e['unit_level']}"
        f"{', back-cast to today' + chr(39) + 's units' if e['is_backcast'] else ''}): total {_num(e['total_score'])}"
        + (f", rank {r['rank']} of {r['ranked_unit_count']}" if r else ", not ranked")
        + (f" (previous {r['previous_period']}: {r['previous_rank']})" if r and r.get("previous_rank") else ""),
        f"  months: {e['months_expected']} expected; covered {', '.join(e['months_covered']) or 'none'}"
        + (f"; MISSING {', '.join(e['months_missing'])}" if e["months_missing"] else "")
        + (f"; WITHHELD {', '.join(e['months_withheld'])}" if e["months_withheld"] else "")
        + ("; complete" if e["is_complete"] else "; incomplete"),
        "  publication: " + {"checks_passed": "published (every covered month passed its blocking checks)",
                             "override": f"published on override ({e['override_ids']})",
                             "withheld": "WITHHELD: a month of the period was withheld, so the period is too"
                             }.get(basis, str(basis)),
        f"  computed from the period's dossiers, procedures and complaints, each counted once "
        f"({e['dossier_count']} dossiers handled), then the formulas; the mean of the monthly totals "
        f"({', '.join(f'{m} {_num(t)}' for m, t in e['monthly_totals'].items()) or 'none'}) would be "
        f"{_num(e['mean_of_monthly_totals'])}: not the period's score",
        f"  methodology {e['methodology_version']}; input hash {e['input_hash']} (over the covered months')",
    ]
    for b in e["builds"]:
        out.append(f"    {b['month']} built by run {b['run_id']} with code {b['code_version']}; input hash {b['input_hash']}")
    for i in e["indicators"]:
        once = ""
        if i["sum_of_monthly_denominators"] is not None and i["denominator"] is not None \
                and abs(i["sum_of_monthly_denominators"] - i["denominator"]) > 1e-9:
            once = (f" (sum of the months: {_num(i['sum_of_monthly_numerators'])} / "
                    f"{_num(i['sum_of_monthly_denominators'])}; the period counts each entity once, its 'in period' "
                    f"flags judged from the period's start)")
        out.append(f"\n  indicator {i['indicator_code']} ({i['group_code']}): {i['numerator_measure']} "
                   f"{_num(i['numerator'])} / {i['denominator_measure']} {_num(i['denominator'])} = "
                   f"{_num(i['ratio'])} -> {_num(i['points'])} of {_num(i['max_points'])} points; rule "
                   f"{i['scoring_rule']}" + (f" (target {i['target_ratio']})" if i["target_ratio"] is not None else "")
                   + once)
    if e["sources"]:
        out.append("\n  inputs of the covered months:")
        for s in e["sources"]:
            out.append(f"    {s['month']} {s['extract_kind']}: {s['source_type']} {s['location']} "
                       f"({s['row_count']} rows, {s['rejected_count']} rejected)\n"
                       f"         sha256 {s['sha256']}  archived {s['archived_path']}")
    return "\n".join(out)


def format_agency_explanation(e: dict) -> str:
    r = e["rank"] or {}
    p = e["publication"]
    out = [
        f"service_index {e['period']} agency {e['agency_code']} {e['agency_name'] or ''} ({e['agency_level']}) of "
        f"{e['parent_unit_code']} {e['parent_unit_name'] or ''}: total {_num(e['total_score'])} of "
        f"{_num(e['applicable_max_points'])} applicable points"
        + (f", rank {r['rank']} of {r['ranked_agency_count']} within its unit and rank group"
           + (f" (previous {r['previous_rank']}, change {r['rank_change']:+d})"
              if r.get("previous_rank") is not None else " (no previous rank)")
           if r else f", not ranked ({e['not_ranked_reason'] or 'no score'})"),
        f"  {e['dossier_count']} dossiers handled; methodology {e['methodology_version']}",
        "  publication of the month: " + (p.get("publication_basis") or "withheld")
        + (f" ({p['blocking_failures']})" if p.get("blocking_failures") else ""),
    ]
    for i in e["indicators"]:
        if not i["applicable"]:
            out.append(f"  indicator {i['indicator_code']} ({i['group_code']}): not applicable at the agency grain "
                       f"({i['numerator_measure']} / {i['denominator_measure']} are not counted per handling agency)")
            continue
        out.append(f"  indicator {i['indicator_code']} ({i['group_code']}): {i['numerator_measure']} "
                   f"{_num(i['numerator'])} / {i['denominator_measure']} {_num(i['denominator'])} = {_num(i['ratio'])}"
                   f" -> {_num(i['points'])} of {_num(i['max_points'])} points; rule {i['scoring_rule']}")
    out.append("\n  dossier rows of the agency in the month's extracts:")
    for s in e["inputs"]:
        out.append(f"    {s['dossier_rows']} rows ({s['handled_rows']} handled) from {s['location']}\n"
                   f"         sha256 {s['sha256']}  archived {s['archived_path']}")
    for s in e["sample_rows"]:
        out.append(f"    dossier {s['dossier_id']} = {s['source_id']} row {s['source_row']}"
                   f" (received in the month {s['is_received_in_period']}, on time {s['is_on_time']})")
    return "\n".join(out)
