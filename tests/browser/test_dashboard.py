"""The dashboard in headless Chromium (Debian's, as in test_widget.py): the API alone on a free port (uvicorn in
a thread, real knowledge index), a month of counts seeded into its database. Screenshot: var/screenshots/."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from api.main import create_app
from knowledge.outcomes import OUTCOMES, OutcomeStore, TurnCount
from tests.browser.axe import assert_accessible
from tests.browser.widget import SHOTS
from tests.fakes import api_settings
from tests.stack import free_port

pytestmark = [pytest.mark.browser]
TOKEN = "browser-test-admin-token-" + "x" * 16


@pytest.fixture
def api_url(tmp_path: Path, knowledge):
    settings = api_settings(tmp_path / "data", admin_token=TOKEN)
    store = OutcomeStore.open(settings.database_path)
    today = datetime.now(UTC).date()
    for n in range(30):
        for i, outcome in enumerate(OUTCOMES):
            for channel, locale in (("web", "de"), ("telegram", "ar"), ("whatsapp", "uk")):
                turns = (n * 7 + i * 3 + len(channel)) % 9 + 1
                topic = "kita.costs" if outcome == "answered" else ""
                store.add(TurnCount(today - timedelta(days=n), "demo", locale, channel, topic, outcome, turns, 1))
    store.close()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, knowledge), port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_dashboard_renders_charts_tables_and_works_by_keyboard(browser: Browser, api_url: str):
    refused = httpx.get(api_url + "/dashboard")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    credentials = {"username": "admin", "password": TOKEN}
    context = browser.new_context(http_credentials=credentials, locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        assert page.goto(api_url + "/dashboard?tenant=demo").status == 200
        expect(page.locator("html")).to_have_attribute("lang", "de")
        charts = page.locator("svg[data-chart]")
        expect(charts).to_have_count(3)
        for i in range(3):
            chart = charts.nth(i)
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
            assert chart.locator("rect").count() >= 30  # a bar per day and series
        expect(page.get_by_role("img", name="Nachrichten nach Kanal", exact=False)).to_be_visible()
        assert_accessible(page, "dashboard, German")

        # Every chart has its table: open the first by keyboard.
        page.keyboard.press("Tab")
        expect(page.locator(".skip")).to_be_focused()
        summary = page.locator("summary").first
        summary.focus()
        page.keyboard.press("Enter")
        table = page.locator("details").first.locator("table")
        expect(table).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(30)

        # The form switches the language and keeps the tenant.
        page.get_by_label("Sprache", exact=True).select_option("en")
        page.get_by_role("button", name="Anzeigen").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Turns by channel")).to_be_visible()
        assert_accessible(page, "dashboard, English, a table open")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors
