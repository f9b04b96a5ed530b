"""The period report's charts: plotly figures built from the period's tables (period_data), each
rendered as a <div> without plotly.js (the page inlines plotly.js once). No chart is drawn by hand.

Lines of many units start with the three best and the three worst of the period visible, first
in the legend; the others follow in the legend (a click shows them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import plotly.graph_objects as go
from plotly.colors import qualitative

from publication.reports.period_data import PeriodData

FONT = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, Helvetica Neue, Arial, sans-serif"
# KPI status colours (rpt_kpi_progress.status_code), shared by the charts and the tables' chips
STATUS_COLOURS = {
    "achieved": "#1a7f37", "on_track": "#5cb85c", "at_risk": "#e69b00", "off_track": "#c62828",
    "insufficient_data": "#8a94a3", "no_target": "#b8c0cc",
}
GROUP_COLOURS = ["#0b5cad", "#3d8bd9", "#7fb2e5", "#e69b00", "#1a7f37", "#8e44ad", "#c0392b", "#16a085"]
TASK_PARTS = (("completed_on_time", "Completed on time", "#1a7f37"), ("completed_late", "Completed late", "#e69b00"),
              ("in_progress_within_deadline", "In progress, within deadline", "#7fb2e5"),
              ("overdue_not_completed", "Overdue, not completed", "#c62828"))
UNIT_COLOURS = qualitative.Dark24  # one colour per unit: its as-reported and back-cast lines share it
PLURAL = {"province": "provinces", "ministry": "ministries"}
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _layout(fig: go.Figure, title: str, height: int = 420, **kwargs) -> go.Figure:
    kwargs.setdefault("margin", {"l": 60, "r": 20, "t": 50, "b": 50})
    fig.update_layout(title={"text": title, "font": {"size": 15}}, height=height, font={"family": FONT, "size": 12},
                      template="plotly_white", legend={"font": {"size": 11}}, **kwargs)
    return fig


def to_div(fig: go.Figure, div_id: str) -> str:
    """The figure as a <div> and its Plotly.newPlot call; plotly.js itself is inlined once per page."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=CONFIG,
                       default_width="100%", default_height=f"{fig.layout.height or 420}px")


def _extremes(ranked: list[tuple[str, float]], n: int = 3) -> set[str]:
    """Codes of the n best and n worst of (code, score) pairs."""
    ordered = [c for c, s in sorted(ranked, key=lambda x: (-x[1], x[0])) if s is not None]
    return set(ordered[:n]) | set(ordered[-n:])


def score_distribution(data: PeriodData) -> go.Figure | None:
    rows = data["ranking_month"].dicts()
    if not rows:
        return None
    fig = go.Figure()
    for level in sorted({r["unit_level"] for r in rows}, reverse=True):
        fig.add_trace(go.Histogram(x=[r["total_score"] for r in rows if r["unit_level"] == level], name=level,
                                   xbins={"size": 2.5}, opacity=0.75))
    return _layout(fig, f"Distribution of 766 scores, {data.period.month}", 340, barmode="overlay",
                   xaxis_title="score (0–100)", yaxis_title="units")


def group_points(data: PeriodData, level: str) -> go.Figure | None:
    history = data["service_history"]
    groups = [c.name[: -len("_points")] for c in history.columns if c.name.endswith("_points")]
    rows = [r for r in history.dicts() if r["period_month"] == data.period.month_start and not r["is_backcast"]
            and r["unit_level"] == level and r["total_score"] is not None]
    if not rows or not groups:
        return None
    rows.sort(key=lambda r: (-r["total_score"], r["unit_code"]))
    labels = [r["unit_name"] or r["unit_code"] for r in rows]
    fig = go.Figure()
    for i, group in enumerate(groups):
        fig.add_trace(go.Bar(x=labels, y=[round(r[f"{group}_points"] or 0, 2) for r in rows], name=group.upper(),
                             marker_color=GROUP_COLOURS[i % len(GROUP_COLOURS)]))
    return _layout(fig, f"Points by group, {PLURAL.get(level, level)}, {data.period.month}", 460, barmode="stack",
                   yaxis_title="points", xaxis={"tickangle": -60})


def biggest_movers(data: PeriodData, n: int = 10) -> go.Figure | None:
    rows = [r for r in data["ranking_month"].dicts() if r["rank_change"]]
    if not rows:
        return None
    rows.sort(key=lambda r: (-abs(r["rank_change"]), r["unit_code"]))
    rows = sorted(rows[:n], key=lambda r: r["rank_change"])
    fig = go.Figure(go.Bar(
        x=[r["rank_change"] for r in rows], y=[f"{r['unit_name']} ({r['unit_level']})" for r in rows], orientation="h",
        marker_color=["#1a7f37" if r["rank_change"] > 0 else "#c62828" for r in rows],
        text=[f"▲{r['rank_change']}" if r["rank_change"] > 0 else f"▼{-r['rank_change']}" for r in rows],
        textposition="outside", name="rank change"))
    return _layout(fig, f"Biggest movers, {data.period.month} (places gained or lost)", 120 + 26 * len(rows),
                   xaxis_title="previous rank − rank", margin={"l": 230, "r": 40, "t": 50, "b": 50})


