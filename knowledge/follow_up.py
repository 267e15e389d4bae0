"""A message that makes sense only after the one before: "und wie lange gilt der?", "what about my wife?".

Searched alone, such a message finds nothing, or finds some entry with little confidence: "can my wife do it
too?" says nothing of what "it" is. When a short message is not answered with confidence on its own and the same
person asked a question a moment ago, Lotse searches the two messages together. It takes that reading only when it
is confident and its topic is among the few topics the message alone came nearest to. So a new question on
another subject, a "thanks" or a question about the weather is never read as a repeat of the one before: alone,
it comes near other topics or none. The vote of the nearest labelled questions (``knowledge.neighbours``) is
taken halfway between the message and the two read together: the question before alone would vote for
answering, the short message alone against it. Chosen on the conversation set conv1; docs/benchmarks.md,
"Follow-up messages" and round 33, has the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from knowledge.embedding import normalise
from knowledge.search import Searcher, SearchResult, one_per_topic
from knowledge.tenants import Tenant
from knowledge.text import words

FOLLOW_UP_WORDS = 12  # a longer message says what it is about
MIN_WORDS = 2  # "ok", "danke" or an emoji right after an answer is not a question about it
FOLLOW_UP_SECONDS = 30 * 60  # a question asked longer ago is not what a short message goes on from
NEAR_TOPICS = 3  # the reading together must land on one of the topics the message alone came nearest to


def confident(result: SearchResult) -> bool:
    """Answered, without the caution that the person's own case may differ."""
    return result.answerable and not result.cautious


def may_follow_up(question: str, previous: str | None) -> bool:
    return bool(previous) and MIN_WORDS <= len(words(question)) <= FOLLOW_UP_WORDS


def read_after(alone: SearchResult, together: SearchResult, topic_of: Callable[[str], str | None]) -> SearchResult:
    """The result for a follow-up that alone is not confident: the two messages read together, if that is confident
    and lands near where the message alone pointed; otherwise the message alone."""
    if not confident(together) or together.best is None:
        return alone
    near = [topic for topic, _ in one_per_topic(alone.hits, topic_of)][:NEAR_TOPICS]
    best = together.best.entry.id
    return replace(together, follow_up=True) if (topic_of(best) or best) in near else alone


def search_in_conversation(
    searcher: Searcher,
    question: str,
    previous: str | None,
    locale: str,
    tenant: Tenant | None,
    k: int,
    topic_of: Callable[[str], str | None],
    query_vector: np.ndarray | None = None,
    alone: SearchResult | None = None,
) -> SearchResult:
    """The search for ``question``, read after ``previous`` (the same person's question a moment ago) when it is a
    short message that finds no confident answer on its own. ``alone``: its search on its own, if already done."""
    alone = alone or searcher.search(question, locale, tenant, k=k, query_vector=query_vector)
    if confident(alone) or not may_follow_up(question, previous):
        return alone
    if query_vector is None:  # only a follow-up needs the message's own vector again, for the vote
        query_vector = searcher.embedder.encode_queries([question])[0]
    text = f"{previous}\n{question}"
    together_vector = searcher.embedder.encode_queries([text])[0]
    halfway = normalise((query_vector + together_vector)[np.newaxis])[0]
    together = searcher.search(text, locale, tenant, k=k, query_vector=together_vector, vote_vector=halfway)
    return read_after(alone, together, topic_of)
