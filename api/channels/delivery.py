"""What every messenger channel shares: deduplication, button payload keys, sending with retries, and the
processing of one incoming message in the background (rate limit, conversation, reply, fallbacks).

Messengers retry a webhook until they get a 2xx, so the webhook answers at once and the turn runs after
the response; the platform's update or message id makes a retried delivery a no-op. Logs carry the channel
and outcomes, never message text or user ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import traceback
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from api.conversation import Turn
from api.errors import ApiError
from api.shared import SharedState
from bot import texts
from bot.messages import BotMessage, bot_message
from knowledge.tenants import Tenant
from knowledge.text import clean_message

if TYPE_CHECKING:  # the state holds the channels; at run time this module needs only its attributes
    from api.state import AppState

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # as for the web chat; longer messages are cut before they reach the bot
RATE_LIMIT_NOTICE_SECONDS = 60.0  # a rate-limited chat is told once in this time, not for every message
MAX_RETRY_AFTER = 60.0  # seconds; a platform asking for a longer pause gets the message dropped and logged
_sleep = asyncio.sleep  # replaced in tests, so retries do not wait


class MalformedUpdate(ValueError):
    """The webhook body is JSON but not the shape the platform documents."""


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def get_field(obj: dict, key: str, kind: type, required: bool = False) -> Any:
    """``obj[key]`` if it has the documented type; None if absent and optional; MalformedUpdate otherwise."""
    value = obj.get(key)
    if value is None:
        if required:
            raise MalformedUpdate(f"{key} is missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedUpdate(f"{key} must be {_KINDS.get(kind, kind.__name__)}")
    return value


class SendError(Exception):
    """A reply could not be delivered (after retries where retrying made sense)."""

    def __init__(self, status: int | None, code: str, description: str = "") -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.description = status, code, description


# --- state every replica shares (api/shared.py) -------------------------------------------------------------


class SeenOnce:
    """Platform update ids seen in the last ``ttl`` seconds, in the shared state: a webhook retried to any
    replica is answered once."""

    def __init__(self, shared: SharedState, ttl: float) -> None:
        self._shared, self._ttl = shared, ttl

    async def first_time(self, key: str) -> bool:
        """Remember ``key``; True when no replica saw it within the ttl."""
        return await self._shared.add(f"seen:{key}", "1", self._ttl)


class ButtonPayloads:
    """Button payloads too long for the platform's id field travel as a short key, stored in the shared state
    for ``ttl`` seconds; after that, pressing the old button asks the person to type instead."""

    PREFIX = "~"  # payloads are intents ("/ask_entry{...}") or words; a key is recognisable by this prefix

    def __init__(self, shared: SharedState, ttl: float) -> None:
        self._shared, self._ttl = shared, ttl

    @classmethod
    def button_id(cls, payload: str, max_bytes: int) -> str:
        """The id a button carries: the payload itself when it fits, else its key (pure)."""
        if len(payload.encode()) <= max_bytes and not payload.startswith(cls.PREFIX):
            return payload
        return cls.PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:20]

    async def remember(self, messages: Sequence[BotMessage], max_bytes: int) -> None:
        """Store the payloads of these messages' buttons that travel as a key (before they are sent)."""
        for message in messages:
            for button in message.get("buttons") or []:
                payload = button.get("payload") or ""
                button_id = self.button_id(payload, max_bytes)
                if button_id != payload:
                    await self._shared.set(f"button:{button_id}", payload, self._ttl)

    async def payload_for(self, button_id: str) -> str | None:
        """The payload behind a button id; None for a key no replica knows (any more)."""
        if not button_id.startswith(self.PREFIX):
            return button_id
        return await self._shared.get(f"button:{button_id}")


class ChatLocks:
    """One lock per chat, so one person's messages are answered in order; unused locks disappear."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, chat: str) -> AsyncIterator[None]:
        lock = self._locks.get(chat)
        if lock is None:
            lock = self._locks[chat] = asyncio.Lock()
        async with lock:
            yield


@dataclass
class Delivery:
    """The messenger channels' state: shared by replicas (seen, payloads, warned) or per process (locks)."""

    shared: SharedState
    seen: SeenOnce
    payloads: ButtonPayloads
    locks: ChatLocks = field(default_factory=ChatLocks)
    send_attempts: int = 4
    backoff_seconds: float = 0.5


# --- sending -------------------------------------------------------------------------------------------------

RetryDelay = Callable[[httpx.Response, int], float | None]


