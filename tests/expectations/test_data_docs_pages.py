"""Each GX asset check links to its own validation result page in Data Docs (not only to the
site index): the page is looked up from the result's identifier after the month's single
Data Docs build."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import great_expectations as gx
import pandas as pd

from expectations.month_validation import ExpectationOutcome, MonthValidation, docs_page_urls, gx_context, run_suite
from expectations.suites import SuiteSpec
from orchestration.service_index.assets import data_docs_metadata


def spec(name: str, min_value: int) -> SuiteSpec:
    def build() -> gx.ExpectationSuite:
        suite = gx.ExpectationSuite(name=name)
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column="n", min_value=min_value, meta={"blocking": True, "why": "test"}))
        return suite
    return SuiteSpec(name=name, extract_kind="dossiers", factory=build)


def test_each_suite_gets_the_page_of_its_own_result(tmp_path):
    context = gx_context(str(tmp_path / "quality"))
    frame = pd.DataFrame({"n": [1, 2, 3]})
    result_ids: dict = {}
    passing = run_suite(context, spec("docs_test_passing", 0), frame, "2025-07-r1", result_ids)
    failing = run_suite(context, spec("docs_test_failing", 2), frame, "2025-07-r1", result_ids)
    assert passing[0].success and not failing[0].success
    context.build_data_docs()

    pages = docs_page_urls(context, result_ids)
    assert set(pages) == {"docs_test_passing", "docs_test_failing"}
    for suite_name, url in pages.items():
        path = Path(unquote(urlparse(url).path))
        assert path.is_file() and path.suffix == ".html"
        # validations/<suite>/<run name>/<run time>/<batch>.html: this suite's result of this run
        assert f"/validations/{suite_name}/2025-07-r1/" in path.as_posix()
        assert suite_name in path.read_text(encoding="utf-8")

    # the asset check's metadata: its own page of the latest month, the index beside it
    outcome = ExpectationOutcome("docs_test_failing", "dossiers", "x", "n", True, False, None, 1, 3, None)
    index = context.get_docs_sites_urls()[0]["site_url"]
    june = MonthValidation("2025-06-01", "r0", {}, [outcome], docs_index=index,
                           docs_pages={"docs_test_failing": "file:///june.html"})
    july = MonthValidation("2025-07-01", "r1", {}, [outcome], docs_index=index, docs_pages=pages)
    metadata = data_docs_metadata("docs_test_failing", [june, july])
    assert metadata["data_docs"].url == pages["docs_test_failing"]
    assert metadata["data_docs_index"].url == index
    assert metadata["data_docs_pages"].data == {"2025-06": "file:///june.html", "2025-07": pages["docs_test_failing"]}
    # a suite without a known page falls back to the index
    assert data_docs_metadata("other_suite", [july])["data_docs"].url == index
