"""The period report (`dxmon report`): one HTML file, opened in headless Chromium with the network
cut off (tests/browser.py), over a small published database with the marts' real column sets
(tests/publication/report_fixture.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publication.published_marts import MANIFEST_PATH
from publication.reports import build_period_report
from publication.reports.period_data import load_period
from tests.browser import open_offline
from tests.publication import report_fixture as fx


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("period_report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root / "data"))
        fx.write_published(root / "data" / "published")
        fx.write_audit_pack(root / "data")
        yield build_period_report(fx.MONTH, None, root / "data" / "reports" / "report-2025-08.html")


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    shot = tmp_path_factory.mktemp("screens") / "report.png"
    with open_offline(report, shot, wait_for=".js-plotly-plot .main-svg") as opened:
        yield opened


def test_the_fixture_schema_has_every_declared_column(definitions):
    """The fixture's tables hold every column the published marts' dbt YAML declares."""
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    declared = {n["name"]: set(n["columns"]) for n in manifest["nodes"].values()
                if n["resource_type"] == "model" and ((n["config"].get("meta") or {}).get("dxmon") or {}).get("published")}
    schema = {t: {c for c, _ in cols} for t, cols in fx.schema().items()}
    checked = sorted(set(declared) & set(schema))
    assert {"rpt_service_ranking_monthly", "fct_service_index_monthly", "rpt_kpi_progress", "rpt_dti_ranking",
            "rpt_task_status_by_agency", "rpt_agency_quality_scorecard"} <= set(checked)
    missing = {t: sorted(declared[t] - schema[t]) for t in checked if declared[t] - schema[t]}
    assert not missing, f"columns the marts declare but the fixture lacks (regenerate published_schema.json): {missing}"


def test_the_report_opens_offline_without_a_request_or_an_error(page):
    assert not page.blocked_requests and not page.failed_requests and not page.console_errors, page.problems()
    assert page.screenshot.is_file() and page.screenshot.stat().st_size > 20_000


def test_the_ranking_table_has_every_ranked_unit_with_its_change_and_a_rank_interval_hook(page):
    assert page.count("#tbl-ranking_month tbody tr") == 7  # 5 provinces and 2 ministries, as reported
    headers = page.texts("#tbl-ranking_month thead th")
    assert headers[:8] == ["Rank", "Level", "Change", "Code", "Unit", "Score", "Band", "Rank interval"]
    first = page.texts("#tbl-ranking_month tbody tr:first-child td")
    assert first[:6] == ["1", "province", "=", "79", "Thành phố Hồ Chí Minh", "82.51"]
    assert page.texts("#tbl-ranking_month td.chg-up") == ["▲1"]  # Huế: 3rd in July, 2nd in August
    assert page.texts("#tbl-ranking_month td.chg-down") == ["▼1"]  # Hà Nội: 2nd, then 3rd
    assert page.count("#tbl-ranking_month td.hook") == 7  # the rank interval arrives with issue 15


def test_charts_are_drawn_with_points(page):
    assert page.count(".js-plotly-plot .main-svg") >= 10
    assert page.evaluate("document.querySelectorAll('.js-plotly-plot')[0].data.length") == 2  # province, ministry
    points = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".map(p => p.data.reduce((n, t) => n + ((t.x || t.y || []).length), 0))")
    assert all(n > 0 for n in points), points
    # the monthly trend marks the back-cast series (dotted) across the reorganisation
    names = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(p => p.data.map(t => t.name))")
    assert "Thành phố Hà Nội (back-cast)" in names and "Thành phố Hà Nội" in names
    backcast_months = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(p => p.data)"
        ".find(t => t.name === 'Thành phố Hà Nội (back-cast)').x")
    assert backcast_months == ["2025-05-01", "2025-07-01"]  # before the unit existed, joined at its first month
    titles = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => p.layout.title.text)")
    assert "National KPIs: gap to the nearest target (colour: status)" in titles
    assert "Monthly 766 scores, ministries (dotted: back-cast to today's units)" in titles


def test_vietnamese_names_keep_their_diacritics_and_a_formula_stays_text(page):
    text = page.evaluate("document.body.innerText")
    for name in ("Thành phố Hồ Chí Minh", "Sở Tư pháp", "Phường Ba Đình", "Chệch hướng", "Tỷ trọng kinh tế số"):
        assert name in text
    assert fx.INJECTION in text  # shown as the text it is (escaped), not markup
    banner = page.texts(".banner")
    assert len(banner) == 1 and "published on an override" in banner[0] and "ovr-2025-08-fixture" in banner[0]
    assert page.count('a[href="http://x"]') == 0


def test_search_ignores_diacritics_and_sorting_orders_by_value(page):
    visible = ("Array.from(document.querySelectorAll('#tbl-ranking_month tbody tr'))"
               ".filter(r => r.style.display !== 'none').map(r => r.cells[3].textContent)")
    page.evaluate("(() => { const i = document.querySelector('input[data-table=\"tbl-ranking_month\"]');"
                  " i.value = 'ha noi'; i.dispatchEvent(new Event('input')); })()")
    assert page.evaluate(visible) == ["01"]
    page.evaluate("(() => { const i = document.querySelector('input[data-table=\"tbl-ranking_month\"]');"
                  " i.value = ''; i.dispatchEvent(new Event('input')); })()")
    page.evaluate("document.querySelector('#tbl-ranking_month th[data-col=\"total_score\"]').click()")
    assert page.evaluate(visible)[0] == "99"  # the lowest score first (50.25), by value not by text


def test_the_drilldown_periods_kpi_tasks_and_quality_sections(page):
    # the three lowest of each unit and rank group, the units in rank order: Sở Tài chính (1st of 4) is not one
    assert page.texts("#tbl-agency_drilldown tbody tr td:nth-child(10)") == [
        "Xã Bình Chánh", "Phường Ba Đình", "Phường Hoàn Kiếm", "Sở Tư pháp", "Sở Xây dựng", "Sở Y tế"]
    assert page.texts("#tbl-agency_drilldown tbody tr:nth-child(4) td")[10:13] == ["40.00", "57.14", "▼2"]
    assert page.count("#tbl-ranking_quarter tbody tr") == 7 and page.count("#tbl-ranking_ytd tbody tr") == 7
    statuses = page.texts("#tbl-national_scorecard .status")
    assert statuses == ["Chệch hướng", "Có khả năng đạt"]
    assert page.count("#tbl-task_status tbody tr") == 3 and page.count("#tbl-task_warnings tbody tr") == 1
    assert page.texts("#tbl-quality_by_rule tbody tr td:nth-child(2)")[:1] == ["duplicate_key"]  # 6, then 6, then 3
    withheld = page.texts("#tbl-withheld tbody tr td:nth-child(2)")
    assert withheld == ["2025-06", "2025-08"]


def test_one_self_contained_file_with_relative_audit_pack_links_and_a_print_stylesheet(report):
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html) and "<link" not in html and "@import" not in html
    assert html.count("* plotly.js v") == 1  # plotly.js inlined once
    assert html.count("Plotly.newPlot(") >= 10  # each figure drawn from its plotly figure's JSON
    assert "@page { size: A4" in html
    links = re.findall(r'<a class="pack" href="([^"]+)"', html)
    assert links and all(not link.startswith(("/", "http", "file:")) for link in links)
    for link in links:
        assert (report.parent / link).exists(), link
    assert "quality/scorecard.csv" in " ".join(links) and "README.txt" in " ".join(links)


def test_printing_gives_a4_pages(page, tmp_path):
    widest = "Math.max(...Array.from(document.querySelectorAll('.js-plotly-plot .main-svg')).map(s => s.width.baseVal.value))"
    assert page.evaluate(widest) > 1000  # the screen layout
    page.evaluate("(() => { const i = document.querySelector('input[data-table=\"tbl-ranking_month\"]');"
                  " i.value = 'ha noi'; i.dispatchEvent(new Event('input')); })()")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what the browser's Print does first
    assert page.evaluate(widest) <= 700  # every chart at the A4 text width
    hidden = "document.querySelectorAll('#tbl-ranking_month tbody tr[style*=\"none\"]').length"
    assert page.evaluate(hidden) == 0  # a search typed before printing does not hide rows on paper
    pdf = tmp_path / "report.pdf"
    page._page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)  # the harness's page
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert len(boxes) >= 3
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(595, 842)}  # A4 in points
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    page.evaluate("new Promise(r => setTimeout(r, 200))")
    assert page.evaluate(widest) > 1000  # back to the screen's width
    page.evaluate("(() => { const i = document.querySelector('input[data-table=\"tbl-ranking_month\"]');"
                  " i.value = ''; i.dispatchEvent(new Event('input')); })()")


def test_a_mart_not_yet_published_is_said_in_its_section(tmp_path, monkeypatch):
    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    tables = [t for t in fx.schema() if t not in ("rpt_service_ranking_period", "rpt_agency_ranking_monthly")]
    fx.write_published(tmp_path / "data" / "published", tables)
    data = load_period(fx.MONTH)
    assert data["ranking_quarter"].missing == "rpt_service_ranking_period not published yet"
    assert data["agency_drilldown"].missing == "rpt_agency_ranking_monthly not published yet"
    assert data["agency_ranking"].missing == "rpt_agency_ranking_monthly not published yet"
    assert len(data["ranking_month"].rows) == 7
    html = build_period_report(fx.MONTH, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Not in this publication: rpt_service_ranking_period not published yet." in html
    assert "No audit pack for 2025-08" in html
    tables = [t for t in fx.schema() if t != "dti_publication_status"]  # before the DTI has scores
    fx.write_published(tmp_path / "data" / "published", tables)
    assert load_period(fx.MONTH)["withheld"].dicts() == [
        {"index_name": "service_index", "period": "2025-06", "publication_basis": "withheld",
         "blocking_failures": "dossiers_volume: failed", "override_id": None},
        {"index_name": "service_index", "period": "2025-08", "publication_basis": "override",
         "blocking_failures": "dossiers_volume: failed", "override_id": "ovr-2025-08-fixture"}]


def test_a_publication_lacking_a_column_reports_the_rest(tmp_path, monkeypatch):
    """A publication written before a mart gained a column the report reads (here the agencies'
    share of applicable points): that table says so, every other one is reported."""
    import duckdb

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    database = fx.write_published(tmp_path / "data" / "published")
    with duckdb.connect(str(database)) as con:
        con.execute("ALTER TABLE rpt_agency_ranking_monthly DROP COLUMN score_percent_of_applicable")
    data = load_period(fx.MONTH)
    assert data["agency_drilldown"].missing.startswith("rpt_agency_ranking_monthly of this publication lacks a column")
    assert "score_percent_of_applicable" in data["agency_drilldown"].missing
    assert len(data["ranking_month"].rows) == 7 and len(data["kpi_progress"].rows) == 4


def test_the_rank_interval_column_shows_the_audit_s_interval_once_published(tmp_path, monkeypatch):
    """The hook for issue 15: when the ranking mart carries rank_interval_low / rank_interval_high,
    the "Rank interval" column shows them."""
    import duckdb

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    database = fx.write_published(tmp_path / "data" / "published")
    with duckdb.connect(str(database)) as con:
        con.execute("ALTER TABLE rpt_service_ranking_monthly ADD COLUMN rank_interval_low BIGINT")
        con.execute("ALTER TABLE rpt_service_ranking_monthly ADD COLUMN rank_interval_high BIGINT")
        con.execute("UPDATE rpt_service_ranking_monthly SET rank_interval_low = greatest(rank - 1, 1), "
                    "rank_interval_high = rank + 1 WHERE unit_code = '46'")
    rows = {r["unit_code"]: r["rank_interval"] for r in load_period(fx.MONTH)["ranking_month"].dicts()}
    assert rows["46"] == "1–3" and rows["79"] is None


def test_dxmon_report_command(tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("DXMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(tmp_path / "data" / "warehouse" / "dxmon.duckdb"))
    assert main(["report", "--month", "2025-08"]) == 2  # nothing published yet
    assert "nothing published yet" in capsys.readouterr().err
    fx.write_published(tmp_path / "data" / "published")
    assert main(["report", "--month", "2025-13"]) == 2
    assert main(["report", "--month", "2025-081"]) == 2
    assert main(["report", "--month", "2025-08", "--dti-year", "2022"]) == 0
    out = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == tmp_path / "data" / "reports" / "report-2025-08.html" and out.is_file()
    assert "DTI ranking, 2022" in out.read_text(encoding="utf-8")
    assert not (tmp_path / "data" / "warehouse").exists()  # the live warehouse is never opened
