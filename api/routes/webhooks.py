"""Messenger webhooks (Telegram, WhatsApp): authenticate, parse, answer at once, reply in the background.

Platforms redeliver until they get a 2xx, so the reply is produced after the response (FastAPI background
task: it runs once the response is sent, and a graceful shutdown waits for it) and a redelivered update is
recognised by its id. Bodies that are not what the platform documents get 400, never 500.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import PlainTextResponse

from api.channels import telegram, whatsapp
from api.channels.delivery import MalformedUpdate
from api.deps import StateDep, find_tenant
from api.errors import ApiError
from api.guards import TelegramSecretDep, WhatsAppConfiguredDep, WhatsAppSignatureDep
from api.schemas import ErrorResponse

router = APIRouter(tags=["messengers"])

ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404)}
OK = {"ok": True}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # also invalid UTF-8 and absurdly deep nesting
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None


@router.post("/webhooks/telegram", responses=ERRORS)
async def telegram_webhook(
    request: Request, background: BackgroundTasks, state: StateDep, _: TelegramSecretDep
) -> dict:
    """Updates from Telegram (set with `python -m api.channels.telegram set-webhook`)."""
    try:
        update = telegram.parse_update(_json(await request.body()))
    except MalformedUpdate as exc:
        raise ApiError(400, "malformed_update", f"Not a Telegram update: {exc}.") from None
    if update is None:
        return OK
    tenant = find_tenant(state, state.settings.telegram_tenant)
    if await state.messengers.delivery.seen.first_time(f"tg:{update.update_id}"):
        background.add_task(telegram.handle_update, state, update, tenant)
    return OK


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse, responses=ERRORS)
async def whatsapp_verification(
    state: StateDep,
    _: WhatsAppConfiguredDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's check when the webhook is registered: echo the challenge if the verify token matches."""
    expected = state.settings.whatsapp_verify_token.get_secret_value()
    answer = whatsapp.verify_challenge(mode, verify_token, challenge, expected)
    if answer is None:
        raise ApiError(403, "forbidden", "Webhook verification failed.")
    return PlainTextResponse(answer)


@router.post("/webhooks/whatsapp", responses=ERRORS)
async def whatsapp_webhook(background: BackgroundTasks, state: StateDep, raw: WhatsAppSignatureDep) -> dict:
    """Notifications from the WhatsApp Cloud API, signed with the app secret."""
    try:
        messages = whatsapp.parse_notification(_json(raw), state.settings.whatsapp_phone_number_id)
    except MalformedUpdate as exc:
        raise ApiError(400, "malformed_update", f"Not a WhatsApp notification: {exc}.") from None
    if not messages:
        return OK
    tenant = find_tenant(state, state.settings.whatsapp_tenant)
    for message in messages:
        if await state.messengers.delivery.seen.first_time(f"wa:{message.message_id}"):
            background.add_task(whatsapp.handle_message, state, message, tenant)
    return OK
