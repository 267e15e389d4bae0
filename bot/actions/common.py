"""Helpers shared by the actions: the turn's context and sending ``BotMessage`` payloads."""

from __future__ import annotations

from collections.abc import Iterable

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.context import Context, context_for
from bot.messages import BotMessage, turn_metadata
from bot.runtime import services


def context(tracker: Tracker) -> Context:
    return context_for(tracker.slots, tracker.latest_message, services())


def send(dispatcher: CollectingDispatcher, *messages: BotMessage | Iterable[BotMessage]) -> None:
    """Every bot message travels as one custom payload (see bot/messages.py)."""
    for item in messages:
        for message in [item] if isinstance(item, dict) else item:
            dispatcher.utter_message(json_message=dict(message))


def opens_a_whatsapp_session(tracker: Tracker) -> bool:
    """The first message of a WhatsApp conversation (or of a new session after a long pause): WhatsApp has no
    start button, so whatever that message is, the first screen follows the reply."""
    users = sum(1 for event in tracker.events if event.get("event") == "user")
    return users == 1 and turn_metadata(tracker.latest_message).get("channel") == "whatsapp"
