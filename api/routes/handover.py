"""The handover's HTTP side: the counselling platform's webhook, and counsellor replies for the widget.

``POST /webhooks/zammad?tenant=<id>``: signed with the tenant's webhook secret (401 unsigned, 403 wrongly
signed), each delivery handled once (``X-Zammad-Delivery``). ``GET /api/v1/chat/{session_id}/events`` streams
counsellor replies as server-sent events from whichever replica the webhook reached (shared publish/
subscribe); ``GET /api/v1/chat/{session_id}/replies?after=<id>`` is the same for clients that poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import StateDep, TenantDep, find_tenant, web_sender
from api.errors import ApiError
from api.handover import replies
from api.handover.adapter import BadSignature
from api.schemas import SESSION_PATTERN, ErrorResponse
from api.state import AppState

router = APIRouter(tags=["handover"])
log = logging.getLogger(__name__)

ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404)}
HEARTBEAT_SECONDS = 15.0  # keeps proxies from closing an idle stream
SessionPath = Annotated[str, Path(min_length=1, max_length=128, pattern=SESSION_PATTERN)]


@router.post("/webhooks/zammad", responses=ERRORS)
async def zammad_webhook(
    request: Request, state: StateDep, tenant: Annotated[str | None, Query(max_length=41)] = None
) -> dict:
    """Ticket updates from the tenant's Zammad trigger (docs/handover-zammad.md)."""
    found = find_tenant(state, tenant)
    adapter = state.handover.adapter(found)
    if adapter is None:
        raise ApiError(404, "no_live_handover", f"Tenant {found.id!r} has no live handover configured.")
    body = await request.body()
    try:
        event = adapter.read_event(request.headers, body)
    except BadSignature as exc:
        status = 401 if str(exc) == "missing" else 403
        raise ApiError(status, "invalid_signature", "The webhook signature is missing or wrong.") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_webhook", f"Not a Zammad webhook: {exc}.") from None
    delivery = adapter.delivery_id(request.headers)
    if delivery and not await state.handover.store.first_delivery("zammad", f"{found.id}:{delivery}"):
        return {"ok": True, "outcome": "duplicate"}
    if event is None:
        return {"ok": True, "outcome": "ignored"}
    outcome = await replies.on_event(state.handover, state.messengers, found, event)
    return {"ok": True, "outcome": outcome}


@router.get("/api/v1/chat/{session_id}/replies", tags=["chat"], responses=ERRORS)
async def counsellor_replies(
    session_id: SessionPath, state: StateDep, tenant: TenantDep, after: Annotated[int, Query(ge=0)] = 0
) -> dict:
    """Counsellor replies with an id above ``after``, and whether a counsellor still owns the conversation."""
    sender = web_sender(state, tenant, session_id)  # as POST /api/v1/chat names it
    record = await state.handover.store.record(sender)
    messages = [m for m in await state.handover.store.inbox(sender) if m["id"] > after]
    return {"messages": messages, "with_counsellor": bool(record and record.owner == "counsellor")}


# Not in the OpenAPI schema: a stream that never ends is no request/response operation (README.md documents it).
@router.get("/api/v1/chat/{session_id}/events", include_in_schema=False)
async def counsellor_events(
    session_id: SessionPath,
    state: StateDep,
    tenant: TenantDep,
    last_event_id: Annotated[int, Header(ge=0)] = 0,
    after: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    """Server-sent events: one ``message`` event per counsellor reply (``id`` for reconnecting)."""
    sender = web_sender(state, tenant, session_id)  # as POST /api/v1/chat names it
    return StreamingResponse(
        _events(state, sender, max(after, last_event_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(state: AppState, sender: str, after: int) -> AsyncIterator[str]:
    store = state.handover.store
    async with store.subscribe(sender) as published:
        seen = after
        for message in await store.inbox(sender):  # subscribed first, so nothing falls between the two
            if message["id"] > seen:
                seen = message["id"]
                yield _event(message)
        yield ": connected\n\n"
        incoming = aiter(published)
        while True:
            try:
                raw = await asyncio.wait_for(anext(incoming), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            message = json.loads(raw)
            if message["id"] > seen:
                seen = message["id"]
                yield _event(message)


def _event(message: dict) -> str:
    return f"id: {message['id']}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
