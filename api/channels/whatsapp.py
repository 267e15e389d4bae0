"""WhatsApp Cloud API: webhook verification and signatures, reading messages, sending text, reply buttons
and lists.

WhatsApp tells nothing about the user's language, so turns carry no locale hint: the API detects it from
the text and the bot keeps it for the session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

import locales
from api.channels.delivery import (
    ButtonPayloads,
    Delivery,
    Incoming,
    MalformedUpdate,
    RetryDelay,
    deliver,
    get_field,
    post_with_retry,
    send_notice,
)
from api.channels.formatting import WHATSAPP_INTERACTIVE_LIMIT, measure, whatsapp_parts
from api.config import Settings
from bot import texts
from bot.language import resolve_locale
from bot.messages import BotMessage, ButtonPayload
from knowledge.tenants import Tenant

if TYPE_CHECKING:
    from api.state import AppState

log = logging.getLogger(__name__)

MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_ID_MAX = 256
BUTTON_TITLE_MAX = 20
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
# Content the bot cannot read; it says so. Reactions, system and unknown messages are ignored.
_MEDIA = ("audio", "voice", "image", "video", "document", "sticker", "location", "contacts")
# Graph API error codes that mean "too fast, try again later" (sent with status 400 or 429).
_THROTTLED = {4, 80007, 130429, 131056}


# --- webhook security ----------------------------------------------------------------------------------------


def verify_challenge(mode: str | None, token: str | None, challenge: str | None, expected: str) -> str | None:
    """The challenge to echo when Meta verifies the webhook, else None."""
    if mode != "subscribe" or challenge is None or not token:
        return None
    return challenge if hmac.compare_digest(token.encode(), expected.encode()) else None


def signature_valid(app_secret: str, raw_body: bytes, header: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256 of the raw body with the app secret."""
    expected = "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


# --- reading notifications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppMessage:
    message_id: str
    wa_id: str
    text: str | None  # None for content the bot cannot read
    pressed: bool = False  # text is the id of a pressed reply button or list row


def _objects(obj: dict, key: str) -> list[dict]:
    items = get_field(obj, key, list) or []
    if not all(isinstance(item, dict) for item in items):
        raise MalformedUpdate(f"{key} must be a list of objects")
    return items


def _read(message: dict) -> tuple[str | None, bool] | None:
    """(text or button id, pressed) for one message; None to ignore it."""
    kind = get_field(message, "type", str, required=True)
    if kind == "text":
        return get_field(get_field(message, "text", dict, required=True), "body", str, required=True), False
    if kind == "interactive":
        interactive = get_field(message, "interactive", dict, required=True)
        reply = get_field(interactive, "button_reply", dict) or get_field(interactive, "list_reply", dict)
        return (get_field(reply, "id", str, required=True), True) if reply else None
    if kind == "button":  # quick reply of a template message
        return get_field(get_field(message, "button", dict, required=True), "payload", str, required=True), True
    if kind in _MEDIA:
        return None, False
    return None


def parse_notification(data: Any, phone_number_id: str | None = None) -> list[WhatsAppMessage]:
    """The user messages in a webhook notification; delivery statuses and other numbers' messages are skipped."""
    if not isinstance(data, dict):
        raise MalformedUpdate("a notification must be a JSON object")
    if "entry" not in data:
        raise MalformedUpdate("entry is missing")
    found: list[WhatsAppMessage] = []
    for entry in _objects(data, "entry"):
        for change in _objects(entry, "changes"):
            value = get_field(change, "value", dict) or {}
            number = get_field(get_field(value, "metadata", dict) or {}, "phone_number_id", str)
            if phone_number_id and number and number != phone_number_id:
                continue
            messages = _objects(value, "messages")
            # Reply to the contact's wa_id: for some countries it differs in format from the "from" field.
            contacts = [c.get("wa_id") for c in _objects(value, "contacts") if isinstance(c.get("wa_id"), str)]
            for index, message in enumerate(messages):
                read = _read(message)
                if read is None:
                    continue
                sender = get_field(message, "from", str, required=True)
                wa_id = (
                    contacts[index]
                    if len(contacts) == len(messages)
                    else (contacts[0] if len(contacts) == 1 else sender)
                )
                found.append(WhatsAppMessage(get_field(message, "id", str, required=True), wa_id, *read))
    return found


# --- writing replies -----------------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unique(titles: Sequence[str], limit: int) -> list[str]:
    """Cut titles; WhatsApp refuses two buttons with the same title, so later twins get a number."""
    seen: set[str] = set()
    result = []
    for title in titles:
        cut, number = _cut(title, limit), 2
        while cut in seen:
            suffix = f" {number}"
            cut, number = _cut(title, limit - len(suffix)) + suffix, number + 1
        seen.add(cut)
        result.append(cut)
    return result


def text_payload(to: str, body: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body, "preview_url": False},
    }


