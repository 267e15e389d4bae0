"""One user turn, whatever the channel: pick the locale, ask Rasa, fall back to the knowledge search.

Channels (web, Telegram, WhatsApp) build a ``Turn`` and render the ``TurnResult`` their own way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import locales
from api.rasa_client import RasaClient, RasaUnavailable
from bot.messages import BotMessage, bot_message
from knowledge import answers, langid
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant

log = logging.getLogger(__name__)

LocaleSource = Literal["explicit", "detected", "channel", "default"]
MIN_DETECTION_CHARS = 12  # shorter messages ("ok", "danke") are too short to switch language on


@dataclass(frozen=True)
class Turn:
    channel: str
    sender_id: str
    text: str
    tenant: Tenant
    locale: str | None = None  # chosen by the user (widget picker, API parameter)
    locale_hint: str | None = None  # suggested by the channel (Telegram language_code)


@dataclass
class TurnResult:
    locale: str
    messages: list[BotMessage] = field(default_factory=list)
    handover: bool = False
    degraded: bool = False

    @property
    def outcome(self) -> str:
        """For metrics: degraded, handover or ok."""
        return "degraded" if self.degraded else ("handover" if self.handover else "ok")


def resolve_locale(turn: Turn) -> tuple[str, LocaleSource]:
    """The locale for this turn and where it came from; the bot decides with the session's history."""
    enabled = turn.tenant.locales
    if turn.locale in enabled:
        return turn.locale, "explicit"
    if not turn.text.startswith("/") and len(turn.text) >= MIN_DETECTION_CHARS:
        detected = langid.detect_locale(turn.text)
        if detected in enabled:
            return detected, "detected"
    hint = locales.normalize_code(turn.locale_hint)
    if hint in enabled:
        return hint, "channel"
    return turn.tenant.default_locale, "default"


class Conversation:
    def __init__(self, rasa: RasaClient, knowledge: KnowledgeService) -> None:
        self.rasa = rasa
        self.knowledge = knowledge

    async def handle(self, turn: Turn) -> TurnResult:
        locale, source = resolve_locale(turn)
        metadata = {"locale": locale, "locale_source": source, "tenant": turn.tenant.id, "channel": turn.channel}
        try:
            messages = await self.rasa.send(turn.sender_id, turn.text, metadata)
        except RasaUnavailable as exc:
            log.warning("dialogue unavailable, answering from knowledge only", extra={"reason": str(exc)})
            return self.knowledge_only(turn, locale)
        final_locale = next((m["locale"] for m in reversed(messages) if m.get("locale")), locale)
        return TurnResult(
            locale=final_locale if locales.is_supported(final_locale) else locale,
            messages=messages,
            handover=any(m.get("handover") for m in messages),
        )

    def knowledge_only(self, turn: Turn, locale: str) -> TurnResult:
        """Without Rasa: answer informational questions straight from the knowledge search."""
        notice = bot_message(answers.limited_service_text(locale), locale, kind="notice")
        is_question = not turn.text.startswith("/") and self.knowledge.ready
        result = self.knowledge.searcher.search(turn.text, locale, turn.tenant, k=3) if is_question else None
        if result and result.answerable and result.best:
            hit = result.best
            message = bot_message(
                answers.entry_text(hit.entry, locale, hit.fallback),
                locale,
                kind="answer",
                sources=answers.entry_sources(hit.entry),
                entry_id=hit.entry.id,
            )
            return TurnResult(locale, [notice, message], degraded=True)
        text = answers.no_answer_with_contacts_text(turn.tenant, locale)
        return TurnResult(
            locale, [notice, bot_message(text, locale, kind="no_answer", handover=True)], handover=True, degraded=True
        )
