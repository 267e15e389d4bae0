"""Browsing in the widget, small screens and automated WCAG checks, in headless Chromium against the real
product (Rasa, action server, API from ``stack``)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bot import texts as bot_texts
from knowledge.loader import load_catalogue
from tests.browser.axe import assert_accessible
from tests.browser.widget import (
    HOME_MESSAGES,
    QUESTION_AR,
    QUESTION_DE,
    ROOT,
    Widget,
    assert_fits,
    assert_nothing_cut_off,
    assert_touch_targets,
    screenshot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CATALOGUE = load_catalogue(ROOT / "knowledge" / "catalogue.yaml")
QUESTIONS = {"de": QUESTION_DE, "ar": QUESTION_AR, "uk": "Як зареєструвати нову адресу проживання?"}
ALL_LOCALES = ["de", "en", "ar", "uk", "ru", "tr", "fa", "ro", "bg"]


def say(locale: str, text: str, **values: str) -> str:
    return bot_texts.say(locale, text, **values)


def test_first_screen_then_category_topic_answer_back_and_all_topics_by_tapping(make_page):
    page = make_page("/")
    w = Widget(page)
    welcome = w.home()
    expect(welcome.locator(".txt")).to_have_text(say("de", bot_texts.WELCOME))
    names = [category.names["de"] for category in CATALOGUE.categories.values()]
    expect(welcome.locator(".qr button")).to_have_text(names)
    expect(w.menus.nth(1).locator(".qr button").first).to_have_text(say("de", bot_texts.TALK_TO_A_PERSON))

    kita = CATALOGUE.categories["kita"].names["de"]
    menu = w.tap(welcome, kita)
    expect(menu.locator(".txt")).to_have_text(say("de", bot_texts.CHOOSE_A_TOPIC, category=kita))
    expect(w.user.last).to_contain_text(kita)  # the pressed button's title, not its payload
    assert "/browse" not in w.user.last.inner_text()
    topic = menu.locator(".qr button").first.inner_text()

    answer = w.tap(menu, topic)
    expect(answer.locator(".txt strong").first).to_have_text(topic)
    assert answer.locator(".src a").count() >= 1
    expect(w.bot.last.locator(".qr button")).to_have_count(2)  # Did this help? yes / no
    back = w.tap(answer, say("de", bot_texts.BACK))
    expect(back.locator(".txt")).to_have_text(say("de", bot_texts.CHOOSE_A_TOPIC, category=kita))
    home = w.tap(back, say("de", bot_texts.ALL_TOPICS))
    expect(home.locator(".txt")).to_have_text(say("de", bot_texts.WELCOME))
    screenshot(page, "browse-desktop")


def test_the_first_screen_follows_the_language_picker_until_the_user_writes(make_page):
    page = make_page("/")
    w = Widget(page)
    w.home()
    w.select.select_option("uk")
    welcome = w.home()
    expect(welcome).to_have_attribute("lang", "uk")
    expect(welcome.locator(".txt")).to_have_text(say("uk", bot_texts.WELCOME))
    expect(w.messages).to_have_count(HOME_MESSAGES)
    w.ask("Як зареєструвати нову адресу проживання?")
    w.select.select_option("de")
    expect(w.panel).to_have_attribute("lang", "de")
    expect(w.user).to_have_count(1)  # once the user has written, the conversation stays


@pytest.mark.parametrize("width", [320, 360])
def test_small_screens_reflow_in_every_language(make_page, width):
    page = make_page("/", width=width, height=640)
    w = Widget(page)
    w.home()
    for locale in ALL_LOCALES:
        w.select.select_option(locale)
        expect(w.home()).to_have_attribute("lang", locale)
        assert_fits(page, width)
        assert_nothing_cut_off(w)
        assert_touch_targets(w)
    screenshot(page, f"first-screen-{width}-bg")


def test_a_browsed_answer_reflows_at_320_px_right_to_left(make_page):
    page = make_page("/example", width=320, height=640, locale="fa")
    w = Widget(page)
    w.launcher.click()
    welcome = w.home()
    expect(welcome).to_have_attribute("dir", "rtl")
    menu = w.tap(welcome, CATALOGUE.categories["recognition"].names["fa"])
    w.tap(menu, menu.locator(".qr button").first.inner_text())
    assert_fits(page, 320)
    assert_nothing_cut_off(w)
    assert_touch_targets(w)
    screenshot(page, "browse-320-rtl")


def assert_focus_never_under_the_launcher(page: Page, w: Widget) -> int:
    """Tab through the page's own links and controls; each focused one must lie clear of the launcher."""
    checked = 0
    for _ in range(40):
        page.keyboard.press("Tab")
        covered = page.evaluate("""() => {
            const a = document.activeElement;
            if (!a || a === document.body || a.matches('[data-lotse]')) return null;
            const launcher = document.querySelector('[data-lotse]').shadowRoot.querySelector('.launcher');
            const l = launcher.getBoundingClientRect(), r = a.getBoundingClientRect();
            const overlaps = r.right > l.left && r.left < l.right && r.bottom > l.top && r.top < l.bottom;
            return [a.outerHTML.slice(0, 80), overlaps];
        }""")
        if covered is None:
            continue
        checked += 1
        assert not covered[1], f"the launcher hides the focused {covered[0]}"
    return checked


@pytest.mark.parametrize("width, height", [(320, 568), (360, 640), (1280, 720)])
def test_the_launcher_never_hides_focused_page_content(make_page, width, height):
    page = make_page("/example", width=width, height=height)
    w = Widget(page)
    expect(w.launcher).to_be_visible()
    assert assert_focus_never_under_the_launcher(page, w) >= 3
    # The page's last lines can always scroll clear of the launcher.
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    launcher = w.launcher.bounding_box()
    last = page.locator("footer p").last.bounding_box()
    assert last["y"] + last["height"] <= launcher["y"], (last, launcher)


# ---- WCAG 2.x A/AA with axe-core: empty, after an answer, after browsing ------------------------------------


@pytest.mark.parametrize("locale", ["de", "ar", "uk"])
def test_demo_page_has_no_wcag_violations(make_page, locale):
    page = make_page("/", locale=locale)
    w = Widget(page)
    expect(w.home()).to_have_attribute("lang", locale)
    assert_accessible(page, f"demo page, {locale}, first screen")
    w.ask(QUESTIONS[locale])
    assert_accessible(page, f"demo page, {locale}, after an answer")
    menu = w.tap(w.menus.first, CATALOGUE.categories["work"].names[locale])
    w.tap(menu, menu.locator(".qr button").first.inner_text())
    assert_accessible(page, f"demo page, {locale}, after browsing to an answer")


@pytest.mark.parametrize("locale", ["de", "ar", "uk"])
def test_embed_example_has_no_wcag_violations(make_page, locale):
    page = make_page("/example", locale=locale, width=360, height=740)
    w = Widget(page)
    expect(w.launcher).to_be_visible()
    assert_accessible(page, f"embed example, {locale}, closed")
    w.launcher.click()
    expect(w.home()).to_have_attribute("lang", locale)
    assert_accessible(page, f"embed example, {locale}, first screen")
    w.tap(w.menus.first, CATALOGUE.categories["arrival"].names[locale])
    assert_accessible(page, f"embed example, {locale}, topic menu")
    w.ask(QUESTIONS[locale])
    assert_accessible(page, f"embed example, {locale}, after an answer")
