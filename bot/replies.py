"""What the bot answers, whichever path a turn takes: the Rasa actions (bot/actions/) and the API's
knowledge-only path (api/conversation.py) both end here.

``compose(result, context)`` turns a search result into messages: the entry with its sources, related topics
and the feedback prompt; an ask-back when the best candidates are too close to call; or the honest no-answer
with counselling contacts, the question recorded for the maintainers, and the closest topics as buttons when
the search came near one (with the emergency numbers at once when the closest is an urgent-help topic).
"""

from __future__ import annotations

import numpy as np

from bot import menus, texts
from bot.context import Context
from bot.messages import BotMessage, bot_message, button, intent_payload, parse_payload
from bot.typed_intents import typed_intent
from knowledge.follow_up import search_in_conversation
from knowledge.models import URGENT_HELP_TOPICS, Entry
from knowledge.search import Hit, SearchResult, one_per_topic

__all__ = [
    "CHECK_FOR_TOPIC",
    "MAX_CHOICES",
    "URGENT_HELP_TOPICS",
    "answer",
    "clarify",
    "close_topics",
    "compose",
    "feedback_thanks",
    "handover",
    "no_answer",
    "opening_hours",
    "reply_without_dialogue",
    "search",
    "show_entry",
    "urgent_help",
]

MAX_CHOICES = 3  # candidates offered in an ask-back, or as close topics after a decline
SEARCHED = 5  # entries searched for: enough for three distinct topics when a local entry sits beside its topic
MAX_RELATED = 3
_RECOGNITION_CHECK = ("start_recognition_check", texts.CHECK_MY_PROFESSION)
_KITA_CHECK = ("start_kita_check", texts.CHECK_FOR_MY_CHILD)
# The guided check an answer offers, by catalogue topic (``Catalogue.topic_of``: children such as
# kita.costs.berlin count as their topic).
CHECK_FOR_TOPIC: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "recognition.need",
            "recognition.authority",
            "recognition.documents",
            "recognition.costs",
            "recognition.duration",
            "recognition.partial",
            "recognition.academic",
            "recognition.health-professions",
            "recognition.counselling",
        ),
        _RECOGNITION_CHECK,
    ),
    **dict.fromkeys(
        (
            "kita.entitlement",
            "kita.find-apply",
            "kita.costs",
            "kita.childminder",
            "kita.start",
            "kita.language-support",
        ),
        _KITA_CHECK,
    ),
}


def search(
    c: Context, question: str, query_vector: np.ndarray | None = None, previous: str | None = None
) -> SearchResult | None:
    """The knowledge search for a typed question; None for a button payload, an empty text or no index.
    ``query_vector``: the question's embedding when it is already known (from Rasa's featurizer). ``previous``:
    the same person's question a moment ago, which a short follow-up is read after (``knowledge.follow_up``)."""
    question = question.strip()
    if not question or question.startswith("/") or c.knowledge is None or not c.knowledge.ready:
        return None
    searcher = c.knowledge.searcher
    return search_in_conversation(searcher, question, previous, c.locale, c.tenant, SEARCHED, c.topic_of, query_vector)


def compose(result: SearchResult | None, c: Context) -> list[BotMessage]:
    """The reply to a question from its search result (None: no search was possible)."""
    if result is None:
        return [no_answer(c)]
    if result.answerable and result.ambiguous:
        return [clarify(c, [hit for _, hit in one_per_topic(result.hits, c.topic_of)][:MAX_CHOICES])]
    if result.answerable and result.best:
        return answer(c, result.best.entry, result.best.fallback, cautious=result.cautious, follow_up=result.follow_up)
    c.record_unanswered(result.query, result.boundary)
    if not result.close:
        return [no_answer(c)]
    closest = next((topic for topic, _ in one_per_topic(result.hits, c.topic_of)), None)
    urgent = urgent_help(c, closest) if closest in URGENT_HELP_TOPICS else None
    offered = close_topics(c, result.hits)
    return ([urgent] if urgent else []) + [no_answer(c)] + ([offered] if offered else [])


def answer(
    c: Context,
    entry: Entry,
    fallback: bool,
    category: str | None = None,
    cautious: bool = False,
    follow_up: bool = False,
) -> list[BotMessage]:
    """The entry in simple language with its sources, related topics as buttons, then "Did this help?".
    Reached by browsing a ``category``, it also offers the way back to that category and to all topics.
    ``cautious``: the search is less sure the entry settles the question (often a person's own case next to the
    topic), so the answer says first that it is general information and offers a counsellor at once.
    ``follow_up``: the question was read together with the one before (counted apart on the dashboard)."""
    buttons = c.entry_buttons(entry.related[:MAX_RELATED])
    text = texts.entry_text(entry, c.locale, fallback)
    if cautious:
        text = f"_{c.say(texts.GENERAL_INFORMATION)}_\n\n{text}"
        buttons.insert(0, c.person_button())
    if category and c.knowledge is not None and category in c.knowledge.catalogue.categories:
        buttons += menus.nav_buttons(c, category)
    check = CHECK_FOR_TOPIC.get(c.topic_of(entry.id) or "")
    if check and c.dialogue:
        intent, title = check
        buttons.insert(0, button(c.say(title), intent_payload(intent)))
    message = bot_message(
        text,
        c.locale,
        buttons=buttons,
        sources=entry.sources,
        entry_id=entry.id,
        checked=entry.checked.isoformat(),
        kind="answer",
        cautious=cautious,
        follow_up=follow_up,
    )
    feedback = bot_message(
        c.say(texts.DID_THIS_HELP),
        c.locale,
        kind="feedback",
        entry_id=entry.id,
        buttons=[
            button("👍 " + c.say(texts.YES_IT_HELPED), intent_payload("feedback_helpful")),
            button("👎 " + c.say(texts.NO), intent_payload("feedback_unhelpful")),
        ],
    )
    return [message, feedback]


