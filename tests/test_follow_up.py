"""Follow-up messages read after the question before them (knowledge/follow_up.py), on the real index, and the
conversation sets that measure it."""

from pathlib import Path

import pytest

from api.usage import outcome_of
from bot import replies
from bot.context import Context
from knowledge import evaluation
from knowledge.follow_up import FOLLOW_UP_WORDS, may_follow_up, search_in_conversation
from knowledge.question_sets import conversation_sets, load_conversations

EVAL = Path(__file__).resolve().parent.parent / "eval"


def read(knowledge, question: str, previous: str | None, locale: str = "de"):
    topic_of = knowledge.catalogue.topic_of
    result = search_in_conversation(knowledge.searcher, question, previous, locale, None, 5, topic_of)
    return result, (topic_of(result.best.entry.id) if result.best else None)


@pytest.mark.parametrize(
    "previous, follow_up, topic",
    [
        ("Wo beantrage ich Elterngeld?", "und wie lange bekommt man das?", "family.parental-allowance"),
        pytest.param(
            "Wie melde ich meine neue Wohnung an?",
            "und welche Papiere brauche ich dafür?",
            "arrival.registration",
            # Read together it finds its topic, but only with the caution (0.80 against 0.84), so the message alone
            # stays: a known miss since round 33's vote (docs/benchmarks.md), kept to show when it is fixed.
            marks=pytest.mark.xfail(strict=True, reason="answered together only with the caution"),
        ),
    ],
)
def test_a_follow_up_is_read_after_the_question_before_it(knowledge, previous, follow_up, topic):
    alone = knowledge.searcher.search(follow_up, "de")
    assert not (alone.answerable and not alone.cautious)  # alone it finds no confident answer
    result, found = read(knowledge, follow_up, previous)
    assert result.answerable and not result.cautious and found == topic
    assert result.follow_up and not alone.follow_up


def test_an_answer_read_with_the_question_before_is_counted_apart(knowledge):
    """The dashboard shows how many short follow-ups were answered by reading them with the question before."""
    c = Context("de", None, knowledge, dialogue=False)
    previous, follow_up = "Wo beantrage ich Elterngeld?", "und wie lange bekommt man das?"
    in_conversation = replies.compose(replies.search(c, follow_up, previous=previous), c)
    assert in_conversation[0]["kind"] == "answer" and in_conversation[0]["follow_up"]
    assert outcome_of(in_conversation, degraded=False) == "answered_follow_up"
    first = replies.compose(replies.search(c, previous), c)
    assert outcome_of(first, degraded=False) == "answered"


@pytest.mark.parametrize("message", ["danke!", "ok super", "Wer gewinnt die Fußball-WM?", "👍"])
def test_thanks_or_a_far_question_is_not_read_as_a_repeat(knowledge, message):
    """Each gets what it gets alone: declined, not the registration entry again."""
    alone = knowledge.searcher.search(message, "de")
    result, _ = read(knowledge, message, "Wie melde ich meine neue Wohnung an?")
    assert not result.follow_up
    assert (result.answerable, [h.entry.id for h in result.hits]) == (
        alone.answerable,
        [h.entry.id for h in alone.hits],
    )


def test_only_a_short_message_after_a_question_may_be_a_follow_up():
    assert may_follow_up("und bis wann?", "Wie melde ich mich an?")
    assert not may_follow_up("und bis wann?", None)
    assert not may_follow_up("ok", "Wie melde ich mich an?") and not may_follow_up("👍", "Wie melde ich mich an?")
    assert not may_follow_up(" ".join(["wort"] * (FOLLOW_UP_WORDS + 1)), "Wie melde ich mich an?")


def test_the_newest_conversation_set_is_read_better_in_conversation(knowledge):
    """On the held-out conversation set: more follow-ups right, messages that stand alone (new questions,
    out-of-scope messages) no worse than read alone, within two messages, and fewer wrong answers in all. A
    follow-up that no topic covers may be answered more often than alone (the reading together is taken when it is
    confident), but by at most one for every three follow-ups it gains. conv2: round 20 gained 28 follow-ups for 3
    more such answers, round 21 23 for 5-6 (the index built from nothing and the incremental one differ by one),
    round 22 28 for 4."""
    newest = conversation_sets(EVAL)[-1]
    alone, in_conversation = evaluation.run_conversations(
        knowledge.searcher, load_conversations(newest), knowledge.catalogue
    )
    table = evaluation.conversations_by_kind(alone, in_conversation)
    (_, right, wrong), (_, right_after, wrong_after) = table["follow"]
    assert right_after > right and wrong_after <= wrong
    gained = right_after - right
    for kind in ("new", "new_out"):
        (_, right, _), (_, right_after, _) = table[kind]
        assert right_after >= right - 2, kind
    (_, _, wrong), (_, _, wrong_after) = table["follow_out"]
    assert 3 * (wrong_after - wrong) <= gained
    (_, _, wrong), (_, _, wrong_after) = table["all"]
    assert wrong_after <= wrong


@pytest.mark.parametrize("path", conversation_sets(EVAL), ids=lambda p: p.name)
def test_conversation_sets_name_only_catalogue_topics(knowledge, path):
    topics = set(knowledge.catalogue.topics)
    named = {q.topic for c in load_conversations(path) for q in (c.first, c.second) if q.topic}
    assert named <= topics, named - topics
