"""WCAG 2.x level A and AA checks of any page with axe-core, for the browser tests.

The axe engine is the ``axe.min.js`` that the ``axe-playwright-python`` package ships; it is injected into
the page, and the check asserts that running it fetched nothing from anywhere but the page's own server.
Use it on any page of the product: ``assert_accessible(page, "widget, German, after an answer")``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def assert_accessible(page: Page, label: str) -> dict:
    """Fail with axe's report on any violation of a WCAG 2.0-2.2 A/AA rule; returns axe's full result."""
    origin = urlsplit(page.url).netloc
    requests: list[str] = []

    def record(request) -> None:
        requests.append(request.url)

    page.on("request", record)
    try:
        results = AXE.run(
            page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
        )
    finally:
        page.remove_listener("request", record)
    foreign = [url for url in requests if urlsplit(url).netloc not in (origin, "")]
    assert not foreign, f"axe fetched from elsewhere: {foreign}"
    assert results.response["testEngine"]["name"] == "axe-core", results.response["testEngine"]
    assert results.violations_count == 0, f"{label}: {results.generate_report()}"
    return results.response