def monthly_trends(data: PeriodData, level: str) -> go.Figure | None:
    """Monthly 766 totals of the month's units: as reported (solid) and the back-cast series of
    today's units before the reorganisation (dotted), a line where the units' validity starts."""
    current = {r["unit_code"]: r["total_score"] for r in data["ranking_month"].dicts() if r["unit_level"] == level}
    if not current:
        return None
    series: dict[tuple[str, bool], list[dict]] = defaultdict(list)
    names: dict[str, str] = {}
    starts: set[dt.date] = set()
    for r in data["service_history"].dicts():
        if r["unit_level"] == level and r["unit_code"] in current:
            series[(r["unit_code"], r["is_backcast"])].append(r)
            names[r["unit_code"]] = r["unit_name"] or r["unit_code"]
            if not r["is_backcast"] and r["unit_valid_from"]:
                starts.add(r["unit_valid_from"])
    valid_from = {code: max((r["unit_valid_from"] for r in series.get((code, False), []) if r["unit_valid_from"]),
                            default=None) for code in names}
    # the back-cast line where it is the only series of today's unit: the months before its
    # validity and the first month of it (where the two lines join); later months are the same rows
    for (code, backcast), rows in list(series.items()):
        if backcast and valid_from.get(code):
            kept = [r for r in rows if r["period_month"] <= valid_from[code]]
            if len(kept) > 1:
                series[(code, backcast)] = kept
            else:
                del series[(code, backcast)]
    shown = _extremes(list(current.items()))
    fig = go.Figure()
    colours = {code: UNIT_COLOURS[i % len(UNIT_COLOURS)] for i, code in enumerate(sorted(names))}
    # the units shown first: the top of the legend (all a printed page keeps of a long legend)
    for (code, backcast), rows in sorted(series.items(), key=lambda kv: (kv[0][0] not in shown, kv[0])):
        fig.add_trace(go.Scatter(
            x=[r["period_month"] for r in rows], y=[r["total_score"] for r in rows], mode="lines+markers",
            name=f"{names[code]}{' (back-cast)' if backcast else ''}", legendgroup=code,
            line={"dash": "dot" if backcast else "solid", "width": 1.5 if backcast else 2.2, "color": colours[code]},
            visible=True if code in shown else "legendonly"))
    first = min((r["period_month"] for rows in series.values() for r in rows), default=None)
    for start in sorted(s for s in starts if first and s > first):
        fig.add_vline(x=start.isoformat(), line_dash="dash", line_color="#888")
        fig.add_annotation(x=start.isoformat(), y=1.02, yref="paper", showarrow=False,
                           text=f"units valid from {start:%Y-%m} (before: back-cast, dotted)", font={"size": 11})
    return _layout(fig, f"Monthly 766 scores, {PLURAL.get(level, level)} (dotted: back-cast to today's units)", 480,
                   yaxis_title="score", xaxis_title="month")


def dti_trends(data: PeriodData, level: str = "province") -> go.Figure | None:
    rows = [r for r in data["dti_history"].dicts() if r["level"] == level]
    if not rows:
        return None
    latest = max(r["year"] for r in rows)
    shown = _extremes([(r["unit_code"], r["dti_value"]) for r in rows if r["year"] == latest])
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_unit[r["unit_code"]].append(r)
    fig = go.Figure()
    for code, unit_rows in sorted(by_unit.items(), key=lambda kv: (kv[0] not in shown, kv[0])):
        fig.add_trace(go.Scatter(x=[str(r["year"]) for r in unit_rows], y=[r["dti_value"] for r in unit_rows],
                                 mode="lines+markers", name=unit_rows[-1]["unit_name"] or code,
                                 visible=True if code in shown else "legendonly"))
    return _layout(fig, f"DTI values by year, {PLURAL.get(level, level)}", 420, yaxis_title="DTI (0–1)",
                   xaxis={"type": "category", "categoryorder": "category ascending"})


def kpi_status(data: PeriodData) -> go.Figure | None:
    rows = data["kpi_progress"].dicts() + data["national_scorecard"].dicts()
    if not rows:
        return None
    levels = sorted({r["level"] for r in rows})
    counts: dict[tuple[str, str], int] = defaultdict(int)
    names = {}
    for r in rows:
        counts[(r["status_code"], r["level"])] += 1
        names[r["status_code"]] = r["status_name_vi"] or r["status_code"]
    fig = go.Figure()
    for status in [s for s in STATUS_COLOURS if s in names] + sorted(s for s in names if s not in STATUS_COLOURS):
        fig.add_trace(go.Bar(x=levels, y=[counts.get((status, lv), 0) for lv in levels], name=names[status],
                             marker_color=STATUS_COLOURS.get(status, "#444")))
    return _layout(fig, f"KPI targets by status, as of {data.period.kpi_as_of}", 360, barmode="stack",
                   yaxis_title="KPI targets")


