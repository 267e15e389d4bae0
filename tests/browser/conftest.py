"""The browser tests' fixtures: Debian's Chromium (``make browser``, never a browser downloaded by Playwright)
and pages of the running product (``stack``), each in a fresh context."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Browser:
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is not installed: run `make browser` (Debian package, no download by Playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def make_page(browser: Browser, stack):
    """Open a page of the running product in a fresh context (fresh sessionStorage); fail on uncaught errors."""
    contexts, problems = [], []

    def make(
        path: str = "/", *, width: int = 1280, height: int = 900, locale: str = "de-DE", init_script: str | None = None
    ) -> Page:
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on("console", lambda m: problems.append(m.text) if "Lotse widget" in m.text else None)
        page.goto(stack.api_url + path)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems
