"""The period report: ONE self-contained HTML file that opens offline (docs/reports.md).

    build_period_report("2025-08", dti_year=None, out=Path("report-2025-08.html"))

Everything is inside the file: the style and the tables' search and sort script
(`assets/report.css`, `assets/report.js`), plotly.js from the installed plotly package in one
<script> (`plotly.offline.get_plotlyjs()`), then every chart as a plotly figure's <div>
(charts.py); fonts are the system's. No request leaves the page. The only links are relative
ones to the month's audit pack folder when it exists beside the published data.

The data are the period's tables (period_data.py), the same the workbook holds."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from publication.reports import charts
from publication.reports.period_data import (
    BOOL,
    CHANGE,
    DATE,
    INT,
    NUMERIC,
    PERCENT,
    SCORE,
    VALUE,
    YEAR,
    PeriodData,
    TableSpec,
    load_period,
)

# the audit pack's files a reader of the data-quality section opens (publication/audit/pack.py)
PACK_LINKS = (("README.txt", "what the pack holds and how to verify it"),
              ("publication.json", "gate status, publication basis, overrides, provenance"),
              ("quality/scorecard.csv", "agencies' quality scorecard"),
              ("quality/data_quality_by_unit.csv", "rows loaded and rejected per unit and rule"),
              ("quality/validation_history.csv", "every check of every run"),
              ("quality/data_docs/index.html", "GX Data Docs"),
              ("lineage/score_lineage.csv", "every ranked score to its inputs"),
              ("lineage/inputs.csv", "every input file or page with its sha256"))


def _asset(name: str) -> str:
    return resources.files("publication.reports").joinpath("assets", name).read_text(encoding="utf-8")


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == CHANGE:
        return "=" if value == 0 else (f"▲{value}" if value > 0 else f"▼{-value}")
    if kind == BOOL:
        return "yes" if value else "no"
    if kind == YEAR:
        return str(value)
    if kind == INT:
        return f"{int(value):,}" if isinstance(value, int | float) else str(value)
    if kind == SCORE:
        return f"{value:,.2f}"
    if kind == VALUE:
        return f"{value:,.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    if kind == PERCENT:  # a share 0-1
        return f"{value * 100:.2f} %"
    if kind == DATE:
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, dt.datetime) else str(value)
    return str(value)


def _raw(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == BOOL:
        return "1" if value else "0"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _cell(value, column) -> str:
    kind = column.kind
    classes = ["num"] if kind in NUMERIC else []
    text = _esc(_fmt(value, kind))
    if kind == CHANGE:
        classes.append("chg-new" if value is None else "chg-same" if value == 0 else "chg-up" if value > 0 else "chg-down")
        if value is None:
            text = "new"
    if column.name == "rank_interval" and value is None:
        classes.append("hook")
        text = '<span title="published with the statistical audit (issue 15)">…</span>'
    cls = f' class="{" ".join(classes)}"' if classes else ""
    return f'<td{cls} data-v="{_esc(_raw(value, kind))}">{text}</td>'


def _status_cell(row: dict, value) -> str:
    code = row.get("status_code") or ""
    colour = charts.STATUS_COLOURS.get(code, "#444")
    return (f'<td data-v="{_esc(value)}"><span class="status status-{_esc(code)}" '
            f'style="background:{colour}">{_esc(value)}</span></td>')


def table_html(spec: TableSpec, hide: tuple[str, ...] = (), limit: int | None = None) -> str:
    """A searchable, sortable table (assets/report.js), or the reason it is empty."""
    parts = [f'<h3 id="t-{spec.key}">{_esc(spec.title)}</h3>']
    if spec.missing:
        parts.append(f'<p class="missing">Not in this publication: {_esc(spec.missing)}.</p>')
        return "\n".join(parts)
    if not spec.rows:
        parts.append('<p class="missing">No rows for this period.</p>')
        if spec.note:
            parts.append(f'<p class="note">{_esc(spec.note)}</p>')
        return "\n".join(parts)
    columns = [c for c in spec.columns if c.name not in hide]
    names = [c.name for c in spec.columns]
    rows = spec.rows[:limit] if limit else spec.rows
    table_id = f"tbl-{spec.key}"
    parts.append(f'<div class="table-tools"><input type="search" data-table="{table_id}" '
                 f'placeholder="Search (ignores case and diacritics)" aria-label="Search {_esc(spec.title)}"> '
                 f'<span data-count="{table_id}">{len(rows)} rows</span></div>')
    head = "".join(f'<th data-numeric="{1 if c.kind in NUMERIC else 0}" data-col="{_esc(c.name)}">{_esc(c.label)}</th>'
                   for c in columns)
    body = []
    for row in rows:
        values = dict(zip(names, row))
        cells = [_status_cell(values, values[c.name]) if c.name == "status_name_vi" else _cell(values[c.name], c)
                 for c in columns]
        body.append(f"<tr>{''.join(cells)}</tr>")
    parts.append(f'<div class="table-wrap"><table class="data" id="{table_id}" data-source="{_esc(spec.source)}">'
                 f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
    notes = [spec.note] if spec.note else []
    if limit and len(spec.rows) > limit:
        notes.append(f"The first {limit} of {len(spec.rows)} rows; the workbook has them all.")
    parts.extend(f'<p class="note">{_esc(n)}</p>' for n in notes)
    return "\n".join(parts)


class _Charts:
    """Numbered chart divs (stable ids: the same data give the same file)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, build: Callable, *args) -> str:
        fig = build(*args)
        if fig is None:
            return ""
        self.count += 1
        return f'<div class="chart">{charts.to_div(fig, f"chart-{self.count:02d}")}</div>'


