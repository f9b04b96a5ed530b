"""GX Data Docs render offline: a real site (two suites validated, one failing, built by the
project's build_data_docs) opened in headless Chromium with the network cut off — the index and a
validation page load with no blocked or failed request and no console error, bootstrap-table
renders their results tables, a screenshot is written; no page of the site loads anything from
off the machine; the audit pack's copy of the site opens the same way from another folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import great_expectations as gx
import pandas as pd
import pytest

from expectations import data_docs_offline
from expectations.data_docs_offline import DataDocsAssetsError, ensure_assets, make_site_offline
from expectations.month_validation import build_data_docs, gx_context, run_suite
from expectations.suites import SuiteSpec
from publication.audit.pack import _copy_data_docs, data_docs_site
from tests.browser import open_offline

# rows bootstrap-table rendered (its wrapper exists only once its script ran)
RENDERED_ROWS = ".bootstrap-table .fixed-table-body table tbody tr"
REMOTE_LOAD = re.compile(
    r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']\s*(?:https?:)?//[^"']*|url\(\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE)


def spec(name: str, min_value: int) -> SuiteSpec:
    def build() -> gx.ExpectationSuite:
        suite = gx.ExpectationSuite(name=name)
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column="n", min_value=min_value, meta={"blocking": True, "why": "offline docs test"}))
        return suite
    return SuiteSpec(name=name, extract_kind="dossiers", factory=build)


def path_of(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One month's Data Docs in a data folder of its own (where the audit pack looks):
    (the site folder, suite name -> its validation page)."""
    root = tmp_path_factory.mktemp("offline_docs") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(root))
        context = gx_context(str(root / "quality"))
        frame = pd.DataFrame({"n": [1, 2, 3]})
        result_ids: dict = {}
        run_suite(context, spec("offline_docs_passing", 0), frame, "2025-07-r1", result_ids)
        run_suite(context, spec("offline_docs_failing", 2), frame, "2025-07-r1", result_ids)
        index, pages = build_data_docs(context, result_ids)
        assert path_of(index).parent == data_docs_site()
        yield path_of(index).parent, {name: path_of(url) for name, url in pages.items()}


def assert_clean(page) -> None:
    assert not page.blocked_requests and not page.failed_requests and not page.console_errors, page.problems()


def test_index_renders_its_results_table_offline(site, tmp_path):
    folder, _ = site
    shot = tmp_path / "screens" / "index.png"
    with open_offline(folder / "index.html", shot, wait_for=RENDERED_ROWS) as page:
        assert_clean(page)
        # two tabs' tables: the validation results (run 2025-07-r1 of each suite), the suites
        rows = page.texts(RENDERED_ROWS)
        assert page.count(RENDERED_ROWS) == 4
        runs = [r for r in rows if "2025-07-r1" in r]
        assert len(runs) == 2 and any("offline_docs_failing" in r for r in runs)
        assert any("offline_docs_passing" in r for r in runs)
        # the styles applied (Bootstrap's .btn), the icon font loaded from the site's own copy
        assert page.evaluate("getComputedStyle(document.querySelector('.btn')).display") == "inline-block"
        assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
        # one 'Clear Filters' button in sight: the other tab's is hidden by Bootstrap's tab styles
        # (the unstyled page shows both)
        assert page.evaluate("Array.from(document.querySelectorAll('button')).filter("
                             "b => b.textContent.includes('Clear Filters') && b.offsetParent !== null).length") == 1
    assert shot.stat().st_size > 10_000


def test_validation_page_renders_its_results_offline(site, tmp_path):
    _, pages = site
    shot = tmp_path / "failing.png"
    with open_offline(pages["offline_docs_failing"], shot, wait_for=RENDERED_ROWS) as page:
        assert_clean(page)
        assert page.count(RENDERED_ROWS) >= 1
        assert "values must be greater than or equal to" in " ".join(page.texts(RENDERED_ROWS))
        assert page.evaluate("typeof vegaEmbed") == "function"
    assert shot.stat().st_size > 10_000


def test_no_page_of_the_site_loads_anything_off_the_machine(site):
    folder, _ = site
    html_pages = sorted(folder.rglob("*.html"))
    assert len(html_pages) >= 5  # index, 2 suites, 2 validation pages
    for html_page in html_pages:
        text = html_page.read_text(encoding="utf-8")
        assert not REMOTE_LOAD.findall(text), (html_page, REMOTE_LOAD.findall(text))
        assert "integrity=" not in text  # SRI checked at rewrite time, then dropped (file:// has no CORS)
        # every local script, stylesheet and image the page names exists beside it
        for ref in re.findall(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']([^"'#]+)["']""", text):
            assert (html_page.parent / unquote(ref)).is_file(), (html_page, ref)
    # the site carries the local copies it points to
    assert (folder / "static" / "vendor" / "jquery@3.7.1" / "dist" / "jquery.min.js").is_file()


def test_the_audit_packs_copy_opens_offline_from_elsewhere(site, tmp_path):
    folder, pages = site
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXMON_DATA_DIR", str(folder.parents[4]))  # data/quality/gx/uncommitted/data_docs/local_site
        copied = _copy_data_docs("2025-07-", tmp_path / "pack" / "quality" / "data_docs")
    assert copied > 20
    moved = tmp_path / "elsewhere" / "data_docs"
    shutil.copytree(tmp_path / "pack" / "quality" / "data_docs", moved)
    shutil.rmtree(tmp_path / "pack")
    page_in_pack = moved / pages["offline_docs_failing"].relative_to(folder)
    with open_offline(page_in_pack, tmp_path / "pack_page.png", wait_for=RENDERED_ROWS) as page:
        assert_clean(page)
        assert page.count(RENDERED_ROWS) >= 1
    with open_offline(moved / "index.html", tmp_path / "pack_index.png", wait_for=RENDERED_ROWS) as page:
        assert_clean(page)


def test_a_page_with_an_unknown_remote_script_is_reported_and_a_wrong_hash_refused(tmp_path, monkeypatch):
    fake = tmp_path / "site"
    (fake / "static" / "images").mkdir(parents=True)
    (fake / "static" / "images" / "logo-long.png").write_bytes(b"png")
    (fake / "index.html").write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://cdn.example.invalid/new-lib.js"></script>'
        '<a href="https://greatexpectations.io">GX</a>', encoding="utf-8")
    report = make_site_offline(fake)
    text = (fake / "index.html").read_text(encoding="utf-8")
    assert 'src="static/vendor/jquery@3.7.1/dist/jquery.min.js"' in text
    assert 'href="https://greatexpectations.io"' in text  # a link, not a load: kept
    assert report.unresolved == {"index.html": ["https://cdn.example.invalid/new-lib.js"]}

    # an integrity hash the local copy does not have: refused, the page left as it was
    (fake / "sri.html").write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" integrity="sha384-AAAA" crossorigin="anonymous">'
        '</script>', encoding="utf-8")
    with pytest.raises(DataDocsAssetsError, match="integrity"):
        make_site_offline(fake)

    # a tarball whose sha256 is not the pinned one is refused (fetched into a folder of its own)
    pinned = json.loads(data_docs_offline.MANIFEST.read_text(encoding="utf-8"))
    jquery = next(p for p in pinned["packages"] if p["package"] == "jquery")
    jquery["sha256"] = "0" * 64
    pinned["packages"] = [jquery]
    monkeypatch.setattr(data_docs_offline, "manifest", lambda: pinned)
    with pytest.raises(DataDocsAssetsError, match="sha256"):
        ensure_assets(tmp_path / "vendor")
    assert not (tmp_path / "vendor" / "jquery@3.7.1").exists()
