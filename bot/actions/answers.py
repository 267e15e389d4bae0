"""The knowledge actions: answer a question from the entries, or say honestly that there is no answer."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import context, send
from bot.messages import BotMessage, bot_message, button, intent_payload
from bot.responses import Context
from knowledge import answers
from knowledge.models import Entry
from knowledge.search import Hit

MAX_RELATED = 3
FLOW_FOR_TOPIC = {"recognition": "start_recognition_check", "kita": "start_kita_check"}


def answer_messages(c: Context, entry: Entry, fallback: bool) -> list[BotMessage]:
    """The entry in simple language with its sources, related topics as buttons, then "Did this help?"."""
    _ = c._
    buttons = [b for b in (c.entry_button(r) for r in entry.related[:MAX_RELATED]) if b]
    flow = FLOW_FOR_TOPIC.get(entry.id.split(".")[0])
    if flow == "start_recognition_check":
        buttons.insert(0, button(_("Check my profession"), intent_payload(flow)))
    elif flow == "start_kita_check":
        buttons.insert(0, button(_("Check for my child"), intent_payload(flow)))
    answer = bot_message(
        answers.entry_text(entry, c.locale, fallback),
        c.locale,
        buttons=buttons,
        sources=answers.entry_sources(entry),
        entry_id=entry.id,
        kind="answer",
    )
    feedback = bot_message(
        _("Did this help?"),
        c.locale,
        kind="feedback",
        entry_id=entry.id,
        buttons=[
            button("👍 " + _("Yes, it helped"), intent_payload("feedback_helpful")),
            button("👎 " + _("No"), intent_payload("feedback_unhelpful")),
        ],
    )
    return [answer, feedback]


def no_answer_message(c: Context) -> BotMessage:
    text = answers.no_answer_with_contacts_text(c.tenant, c.locale)
    return bot_message(text, c.locale, kind="no_answer", handover=True)


def clarify_message(c: Context, hits: list[Hit]) -> BotMessage:
    _ = c._
    buttons = [button(h.entry.title, intent_payload("ask_entry", entry_id=h.entry.id)) for h in hits]
    buttons.append(button(_("None of these"), intent_payload("ask_human")))
    return bot_message(
        _("I am not sure what you mean. Which topic fits best?"), c.locale, buttons=buttons, kind="clarify"
    )


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        question = (tracker.latest_message.get("text") or "").strip()
        knowledge = c.services.knowledge
        if not question or question.startswith("/") or not knowledge.ready:
            send(dispatcher, no_answer_message(c))
            return []
        result = await asyncio.to_thread(knowledge.searcher.search, question, c.locale, c.tenant, 3)
        if result.answerable and result.ambiguous:
            send(dispatcher, clarify_message(c, result.hits[:3]))
            return [SlotSet("last_question", question)]
        if result.answerable and result.best:
            for message in answer_messages(c, result.best.entry, result.best.fallback):
                send(dispatcher, message)
            return [SlotSet("last_entry_id", result.best.entry.id), SlotSet("last_question", question)]
        c.services.feedback.add_unanswered(
            c.locale, c.tenant.id if c.tenant else None, question, subject=result.boundary
        )
        send(dispatcher, no_answer_message(c))
        return [SlotSet("last_entry_id", None), SlotSet("last_question", question)]


class ActionShowEntry(Action):
    """A topic button was pressed: show that entry."""

    def name(self) -> str:
        return "action_show_entry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        entry_id = tracker.get_slot("entry_id") or next(tracker.get_latest_entity_values("entry_id"), None)
        found = (
            c.services.knowledge.searcher.version(entry_id, c.locale)
            if entry_id and c.services.knowledge.ready
            else None
        )
        if found is None:
            send(dispatcher, no_answer_message(c))
            return [SlotSet("entry_id", None)]
        for message in answer_messages(c, *found):
            send(dispatcher, message)
        return [SlotSet("entry_id", None), SlotSet("last_entry_id", found[0].id)]