def _cards(items: list[tuple[str, object]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{_esc(k)}</div><div class="v">{_esc(v)}</div></div>' for k, v in items
    ) + "</div>"


def _pack_links(data: PeriodData, out: Path) -> str:
    if data.audit_pack is None:
        return (f'<p class="note">No audit pack for {data.period.month} beside this publication yet '
                f"(<code>dxmon audit-pack --period {data.period.month}</code> builds it).</p>")
    items = []
    for rel, what in PACK_LINKS:
        target = data.audit_pack / rel
        if target.exists():
            href = Path(os.path.relpath(target, out.parent)).as_posix()
            items.append(f'<li><a class="pack" href="{_esc(href)}">{_esc(rel)}</a> — {_esc(what)}</li>')
    folder = Path(os.path.relpath(data.audit_pack, out.parent)).as_posix()
    return (f'<p>The audit pack of {data.period.month}: <a class="pack" href="{_esc(folder)}/">{_esc(folder)}/</a></p>'
            f"<ul>{''.join(items)}</ul>")


def _summary(data: PeriodData) -> str:
    month = data["ranking_month"].dicts()
    provinces = [r for r in month if r["unit_level"] == "province"]
    top = min(provinces, key=lambda r: (r["rank"], r["unit_code"]), default=None)
    basis = dict(data.provenance).get("Publication basis of the month")
    rejected = sum(r["rows_rejected"] or 0 for r in data["quality_by_unit"].dicts())
    loaded = sum(r["rows_loaded"] or 0 for r in data["quality_by_unit"].dicts())
    warnings = len(data["task_warnings"].rows)
    facts = dict(data.provenance)
    banner = ""
    if basis == "override":
        banner = (f'<p class="banner">{_esc(data.period.month)} is published on an override of its failed blocking checks '
                  f'({_esc(facts.get("Blocking failures"))}): {_esc(facts.get("Override"))} by '
                  f'{_esc(facts.get("Overridden by"))}, reason: “{_esc(facts.get("Override reason"))}”.</p>')
    elif basis != "checks_passed":
        banner = (f'<p class="banner">{_esc(data.period.month)} is not published ({_esc(basis or "never validated")}): '
                  "its month tables are empty; the periods and indices of other gates are shown as published.</p>")
    return banner + _cards([
        ("Units ranked", len(month)),
        ("First province", f"{top['unit_name']} ({top['total_score']:.2f})" if top else "—"),
        ("Publication basis", basis or "—"),
        ("Rows loaded / rejected", f"{loaded:,} / {rejected:,}"),
        ("Task warnings", warnings),
        ("DTI year", data.period.dti_year or "—"),
    ])


def render(data: PeriodData, out: Path) -> str:
    p = data.period
    chart = _Charts()
    levels = sorted({r["unit_level"] for r in data["ranking_month"].dicts()}, reverse=True) or ["province"]
    sections: list[tuple[str, str, str]] = []  # (anchor, title, body)
    sections.append(("summary", "Summary", _summary(data)))
    sections.append(("ranking", f"766 service index ranking, {p.month}", "\n".join([
        table_html(data["ranking_month"]),
        chart(charts.score_distribution, data),
        *[chart(charts.group_points, data, level) for level in levels],
        chart(charts.biggest_movers, data),
    ])))
    sections.append(("trends", "Trends per unit", "\n".join([
        *[chart(charts.monthly_trends, data, level) for level in levels],
        chart(charts.dti_trends, data, "province"),
        chart(charts.dti_trends, data, "ministry"),
        '<p class="note">Lines start with the three best and three worst units shown; click a name in the legend '
        "to show or hide it. The workbook's service_history and dti_history sheets hold every value.</p>",
    ])))
    sections.append(("periods", f"Quarter {p.quarter}, year to date {p.year_to_date} and year {p.year}", "\n".join([
        table_html(data["ranking_quarter"]), table_html(data["ranking_ytd"]), table_html(data["ranking_year"]),
    ])))
    sections.append(("drilldown", "Below the province: departments and communes", "\n".join([
        chart(charts.agency_spread, data), table_html(data["agency_drilldown"], limit=3000),
        '<p class="note">Every ranked agency is in the workbook (sheet agency_ranking).</p>',
    ])))
    sections.append(("dti", f"DTI {p.dti_year or ''}", table_html(data["dti_ranking"])))
    sections.append(("kpi", f"KPI progress as of {p.kpi_as_of or '—'}", "\n".join([
        chart(charts.kpi_status, data),
        chart(charts.kpi_gaps, data),
        table_html(data["national_scorecard"], hide=("status_code", "target_order")),
        table_html(data["kpi_progress"], hide=("status_code",)),
        chart(charts.international_ranks, data),
        table_html(data["international"]),
    ])))
    sections.append(("tasks", f"Task tracking, {p.month}", "\n".join([
        chart(charts.task_completion, data), table_html(data["task_status"]), table_html(data["task_warnings"]),
    ])))
    sections.append(("quality", "Data quality", "\n".join([
        chart(charts.rejections_by_rule, data), table_html(data["quality_by_rule"]),
        table_html(data["quality_by_unit"]), table_html(data["quality_checks"]),
        table_html(data["overrides"]), table_html(data["withheld"]), _pack_links(data, out),
    ])))
    provenance_rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_fmt(v, DATE if isinstance(v, dt.date) else 'text'))}"
                              "</td></tr>" for k, v in data.provenance)
    sections.append(("provenance", "Provenance", f'<table class="data provenance"><tbody>{provenance_rows}</tbody></table>'))
    toc = "".join(f'<a href="#{a}">{_esc(t)}</a>' for a, t, _ in sections)
    body = "\n".join(f'<section id="{a}"><h2>{_esc(t)}</h2>\n{b}\n</section>' for a, t, b in sections)
    generated = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
    plotly_js = _plotly_js() if chart.count else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dxmon report">
