"""The guided checks (Rasa forms): validate each answer, then give the outcome."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import texts
from bot.actions.common import context, send
from bot.context import Context
from bot.flows import Outcome, kita, recognition
from bot.flows.vocabulary import find_profession, find_state, state_name
from bot.messages import BotMessage, bot_message

UNKNOWN = "unknown"
RECOGNITION_SLOTS = ("profession", "federal_state", "lives_in_germany")
KITA_SLOTS = ("child_age_months", "place_promised")


def _outcome_message(c: Context, outcome: Outcome) -> BotMessage:
    return bot_message(
        outcome.text, c.locale, buttons=c.entry_buttons(outcome.entries), sources=outcome.sources, kind="answer"
    )


def _first_turn(tracker: Tracker, slot: str) -> bool:
    """The form is just starting: the message that started it may already contain an answer."""
    return tracker.get_slot("requested_slot") is None and tracker.get_slot(slot) is None


class ValidateRecognitionForm(FormValidationAction):
    def name(self) -> str:
        return "validate_recognition_form"

    async def extract_profession(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = (
            find_profession(tracker.latest_message.get("text") or "") if _first_turn(tracker, "profession") else None
        )
        return {"profession": found} if found else {}

    async def extract_federal_state(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = find_state(tracker.latest_message.get("text") or "") if _first_turn(tracker, "federal_state") else None
        return {"federal_state": found} if found else {}

    def validate_profession(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # An unknown profession is a valid answer: the outcome then points to the official Finder.
        return {"profession": find_profession(str(value or "")) or UNKNOWN}

    def validate_federal_state(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"federal_state": find_state(str(value or "")) or UNKNOWN}


class ActionRecognitionResult(Action):
    def name(self) -> str:
        return "action_recognition_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        profession = tracker.get_slot("profession")
        state = tracker.get_slot("federal_state")
        outcome = recognition.assess(
            None if profession == UNKNOWN else profession,
            None if state in (None, UNKNOWN) else state_name(state, c.locale),
            tracker.get_slot("lives_in_germany"),
            c.locale,
        )
        send(dispatcher, _outcome_message(c, outcome))
        return [SlotSet(slot, None) for slot in RECOGNITION_SLOTS]


class ValidateKitaForm(FormValidationAction):
    def name(self) -> str:
        return "validate_kita_form"

    async def extract_child_age_months(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not _first_turn(tracker, "child_age_months"):
            return {}
        months = kita.parse_age_months(tracker.latest_message.get("text") or "")
        return {"child_age_months": months} if months is not None else {}

    def validate_child_age_months(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        months = kita.parse_age_months(str(value or ""))
        if months is None:
            c = context(tracker)
            send(dispatcher, bot_message(c.say(texts.AGE_NOT_UNDERSTOOD), c.locale, kind="flow"))
            return {"child_age_months": None}
        return {"child_age_months": months}


class ActionKitaResult(Action):
    def name(self) -> str:
        return "action_kita_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        hint = c.tenant.hint("kita", c.locale) if c.tenant else None
        outcome = kita.assess(
            float(tracker.get_slot("child_age_months") or 0), tracker.get_slot("place_promised"), hint, c.locale
        )
        send(dispatcher, _outcome_message(c, outcome))
        return [SlotSet(slot, None) for slot in KITA_SLOTS]
