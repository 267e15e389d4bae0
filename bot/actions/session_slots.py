"""Runs on every user turn (custom slot mappings): keep the session's locale and tenant up to date."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.runtime import services
from bot.session import choose_locale, message_metadata


class ValidateSlotMappings(ValidationAction):
    """``action_validate_slot_mappings``: fills the ``custom`` slots from the message metadata."""

    async def extract_locale(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"locale": choose_locale(tracker.get_slot("locale"), message_metadata(tracker.latest_message))}

    async def extract_tenant(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        requested = message_metadata(tracker.latest_message).get("tenant")
        if requested and requested in services().knowledge.tenants:
            return {"tenant": requested}
        return {}