def clarify(c: Context, hits: list[Hit]) -> BotMessage:
    buttons = [button(h.entry.title, intent_payload("ask_entry", entry_id=h.entry.id)) for h in hits]
    buttons.append(button(c.say(texts.NONE_OF_THESE), intent_payload("ask_human")))
    return bot_message(c.say(texts.WHICH_TOPIC), c.locale, buttons=buttons, kind="clarify")


def no_answer(c: Context) -> BotMessage:
    return bot_message(texts.no_answer_with_contacts(c.tenant, c.locale), c.locale, kind="no_answer", handover=True)


def close_topics(c: Context, hits: list[Hit]) -> BotMessage | None:
    """After a decline that came near some entries: up to three topics to look at, said not to be an answer.
    Someone asking about their own case often finds what applies and where to go in the general entry."""
    ids = [hit.entry.id for _, hit in one_per_topic(hits, c.topic_of)]
    buttons = c.entry_buttons(ids[:MAX_CHOICES])
    return bot_message(c.say(texts.CLOSE_TOPICS), c.locale, buttons=buttons, kind="close_topics") if buttons else None


def urgent_help(c: Context, topic: str) -> BotMessage | None:
    """The urgent-help topic's own entry (not a local child of it, which may lack the emergency numbers): its
    summary with its sources and check date, first in the reply."""
    found = c.knowledge.searcher.version(topic, c.locale, c.tenant) if c.knowledge is not None else None
    if found is None:
        return None
    entry, fallback = found
    text = texts.with_language_notes(f"**{c.say(texts.IF_IN_DANGER)}**\n{entry.summary}", entry, c.locale, fallback)
    return bot_message(
        text,
        c.locale,
        sources=entry.sources,
        entry_id=entry.id,
        checked=entry.checked.isoformat(),
        kind="urgent_help",
    )


def show_entry(c: Context, entry_id: str | None, category: str | None = None) -> list[BotMessage]:
    """A topic button was pressed: that entry (in German or English when the user's language lacks it);
    ``category`` when it was pressed in a topic menu."""
    ready = entry_id and c.knowledge is not None and c.knowledge.ready
    found = c.knowledge.searcher.version(entry_id, c.locale, c.tenant) if ready else None
    return answer(c, *found, category=category) if found else [no_answer(c)]


def handover(c: Context) -> BotMessage:
    """The user wants a person: the tenant's counselling contacts, in the user's language."""
    return bot_message(texts.contacts(c.tenant, c.locale), c.locale, kind="handover", handover=True)


def opening_hours(c: Context) -> BotMessage:
    """The first screen's shortcut: when the tenant's counselling centres are open."""
    return bot_message(texts.opening_hours(c.tenant, c.locale), c.locale, kind="notice", buttons=[c.person_button()])


def feedback_thanks(c: Context, helpful: bool) -> BotMessage:
    if helpful:
        return bot_message(c.say(texts.FEEDBACK_THANKS), c.locale, kind="notice")
    return bot_message(c.say(texts.FEEDBACK_SORRY), c.locale, kind="notice", buttons=[c.person_button()])


def reply_without_dialogue(c: Context, text: str, query_vector: np.ndarray | None = None) -> list[BotMessage]:
    """The knowledge-only path (the dialogue service is down): a greeting (the first screen, as in the
    dialogue), asking for a person, a typed question (searched with ``query_vector`` when it is already
    embedded), or a button from one of the replies above. Other intents need the dialogue; they get the honest
    no-answer with contacts."""
    intent, entities = parse_payload(text)
    intent = intent or typed_intent(text)
    if intent is None:
        return compose(search(c, text, query_vector), c)
    if intent == "ask_entry":
        return show_entry(c, entities.get("entry_id"), entities.get("category"))
    if intent in ("home", "greet"):
        return menus.home(c)
    if intent == "browse":
        return menus.browse(c, entities.get("category"), entities.get("page"))
    if intent in ("feedback_helpful", "feedback_unhelpful"):
        return [feedback_thanks(c, intent == "feedback_helpful")]
    if intent == "ask_human":
        return [handover(c)]
    if intent == "opening_hours":
        return [opening_hours(c)]
    return [no_answer(c)]
