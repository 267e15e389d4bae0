"""Recording what a turn came to (``knowledge.outcomes``), called once per turn by ``Conversation.handle``.

The outcome is read from the kinds of the bot's messages and an answer's ``cautious`` and ``follow_up`` marks
(``bot/messages.py``), so one rule covers the dialogue and the knowledge-only path. Whether a turn begins a
conversation is decided by the caller from the shared state (``SESSION_SECONDS``), so that replicas agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from bot.messages import BotMessage
from knowledge.outcomes import Outcome, OutcomeStore, TurnCount
from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

# A turn begins a conversation when its sender has not written for two hours (Rasa's session expiry,
# bot/domain.yml).
SESSION_SECONDS = 120 * 60


def outcome_of(messages: Sequence[BotMessage], degraded: bool) -> Outcome:
    """A turn's outcome: degraded when the dialogue service was down; otherwise by the first that applies."""
    if degraded:
        return "degraded"
    kinds = {m.get("kind") for m in messages}
    if any(m.get("kind") == "answer" and m.get("cautious") for m in messages):
        return "answered_with_caution"
    if "urgent_help" in kinds:
        return "declined_with_urgent_help"
    if {"no_answer", "close_topics"} <= kinds:
        return "declined_with_topics"
    if any(m.get("kind") == "answer" and m.get("follow_up") for m in messages):
        return "answered_follow_up"
    for kind, outcome in (("answer", "answered"), ("clarify", "asked_back"), ("no_answer", "declined")):
        if kind in kinds:
            return outcome
    return "handed_over" if "handover" in kinds else "other"


def answered_entry(messages: Sequence[BotMessage]) -> str | None:
    return next((m.get("entry_id") for m in messages if m.get("kind") == "answer" and m.get("entry_id")), None)


class UsageRecorder:
    def __init__(
        self,
        store: OutcomeStore,
        knowledge: KnowledgeService,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.store = store
        self.knowledge = knowledge
        self.today = today

    def record(
        self,
        *,
        tenant: str,
        channel: str,
        new_conversation: bool,
        locale: str,
        messages: Sequence[BotMessage],
        degraded: bool,
    ) -> None:
        """Count one turn. Never raises: a statistics failure must not cost the user an answer."""
        try:
            entry_id = answered_entry(messages)
            self.store.add(
                TurnCount(
                    day=self.today(),
                    tenant=tenant,
                    locale=locale,
                    channel=channel,
                    topic=(self.knowledge.catalogue.topic_of(entry_id) or "") if entry_id else "",
                    outcome=outcome_of(messages, degraded),
                    conversations=int(new_conversation),
                    fallbacks=int(bool(entry_id) and self._is_fallback(entry_id, locale)),
                )
            )
        except Exception as exc:  # noqa: BLE001
            log.error("turn not counted", extra={"error": type(exc).__name__})

    def _is_fallback(self, entry_id: str, locale: str) -> bool:
        """Was the entry shown in German or English because the user's language lacks it?"""
        if not self.knowledge.ready:
            return False
        found = self.knowledge.searcher.version(entry_id, locale)
        return bool(found and found[1])