<title>dxmon — Báo cáo kỳ {_esc(p.month)} / Period report {_esc(p.month)}</title>
<style>
{_asset("report.css")}
</style>
{f'<script>{plotly_js}</script>' if plotly_js else ''}
</head>
<body>
<header class="report">
<h1 lang="vi">Báo cáo chuyển đổi số, kỳ {_esc(p.month)}</h1>
<p class="sub">Digital transformation period report: the 766 service index of {_esc(p.month)} (quarter {_esc(p.quarter)},
year to date), the DTI {_esc(p.dti_year or '—')}, KPI and task tracking as of {_esc(p.kpi_as_of or p.month_end)}.
Published {_esc(data.published_at or '—')}; generated {_esc(generated)}.</p>
<nav class="toc">{toc}</nav>
</header>
<main>
{body}
</main>
<footer>Generated by <code>dxmon report --month {_esc(p.month)}</code> from {_esc(data.database.name)} (read-only).
Works offline: every script and style is in this file.</footer>
<script>
{_asset("report.js")}
</script>
</body>
</html>
"""


def _plotly_js() -> str:
    import plotly.offline

    # a "</script>" inside the library would end the element early: escape it the way browsers allow
    return plotly.offline.get_plotlyjs().replace("</script", "<\\/script")


def build_period_report(month: str, dti_year: int | None = None, out: Path | None = None,
                        database: Path | None = None) -> Path:
    """Write the period report of `month` (YYYY-MM) to `out` (default: data/reports/report-<month>.html)."""
    from ingestion.core.warehouse import data_dir

    data = load_period(month, dti_year, database)
    out = Path(out) if out else data_dir() / "reports" / f"report-{data.period.month}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(data, out.resolve())
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
