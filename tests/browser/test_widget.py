"""The web widget in headless Chromium against the real product (Rasa, action server, API from ``stack``).

Uses Debian's Chromium (``make browser``), never a downloaded browser. Screenshots go to var/screenshots/.
A few tests replace the chat response with page.route to check rendering and error handling exactly.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.widget import (
    ARABIC,
    HOME_MESSAGES,
    QUESTION_AR,
    QUESTION_DE,
    Widget,
    assert_fits,
    assert_touch_targets,
    screenshot,
    texts,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def assert_https_sources(answer: Locator) -> None:
    links = answer.locator(".src a")
    assert links.count() >= 1, "the answer has no source links"
    for i in range(links.count()):
        link = links.nth(i)
        assert link.get_attribute("href").startswith("https://")
        assert link.get_attribute("target") == "_blank"
        assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}


def fake_chat(page: Page, *bodies: dict, status: int = 200) -> list[dict]:
    """Answer POST /api/v1/chat with ``bodies`` in turn (the last one repeats); returns the requests sent."""
    sent: list[dict] = []

    def handle(route):
        sent.append(route.request.post_data_json)
        body = bodies[min(len(sent), len(bodies)) - 1]
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    page.route("**/api/v1/chat", handle)
    return sent


def reply(*messages: dict, locale: str = "de", degraded: bool = False) -> dict:
    full = [{"buttons": [], "sources": [], "entry_id": None, **m} for m in messages]
    return {"session_id": "x", "locale": locale, "messages": full, "handover": False, "degraded": degraded}


# ---- the real product ---------------------------------------------------------------------------------------------


def test_german_question_gets_an_answer_with_sources_and_buttons(make_page, stack):
    page = make_page("/")
    w = Widget(page)
    w.home()
    expect(w.log).to_have_attribute("role", "log")
    expect(w.log).to_have_attribute("aria-live", "polite")
    expect(w.panel).to_have_attribute("lang", "de")
    expect(w.panel).to_have_attribute("dir", "ltr")

    answer = w.ask(QUESTION_DE)

    expect(w.user.last).to_contain_text(QUESTION_DE)
    expect(answer).to_contain_text("Anmeldung")
    assert_https_sources(answer)
    expect(answer.locator(".srch")).to_have_text(texts(stack, "de")["sources"])
    buttons = answer.locator(".qr button")
    assert buttons.count() >= 1
    expect(buttons.first).to_be_visible()
    # The Markdown became elements: a bold title and a numbered list with a nested bullet list.
    expect(answer.locator(".txt strong").first).to_be_visible()
    assert answer.locator(".txt ol > li").count() >= 3
    assert answer.locator(".txt ol li ul li").count() >= 2
    assert "**" not in answer.locator(".txt").inner_text()
    screenshot(page, "desktop-ltr")


def test_arabic_switches_to_rtl_and_answers_in_arabic(make_page, stack):
    page = make_page("/")
    w = Widget(page)
    w.home()
    placeholder_de = w.input.get_attribute("placeholder")
    arabic = texts(stack, "ar")

    w.select.select_option("ar")
    expect(w.home()).to_have_attribute("lang", "ar")  # untouched: the first screen again, in Arabic

    expect(w.panel).to_have_attribute("dir", "rtl")
    expect(w.panel).to_have_attribute("lang", "ar")
    expect(w.input).to_have_attribute("placeholder", arabic["placeholder"])
    with page.expect_request("**/api/v1/chat") as request:
        answer = w.ask(QUESTION_AR)
    assert request.value.post_data_json["locale"] == "ar"
    assert ARABIC.search(answer.inner_text()), answer.inner_text()
    assert_https_sources(answer)
    expect(answer).to_have_attribute("lang", "ar")

    # The layout really mirrors: the user's bubble sits at the left edge, the bot's at the right edge.
    log, user, bot = w.log.bounding_box(), w.user.last.bounding_box(), answer.bounding_box()
    assert user["x"] - log["x"] < 40, (log, user)
    assert (log["x"] + log["width"]) - (bot["x"] + bot["width"]) < 40, (log, bot)
    assert w.input.evaluate("e => getComputedStyle(e).direction") == "rtl"
    screenshot(page, "desktop-rtl")
    assert arabic["placeholder"] != placeholder_de, (
        "the placeholder did not change: /api/v1/texts?locale=ar returns the same text as for German "
        f"({arabic['placeholder']!r}); the widget labels are not translated in locales/ar"
    )


def test_quick_reply_button_sends_its_payload_and_shows_its_title(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    answer = w.ask(QUESTION_DE)
    button = answer.locator(".qr button").first
    title = button.inner_text()
    before = w.bot.count()

    with page.expect_request("**/api/v1/chat") as request:
        button.click()
    new = w.wait_answer(before)

    assert request.value.post_data_json["message"].startswith("/"), request.value.post_data_json
    expect(w.user.last).to_contain_text(title)
    assert "/ask_entry" not in w.user.last.inner_text()
    assert len(new.locator(".txt").inner_text()) > 20


def test_keyboard_tab_from_picker_to_input_and_enter_sends(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    w.select.focus()
    for _ in range(30):  # past the first screen's buttons
        page.keyboard.press("Tab")
        if w.focused().startswith("INPUT"):
            break
    expect(w.input).to_be_focused()
    outline = w.input.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "no visible focus ring on the input"

    page.keyboard.type(QUESTION_DE)
    before = w.bot.count()
    page.keyboard.press("Enter")

    answer = w.wait_answer(before)
    expect(answer).to_contain_text("Anmeldung")
    expect(w.input).to_have_value("")


def test_example_page_launcher_opens_and_escape_closes(make_page, stack):
    page = make_page("/example")
    expect(page.locator("pre code")).to_contain_text('data-tenant="demo"')
    expect(page.locator("pre code")).to_contain_text(f"{stack.api_url}/widget.js")
    w = Widget(page)
    launcher = w.launcher
    expect(launcher).to_have_attribute("aria-expanded", "false")
    controls = launcher.get_attribute("aria-controls")
    assert controls
    expect(w.panel).to_have_count(0)  # created only when opened

    launcher.click()
    panel = w.find(f"#{controls}")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(panel).to_have_attribute("role", "dialog")
    expect(w.input).to_be_focused()

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert w.focused().startswith("BUTTON.launcher"), w.focused()

    page.keyboard.press("Enter")  # the focused launcher opens it again from the keyboard
    expect(panel).to_be_visible()
    w.home()
    w.ask(QUESTION_DE)
    screenshot(page, "desktop-example-open")


def test_reload_restores_the_conversation(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    w.ask(QUESTION_DE)
    w.select.select_option("en")
    expect(w.panel).to_have_attribute("lang", "en")
    messages = w.messages.all_inner_texts()
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('lotse:demo')).id")

    page.reload()

    expect(w.messages).to_have_count(len(messages))
    assert w.messages.all_inner_texts() == messages
    assert_https_sources(w.bot.nth(HOME_MESSAGES))
    assert w.bot.nth(HOME_MESSAGES).locator(".qr button").count() >= 1
    expect(w.panel).to_have_attribute("lang", "en")
    expect(w.select).to_have_value("en")
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('lotse:demo')).id") == session
    # The same session continues on the server: a follow-up turn works.
    w.ask("Danke")

    w.find("button.new").click()
    w.home()  # a new conversation starts on the first screen
    expect(w.user).to_have_count(0)
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('lotse:demo')).id") != session
    page.reload()
    expect(w.input).to_be_visible()
    expect(w.messages).to_have_count(HOME_MESSAGES)
    expect(w.user).to_have_count(0)


def test_locale_auto_follows_the_browser_language(make_page):
    page = make_page("/example", locale="uk-UA")
    w = Widget(page)
    w.launcher.click()
    expect(w.panel).to_have_attribute("lang", "uk")
    expect(w.select).to_have_value("uk")
    expect(w.select.locator("option[value=ar]")).to_have_text("العربية")  # endonyms from /api/v1/locales


def test_mobile_layout_ltr_and_rtl(make_page):
    page = make_page("/", width=360, height=740)
    w = Widget(page)
    w.home()
    w.ask(QUESTION_DE)
    assert_fits(page, 360)
    assert_touch_targets(w)
    screenshot(page, "mobile-ltr")
    w.select.select_option("ar")
    expect(w.panel).to_have_attribute("dir", "rtl")
    w.ask(QUESTION_AR)
    assert_fits(page, 360)
    screenshot(page, "mobile-rtl")
    page.set_viewport_size({"width": 320, "height": 640})
    assert_fits(page, 320)


def test_floating_panel_on_a_small_phone(make_page):
    page = make_page("/example", width=320, height=640, locale="ar")
    w = Widget(page)
    w.launcher.click()
    expect(w.panel).to_have_attribute("dir", "rtl")
    w.home()
    w.ask(QUESTION_AR)
    box = w.panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert_fits(page, 320)
    assert_touch_targets(w)
    screenshot(page, "mobile-example-rtl")
    w.find("button.x").click()
    expect(w.panel).to_be_hidden()
    assert w.focused().startswith("BUTTON.launcher")


# ---- exact rendering and error handling (chat responses replaced in the browser) ----------------------------------

EVIL = '<img src=x onerror="window.__xss=1">**bold** https://example.org'


def test_safe_rendering_of_bot_and_user_text(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    fake_chat(
        page,
        reply(
            {
                "text": EVIL,
                "buttons": [{"title": '<b onclick="window.__xss=2">x</b>', "payload": "/x"}],
                "sources": [
                    {"title": "<script>window.__xss=3</script>", "url": "javascript:window.__xss=4"},
                    {"title": "Amt", "url": "https://example.org/amt"},
                ],
            }
        ),
    )

    answer = w.ask('<img src=y onerror="window.__xss=5">')

    assert w.shadow("return root.querySelectorAll('img, script, b').length;") == 0
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    assert page.evaluate("() => window.__xss") is None
    expect(w.user.last).to_contain_text('<img src=y onerror="window.__xss=5">')
    expect(answer.locator(".txt")).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(answer.locator(".txt strong")).to_have_text("bold")
    link = answer.locator(".txt a")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://example.org")
    expect(link).to_have_text("https://example.org")
    expect(answer.locator(".qr button")).to_have_text('<b onclick="window.__xss=2">x</b>')
    # Only https:// sources become links; the others stay text.
    expect(answer.locator(".src a")).to_have_count(1)
    expect(answer.locator(".src")).to_contain_text("<script>window.__xss=3</script>")
    before = w.bot.count()
    answer.locator(".qr button").click()
    w.wait_answer(before)
    assert page.evaluate("() => window.__xss") is None


def test_markdown_subset(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    text = (
        "First line\ncontinues.\n\n1. one\n2. _two_ see https://example.org/a.\n   - inner\n3. three\n\n"
        "- a\n- b\n\nsnake_case_name and http://plain.example stay text"
    )
    fake_chat(page, reply({"text": text}))
    answer = w.ask("markdown")
    body = answer.locator(".txt")
    expect(body.locator("p").first).to_have_text("First line continues.")
    expect(body.locator("ol > li")).to_have_count(3)
    expect(body.locator("ol li ul li")).to_have_text("inner")
    expect(body.locator("ol em")).to_have_text("two")
    expect(body.locator("ol a")).to_have_attribute("href", "https://example.org/a")
    expect(body.locator(":scope > ul > li")).to_have_count(2)
    expect(body.locator("p").last).to_have_text("snake_case_name and http://plain.example stay text")
    expect(body.locator("p").last.locator("a, em")).to_have_count(0)


def test_errors_are_shown_and_never_thrown(make_page, stack):
    page = make_page("/")
    w = Widget(page)
    w.home()
    labels = texts(stack, "de")

    page.route(
        "**/api/v1/chat",
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            headers={"Retry-After": "3"},
            body=json.dumps({"error": {"code": "rate_limited", "message": "Too many"}}),
        ),
    )
    w.input.fill("eins")
    w.input.press("Enter")
    expect(w.notes.last).to_have_text(labels["rate_limited"])
    expect(w.find(".typing")).to_have_count(0)

    page.unroute("**/api/v1/chat")
    page.route("**/api/v1/chat", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    w.input.fill("zwei")
    w.input.press("Enter")
    expect(w.notes.last).to_have_text(labels["error"])

    page.unroute("**/api/v1/chat")
    page.route("**/api/v1/chat", lambda route: route.abort("connectionrefused"))
    w.input.fill("drei")
    w.input.press("Enter")
    expect(w.notes).to_have_count(3)
    expect(w.notes.last).to_have_text(labels["error"])
    expect(w.notes.last).to_have_class(re.compile(r"\berr\b"))

    # Errors are not part of the stored conversation; the user's messages are.
    page.unroute("**/api/v1/chat")
    page.reload()
    expect(w.user).to_have_count(3)
    expect(w.notes).to_have_count(0)


def test_degraded_notice_once_and_response_locale_followed(make_page, stack):
    page = make_page("/")
    w = Widget(page)
    w.home()
    sent = fake_chat(page, reply({"text": "Hello"}, locale="en", degraded=True))
    w.ask("Bitte auf Englisch")
    expect(w.panel).to_have_attribute("lang", "en")
    expect(w.select).to_have_value("en")
    expect(w.input).to_have_attribute("placeholder", texts(stack, "en")["placeholder"])
    w.ask("again")
    assert [r["locale"] for r in sent] == ["de", "en"]
    assert all(r["tenant"] == "demo" and re.fullmatch(r"[0-9a-f]{32}", r["session_id"]) for r in sent)
    expect(w.notes).to_have_count(1)
    expect(w.notes).to_have_text(texts(stack, "en")["degraded"])


FAKE_SPEECH = """
window.__spoken = []; window.__cancelled = 0;
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
  getVoices: () => [{ lang: 'en-US', name: 'English voice' }, { lang: 'ar-SA', name: 'Arabic voice' }],
  speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name }),
  cancel: () => { window.__cancelled += 1; },
} });
"""


def test_read_aloud_uses_the_message_locale_and_toggles(make_page, stack):
    page = make_page("/", init_script=FAKE_SPEECH)
    w = Widget(page)
    w.home()
    w.select.select_option("ar")
    expect(w.home()).to_have_attribute("lang", "ar")
    fake_chat(page, reply({"text": "**مرحبا.** هذه إجابة."}, locale="ar"))
    answer = w.ask("سؤال")
    button = answer.locator("button.say")
    labels = texts(stack, "ar")
    expect(button).to_have_attribute("aria-label", labels["read_aloud"])

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_attribute("aria-label", labels["stop_reading"])
    spoken = page.evaluate("() => window.__spoken")
    assert spoken and all(s["lang"] == "ar" and s["voice"] == "Arabic voice" for s in spoken), spoken
    assert "مرحبا" in " ".join(s["text"] for s in spoken)

    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("() => window.__cancelled") >= 1


def test_read_aloud_hidden_without_speech_synthesis(make_page):
    page = make_page("/", init_script="delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;")
    assert page.evaluate("() => 'speechSynthesis' in window") is False
    w = Widget(page)
    w.home()
    fake_chat(page, reply({"text": "Hallo"}))
    answer = w.ask("Hallo")
    expect(answer.locator("button.say")).to_have_count(0)


CONTRAST = """(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  let bg = el, colour;
  while (bg) {
    const c = rgb(getComputedStyle(bg).backgroundColor);
    if (c.length === 3 || c[3] > 0) { colour = c; break; }
    bg = bg.parentElement || (bg.getRootNode().host);
  }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(colour || [255, 255, 255]);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_text_contrast_and_reduced_motion(make_page):
    page = make_page("/")
    page.emulate_media(reduced_motion="reduce")
    w = Widget(page)
    w.home()
    fake_chat(
        page,
        reply(
            {
                "text": "Text https://example.org/x",
                "buttons": [{"title": "Weiter", "payload": "/x"}],
                "sources": [{"title": "Quelle", "url": "https://example.org/q"}],
            }
        ),
    )
    answer = w.ask("Frage")
    page.route("**/api/v1/chat", lambda route: route.fulfill(status=429, body="{}"))
    w.input.fill("noch eine")
    w.input.press("Enter")
    expect(w.find(".log .note.err")).to_have_count(1)
    checked = {
        "user bubble": w.user.last,
        "bot text": answer.locator(".txt p"),
        "link": answer.locator(".txt a"),
        "source link": answer.locator(".src a"),
        "quick reply": answer.locator(".qr button"),
        "error": w.find(".log .note.err"),
        "title": w.find(".title"),
        "badge": w.find(".badge"),
        "language label": w.find(".bar label"),
        "new conversation": w.find("button.new"),
        "send": w.find("button.send"),
        "privacy": w.find(".foot p").first,
        "disclaimer": w.find(".foot p").last,
    }
    low = {name: round(loc.evaluate(CONTRAST), 2) for name, loc in checked.items()}
    assert all(ratio >= 4.5 for ratio in low.values()), low
    # With reduced motion, the typing dots do not animate.
    animation = w.shadow("""const i = document.createElement('i'), d = document.createElement('span');
        d.className = 'dots'; d.append(i); root.querySelector('.log').append(d);
        const name = getComputedStyle(i).animationName; d.remove(); return name;""")
    assert animation == "none", animation