async def post_with_retry(
    http: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int,
    backoff: float,
    retry_delay: RetryDelay,
    error_code: Callable[[httpx.Response], str],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST with retries on rate limits, server errors and failed connections. A read timeout is not retried:
    the message may have arrived, and a duplicate answer is worse than a missing one."""
    for attempt in range(attempts):
        try:
            response = await http.post(url, json=payload, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            error, delay = SendError(None, type(exc).__name__), backoff * 2**attempt
        except httpx.HTTPError as exc:
            raise SendError(None, type(exc).__name__) from exc
        else:
            if response.is_success:
                return response
            error = SendError(response.status_code, error_code(response), _description(response))
            delay = retry_delay(response, attempt)
            if delay is None:
                raise error
        if attempt == attempts - 1 or delay > MAX_RETRY_AFTER:
            raise error
        await _sleep(delay)
    raise SendError(None, "no_attempts")


def _description(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        error = body.get("error")
        return str(body.get("description") or (error.get("message") if isinstance(error, dict) else "") or "")
    return ""


# --- one incoming message ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A message from a messenger, reduced to what a turn needs."""

    channel: str  # "telegram" | "whatsapp": the metrics and rate-limit label
    chat: str  # where the reply goes (Telegram chat id, WhatsApp wa_id): the only place the real id is kept
    sender_id: str  # the conversation's pseudonym (api/pseudonyms.py), as Rasa and every store see it
    text: str | None  # None: a voice message, photo or other content the bot cannot read
    locale_hint: str | None = None


class Channel(Protocol):
    name: str

    async def send(self, chat: str, messages: Sequence[BotMessage]) -> None:
        """Deliver the bot's messages; raises SendError."""

    async def typing(self, chat: str) -> None:
        """Show that an answer is coming (best effort, never raises)."""


def _locale_for_notices(turn: Turn) -> str:
    try:
        return turn.resolve_locale()[0]
    except Exception:  # language identification must never stop a notice
        return turn.tenant.default_locale


async def send_notice(channel: Channel, chat: str, text: str, locale: str) -> None:
    await _send(channel, chat, [bot_message(text, locale)])


async def _send(channel: Channel, chat: str, messages: Sequence[BotMessage]) -> None:
    try:
        await channel.send(chat, messages)
    except SendError as exc:
        log.warning("reply not delivered", extra={"channel": channel.name, "status": exc.status, "code": exc.code})
    except Exception as exc:  # a bug in rendering must not leave an unhandled task error without context
        _log_failure("reply not delivered", exc, channel=channel.name)


def _log_failure(message: str, exc: BaseException, **context: str) -> None:
    """Error type and traceback only: the exception's message could quote what the person wrote."""
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error(message, extra={**context, "error": type(exc).__name__, "where": where})


async def deliver(state: AppState, channel: Channel, incoming: Incoming, tenant: Tenant) -> None:
    """Answer one message: never raises, always tries to tell the person something useful."""
    delivery = state.messengers.delivery
    text = clean_message(incoming.text or "")[:MAX_TEXT]
    turn = Turn(
        channel=incoming.channel,
        sender_id=incoming.sender_id,
        text=text,
        tenant=tenant,
        locale_hint=incoming.locale_hint,
        reply_to=incoming.chat,
    )
    turns = state.metrics.turns
    async with delivery.locks.hold(incoming.sender_id):
        try:
            await state.limits.check_session(incoming.channel, incoming.sender_id)
        except ApiError:
            locale = _locale_for_notices(turn)
            turns.labels(incoming.channel, locale, "rate_limited").inc()
            if await delivery.shared.add(f"warned:{incoming.sender_id}", "1", RATE_LIMIT_NOTICE_SECONDS):
                await send_notice(channel, incoming.chat, texts.say(locale, texts.RATE_LIMITED), locale)
            return
        if not text:
            locale = _locale_for_notices(turn)
            turns.labels(incoming.channel, locale, "unsupported").inc()
            await send_notice(channel, incoming.chat, texts.say(locale, texts.TEXT_ONLY), locale)
            return
        await channel.typing(incoming.chat)
        try:
            result = await state.conversation.handle(turn)
        except Exception as exc:
            _log_failure("turn failed", exc, channel=incoming.channel)
            locale = _locale_for_notices(turn)
            turns.labels(incoming.channel, locale, "error").inc()
            await send_notice(channel, incoming.chat, texts.say(locale, texts.TRY_AGAIN), locale)
            return
        turns.labels(incoming.channel, result.locale, result.outcome).inc()
        messages = [m if m.get("locale") else {**m, "locale": result.locale} for m in result.messages]
        await _send(channel, incoming.chat, messages)
        log.info(
            "messenger turn", extra={"channel": incoming.channel, "locale": result.locale, "outcome": result.outcome}
        )