def interactive_payload(to: str, body: str, buttons: Sequence[ButtonPayload], locale: str) -> dict:
    """Up to 3 buttons as reply buttons, up to 10 as a list (titles cut to the platform's limits). Topics whose
    titles a reply button would cut go in a list too, where the row's description shows the whole title: the
    title is all a person has to judge a topic by."""
    titles = [b["title"] for b in buttons]
    topic_cut = any(
        b["payload"].startswith("/ask_entry") and len(" ".join(b["title"].split())) > BUTTON_TITLE_MAX for b in buttons
    )
    if len(buttons) <= MAX_REPLY_BUTTONS and not topic_cut:
        interactive = {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {
                        "type": "reply",
                        "reply": {"id": ButtonPayloads.button_id(b["payload"], BUTTON_ID_MAX), "title": title},
                    }
                    for b, title in zip(buttons, _unique(titles, BUTTON_TITLE_MAX), strict=True)
                ]
            },
        }
    else:
        rows = []
        for b, title in zip(buttons, _unique(titles, ROW_TITLE_MAX), strict=True):
            row = {"id": ButtonPayloads.button_id(b["payload"], ROW_ID_MAX), "title": title}
            if title != " ".join(b["title"].split()):  # the full title, where the row title had to be cut
                row["description"] = _cut(b["title"], ROW_DESCRIPTION_MAX)
            rows.append(row)
        interactive = {
            "type": "list",
            "body": {"text": body},
            "action": {"button": _cut(texts.say(locale, texts.CHOOSE), LIST_BUTTON_MAX), "sections": [{"rows": rows}]},
        }
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": interactive,
    }


def message_payloads(to: str, message: BotMessage) -> list[dict]:
    """Messages API bodies for one bot message, in order."""
    locale = message.get("locale") or locales.DEFAULT
    parts = whatsapp_parts(message)
    buttons: list[ButtonPayload] = []
    for button in message.get("buttons") or []:  # ids must be unique within one message
        if button.get("title") and button.get("payload") and all(b["payload"] != button["payload"] for b in buttons):
            buttons.append(button)
    if not buttons:
        return [text_payload(to, part) for part in parts]
    if len(buttons) > MAX_LIST_ROWS:  # more than a list holds: name the options, the user types one
        listing = "\n".join(f"• {' '.join(b['title'].split())}" for b in buttons)
        return [text_payload(to, part) for part in parts] + [text_payload(to, listing)]
    if parts and measure(parts[-1]) <= WHATSAPP_INTERACTIVE_LIMIT:
        leading, body = parts[:-1], parts[-1]
    else:  # the body of an interactive message is short: the text goes first, then the choice with a prompt
        leading, body = parts, texts.say(locale, texts.PLEASE_CHOOSE)
    return [text_payload(to, part) for part in leading] + [interactive_payload(to, body, buttons, locale)]


# --- the Cloud API -------------------------------------------------------------------------------------------


def _error(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_delay(backoff: float) -> RetryDelay:
    def delay(response: httpx.Response, attempt: int) -> float | None:
        if response.status_code == 429 or response.status_code >= 500 or _error(response).get("code") in _THROTTLED:
            header = response.headers.get("retry-after", "")
            return float(header) if header.isdigit() else backoff * 2**attempt
        return None

    return delay


def _error_code(response: httpx.Response) -> str:
    return str(_error(response).get("code", response.status_code))


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        phone_number_id: str,
        access_token: str,
        payloads: ButtonPayloads,
        attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self._http = http
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self.payloads = payloads
        self._attempts, self._backoff = attempts, backoff

    async def post(self, payload: dict) -> None:
        await post_with_retry(
            self._http,
            self._url,
            payload,
            attempts=self._attempts,
            backoff=self._backoff,
            retry_delay=_retry_delay(self._backoff),
            error_code=_error_code,
            headers=self._headers,
        )

    async def send(self, chat: str, messages: Sequence[BotMessage]) -> None:
        await self.payloads.remember(messages, min(BUTTON_ID_MAX, ROW_ID_MAX))
        for message in messages:
            for payload in message_payloads(chat, message):
                await self.post(payload)

    async def typing(self, chat: str) -> None:
        return None  # the Cloud API's typing indicator needs the incoming message id; not worth a call


def is_configured(settings: Settings) -> bool:
    return bool(
        settings.whatsapp_access_token
        and settings.whatsapp_app_secret
        and settings.whatsapp_verify_token
        and settings.whatsapp_phone_number_id
    )


def channel_for(settings: Settings, http: httpx.AsyncClient, delivery: Delivery) -> WhatsAppChannel:
    token = settings.whatsapp_access_token.get_secret_value() if settings.whatsapp_access_token else ""
    return WhatsAppChannel(
        http,
        settings.whatsapp_api_url,
        settings.whatsapp_phone_number_id or "",
        token,
        delivery.payloads,
        attempts=delivery.send_attempts,
        backoff=delivery.backoff_seconds,
    )


async def handle_message(state: AppState, message: WhatsAppMessage, tenant: Tenant) -> None:
    """Runs after the webhook answered: a pressed button becomes its payload, then the turn is delivered."""
    channel = state.messengers.whatsapp
    text = message.text
    if message.pressed and text is not None:
        text = await channel.payloads.payload_for(text)
        if text is None:
            locale, _ = resolve_locale("", tenant)  # WhatsApp says nothing about the language: the default
            await send_notice(channel, message.wa_id, texts.say(locale, texts.BUTTON_EXPIRED), locale)
            return
    sender_id = state.pseudonyms.sender("wa", message.wa_id)
    incoming = Incoming(channel="whatsapp", chat=message.wa_id, sender_id=sender_id, text=text)
    await deliver(state, channel, incoming, tenant)
