"""Operations: reload a new index without restarting, and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from api.deps import StateDep
from api.errors import ApiError
from api.observability import is_loopback
from api.security import same_secret

router = APIRouter(tags=["admin"])


def _authorized(state, authorization: str | None) -> bool:
    token = state.settings.admin_token.get_secret_value() if state.settings.admin_token else None
    given = authorization.removeprefix("Bearer ").strip() if authorization else None
    return same_secret(given, token)


@router.post("/api/v1/admin/reload", responses={401: {}, 503: {}})
async def reload_index(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> dict:
    """Load the newest index build and tenant files now (also happens by polling every few seconds)."""
    if not _authorized(state, authorization):
        raise ApiError(401, "unauthorized", "A valid admin token is required.", headers={"WWW-Authenticate": "Bearer"})
    changed = state.knowledge.reload_if_changed()
    state.knowledge.reload_tenants()
    if not state.knowledge.ready:
        raise ApiError(503, "index_not_ready", state.knowledge.error or "no index")
    return {
        "reloaded": changed,
        "build": state.knowledge.build.rsplit("/", 1)[-1],
        "tenants": sorted(state.knowledge.tenants),
    }


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, state: StateDep, authorization: Annotated[str | None, Header()] = None) -> Response:
    """Prometheus metrics: from loopback, or with the admin token."""
    if not (is_loopback(request) or _authorized(state, authorization)):
        raise ApiError(403, "forbidden", "Metrics are available from loopback or with the admin token.")
    return state.metrics.render()
