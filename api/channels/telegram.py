"""Telegram Bot API: read updates, send replies with inline keyboards, and manage the webhook (CLI).

python -m api.channels.telegram set-webhook --url https://HOST/webhooks/telegram
python -m api.channels.telegram info
python -m api.channels.telegram delete-webhook
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import typer

import locales
from api.channels.delivery import (
    ButtonPayloads,
    Delivery,
    Incoming,
    MalformedUpdate,
    RetryDelay,
    SendError,
    deliver,
    get_field,
    post_with_retry,
)
from api.channels.formatting import html_to_plain, telegram_parts
from api.config import Settings, get_settings
from bot import texts
from bot.language import resolve_locale
from bot.messages import BotMessage, ButtonPayload, intent_payload
from knowledge.tenants import Tenant

if TYPE_CHECKING:
    from api.state import AppState

log = logging.getLogger(__name__)

CALLBACK_DATA_BYTES = 64
ALLOWED_UPDATES = ["message", "callback_query"]
# Content the bot cannot read; it says so instead of staying silent (service messages are ignored).
_MEDIA = ("photo", "voice", "audio", "video", "video_note", "document", "sticker", "animation", "location", "contact")
# Telegram's own commands mean "hello" to the bot.
_COMMANDS = {"/start": intent_payload("home"), "/help": intent_payload("home")}
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


# --- reading updates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramUpdate:
    update_id: int
    chat_id: int
    text: str | None  # message text, or the pressed button's callback data; None for media
    language_code: str | None
    callback_id: str | None = None  # set when the update is a pressed button


def parse_update(data: Any) -> TelegramUpdate | None:
    """The parts of an Update the bot uses; None for updates it ignores (edits, joins, inline queries)."""
    if not isinstance(data, dict):
        raise MalformedUpdate("an update must be a JSON object")
    update_id = get_field(data, "update_id", int, required=True)
    message = get_field(data, "message", dict)
    if message is not None:
        chat_id = get_field(get_field(message, "chat", dict, required=True), "id", int, required=True)
        language = get_field(get_field(message, "from", dict) or {}, "language_code", str)
        text = get_field(message, "text", str)
        if text is None and not any(key in message for key in _MEDIA):
            return None
        return TelegramUpdate(update_id, chat_id, text, language)
    query = get_field(data, "callback_query", dict)
    if query is not None:
        callback_id = get_field(query, "id", str, required=True)
        language = get_field(get_field(query, "from", dict, required=True), "language_code", str)
        origin = get_field(query, "message", dict)
        if origin is None:
            return None  # a button under an inline-mode message: not one of ours
        chat_id = get_field(get_field(origin, "chat", dict, required=True), "id", int, required=True)
        return TelegramUpdate(update_id, chat_id, get_field(query, "data", str), language, callback_id)
    return None


def command_text(text: str) -> str:
    """``/start``, ``/start@LotseBot`` or ``/start campaign`` -> the first screen; other text unchanged."""
    command = re.split(r"[\s@]", text.strip(), maxsplit=1)[0].lower()
    return _COMMANDS.get(command, text)


# --- writing replies -----------------------------------------------------------------------------------------


def inline_keyboard(buttons: Sequence[ButtonPayload]) -> dict | None:
    """One button per row (titles stay readable on a phone); long payloads travel as a short key."""
    rows = [
        [{"text": b["title"], "callback_data": ButtonPayloads.button_id(b["payload"], CALLBACK_DATA_BYTES)}]
        for b in buttons
        if b.get("title") and b.get("payload")
    ]
    return {"inline_keyboard": rows} if rows else None


def send_message_payloads(chat_id: int, message: BotMessage) -> list[dict]:
    """sendMessage bodies for one bot message: its parts in order, the keyboard under the last one."""
    parts = telegram_parts(message)
    keyboard = inline_keyboard(message.get("buttons") or [])
    if not parts and keyboard:
        parts = [texts.say(message.get("locale") or locales.DEFAULT, texts.PLEASE_CHOOSE)]
    bodies = [
        {"chat_id": chat_id, "text": part, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
        for part in parts
    ]
    if bodies and keyboard:
        bodies[-1]["reply_markup"] = keyboard
    return bodies


# --- the Bot API ---------------------------------------------------------------------------------------------


def _retry_delay(backoff: float) -> RetryDelay:
    def delay(response: httpx.Response, attempt: int) -> float | None:
        if response.status_code == 429:
            try:
                retry_after = response.json().get("parameters", {}).get("retry_after")
            except (ValueError, AttributeError):
                retry_after = None
            return float(retry_after) if isinstance(retry_after, int | float) else backoff * 2**attempt
        return backoff * 2**attempt if response.status_code >= 500 else None

    return delay


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error_code", response.status_code))
    except (ValueError, AttributeError):
        return str(response.status_code)


class TelegramClient:
    """Bot API calls over the app's HTTP client. The token is part of every URL: never log URLs."""

    def __init__(
        self, http: httpx.AsyncClient, api_url: str, token: str, attempts: int = 4, backoff: float = 0.5
    ) -> None:
        self._http = http
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self._attempts, self._backoff = attempts, backoff

    async def call(self, method: str, payload: dict[str, Any], attempts: int | None = None) -> Any:
        response = await post_with_retry(
            self._http,
            f"{self._base}/{method}",
            payload,
            attempts=attempts or self._attempts,
            backoff=self._backoff,
            retry_delay=_retry_delay(self._backoff),
            error_code=_error_code,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise SendError(response.status_code, "invalid_json") from exc
        if not isinstance(body, dict) or not body.get("ok"):
            raise SendError(
                response.status_code, "not_ok", str(body.get("description", "")) if isinstance(body, dict) else ""
            )
        return body.get("result")


class TelegramChannel:
    name = "telegram"

    def __init__(self, client: TelegramClient, payloads: ButtonPayloads) -> None:
        self.client = client
        self.payloads = payloads

    async def send(self, chat: str, messages: Sequence[BotMessage]) -> None:
        await self.payloads.remember(messages, CALLBACK_DATA_BYTES)
        for message in messages:
            for body in send_message_payloads(int(chat), message):
                try:
                    await self.client.call("sendMessage", body)
                except SendError as exc:
                    if exc.status != 400 or "can't parse entities" not in exc.description.lower():
                        raise
                    # Should not happen (everything is escaped), but a reply in plain text beats none.
                    log.warning("telegram refused the markup; resending as plain text")
                    plain = {k: v for k, v in body.items() if k != "parse_mode"}
                    await self.client.call("sendMessage", {**plain, "text": html_to_plain(body["text"])})

    async def typing(self, chat: str) -> None:
        with contextlib.suppress(SendError):  # only a hint in the chat header
            await self.client.call("sendChatAction", {"chat_id": int(chat), "action": "typing"}, attempts=1)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        """Stops the spinner on the pressed button; ``text`` shows as a short notice."""
        body: dict[str, Any] = {"callback_query_id": callback_id}
        if text:
            body["text"] = text
        try:
            await self.client.call("answerCallbackQuery", body, attempts=2)
        except SendError as exc:
            log.info("callback not answered", extra={"channel": self.name, "status": exc.status, "code": exc.code})


def channel_for(settings: Settings, http: httpx.AsyncClient, delivery: Delivery) -> TelegramChannel:
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    client = TelegramClient(
        http, settings.telegram_api_url, token, attempts=delivery.send_attempts, backoff=delivery.backoff_seconds
    )
    return TelegramChannel(client, delivery.payloads)


def is_configured(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token and settings.telegram_secret_token)


async def handle_update(state: AppState, update: TelegramUpdate, tenant: Tenant) -> None:
    """Runs after the webhook answered: a pressed button becomes its payload, then the turn is delivered."""
    channel = state.messengers.telegram
    text = update.text
    if update.callback_id is not None:
        payload = await channel.payloads.payload_for(text) if text else None
        if payload is None:
            locale, _ = resolve_locale("", tenant, hint=update.language_code)
            await channel.answer_callback(update.callback_id, texts.say(locale, texts.BUTTON_EXPIRED))
            return
        await channel.answer_callback(update.callback_id)
        text = payload
    elif text is not None:
        text = command_text(text)
    incoming = Incoming(
        channel="telegram",
        chat=str(update.chat_id),
        sender_id=state.pseudonyms.sender("tg", str(update.chat_id)),
        text=text,
        locale_hint=update.language_code,
    )
    await deliver(state, channel, incoming, tenant)


# --- webhook management (CLI) --------------------------------------------------------------------------------

cli = typer.Typer(
    help="Manage the Telegram webhook of this Lotse instance (reads LOTSE_* settings).",
    no_args_is_help=True,
    add_completion=False,
)
CLI_TRANSPORT: httpx.AsyncBaseTransport | None = None  # tests answer for api.telegram.org here


def _call_once(method: str, payload: dict[str, Any]) -> dict:
    settings = get_settings()
    if not settings.telegram_bot_token:
        typer.echo("LOTSE_TELEGRAM_BOT_TOKEN is not set.", err=True)
        raise typer.Exit(2)
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token.get_secret_value()}/{method}"

    async def post() -> dict:
        async with httpx.AsyncClient(timeout=20.0, transport=CLI_TRANSPORT) as http:
            return (await http.post(url, json=payload)).json()

    try:
        answer = asyncio.run(post())
    except (httpx.HTTPError, ValueError) as exc:  # the message of an httpx error holds the URL, i.e. the token
        typer.echo(f"Telegram could not be reached: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise typer.Exit(1)
    return answer


@cli.command("set-webhook")
def set_webhook(
    url: str = typer.Option(..., help="Public HTTPS address of the webhook: https://HOST/webhooks/telegram"),
    drop_pending_updates: bool = typer.Option(False, help="Discard updates that arrived while no webhook was set."),
) -> None:
    """Point Telegram at this instance, with the secret token it must send back."""
    settings = get_settings()
    secret = settings.telegram_secret_token.get_secret_value() if settings.telegram_secret_token else ""
    if not _SECRET_TOKEN.match(secret):
        typer.echo("LOTSE_TELEGRAM_SECRET_TOKEN must be set: 1-256 characters of A-Z, a-z, 0-9, _ and -.", err=True)
        raise typer.Exit(2)
    if not url.startswith("https://"):
        typer.echo("Telegram only delivers to https:// addresses.", err=True)
        raise typer.Exit(2)
    _call_once(
        "setWebhook",
        {
            "url": url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": drop_pending_updates,
        },
    )


@cli.command("delete-webhook")
def delete_webhook(
    drop_pending_updates: bool = typer.Option(False, help="Also discard updates waiting for delivery."),
) -> None:
    """Stop deliveries to the webhook."""
    _call_once("deleteWebhook", {"drop_pending_updates": drop_pending_updates})


@cli.command("info")
def info() -> None:
    """Show the current webhook, pending updates and the last delivery error."""
    _call_once("getWebhookInfo", {})


if __name__ == "__main__":
    cli()
