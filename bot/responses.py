"""Every fixed bot text, rendered in the session's language from the gettext catalogs (NLG endpoint).

Rasa asks the action server's ``/nlg`` for ``utter_*`` responses; this module turns the name into a
``BotMessage``. Message ids are English; ``make extract-messages`` collects them for translators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import locales
from bot.messages import BotMessage, ButtonPayload, bot_message, button, intent_payload
from bot.runtime import Services
from bot.session import choose_locale, message_metadata
from knowledge.tenants import Tenant

GREETING_TOPICS = (
    "arrival.registration",
    "work.permit",
    "kita.entitlement",
    "recognition.need",
    "language.integration-course",
)


@dataclass(frozen=True)
class Context:
    locale: str
    tenant: Tenant | None
    services: Services | None = None

    @property
    def _(self) -> Callable[[str], str]:
        return locales.gettext_for(self.locale)

    def entry_button(self, entry_id: str) -> ButtonPayload | None:
        if self.services is None or not self.services.knowledge.ready:
            return None
        found = self.services.knowledge.searcher.version(entry_id, self.locale)
        return button(found[0].title, intent_payload("ask_entry", entry_id=entry_id)) if found else None

    def person_button(self) -> ButtonPayload:
        return button(self._("Talk to a person"), intent_payload("ask_human"))

    def yes_no(self) -> list[ButtonPayload]:
        return [button(self._("Yes"), intent_payload("affirm")), button(self._("No"), intent_payload("deny"))]


def context_from_tracker(tracker: Mapping[str, Any], services: Services | None) -> Context:
    slots = tracker.get("slots") or {}
    metadata = message_metadata(tracker.get("latest_message"))
    locale = choose_locale(slots.get("locale"), metadata)
    tenant_id = slots.get("tenant") or metadata.get("tenant")
    tenant = services.tenant(tenant_id) if services else None
    return Context(locale=locale, tenant=tenant, services=services)


def _greet(c: Context) -> BotMessage:
    _ = c._
    text = _(
        "Hello! I am Lotse, a chatbot for people who are new in Germany. I answer questions about "
        "registration, work, Kita and school, recognition of qualifications, German courses and counselling. "
        "I only answer from checked official information, with links to the sources. What would you like "
        "to know?"
    )
    buttons = [b for b in (c.entry_button(e) for e in GREETING_TOPICS) if b] + [c.person_button()]
    return bot_message(text, c.locale, buttons=buttons, kind="smalltalk")


def _goodbye(c: Context) -> BotMessage:
    return bot_message(c._("Goodbye and good luck! You can come back any time."), c.locale, kind="smalltalk")


def _thanks(c: Context) -> BotMessage:
    return bot_message(c._("You are welcome! Do you have another question?"), c.locale, kind="smalltalk")


def _iamabot(c: Context) -> BotMessage:
    _ = c._
    text = _(
        "I am a computer program (a chatbot), not a person and not an office. I answer from checked official "
        "information. If you want to talk to a person, I can show you where to get free advice."
    )
    return bot_message(text, c.locale, buttons=[c.person_button()], kind="smalltalk")


def _chitchat(c: Context) -> BotMessage:
    _ = c._
    text = _(
        "I am here to help with questions about life in Germany. For example: How do I register my address? "
        "How do I find a Kita place? Do I need recognition for my profession?"
    )
    return bot_message(text, c.locale, kind="smalltalk")


def _how_can_i_help(c: Context) -> BotMessage:
    return bot_message(
        c._("How can I help you? Write your question about life in Germany."), c.locale, kind="smalltalk"
    )


def _ask_profession(c: Context) -> BotMessage:
    _ = c._
    text = _(
        "Let us check your profession. Which profession did you learn? Write its name, for example nurse, "
        "engineer or electrician."
    )
    return bot_message(text, c.locale, kind="flow")


def _ask_federal_state(c: Context) -> BotMessage:
    _ = c._
    not_sure = _("I do not know yet")
    return bot_message(
        _("In which federal state do you want to work? For example Bavaria, Berlin or Saxony."),
        c.locale,
        buttons=[button(not_sure, not_sure)],
        kind="flow",
    )


def _ask_lives_in_germany(c: Context) -> BotMessage:
    return bot_message(c._("Do you live in Germany now?"), c.locale, buttons=c.yes_no(), kind="flow")


def _ask_child_age(c: Context) -> BotMessage:
    _ = c._
    return bot_message(
        _("Let us check the Kita place for your child. How old is your child? For example: 2 years or 18 months."),
        c.locale,
        kind="flow",
    )


def _ask_place_promised(c: Context) -> BotMessage:
    return bot_message(
        c._("Has a Kita or a childminder already promised you a place?"), c.locale, buttons=c.yes_no(), kind="flow"
    )


def _check_stopped(c: Context) -> BotMessage:
    return bot_message(c._("OK, I stopped the check. You can ask me anything else."), c.locale, kind="flow")


RESPONSES: dict[str, Callable[[Context], BotMessage]] = {
    "utter_greet": _greet,
    "utter_goodbye": _goodbye,
    "utter_thanks": _thanks,
    "utter_iamabot": _iamabot,
    "utter_chitchat": _chitchat,
    "utter_how_can_i_help": _how_can_i_help,
    "utter_ask_profession": _ask_profession,
    "utter_ask_federal_state": _ask_federal_state,
    "utter_ask_lives_in_germany": _ask_lives_in_germany,
    "utter_ask_child_age_months": _ask_child_age,
    "utter_ask_place_promised": _ask_place_promised,
    "utter_check_stopped": _check_stopped,
}


def render(name: str, context: Context) -> BotMessage:
    """The message for ``name``; an unknown name gets a polite generic text, never the name itself."""
    renderer = RESPONSES.get(name)
    if renderer is None:
        return _how_can_i_help(context)
    return renderer(context)
