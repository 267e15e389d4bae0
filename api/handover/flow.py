"""The conversation side of a handover, for every channel.

Before the bot: while a counsellor owns the conversation, the person's messages go to the platform and the bot
stays silent; the handover's own buttons (consent, callback, back to Lotse) are answered here. After the bot:
when its reply offers a person (``handover`` messages: asked for one, or no answer) and the tenant has a live
handover, ask for consent within the tenant's hours, or offer to leave a question outside them.

Every platform call goes through a queue in the shared state first (``submit``), so a platform that is down
loses nothing: the person is told and gets the contacts, and ``retry_pending`` delivers later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

import locales
from api.handover.adapter import HandoverAdapter, Opening, PlatformUnavailable, TopicLink
from api.handover.store import HandoverStore, Record, new_reference
from api.handover.zammad import ZammadAdapter
from bot import texts
from bot.messages import BotMessage, bot_message, button
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant

log = logging.getLogger(__name__)

ACCEPT, DECLINE, CALLBACK, END = "/handover_accept", "/handover_decline", "/handover_callback", "/handover_end"
ADAPTERS = {"zammad": ZammadAdapter}  # LiveHandover.adapter -> implementation; a new platform adds one line
TRANSCRIPT_SECONDS = 2 * 3600.0  # the last turns are kept this long, and only for tenants with a live handover
BOT_LINE_CHARS = 300  # of each bot answer in the transcript; the topic list names the entries in full


@dataclass(frozen=True)
class Intercepted:
    """A turn answered by the handover instead of the bot."""

    messages: list[BotMessage]
    with_counsellor: bool


class Handover:
    def __init__(
        self,
        store: HandoverStore,
        http: httpx.AsyncClient,
        knowledge: KnowledgeService,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.http = http
        self.knowledge = knowledge
        self.now = now

    # --- the tenant's platform ----------------------------------------------------------------------------------

    def adapter(self, tenant: Tenant | None) -> HandoverAdapter | None:
        """The tenant's platform, or None (not configured, or its secrets are not in the environment)."""
        config = tenant.live_handover if tenant else None
        if config is None:
            return None
        token, secret = os.environ.get(config.token_env), os.environ.get(config.webhook_secret_env)
        if not token or not secret:
            log.warning("live handover without its secrets", extra={"tenant": tenant.id, "env": config.token_env})
            return None
        return ADAPTERS[config.adapter](self.http, config, token, secret)

    def pseudonym(self, tenant: Tenant, sender: str) -> str:
        """Stable per conversation; keyed with the webhook secret, so the chat id cannot be guessed back."""
        secret = os.environ.get(tenant.live_handover.webhook_secret_env, "") if tenant.live_handover else ""
        return "lotse-" + hmac.new(secret.encode(), sender.encode(), hashlib.sha256).hexdigest()[:12]

    # --- around the bot's turn ------------------------------------------------------------------------------

    async def before_bot(
        self, tenant: Tenant, sender: str, text: str, locale: str, reply_to: str | None = None
    ) -> Intercepted | None:
        if tenant.live_handover is None:
            return None
        store = self.store
        record = await store.record(sender)
        if record is not None and record.owner == "counsellor":
            return await self._with_counsellor(tenant, record, text)
        if text == END:
            return Intercepted([bot_message(texts.say(locale, texts.HOW_CAN_I_HELP), locale)], False)
        kind, asked_in = await store.offer(sender) or (None, locale)
        if text in (ACCEPT, DECLINE, CALLBACK):  # a button: the language of the question, not a guess from "/..."
            locale = asked_in
            await store.set_offer(sender, None)
        if text == ACCEPT:
            if kind == "consent" and self.is_open(tenant):
                return await self._open(tenant, sender, locale, callback=None, reply_to=reply_to)
            return Intercepted([self._contacts(tenant, locale), self._callback_offer(locale)], False)
        if text == DECLINE:
            return Intercepted([self._callback_offer(locale, outside_hours=False)], False)
        if text == CALLBACK:
            await store.set_offer(sender, "callback", locale)
            return Intercepted([self._say(locale, texts.ASK_CALLBACK_QUESTION)], False)
        if kind == "callback" and not text.startswith("/"):
            await store.set_offer(sender, None)
            return await self._open(tenant, sender, asked_in, callback=text, reply_to=reply_to)
        if kind:
            await store.set_offer(sender, None)  # the person wrote something else: the bot answers it
        return None

    async def _with_counsellor(self, tenant: Tenant, record: Record, text: str) -> Intercepted:
        """A counsellor owns the conversation: relay the message, or end the handover on "Back to Lotse"."""
        locale = record.locale
        if text == END:
            record.owner = "bot"
            await self.store.save_record(record)
            await self.submit(tenant, record.sender, {"op": "close"})
            return Intercepted([self._say(locale, texts.HANDOVER_ENDED, code=record.reference)], False)
        record.last_user_at = self.now().timestamp()
        await self.store.save_record(record)
        held = [self.counsellor_message(record, held) for held in await self.store.take_held(record.sender)]
        if text.startswith("/"):  # an old bot button: nothing for the counsellor
            return Intercepted(held, True)
        delivered = await self.submit(tenant, record.sender, {"op": "append", "text": text})
        notice = [] if delivered else self._unavailable(tenant, locale, record.reference)
        return Intercepted(held + notice, True)

    async def after_bot(self, tenant: Tenant, sender: str, text: str, messages: list[BotMessage], locale: str) -> None:
        """Keep the transcript, and add the consent question (or the callback offer) to a handover reply."""
        if tenant.live_handover is None:
            return
        lines = [] if text.startswith("/") else [{"who": "user", "text": text}]
        lines += [
            {"who": "bot", "text": m.get("text", "")[:BOT_LINE_CHARS], "entry_id": m.get("entry_id")} for m in messages
        ]
        await self.store.add_to_transcript(sender, lines, TRANSCRIPT_SECONDS)
        if not any(m.get("handover") for m in messages) or self.adapter(tenant) is None:
            return
        if self.is_open(tenant):
            await self.store.set_offer(sender, "consent", locale)
            centre = tenant.display_name(locale)
            messages.append(
                bot_message(
                    texts.say(locale, texts.HANDOVER_CONSENT, centre=centre),
                    locale,
                    buttons=[
                        button(texts.say(locale, texts.CONNECT_ME), ACCEPT),
                        button(texts.say(locale, texts.NO_THANKS), DECLINE),
                    ],
                    kind="handover_consent",
                )
            )
        else:
            messages.append(self._callback_offer(locale))

    def is_open(self, tenant: Tenant) -> bool:
        return tenant.live_handover is not None and tenant.live_handover.is_open(self.now())

    async def _open(
        self, tenant: Tenant, sender: str, locale: str, callback: str | None, reply_to: str | None
    ) -> Intercepted:
        """Open the ticket (a live handover, or a question left for a callback) and give the reference code."""
        reference = new_reference()
        transcript = await self.store.transcript(sender)
        lines = [("Person" if t["who"] == "user" else "Lotse", t["text"]) for t in transcript]
        if callback:
            lines.append(("Person", callback))
        opening = Opening(
            reference=reference,
            pseudonym=self.pseudonym(tenant, sender),
            locale=locale,
            language=locales.info(locale).english_name,
            transcript=lines,
            topics=self._topics(transcript),
            callback=callback is not None,
        )
        owner = "bot" if callback else "counsellor"
        record = Record(
            tenant.id, sender, reference, locale, owner, last_user_at=self.now().timestamp(), chat=reply_to or ""
        )
        await self.store.save_record(record)
        delivered = await self.submit(tenant, sender, {"op": "open", "opening": asdict(opening)})
        log.info("handover opened", extra={"tenant": tenant.id, "callback": callback is not None, "ok": delivered})
        if not delivered:
            return Intercepted(self._unavailable(tenant, locale, reference), owner == "counsellor")
        if callback:
            return Intercepted([self._say(locale, texts.CALLBACK_SAVED, code=reference)], False)
        message = self._say(locale, texts.HANDOVER_OPENED, code=reference)
        message["buttons"] = [button(texts.say(locale, texts.BACK_TO_LOTSE), END)]
        return Intercepted([message], True)

    def _topics(self, transcript: list[dict[str, Any]]) -> list[TopicLink]:
        """The entries the bot answered with, by their German title and first source."""
        topics: dict[str, TopicLink] = {}
        searcher = self.knowledge.searcher if self.knowledge.ready else None
        for line in transcript:
            entry_id = line.get("entry_id")
            found = searcher.version(entry_id, locales.DEFAULT) if searcher and entry_id else None
            if found and entry_id not in topics:
                entry = found[0]
                topics[entry_id] = TopicLink(entry.title, entry.sources[0].url if entry.sources else "")
        return list(topics.values())

    # --- messages -------------------------------------------------------------------------------------------

    @staticmethod
    def _say(locale: str, text: str, **values: str) -> BotMessage:
        return bot_message(texts.say(locale, text, **values), locale, kind="handover")

    def _contacts(self, tenant: Tenant, locale: str) -> BotMessage:
        return bot_message(texts.contacts(tenant, locale), locale, kind="handover")

    def _callback_offer(self, locale: str, outside_hours: bool = True) -> BotMessage:
        text = texts.say(locale, texts.OUTSIDE_HOURS) if outside_hours else texts.say(locale, texts.HOW_CAN_I_HELP)
        return bot_message(
            text, locale, buttons=[button(texts.say(locale, texts.LEAVE_A_QUESTION), CALLBACK)], kind="handover"
        )

    def _unavailable(self, tenant: Tenant, locale: str, reference: str) -> list[BotMessage]:
        notice = self._say(locale, texts.HANDOVER_UNAVAILABLE, code=reference)
        return [notice, self._contacts(tenant, locale)]

    @staticmethod
    def counsellor_message(record: Record, text: str) -> BotMessage:
        locale = record.locale
        message = bot_message(f"**{texts.say(locale, texts.COUNSELLOR)}:** {text}", locale, kind="counsellor")
        if record.owner == "counsellor":
            message["buttons"] = [button(texts.say(locale, texts.BACK_TO_LOTSE), END)]
        return message

    # --- platform calls, queued ---------------------------------------------------------------------------

    async def submit(self, tenant: Tenant, sender: str, operation: dict[str, Any]) -> bool:
        """Queue one platform call (stored before it is tried, so nothing is lost), then try the queue."""
        async with self.store.lock(f"queue:{sender}"):  # short: only the list changes under it
            await self.store.set_queue(sender, await self.store.queue(sender) + [operation])
        return await self.flush(sender)

    async def flush(self, sender: str) -> bool:
        """Do the conversation's queued platform calls in order; True when none is left. One replica at a
        time flushes a conversation; one that finds it busy leaves the work to it and to the retries."""
        try:
            async with self.store.lock(f"flush:{sender}"):
                return await self._flush(sender)
        except TimeoutError:
            return False

    async def _flush(self, sender: str) -> bool:
        queue = await self.store.queue(sender)
        record = await self.store.record(sender)
        if not queue:
            return True
        done = len(queue)
        if record is not None:  # else expired: nothing to deliver to any more
            done = await self._run_all(record, queue)
        async with self.store.lock(f"queue:{sender}"):
            left = (await self.store.queue(sender))[done:]  # operations queued meanwhile stay
            await self.store.set_queue(sender, left)
        return not left

    async def _run_all(self, record: Record, queue: list[dict[str, Any]]) -> int:
        """Run operations until one fails; how many succeeded."""
        adapter = self.adapter(self.knowledge.tenants.get(record.tenant))
        done = 0
        try:
            for operation in queue:
                if adapter is None:
                    raise PlatformUnavailable("no adapter")
                await self._run(adapter, record, operation)
                done += 1
        except PlatformUnavailable as exc:
            log.warning("handover platform unavailable, queued", extra={"tenant": record.tenant, "reason": str(exc)})
        return done

    async def _run(self, adapter: HandoverAdapter, record: Record, operation: dict[str, Any]) -> None:
        op = operation["op"]
        if op == "open":
            opening = dict(operation["opening"])
            opening["transcript"] = [tuple(line) for line in opening["transcript"]]
            opening["topics"] = [TopicLink(**t) for t in opening["topics"]]
            record.ticket = await adapter.open(Opening(**opening))
            fresh = await self.store.record(record.sender)
            if fresh is not None:  # keep changes made meanwhile (owner, last message time)
                record.owner, record.last_user_at = fresh.owner, fresh.last_user_at
            await self.store.save_record(record)
            return
        if record.ticket is None:
            raise PlatformUnavailable("the ticket is not open yet")
        if op == "append":
            await adapter.append(record.ticket, operation["text"])
        elif op == "note":
            await adapter.note(record.ticket, operation["text"])
        elif op == "close":
            await adapter.close(record.ticket)

    async def retry_pending(self) -> None:
        for sender in await self.store.pending():
            try:
                await self.flush(sender)
            except Exception as exc:  # one broken conversation must not stop the others
                log.error("handover retry failed", extra={"error": type(exc).__name__})

    async def retry_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.retry_pending()
            except Exception as exc:  # the shared state is unreachable: try again next time
                log.error("handover retries failed", extra={"error": type(exc).__name__})
