"""`dxmon explain --index kpi`: where one KPI value comes from (docs/kpi_tracking.md).

For a KPI (optionally one measure), a unit (a unit code, or `national`, `ministries`, `provinces`
for the nation and the all-ministries / all-provinces aggregates) and a period as published
(2025-08, 2025-Q3, 2024): every value of `marts.fct_kpi_values` with its source kind, series and
release, traced to what it was computed or read from:

* computed by the platform from the service index: the numerator and denominator measures, the
  service-index indicator rows of that unit and month that carry them, and the command that
  traces those to the landing file rows; an aggregate also lists the units summed and checks
  that their numerators and denominators add up to it;
* computed from the DTI: the DTI ranking row and the command that traces it to the report cells;
* reported by an agency: the report file (inbox path, raw-archive copy, sha256, version, report
  date) and the row (sheet, row, the cell as typed, evidence);
* national statistics and international indices: the data file (path, archive copy, sha256), its
  row (line, the cell as typed), the release and the publication's address;

then the progress rows that use the series (target and its source, status), the gate of the
value's period, and the KPI build's run, code version and input hash. Reads the warehouse
read-only."""

from __future__ import annotations

from pathlib import Path

from ingestion.core.warehouse import connect, table_exists
from publication.audit.provenance import KPI

AGGREGATES = {"national": "national", "ministries": "ministry", "provinces": "province"}
PROGRESS_COLUMNS = ("series", "target_year", "comparator", "target_value", "source_document", "source_date",
                    "latest_value", "latest_period", "projection", "gap_to_target", "required_pace_per_year",
                    "observed_pace_per_year", "status_code", "ministry_class", "is_stale", "projection_note",
                    "values_used", "values_withheld")


class KpiExplainError(LookupError):
    """Nothing to explain; the message says what was looked for and what exists."""


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _unit_filter(unit: str) -> tuple[str, list]:
    level = AGGREGATES.get(unit.lower())
    if level:
        return "unit_code IS NULL AND level = ?", [level]
    return "unit_code = ?", [unit]


def explain_kpi(kpi_code: str, unit: str, period: str, measure: str | None = None,
                warehouse: Path | None = None) -> dict:
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "marts.fct_kpi_values"):
            raise KpiExplainError("marts.fct_kpi_values is not built; run the pipeline (`make run`, "
                                  "`dxmon kpi progress --rebuild`) first")
        unit_sql, unit_params = _unit_filter(unit)
        where = f"kpi_code = ? AND {unit_sql} AND (period = ? OR period LIKE ?)"
        params = [kpi_code, *unit_params, period, period + "-%"]
        if measure:
            where += " AND measure = ?"
            params.append(measure)
        values = _rows(con, f"SELECT * FROM marts.fct_kpi_values WHERE {where} "
                            "ORDER BY measure, series, period, release, source_ref", params)
        if not values:
            periods = [r[0] for r in con.execute(
                f"SELECT DISTINCT period FROM marts.fct_kpi_values WHERE kpi_code = ? AND {unit_sql} "
                "ORDER BY 1 DESC LIMIT 24", [kpi_code, *unit_params]).fetchall()]
            raise KpiExplainError(
                f"no value of {kpi_code}{'/' + measure if measure else ''} for {unit} in {period}"
                + (f"; periods with values: {', '.join(periods)}" if periods
                   else f"; {kpi_code} has no value for {unit} (units with values: "
                        + ", ".join(r[0] or 'aggregates' for r in con.execute(
                            "SELECT DISTINCT unit_code FROM marts.fct_kpi_values WHERE kpi_code = ? ORDER BY 1 "
                            "NULLS FIRST LIMIT 40", [kpi_code]).fetchall()) + ")"))
        catalogue = _rows(con, "SELECT kpi_code, name_vi, name_en, unit, direction, source_kind, frequency, "
                               "trend_method, catalogue_version FROM seeds.kpi_catalogue WHERE kpi_code = ?",
                          [kpi_code])
        for value in values:
            value["trace"] = _trace(con, value)
        measures = sorted({v["measure"] for v in values})
        progress = _rows(con, f"SELECT measure, {', '.join(PROGRESS_COLUMNS)} FROM marts.rpt_kpi_progress "
                              f"WHERE kpi_code = ? AND {unit_sql} AND measure IN ({', '.join('?' * len(measures))}) "
                              "ORDER BY measure, series, target_year, source_document",
                         [kpi_code, *unit_params, *measures]) if table_exists(con, "marts.rpt_kpi_progress") else []
        build = _rows(con, "SELECT run_id, code_version, input_hash, period_month AS as_of_month, recorded_at "
                           f"FROM meta.run_provenance WHERE index_name = '{KPI}' ORDER BY recorded_at DESC LIMIT 1", [])
    return {"index_name": "kpi", "kpi_code": kpi_code, "unit": unit, "period": period,
            "kpi": catalogue[0] if catalogue else None, "values": values, "progress": progress,
            "build": build[0] if build else None}


