"""The headless-browser harness (tests/browser.py) itself: a local page with an inline script
renders; a request off the machine is blocked and reported; a console error and an uncaught error
are reported; the screenshot is a PNG."""

from __future__ import annotations

from tests.browser import open_offline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_local_page_renders_and_remote_requests_are_blocked(tmp_path):
    (tmp_path / "style.css").write_text("li { color: rgb(1, 2, 3); }", encoding="utf-8")
    page_file = tmp_path / "page.html"
    page_file.write_text(
        """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"></head>
        <body><ul id="list"></ul>
        <img src="http://example.invalid/logo.png" alt="remote">
        <script>
          for (const name of ["Hà Nội", "Đà Nẵng"]) {
            const li = document.createElement("li"); li.textContent = name;
            document.getElementById("list").appendChild(li);
          }
          console.error("planted console error");
          setTimeout(() => { document.body.dataset.ready = "yes"; }, 50);
        </script></body></html>""",
        encoding="utf-8",
    )
    shot = tmp_path / "out" / "page.png"
    with open_offline(page_file, shot, wait_for="body[data-ready=yes]") as page:
        assert page.url == page_file.resolve().as_uri()
        assert page.count("#list li") == 2
        assert page.texts("#list li") == ["Hà Nội", "Đà Nẵng"]
        # the local stylesheet loaded (a file:// request is not blocked)
        assert page.evaluate("getComputedStyle(document.querySelector('li')).color") == "rgb(1, 2, 3)"
        assert page.blocked_requests == ["http://example.invalid/logo.png"]
        assert len(page.failed_requests) == 1 and page.failed_requests[0].startswith("http://example.invalid/logo.png")
        assert any("planted console error" in m for m in page.console_errors)
    assert shot.read_bytes()[:8] == PNG_MAGIC


def test_missing_local_file_and_uncaught_error_are_reported(tmp_path):
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        """<!doctype html><html><body><p>x</p><script src="missing.js"></script>
        <script>undefinedFunction();</script></body></html>""",
        encoding="utf-8",
    )
    with open_offline(page_file, tmp_path / "broken.png") as page:
        assert page.blocked_requests == []
        assert any("missing.js" in f for f in page.failed_requests)
        assert any("undefinedFunction" in m for m in page.console_errors)
