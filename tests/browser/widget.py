"""The widget's parts inside its shadow root, and what the browser tests share about them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
ANSWER_TIMEOUT = 60_000
ARABIC = re.compile(r"[\u0600-\u06ff]")
QUESTION_DE = "Wie melde ich meine neue Wohnung an?"
QUESTION_AR = "كيف أسجل عنوان سكني الجديد؟"
SHADOW = "document.querySelector('[data-lotse]').shadowRoot"
HOME_MESSAGES = 2  # the first screen: the welcome with the categories, then the tenant's shortcuts


class Widget:
    """Locators inside the widget's shadow root (Playwright's CSS selectors pierce open shadow roots)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.host = page.locator("[data-lotse]")
        self.panel = self.find("section.panel")
        self.input = self.find("input.in")
        self.select = self.find(".bar select")
        self.log = self.find(".log")
        self.messages = self.find(".msg")
        self.bot = self.find(".msg.bot")
        self.menus = self.find(".msg.bot.menu")
        self.user = self.find(".msg.user")
        self.notes = self.find(".log .note")
        self.launcher = self.find("button.launcher")

    def find(self, selector: str) -> Locator:
        return self.host.locator(selector)

    def home(self) -> Locator:
        """Wait for the first screen the widget shows when it opens on an empty conversation."""
        expect(self.menus).to_have_count(HOME_MESSAGES, timeout=ANSWER_TIMEOUT)
        expect(self.find(".typing")).to_have_count(0)
        return self.menus.first

    def ask(self, text: str) -> Locator:
        before = self.bot.count()
        self.input.fill(text)
        self.input.press("Enter")
        return self.wait_answer(before)

    def tap(self, message: Locator, title: str | re.Pattern) -> Locator:
        """Press the button ``title`` under ``message``; the first bot message it brings."""
        before = self.bot.count()
        message.locator(".qr button", has_text=title).first.click()
        return self.wait_answer(before)

    def wait_answer(self, before: int) -> Locator:
        """The first bot message after the ``before`` ones, once the typing indicator is gone."""
        self.bot.nth(before).wait_for(timeout=ANSWER_TIMEOUT)
        expect(self.find(".typing")).to_have_count(0)
        return self.bot.nth(before)

    def shadow(self, js: str):
        return self.page.evaluate(f"() => {{ const root = {SHADOW}; {js} }}")

    def focused(self) -> str:
        return self.shadow("const a = root.activeElement; return a ? a.tagName + '.' + a.className : '';")


def texts(stack, locale: str) -> dict[str, str]:
    return httpx.get(f"{stack.api_url}/api/v1/texts", params={"locale": locale}, timeout=10).json()["texts"]


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def assert_fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"horizontal overflow at {width}px: {scroll_width}px"
    panel = Widget(page).panel.bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width + 0.5, panel


def assert_touch_targets(w: Widget) -> None:
    small = w.shadow("""return [...root.querySelectorAll('button, select, input')]
        .map(e => [e.className || e.tagName, e.getBoundingClientRect()])
        .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
        .map(([name, r]) => name + ' ' + r.width + 'x' + r.height);""")
    assert not small, f"touch targets smaller than 44x44 px: {small}"


def assert_nothing_cut_off(w: Widget) -> None:
    """WCAG 1.4.10 inside the widget: every visible part lies within the panel's width, no text overflows its
    box, and the input's placeholder is readable in full."""
    problems = w.shadow("""
        const panel = root.querySelector('section.panel').getBoundingClientRect();
        const out = [];
        for (const e of root.querySelectorAll('section.panel *')) {
          const r = e.getBoundingClientRect();
          if (r.width <= 1 || r.height <= 1 || e.closest('.sr')) continue;  // visually hidden labels
          const name = e.tagName + '.' + e.className;
          if (r.left < panel.left - 0.5 || r.right > panel.right + 0.5) out.push(name + ' outside the panel');
          const scrolls = getComputedStyle(e).overflowX === 'auto';
          if (e.scrollWidth > e.clientWidth + 1 && !scrolls) out.push(name + ' overflows');
        }
        const input = root.querySelector('input.in'), s = getComputedStyle(input);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
        const room = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        const needed = ctx.measureText(input.placeholder).width;
        if (needed > room) out.push(`placeholder "${input.placeholder}" needs ${needed}px, has ${room}px`);
        return out;""")
    assert not problems, problems
