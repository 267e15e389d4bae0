"""Handover end to end through the real product (API, Rasa, action server from ``tests.stack``) with Zammad,
Telegram and WhatsApp played by one real local HTTP server (``tests.fakes.PlatformServer``): the person asks
for a person, consents, a ticket is opened, a counsellor's reply arrives by webhook, and it reaches the widget
in headless Chromium (pushed, no reload), the Telegram chat and the WhatsApp chat."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from api.handover.flow import ACCEPT
from bot import texts
from tests import test_whatsapp as whatsapp
from tests.browser.widget import ROOT
from tests.fakes import SECRET, TOKEN, PlatformServer, signed_zammad, wait_until
from tests.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TENANT = "handover-demo"
ASK_FOR_A_PERSON = "ich will mit einer echten person reden"
TELEGRAM_SECRET = "tg-secret"


@pytest.fixture(scope="module")
def platforms():
    with PlatformServer() as server:
        yield server


@pytest.fixture(scope="module")
def handover_stack(tmp_path_factory: pytest.TempPathFactory, platforms: PlatformServer) -> Stack:
    """The product with one more tenant whose counsellors answer in the chat, at the fake Zammad."""
    workdir = tmp_path_factory.mktemp("handover-stack")
    tenants = workdir / "tenants"
    shutil.copytree(ROOT / "knowledge" / "tenants", tenants)
    demo = yaml.safe_load((tenants / "demo.yaml").read_text(encoding="utf-8"))
    demo |= {
        "id": TENANT,
        "live_handover": {
            "adapter": "zammad",
            "url": platforms.url,
            "token_env": "ZAMMAD_TOKEN",
            "webhook_secret_env": "ZAMMAD_SECRET",
            "group": "Lotse Beratung",
        },
    }
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    env = {
        "LOTSE_TENANTS_PATH": str(tenants),
        "ZAMMAD_TOKEN": TOKEN,
        "ZAMMAD_SECRET": SECRET,
        "LOTSE_TELEGRAM_BOT_TOKEN": "123:abc",
        "LOTSE_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "LOTSE_TELEGRAM_API_URL": platforms.url,
        "LOTSE_TELEGRAM_TENANT": TENANT,
        "LOTSE_WHATSAPP_ACCESS_TOKEN": whatsapp.ACCESS_TOKEN,
        "LOTSE_WHATSAPP_APP_SECRET": whatsapp.APP_SECRET,
        "LOTSE_WHATSAPP_VERIFY_TOKEN": whatsapp.VERIFY_TOKEN,
        "LOTSE_WHATSAPP_PHONE_NUMBER_ID": whatsapp.PHONE_ID,
        "LOTSE_WHATSAPP_API_URL": platforms.url,
        "LOTSE_WHATSAPP_TENANT": TENANT,
    }
    stack = start_stack(workdir, environment=env)
    yield stack
    stack.stop_all()


def counsellor_writes(stack: Stack, ticket_id: int, text: str, delivery: str, state: str = "open") -> dict:
    payload = {
        "ticket": {"id": ticket_id, "state": state},
        "article": {"body": f"<p>{text}</p>", "content_type": "text/html", "internal": False, "sender": "Agent"},
    }
    body, headers = signed_zammad(payload, delivery=delivery)
    response = httpx.post(f"{stack.api_url}/webhooks/zammad?tenant={TENANT}", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def ticket_for(platforms: PlatformServer, count: int) -> int:
    wait_until(lambda: len(platforms.zammad.tickets) >= count, timeout=60)
    return sorted(platforms.zammad.tickets)[count - 1]


def test_widget_handover_with_consent_and_a_pushed_counsellor_reply(
    handover_stack: Stack, platforms: PlatformServer, browser: Browser
):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page: Page = context.new_page()
    page.set_default_timeout(60_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    html = (
        "<!doctype html><title>Beratung</title>"
        f'<script src="/widget.js" data-tenant="{TENANT}" data-locale="de" data-open="true" defer></script>'
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.route(
        f"{handover_stack.api_url}/handover-page", lambda route: route.fulfill(content_type="text/html", body=html)
    )
    page.goto(f"{handover_stack.api_url}/handover-page")
    widget = page.locator("[data-lotse]")
    widget.locator("input.in").fill(ASK_FOR_A_PERSON)
    widget.locator("input.in").press("Enter")

    consent = widget.locator(".msg.bot button", has_text=texts.say("de", texts.CONNECT_ME))
    consent.click()
    ticket_id = ticket_for(platforms, 1)
    ticket = platforms.zammad.tickets[ticket_id]
    code = ticket["title"].split()[2]
    expect(widget.locator(".msg.bot", has_text=code)).to_have_count(1)
    assert ASK_FOR_A_PERSON in ticket["article"]["body"] and ticket["group"] == "Lotse Beratung"

    widget.locator("input.in").fill("Ich habe eine Frage zum Jobcenter")
    widget.locator("input.in").press("Enter")
    wait_until(lambda: any(a["body"] == "Ich habe eine Frage zum Jobcenter" for a in platforms.zammad.articles), 30)

    assert (
        counsellor_writes(handover_stack, ticket_id, "Guten Tag, hier ist die Beratung.", "e2e-1")["outcome"]
        == "delivered"
    )
    reply = widget.locator(".msg.bot", has_text="Guten Tag, hier ist die Beratung.")
    expect(reply).to_have_count(1, timeout=20_000)  # pushed: the page was not reloaded, nothing was typed
    assert any("/api/v1/chat/" in url and "/events?tenant=" in url for url in requested)  # server-sent events

    reply.locator("button", has_text=texts.say("de", texts.BACK_TO_LOTSE)).click()
    wait_until(lambda: (ticket_id, {"state": "closed"}) in platforms.zammad.updates, 30)
    assert not platforms.errors and not problems
    context.close()


def test_telegram_and_whatsapp_handover_through_the_real_stack(handover_stack: Stack, platforms: PlatformServer):
    api = handover_stack.api_url
    opened = len(platforms.zammad.tickets)

    def telegram(update_id: int, text: str) -> None:
        message = {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 777, "type": "private"},
            "text": text,
            "from": {"id": 777, "is_bot": False, "first_name": "A", "language_code": "de"},
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        httpx.post(f"{api}/webhooks/telegram", json={"update_id": update_id, "message": message}, headers=headers)

    def sent(path_part: str, text: str) -> bool:
        return any(
            path_part in path and text in json.dumps(body, ensure_ascii=False)
            for path, body in platforms.messenger_calls
        )

    telegram(9001, ASK_FOR_A_PERSON)
    wait_until(lambda: sent("/sendMessage", ACCEPT), timeout=60)
    telegram(9002, ACCEPT)
    telegram_ticket = ticket_for(platforms, opened + 1)
    counsellor_writes(handover_stack, telegram_ticket, "Antwort für Telegram", "e2e-tg")
    wait_until(lambda: sent("/sendMessage", "Antwort für Telegram"), timeout=30)

    def post_whatsapp(message: dict) -> None:
        body = json.dumps(whatsapp.notification(message)).encode()
        httpx.post(f"{api}/webhooks/whatsapp", content=body, headers=whatsapp.signed(body))

    post_whatsapp(whatsapp.text(ASK_FOR_A_PERSON, "wamid.e2e1"))
    wait_until(lambda: sent("/messages", ACCEPT), timeout=60)
    post_whatsapp(whatsapp.pressed(ACCEPT, message_id="wamid.e2e2"))
    whatsapp_ticket = ticket_for(platforms, opened + 2)
    counsellor_writes(handover_stack, whatsapp_ticket, "Antwort für WhatsApp", "e2e-wa")
    wait_until(lambda: sent("/messages", "Antwort für WhatsApp"), timeout=30)
    assert not platforms.errors
