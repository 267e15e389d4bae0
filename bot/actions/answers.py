"""The knowledge actions: answer a question from the entries, or say honestly that there is no answer."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import menus, replies
from bot.actions.common import context, opens_a_whatsapp_session, send
from bot.context import Context
from bot.messages import BotMessage
from knowledge.embedding import QUERY_VECTOR, unpack_query_vector
from knowledge.follow_up import FOLLOW_UP_SECONDS
from knowledge.search import SearchResult


def answered_entry(messages: list[BotMessage]) -> str | None:
    return next((m.get("entry_id") for m in messages if m.get("kind") == "answer"), None)


def answered_this_turn(tracker: Tracker) -> bool:
    """Whether this action already ran since the person's last message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == ActionAnswerQuestion.NAME:
            return True
    return False


def previous_question(tracker: Tracker) -> str | None:
    """The question this person typed just before this message, if it was searched, is recent and was asked in
    the same language: a short follow-up ("and how long is it valid?") is read after it (``knowledge.follow_up``)."""
    asked = tracker.get_slot("last_question")
    said = [event for event in tracker.events if event.get("event") == "user"]
    if not asked or len(said) < 2:
        return None
    before, now = said[-2], said[-1]
    then, at = before.get("timestamp"), now.get("timestamp")
    if (
        not isinstance(then, (int, float))
        or not isinstance(at, (int, float))
        or not 0 <= at - then <= FOLLOW_UP_SECONDS
    ):
        return None
    # Read in the same language only: the session switches language on a confident detection.
    languages = {(event.get("metadata") or {}).get("locale") for event in (before, now)}
    return asked if len(languages) == 1 and (before.get("text") or "").strip() == asked else None


def _answer(
    c: Context, question: str, vector: np.ndarray | None, previous: str | None
) -> tuple[SearchResult | None, list[BotMessage]]:
    result = replies.search(c, question, vector, previous)
    return result, replies.compose(result, c)


class ActionAnswerQuestion(Action):
    NAME = "action_answer_question"

    def name(self) -> str:
        return self.NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answered_this_turn(tracker):
            # Predicted a second time for one message: the dialogue found no rule, and this action is Rasa's core
            # fallback. Answering again would repeat the reply up to Rasa's limit of predictions per turn, which
            # then takes no turn of this person any more; listening ends the turn.
            return [FollowupAction("action_listen")]
        c = context(tracker)
        text = tracker.latest_message.get("text") or ""
        question = text.strip()
        vector = None
        if question == text and c.knowledge is not None:  # the vector is of exactly this text
            embedder = c.knowledge.embedder
            vector = unpack_query_vector(tracker.latest_message.get(QUERY_VECTOR), embedder.model_id, embedder.dim)
        # Searching is CPU work and composing a no-answer records the question in the database: both would
        # stall every other conversation of this action server if they ran on its event loop.
        result, messages = await asyncio.to_thread(_answer, c, question, vector, previous_question(tracker))
        send(dispatcher, messages)
        if opens_a_whatsapp_session(tracker):
            send(dispatcher, menus.home(c))
        if result is None:
            return []
        events: list[EventType] = [SlotSet("last_question", question)]
        if messages[0].get("kind") != "clarify":
            events.insert(0, SlotSet("last_entry_id", answered_entry(messages)))
        return events


class ActionShowEntry(Action):
    """A topic button was pressed (under an answer, in an ask-back or in a topic menu): show that entry. Its
    feedback counts like that of an asked question; a browsed entry answers no typed question."""

    def name(self) -> str:
        return "action_show_entry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        c = context(tracker)
        entry_id = tracker.get_slot("entry_id") or next(tracker.get_latest_entity_values("entry_id"), None)
        category = next(tracker.get_latest_entity_values("category"), None)
        messages = replies.show_entry(c, entry_id, category)
        send(dispatcher, messages)
        shown = answered_entry(messages)
        events: list[EventType] = [SlotSet("entry_id", None)]
        if shown:
            events.append(SlotSet("last_entry_id", shown))
        if category:
            events.append(SlotSet("last_question", None))
        return events
