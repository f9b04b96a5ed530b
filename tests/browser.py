"""Open a local HTML file in headless Chromium with the network cut off, and say what happened.

    with open_offline(site / "index.html", tmp_path / "index.png", wait_for="table tbody tr") as page:
        assert not page.failed_requests and not page.console_errors
        assert page.count("table tbody tr") > 0

Playwright's Python package drives Debian's Chromium (`/usr/bin/chromium`, installed by
`make setup` when missing; `DXMON_CHROMIUM` names another binary); Playwright's own browser
download is never used. The browser context is offline and a route aborts every request whose URL
is not `file://` (recorded in `blocked_requests`): what a page needs must be on disk beside it.
`data:` and `blob:` URLs are the page's own bytes, not requests to anywhere: they load.

A plain module (no pytest plugin): tests import it. Without the browser it raises, it never skips:
a page that was not opened has not been shown to render.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# schemes that are the page's own bytes (inline images, fonts, generated blobs): not network
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium_path() -> str:
    path = os.environ.get("DXMON_CHROMIUM", CHROMIUM)
    if not Path(path).is_file():
        raise RuntimeError(
            f"no Chromium at {path}: `make setup` installs Debian's chromium package "
            "(apt-get install -y --no-install-recommends chromium); DXMON_CHROMIUM names another binary")
    return path


@dataclass
class OfflinePage:
    """What the page did while it loaded (and while the test used it) and how to query it."""

    url: str
    screenshot: Path
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    _page: Any = None

    def count(self, css: str) -> int:
        return self._page.locator(css).count()

    def texts(self, css: str) -> list[str]:
        return [t.strip() for t in self._page.locator(css).all_inner_texts()]

    def evaluate(self, js: str) -> Any:
        return self._page.evaluate(js)

    def problems(self) -> str:
        """Everything that went wrong, one line each (for assertion messages)."""
        lines = [f"blocked: {u}" for u in self.blocked_requests]
        lines += [f"failed: {u}" for u in self.failed_requests]
        lines += [f"console error: {m}" for m in self.console_errors]
        return "\n".join(lines) or "(none)"


@contextmanager
def open_offline(path: Path, screenshot: Path, wait_for: str | None = None, timeout_s: float = 30
                 ) -> Iterator[OfflinePage]:
    """Load `path` (a local HTML file) offline; wait for the `load` event, then for the CSS
    selector `wait_for` to be attached (when given), then write a full-page PNG to `screenshot`.
    A `wait_for` that never appears writes the screenshot anyway and raises AssertionError with
    the page's problems."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    timeout_ms = timeout_s * 1000
    page_info = OfflinePage(url=path.as_uri(), screenshot=screenshot)

    def on_route(route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            page_info.blocked_requests.append(url)
            route.abort("internetdisconnected")

    def on_failed(request) -> None:
        page_info.failed_requests.append(f"{request.url} ({request.failure})")

    def on_console(message) -> None:
        if message.type == "error":
            location = message.location or {}
            where = location.get("url", "")
            page_info.console_errors.append(f"{message.text} [{where}:{location.get('lineNumber', '')}]")

    def on_page_error(error) -> None:
        page_info.console_errors.append(f"uncaught: {error}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True,
            # root in CI and containers: Chromium's sandbox needs user namespaces it may not have
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            context.route("**/*", on_route)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            page.on("requestfailed", on_failed)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page_info._page = page
            page.goto(page_info.url, wait_until="load", timeout=timeout_ms)
            try:
                page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 5000))
            except PlaywrightError:
                pass  # a page that keeps a timer busy: `load` (and wait_for) say enough
            if wait_for:
                try:
                    page.wait_for_selector(wait_for, state="attached", timeout=timeout_ms)
                except PlaywrightError as exc:
                    page.screenshot(path=str(screenshot), full_page=True)
                    raise AssertionError(
                        f"{wait_for!r} never appeared in {page_info.url} (screenshot {screenshot}):\n"
                        f"{page_info.problems()}") from exc
            page.screenshot(path=str(screenshot), full_page=True)
            yield page_info
        finally:
            browser.close()