def _trace(con, v: dict) -> dict:
    kind, ref = v["source_kind"], v["source_ref"]
    if kind == "platform" and ref == "fct_service_index_indicators_monthly":
        return _trace_service_index(con, v)
    if kind == "platform":
        rows = _rows(con, "SELECT * FROM marts.rpt_dti_ranking WHERE year = ? AND unit_code = ?",
                     [int(v["period"][:4]), v["unit_code"]]) if table_exists(con, "marts.rpt_dti_ranking") else []
        return {"what": "each unit's DTI (value = total points / 1000, rank in its group)", "dti_ranking": rows[:1],
                "next": f"dxmon explain --index dti --unit {v['unit_code']} --period {v['period'][:4]}"}
    if kind == "agency_report":
        submission = _rows(con, "SELECT submission_id, period, folder_unit_code, unit_code, version, report_date, "
                                "received_at, inbox_path, archived_path, sha256, status, catalogue_version "
                                "FROM raw.kpi_submissions WHERE submission_id = ?", [ref])
        row = _rows(con, "SELECT sheet, source_row, kpi_code, measure, raw_value, unit_text, value, numerator, "
                         "denominator, evidence, rejection_rule FROM raw.kpi_report_values "
                         "WHERE submission_id = ? AND source_row = ?", [ref, v["source_row"]])
        return {"what": "reported by the agency in its KPI report", "file": submission[:1], "row": row[:1]}
    if kind == "national_statistics":
        file = _rows(con, "SELECT load_id, source_file, archived_path, sha256, publisher, default_release, loaded_at, "
                          "load_sequence FROM raw.kpi_statistics_releases WHERE load_id = ?", [ref])
        row = _rows(con, "SELECT source_row, release, publisher, release_date, period, raw_value, value, source_key, "
                         "note FROM raw.kpi_statistics_values WHERE load_id = ? AND source_row = ?",
                    [ref, v["source_row"]])
        return {"what": "a national statistics release", "file": file[:1], "row": row[:1],
                "sources": _sources(con, row[0]["source_key"] if row else None)}
    if kind == "international_index":
        file = _rows(con, "SELECT load_id, index_code, file_shape, source_file, archived_path, sha256, loaded_at, "
                          "source_key FROM raw.international_index_loads WHERE load_id = ?", [ref])
        # the file's line: one country (a UN file: its every component; a long file: one component)
        row = _rows(con, "SELECT source_row, edition, country_code, country_name, component, raw_value, value, "
                         "source_key, note FROM raw.international_index_values WHERE load_id = ? AND source_row = ? "
                         "ORDER BY component", [ref, v["source_row"]]) if v["source_row"] is not None else []
        return {"what": "an international index file", "file": file[:1], "row": row[:8],
                "sources": _sources(con, (file[0]["source_key"] if file else None)
                                    or (row[0]["source_key"] if row else None))}
    return {"what": f"source kind {kind}"}


def _sources(con, keys: str | None) -> list[dict]:
    if not keys:
        return []
    wanted = [k.strip() for k in keys.split(";") if k.strip()]
    return _rows(con, f"SELECT source_key, url, title_or_note FROM seeds.kpi_sources WHERE source_key IN "
                      f"({', '.join('?' * len(wanted))}) ORDER BY source_key", wanted)


def _trace_service_index(con, v: dict) -> dict:
    mapping = _rows(con, "SELECT numerator_measure, denominator_measure, scale, service_index_indicator, note "
                         "FROM seeds.kpi_platform_measures WHERE kpi_code = ? AND measure = ?",
                    [v["kpi_code"], v["measure"]])
    m = mapping[0] if mapping else {}
    out = {"what": "computed by the platform from the 766 service index", "measures": m}
    month = v["period_start"]
    if v["unit_code"] is not None:
        out["indicator_rows"] = _rows(con, """
            SELECT indicator_code, numerator_measure, numerator, denominator_measure, denominator, ratio
            FROM marts.fct_service_index_indicators_monthly
            WHERE period_month = ? AND unit_code = ? AND NOT is_backcast
              AND (numerator_measure IN (?, ?) OR denominator_measure IN (?, ?))
            ORDER BY indicator_order""", [month, v["unit_code"], *[m.get("numerator_measure"),
                                                                   m.get("denominator_measure")] * 2])
        indicator = m.get("service_index_indicator")
        out["next"] = (f"dxmon explain --unit {v['unit_code']} --period {v['period'][:7]}"
                       + (f" --indicator {indicator}" if indicator else "") + "   (the landing file rows)")
        return out
    # an aggregate: the units it sums, and the check that they add up to it
    level_sql = "" if v["level"] == "national" else "AND level = ?"
    params = [v["kpi_code"], v["measure"], v["period"]] + ([] if v["level"] == "national" else [v["level"]])
    units = _rows(con, f"""
        SELECT unit_code, level, numerator, denominator, value FROM marts.fct_kpi_values
        WHERE kpi_code = ? AND measure = ? AND period = ? AND source_kind = 'platform' AND unit_code IS NOT NULL
        {level_sql} ORDER BY level, unit_code""", params)
    numerator = sum(u["numerator"] or 0 for u in units)
    denominator = sum(u["denominator"] or 0 for u in units)
    out.update(units_summed=len(units), sum_of_numerators=numerator, sum_of_denominators=denominator,
               adds_up=(abs(float(numerator) - float(v["numerator"] or 0)) < 1e-6
                        and abs(float(denominator) - float(v["denominator"] or 0)) < 1e-6),
               units=units[:10])
    return out


