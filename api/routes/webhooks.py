"""Messenger webhooks (Telegram, WhatsApp): authenticate, parse, answer at once, reply in the background.

Platforms redeliver until they get a 2xx, so the reply is produced after the response (FastAPI background
task: it runs once the response is sent, and a graceful shutdown waits for it) and a redelivered update is
recognised by its id. Bodies that are not what the platform documents get 400, never 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request
from fastapi.responses import PlainTextResponse

from api.channels import telegram, whatsapp
from api.channels.delivery import Delivery, MalformedUpdate, TTLSet
from api.deps import StateDep, find_tenant
from api.errors import ApiError
from api.schemas import ErrorResponse
from api.security import same_secret
from api.state import AppState

router = APIRouter(tags=["messengers"])

ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404)}
OK = {"ok": True}


@dataclass
class Messengers:
    """The channels of one app run (rebuilt when the lifespan creates a new state, e.g. in tests)."""

    state: AppState
    delivery: Delivery
    telegram: telegram.TelegramChannel
    whatsapp: whatsapp.WhatsAppChannel


def _messengers(request: Request, state: AppState) -> Messengers:
    current = getattr(request.app.state, "messengers", None)
    if current is None or current.state is not state:
        settings = state.settings
        delivery = Delivery(
            seen=TTLSet(settings.messenger_dedupe_size, settings.messenger_dedupe_seconds),
            send_attempts=settings.messenger_send_attempts,
            backoff_seconds=settings.messenger_backoff_seconds,
        )
        current = Messengers(
            state, delivery, telegram.channel_for(state, delivery), whatsapp.channel_for(state, delivery)
        )
        request.app.state.messengers = current
    return current


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # also invalid UTF-8 and absurdly deep nesting
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None


def _not_configured(name: str) -> ApiError:
    return ApiError(404, "not_found", f"{name} is not configured on this server.")


@router.post("/webhooks/telegram", responses=ERRORS)
async def telegram_webhook(
    request: Request,
    background: BackgroundTasks,
    state: StateDep,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> dict:
    """Updates from Telegram (set with `python -m api.channels.telegram set-webhook`)."""
    settings = state.settings
    if not telegram.is_configured(settings):
        raise _not_configured("Telegram")
    if not x_telegram_bot_api_secret_token:
        raise ApiError(401, "unauthorized", "The X-Telegram-Bot-Api-Secret-Token header is missing.")
    if not same_secret(x_telegram_bot_api_secret_token, settings.telegram_secret_token.get_secret_value()):
        raise ApiError(403, "forbidden", "The secret token does not match.")
    try:
        update = telegram.parse_update(_json(await request.body()))
    except MalformedUpdate as exc:
        raise ApiError(400, "malformed_update", f"Not a Telegram update: {exc}.") from None
    if update is None:
        return OK
    tenant = find_tenant(state, settings.telegram_tenant)
    messengers = _messengers(request, state)
    if messengers.delivery.seen.add(f"tg:{update.update_id}"):
        background.add_task(telegram.handle_update, state, messengers.delivery, messengers.telegram, update, tenant)
    return OK


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse, responses=ERRORS)
async def whatsapp_verification(
    state: StateDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's check when the webhook is registered: echo the challenge if the verify token matches."""
    settings = state.settings
    if not whatsapp.is_configured(settings):
        raise _not_configured("WhatsApp")
    answer = whatsapp.verify_challenge(mode, verify_token, challenge, settings.whatsapp_verify_token.get_secret_value())
    if answer is None:
        raise ApiError(403, "forbidden", "Webhook verification failed.")
    return PlainTextResponse(answer)


@router.post("/webhooks/whatsapp", responses=ERRORS)
async def whatsapp_webhook(
    request: Request,
    background: BackgroundTasks,
    state: StateDep,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> dict:
    """Notifications from the WhatsApp Cloud API, signed with the app secret."""
    settings = state.settings
    if not whatsapp.is_configured(settings):
        raise _not_configured("WhatsApp")
    if not x_hub_signature_256:
        raise ApiError(401, "unauthorized", "The X-Hub-Signature-256 header is missing.")
    raw = await request.body()  # the signature covers the exact bytes, so check before parsing
    if not whatsapp.signature_valid(settings.whatsapp_app_secret.get_secret_value(), raw, x_hub_signature_256):
        raise ApiError(403, "forbidden", "The signature does not match.")
    try:
        messages = whatsapp.parse_notification(_json(raw), settings.whatsapp_phone_number_id)
    except MalformedUpdate as exc:
        raise ApiError(400, "malformed_update", f"Not a WhatsApp notification: {exc}.") from None
    if not messages:
        return OK
    tenant = find_tenant(state, settings.whatsapp_tenant)
    messengers = _messengers(request, state)
    for message in messages:
        if messengers.delivery.seen.add(f"wa:{message.message_id}"):
            background.add_task(
                whatsapp.handle_message, state, messengers.delivery, messengers.whatsapp, message, tenant
            )
    return OK
