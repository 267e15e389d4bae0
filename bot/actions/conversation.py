"""Language switch, handover to a person, opening hours, feedback."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import locales
from bot import replies, texts
from bot.actions.common import context, send
from bot.language import enabled_locales, requested_locale
from bot.messages import bot_message, button, intent_payload


class ActionChangeLanguage(Action):
    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        wanted = requested_locale(
            tracker.latest_message.get("text") or "", next(tracker.get_latest_entity_values("language"), None), c.tenant
        )
        if wanted:
            new = c.in_locale(wanted)
            send(dispatcher, bot_message(new.say(texts.WRITING_IN, language=locales.info(wanted).name), wanted))
            return [SlotSet("locale", wanted), SlotSet("language", None)]
        buttons = [
            button(locales.info(code).name, intent_payload("change_language", language=code))
            for code in enabled_locales(c.tenant)
        ]
        send(dispatcher, bot_message(c.say(texts.WHICH_LANGUAGE), c.locale, buttons=buttons, kind="notice"))
        return [SlotSet("language", None)]


class ActionHandover(Action):
    """The user wants a person: the tenant's counselling contacts, in the user's language."""

    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, replies.handover(context(tracker)))
        return []


class ActionOpeningHours(Action):
    """The first screen's shortcut: the tenant's opening hours."""

    def name(self) -> str:
        return "action_opening_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, replies.opening_hours(context(tracker)))
        return []


class ActionStoreFeedback(Action):
    """Stores "did this help?" with the entry, locale and tenant; never who gave it."""

    def name(self) -> str:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        entry_id = tracker.get_slot("last_entry_id")
        if entry_id and c.feedback is not None:
            await asyncio.to_thread(  # a database write: off the event loop
                c.feedback.add_feedback, entry_id, c.locale, c.tenant_id, helpful, tracker.get_slot("last_question")
            )
        send(dispatcher, replies.feedback_thanks(c, helpful))
        return [SlotSet("last_entry_id", None)]
