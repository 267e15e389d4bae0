"""Browsing: the first screen and the topic menus (bot/menus.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import menus
from bot.actions.common import context, send


class ActionHome(Action):
    """A greeting, Telegram's /start, the widget opening or "All topics": welcome, categories, shortcuts."""

    def name(self) -> str:
        return "action_home"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, menus.home(context(tracker)))
        return []


class ActionBrowse(Action):
    """A category button: that category's topics, a page at a time."""

    def name(self) -> str:
        return "action_browse"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        category = next(tracker.get_latest_entity_values("category"), None)
        page = next(tracker.get_latest_entity_values("page"), None)
        send(dispatcher, menus.browse(context(tracker), category, page))
        return []