def format_kpi_explanation(e: dict) -> str:
    k = e["kpi"] or {}
    out = [f"kpi {e['kpi_code']} {k.get('name_en', '')} / {k.get('name_vi', '')}: unit {e['unit']}, period {e['period']}",
           f"  unit of measure {k.get('unit')}, {k.get('direction')}; national value from {k.get('source_kind')}; "
           f"frequency {k.get('frequency')}; trend {k.get('trend_method')}; catalogue {k.get('catalogue_version')}"]
    if e.get("build"):
        b = e["build"]
        out.append(f"  KPI build as of {b['as_of_month']}: run {b['run_id']}, code {b['code_version']}, "
                   f"input hash {b['input_hash']}")
    for v in e["values"]:
        t = v["trace"]
        out.append(f"\n  {v['measure']} = {v['value']} ({v['level']}{' ' + v['unit_code'] if v['unit_code'] else ', all units'}, "
                   f"{v['period']}, as of {v['period_end']}); series {v['series']}, release {v['release']}"
                   f"{'' if v['is_current_release'] else ' (superseded by a later release)'}; "
                   + (f"gate {v['gate_index']} {v['gate_period_key']}: " if v["gate_index"] else "not gated: ")
                   + v["publication_basis"])
        out.append(f"    {t['what']}")
        if "measures" in t:
            m = t["measures"]
            out.append(f"    = {m.get('numerator_measure')} {v['numerator']} / {m.get('denominator_measure')} "
                       f"{v['denominator']} x {m.get('scale')}")
            for r in t.get("indicator_rows", []):
                out.append(f"    indicator {r['indicator_code']}: {r['numerator_measure']} {r['numerator']} / "
                           f"{r['denominator_measure']} {r['denominator']}")
            if "units_summed" in t:
                out.append(f"    the sum over {t['units_summed']} units: numerators {t['sum_of_numerators']}, "
                           f"denominators {t['sum_of_denominators']}: "
                           + ("adds up" if t["adds_up"] else "DOES NOT ADD UP"))
        for f in t.get("file", []):
            where = f.get("inbox_path") or f.get("source_file")
            out.append(f"    file {where}\n         archived {f.get('archived_path')}  sha256 {f.get('sha256')}"
                       + (f"\n         version {f['version']}, dated {f['report_date']}" if "version" in f else ""))
        for r in t.get("row", []):
            place = f"sheet '{r['sheet']}' row {r['source_row']}" if r.get("sheet") else f"line {r['source_row']}"
            out.append(f"    {place}: cell '{r.get('raw_value')}'"
                       + (f", unit '{r['unit_text']}'" if r.get("unit_text") else "")
                       + (f", evidence {r['evidence']}" if r.get("evidence") else "")
                       + (f", component {r['component']}" if r.get("component") else "")
                       + (f", release {r['release']}" if r.get("release") else ""))
        for s in t.get("sources", []):
            out.append(f"    source [{s['source_key']}] {s['url'] or s['title_or_note']}")
        for r in t.get("dti_ranking", []):
            out.append(f"    DTI {r.get('year')}: rank {r.get('rank')}")
        if t.get("next"):
            out.append(f"    next: {t['next']}")
    if e["progress"]:
        out.append("\n  progress (rpt_kpi_progress):")
        for p in e["progress"]:
            target = (f"{p['comparator']} {p['target_value']} by {p['target_year']} ({p['source_document']})"
                      if p["target_year"] is not None else "no target")
            out.append(f"    {p['measure']} [{p['series']}] {target}: latest {p['latest_value']} ({p['latest_period']}), "
                       f"projection {p['projection']}, status {p['status_code']}"
                       + (" (STALE)" if p["is_stale"] else "")
                       + f"; values used {p['values_used']}, withheld {p['values_withheld']}"
                       + (f"; {p['projection_note']}" if p["projection_note"] else ""))
    return "\n".join(out)
