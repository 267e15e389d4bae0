"""Runs on every user turn (custom slot mappings): keep the session's locale and tenant up to date."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.language import session_locale
from bot.messages import turn_metadata
from bot.runtime import services
from knowledge.tenants import find_tenant


class ValidateSlotMappings(ValidationAction):
    """``action_validate_slot_mappings``: fills the ``custom`` slots from the message metadata."""

    async def extract_locale(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"locale": session_locale(tracker.get_slot("locale"), turn_metadata(tracker.latest_message))}

    async def extract_tenant(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A known tenant named by the API becomes the session's tenant; anything else changes nothing."""
        requested = turn_metadata(tracker.latest_message).get("tenant")
        svc = services()
        if requested and find_tenant(svc.knowledge.tenants, requested, svc.default_tenant):
            return {"tenant": requested}
        return {}
