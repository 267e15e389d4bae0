"""Browsing without typing, on every channel: the first screen and the topic menus.

``home``: a short welcome with the catalogue's categories as buttons, then the tenant's own shortcuts (its
local entries, a person to talk to, another language). ``browse``: one category's topics, the tenant's own
entries first, a page at a time. A topic button is an ``ask_entry`` payload that names its category, so the
answer (``bot/replies.py``, the same as for a typed question) gets "Back" and "All topics".

No menu has more than ``MAX_BUTTONS`` buttons: a WhatsApp list holds 10 rows.
"""

from __future__ import annotations

from bot import texts
from bot.context import Context
from bot.messages import BotMessage, ButtonPayload, bot_message, button, intent_payload
from knowledge.models import Catalogue
from knowledge.tenants import pick

__all__ = ["MAX_BUTTONS", "PAGE_SIZE", "browse", "home", "nav_buttons", "topic_entries"]

MAX_BUTTONS = 10
PAGE_SIZE = 7  # topics per page, leaving room for "More topics", "Back" and "All topics"


def _catalogue(c: Context) -> Catalogue | None:
    return c.knowledge.catalogue if c.knowledge is not None and c.knowledge.ready else None


def browse_payload(category: str, page: int = 1) -> str:
    return intent_payload("browse", category=category, **({"page": str(page)} if page > 1 else {}))


def home(c: Context) -> list[BotMessage]:
    """The first screen: on opening the widget, Telegram's /start, a greeting, or the "All topics" button."""
    catalogue = _catalogue(c)
    categories = catalogue.categories if catalogue else {}
    own = [e for category in categories for e in topic_entries(c, category) if catalogue and e not in catalogue.topics]
    shortcuts = [
        *c.entry_buttons(own)[: MAX_BUTTONS - 3],
        c.person_button(),
        *([button(c.say(texts.OPENING_HOURS_BUTTON), intent_payload("opening_hours"))] if _has_hours(c) else []),
        button("🌐 " + c.say(texts.CHANGE_LANGUAGE), intent_payload("change_language")),
    ]
    welcome = [button(pick(category.names, c.locale), browse_payload(key)) for key, category in categories.items()]
    return [
        bot_message(c.say(texts.WELCOME), c.locale, buttons=welcome, kind="menu"),
        bot_message(c.say(texts.ALSO_HERE), c.locale, buttons=shortcuts, kind="menu"),
    ]


def _has_hours(c: Context) -> bool:
    return c.tenant is not None and any(contact.hours for contact in c.tenant.contacts)


def topic_entries(c: Context, category: str) -> list[str]:
    """The entries of a category in catalogue order, the tenant's own versions of a topic first."""
    catalogue = _catalogue(c)
    if catalogue is None or c.knowledge is None:
        return []
    topics = [topic_id for topic_id, topic in catalogue.topics.items() if topic.category == category]
    shown = [entry for topic_id in topics for entry in c.knowledge.searcher.menu_entries(topic_id, c.tenant)]
    return [e for e in shown if e not in catalogue.topics] + [e for e in shown if e in catalogue.topics]


def browse(c: Context, category: str | None, page: str | int | None = 1) -> list[BotMessage]:
    """One page of a category's topics with "More topics", "Back" and "All topics"; the first screen for an
    unknown category."""
    catalogue = _catalogue(c)
    if catalogue is None or category not in catalogue.categories:
        return home(c)
    entries = topic_entries(c, category)
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    number = min(max(int(page) if str(page or "").isdigit() else 1, 1), pages)
    buttons = c.entry_buttons(entries[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], category=category)
    if number < pages:
        buttons.append(button(c.say(texts.MORE_TOPICS), browse_payload(category, number + 1)))
    if number > 1:
        buttons.append(button(c.say(texts.BACK), browse_payload(category, number - 1)))
    buttons.append(button(c.say(texts.ALL_TOPICS), intent_payload("home")))
    name = pick(catalogue.categories[category].names, c.locale)
    return [bot_message(c.say(texts.CHOOSE_A_TOPIC, category=name), c.locale, buttons=buttons, kind="menu")]


def nav_buttons(c: Context, category: str) -> list[ButtonPayload]:
    """Under an answer reached by browsing: back to its category, or to the first screen."""
    return [
        button(c.say(texts.BACK), browse_payload(category)),
        button(c.say(texts.ALL_TOPICS), intent_payload("home")),
    ]
