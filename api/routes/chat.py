"""POST /api/v1/chat: one turn of the conversation from the web widget or any REST client."""

from __future__ import annotations

from fastapi import APIRouter, Request

import locales
from api.conversation import Turn
from api.deps import StateDep, check_locale, find_tenant
from api.errors import ApiError
from api.schemas import ChatMessage, ChatRequest, ChatResponse, ErrorResponse
from api.security import client_ip

router = APIRouter(prefix="/api/v1", tags=["chat"])

ERRORS = {code: {"model": ErrorResponse} for code in (403, 404, 413, 422, 429)}


@router.post("/chat", response_model=ChatResponse, responses=ERRORS)
async def chat(body: ChatRequest, request: Request, state: StateDep) -> ChatResponse:
    """Send the user's message (or a button payload) and get the bot's messages back."""
    tenant = find_tenant(state, body.tenant)
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != state.settings.public_url.rstrip("/") and not tenant.allows_origin(origin):
        raise ApiError(403, "origin_not_allowed", f"This site may not use tenant {tenant.id!r}.")
    locale = check_locale(body.locale, tenant)
    state.limits.check_ip(client_ip(request, state.settings.trust_forwarded_for))
    state.limits.check_session("web", f"{tenant.id}:{body.session_id}")

    turn = Turn(
        channel="web",
        sender_id=f"web:{tenant.id}:{body.session_id}",
        text=body.message,
        tenant=tenant,
        locale=locale,
        locale_hint=locales.negotiate(request.headers.get("accept-language"), tuple(tenant.locales)),
    )
    result = await state.conversation.handle(turn)
    state.metrics.turns.labels("web", result.locale, result.outcome).inc()
    return ChatResponse(
        session_id=body.session_id,
        locale=result.locale,
        messages=[
            ChatMessage.model_validate({k: v for k, v in m.items() if k in ChatMessage.model_fields})
            for m in result.messages
        ],
        handover=result.handover,
        degraded=result.degraded,
    )
