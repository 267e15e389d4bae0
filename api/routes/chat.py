"""POST /api/v1/chat: one turn of the conversation from the web widget or any REST client."""

from __future__ import annotations

from fastapi import APIRouter, Request

import locales
from api.conversation import Turn
from api.deps import StateDep, web_sender
from api.guards import ChatLocaleDep, RateLimitDep, TenantOriginDep
from api.schemas import ChatMessage, ChatRequest, ChatResponse, ErrorResponse

router = APIRouter(prefix="/api/v1", tags=["chat"])

ERRORS = {code: {"model": ErrorResponse} for code in (403, 404, 413, 422, 429)}


@router.post("/chat", response_model=ChatResponse, responses=ERRORS)
async def chat(
    body: ChatRequest,
    request: Request,
    state: StateDep,
    tenant: TenantOriginDep,
    locale: ChatLocaleDep,
    _: RateLimitDep,
) -> ChatResponse:
    """Send the user's message (or a button payload) and get the bot's messages back."""
    turn = Turn(
        channel="web",
        sender_id=web_sender(state, tenant, body.session_id),
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
        with_counsellor=result.with_counsellor,
        degraded=result.degraded,
    )
