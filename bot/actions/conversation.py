"""Language switch, handover to a person, feedback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import locales
from bot.actions.common import context, send
from bot.messages import bot_message, button, intent_payload
from bot.responses import Context
from knowledge import answers


class ActionChangeLanguage(Action):
    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        enabled = c.tenant.locales if c.tenant else list(locales.SUPPORTED)
        wanted = next(tracker.get_latest_entity_values("language"), None) or locales.find_language_name(
            tracker.latest_message.get("text") or ""
        )
        wanted = locales.normalize_code(wanted)
        if wanted in enabled:
            new = Context(locale=wanted, tenant=c.tenant, services=c.services)
            text = new._("OK, from now on I write in {language}. What would you like to know?").format(
                language=locales.info(wanted).name
            )
            send(dispatcher, bot_message(text, wanted, kind="notice"))
            return [SlotSet("locale", wanted), SlotSet("language", None)]
        buttons = [
            button(locales.info(code).name, intent_payload("change_language", language=code)) for code in enabled
        ]
        send(dispatcher, bot_message(c._("Which language would you like?"), c.locale, buttons=buttons, kind="notice"))
        return [SlotSet("language", None)]


class ActionHandover(Action):
    """The user wants a person: the tenant's counselling contacts, in the user's language."""

    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        send(
            dispatcher, bot_message(answers.contacts_text(c.tenant, c.locale), c.locale, kind="handover", handover=True)
        )
        return []


class ActionStoreFeedback(Action):
    """Stores "did this help?" with the entry, locale and tenant; never who gave it."""

    def name(self) -> str:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        entry_id = tracker.get_slot("last_entry_id")
        if entry_id:
            c.services.feedback.add_feedback(
                entry_id, c.locale, c.tenant.id if c.tenant else None, helpful, tracker.get_slot("last_question")
            )
        if helpful:
            send(dispatcher, bot_message(c._("Thank you for your feedback!"), c.locale, kind="notice"))
        else:
            text = c._("Thank you. I am sorry that this did not help. You can ask in other words, or talk to a person.")
            send(dispatcher, bot_message(text, c.locale, kind="notice", buttons=[c.person_button()]))
        return [SlotSet("last_entry_id", None)]
