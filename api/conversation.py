"""One user turn, whatever the channel: resolve the turn's locale once, then ask Rasa, or, when Rasa is
unreachable, answer from the knowledge search alone through the same replies the dialogue uses
(``bot.replies``).

Channels (web, Telegram, WhatsApp) build a ``Turn`` and render the ``TurnResult`` their own way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import locales
from api.cpu import CpuPool
from api.rasa_client import RasaClient, RasaUnavailable
from bot import texts
from bot.context import Context
from bot.language import resolve_locale
from bot.messages import BotMessage, LocaleSource, TurnMetadata, bot_message
from bot.replies import reply_without_dialogue
from knowledge.feedback import FeedbackStore
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    channel: str
    sender_id: str
    text: str
    tenant: Tenant
    locale: str | None = None  # chosen by the user (widget picker, API parameter)
    locale_hint: str | None = None  # suggested by the channel (Telegram language_code, Accept-Language)

    def resolve_locale(self) -> tuple[str, LocaleSource]:
        """The locale for this turn and where it came from (bot/language.py decides)."""
        return resolve_locale(self.text, self.tenant, requested=self.locale, hint=self.locale_hint)


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


class Conversation:
    def __init__(
        self, rasa: RasaClient, knowledge: KnowledgeService, feedback: FeedbackStore | None, cpu: CpuPool
    ) -> None:
        self.rasa = rasa
        self.knowledge = knowledge
        self.feedback = feedback
        self.cpu = cpu

    async def handle(self, turn: Turn) -> TurnResult:
        locale, source = await self.cpu.run(turn.resolve_locale)
        metadata = TurnMetadata(locale=locale, locale_source=source, tenant=turn.tenant.id, channel=turn.channel)
        try:
            messages = await self.rasa.send(turn.sender_id, turn.text, metadata)
        except RasaUnavailable as exc:
            log.warning("dialogue unavailable, answering from knowledge only", extra={"reason": str(exc)})
            return await self.knowledge_only(turn, locale)
        final_locale = next((m["locale"] for m in reversed(messages) if m.get("locale")), locale)
        return TurnResult(
            locale=final_locale if locales.is_supported(final_locale) else locale,
            messages=messages,
            handover=any(m.get("handover") for m in messages),
        )

    async def knowledge_only(self, turn: Turn, locale: str) -> TurnResult:
        """Without Rasa: say that the service is limited, then reply as the dialogue's knowledge actions do."""
        c = Context(locale, turn.tenant, self.knowledge, self.feedback, dialogue=False)
        notice = bot_message(c.say(texts.LIMITED_SERVICE), locale, kind="notice")
        messages = await self.cpu.run(reply_without_dialogue, c, turn.text)
        return TurnResult(locale, [notice, *messages], handover=any(m.get("handover") for m in messages), degraded=True)
