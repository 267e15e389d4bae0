"""Helpers shared by the actions: the turn's context and sending ``BotMessage`` payloads."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.messages import BotMessage
from bot.responses import Context
from bot.runtime import services
from bot.session import choose_locale, message_metadata


def context(tracker: Tracker) -> Context:
    svc = services()
    metadata = message_metadata(tracker.latest_message)
    locale = choose_locale(tracker.get_slot("locale"), metadata)
    tenant = svc.tenant(tracker.get_slot("tenant") or metadata.get("tenant"))
    return Context(locale=locale, tenant=tenant, services=svc)


def send(dispatcher: CollectingDispatcher, message: BotMessage) -> None:
    """Every bot message travels as one custom payload (see bot/messages.py)."""
    dispatcher.utter_message(json_message=dict(message))