def kpi_gaps(data: PeriodData) -> go.Figure | None:
    """How far each national KPI is from its nearest target (the scorecard's gap ÷ |target|)."""
    rows = [r for r in data["national_scorecard"].dicts() if r["target_order"] == 1 and r["normalised_gap"] is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: (r["normalised_gap"], r["kpi_code"], r["series"] or ""))
    labels = [f"{r['kpi_code']} {r['series'] or ''} → {r['target_year']}" for r in rows]
    fig = go.Figure(go.Bar(
        x=[r["normalised_gap"] for r in rows], y=labels, orientation="h", name="gap ÷ target",
        marker_color=[STATUS_COLOURS.get(r["status_code"], "#444") for r in rows],
        customdata=[[r["name_vi"], r["status_name_vi"], r["latest_value"], r["target_value"], r["projection"]] for r in rows],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}: latest %{customdata[2]}, target %{customdata[3]}, "
                      "projection %{customdata[4]}<extra></extra>"))
    return _layout(fig, "National KPIs: gap to the nearest target (colour: status)", 140 + 22 * len(rows),
                   xaxis={"tickformat": ".0%", "title": "gap ÷ target"}, margin={"l": 200, "r": 20, "t": 50, "b": 50})


def international_ranks(data: PeriodData) -> go.Figure | None:
    rows = [r for r in data["international"].dicts() if r["is_home_country"] and r["world_rank"] is not None]
    if not rows:
        return None
    by_index: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["index_code"], r["edition"])):
        by_index[r["index_code"]].append(r)
    fig = go.Figure()
    for index, index_rows in by_index.items():
        fig.add_trace(go.Scatter(x=[str(r["edition"]) for r in index_rows], y=[r["world_rank"] for r in index_rows],
                                 mode="lines+markers", name=index))
    return _layout(fig, "Viet Nam's world rank by edition (lower is better)", 380,
                   yaxis={"autorange": "reversed", "title": "world rank"},
                   xaxis={"type": "category", "categoryorder": "category ascending"})


def task_completion(data: PeriodData) -> go.Figure | None:
    rows = data["task_status"].dicts()
    if not rows:
        return None
    labels = [r["group_name"] or r["unit_code"] for r in rows]
    fig = go.Figure()
    for column, name, colour in TASK_PARTS:
        fig.add_trace(go.Bar(y=labels, x=[r[column] or 0 for r in rows], name=name, orientation="h",
                             marker_color=colour))
    return _layout(fig, f"Tasks per agency, {data.period.month} (lowest completion first)", 140 + 18 * len(rows),
                   barmode="stack", xaxis_title="tasks", yaxis={"autorange": "reversed"},
                   margin={"l": 200, "r": 20, "t": 50, "b": 50})


def rejections_by_rule(data: PeriodData) -> go.Figure | None:
    rows = data["quality_by_rule"].dicts()
    if not rows:
        return None
    fig = go.Figure(go.Bar(x=[r["rows_rejected"] for r in rows], y=[f"{r['extract_kind']}: {r['rule']}" for r in rows],
                           orientation="h", marker_color="#c62828", name="rows rejected"))
    return _layout(fig, f"Rows rejected by rule, {data.period.month}", 120 + 26 * len(rows),
                   yaxis={"autorange": "reversed"}, margin={"l": 280, "r": 20, "t": 50, "b": 50})


def agency_spread(data: PeriodData) -> go.Figure | None:
    """Per unit, its agencies' share of the applicable points, one box per agency level: the low
    outliers are the agencies that pull it down."""
    rows = [r for r in data["agency_ranking"].dicts() if r["score_percent_of_applicable"] is not None]
    if not rows:
        return None
    units = sorted({(r["parent_unit_level"] != "province", r["unit_rank"] or 10**6, r["parent_unit_code"],
                     r["parent_unit_name"] or r["parent_unit_code"]) for r in rows})  # provinces first, by rank
    order = [name for *_, name in units]
    fig = go.Figure()
    for i, level in enumerate(sorted({r["agency_level"] for r in rows})):
        level_rows = [r for r in rows if r["agency_level"] == level]
        fig.add_trace(go.Box(
            x=[r["parent_unit_name"] or r["parent_unit_code"] for r in level_rows],
            y=[r["score_percent_of_applicable"] for r in level_rows], name=level, boxpoints="outliers",
            text=[r["agency_name"] or r["agency_code"] for r in level_rows], marker_color=GROUP_COLOURS[i % len(GROUP_COLOURS)]))
    return _layout(fig, f"Handling agencies' share of the applicable points per unit, {data.period.month}", 480,
                   boxmode="group", yaxis_title="% of applicable points",
                   xaxis={"tickangle": -60, "categoryorder": "array", "categoryarray": order})
