"""The NLG endpoint's renderer: every ``utter_*`` response of bot/domain.yml as a ``BotMessage``.

Rasa asks the action server's ``/nlg`` for a response by name; the texts are in bot/texts.py (gettext), so
Rasa holds none. tests/test_bot_contracts.py checks that this table and domain.yml name the same responses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.context import Context
from bot.messages import BotMessage, ButtonPayload, bot_message, button

__all__ = ["RESPONSES", "render"]


def _person(c: Context) -> list[ButtonPayload]:
    return [c.person_button()]


def _yes_no(c: Context) -> list[ButtonPayload]:
    return c.yes_no()


def _not_sure_yet(c: Context) -> list[ButtonPayload]:
    not_sure = c.say(texts.NOT_SURE_YET)
    return [button(not_sure, not_sure)]


@dataclass(frozen=True)
class Response:
    text: str  # a message id of bot/texts.py
    kind: str
    buttons: Callable[[Context], list[ButtonPayload]] | None = None

    def render(self, c: Context) -> BotMessage:
        buttons = self.buttons(c) if self.buttons else None
        return bot_message(c.say(self.text), c.locale, buttons=buttons, kind=self.kind)


RESPONSES: dict[str, Response] = {
    "utter_goodbye": Response(texts.GOODBYE, "smalltalk"),
    "utter_thanks": Response(texts.THANKS, "smalltalk"),
    "utter_iamabot": Response(texts.I_AM_A_BOT, "smalltalk", _person),
    "utter_chitchat": Response(texts.CHITCHAT, "smalltalk"),
    "utter_how_can_i_help": Response(texts.HOW_CAN_I_HELP, "smalltalk"),
    "utter_ask_profession": Response(texts.ASK_PROFESSION, "flow"),
    "utter_ask_federal_state": Response(texts.ASK_FEDERAL_STATE, "flow", _not_sure_yet),
    "utter_ask_lives_in_germany": Response(texts.ASK_LIVES_IN_GERMANY, "flow", _yes_no),
    "utter_ask_child_age_months": Response(texts.ASK_CHILD_AGE, "flow"),
    "utter_ask_place_promised": Response(texts.ASK_PLACE_PROMISED, "flow", _yes_no),
    "utter_check_stopped": Response(texts.CHECK_STOPPED, "flow"),
}


def render(name: str, context: Context) -> BotMessage:
    """The message for ``name``; an unknown name gets a polite generic text, never the name itself."""
    return RESPONSES.get(name, RESPONSES["utter_how_can_i_help"]).render(context)
