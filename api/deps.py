"""FastAPI dependencies for resources and lookups, as ``Annotated`` aliases; routes stay thin. The guards
(admin token, webhook signatures, tenant origin, rate limits) are in api/guards.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

import locales
from api.errors import ApiError
from api.state import AppState
from knowledge import tenants
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant


def get_state(request: Request) -> AppState:
    return request.app.state.lotse


def get_knowledge(state: Annotated[AppState, Depends(get_state)]) -> KnowledgeService:
    if not state.knowledge.ready:
        raise ApiError(
            503,
            "index_not_ready",
            "The knowledge index is not loaded yet. Try again shortly.",
            headers={"Retry-After": "5"},
        )
    return state.knowledge


StateDep = Annotated[AppState, Depends(get_state)]
KnowledgeDep = Annotated[KnowledgeService, Depends(get_knowledge)]


def find_tenant(state: AppState, tenant_id: str | None) -> Tenant:
    """The API's side of the one tenant lookup (knowledge.tenants.find_tenant): an unknown tenant is a 404."""
    found = tenants.find_tenant(state.knowledge.tenants, tenant_id, state.settings.default_tenant)
    if found is None:
        raise ApiError(404, "unknown_tenant", f"Unknown tenant {tenant_id or state.settings.default_tenant!r}.")
    return found


def check_locale(code: str | None, tenant: Tenant | None = None) -> str | None:
    if code is None:
        return None
    if code not in locales.SUPPORTED:
        raise ApiError(
            422, "unsupported_locale", f"Unsupported locale {code!r}. Supported: {', '.join(locales.SUPPORTED)}."
        )
    if tenant is not None and code not in tenant.locales:
        raise ApiError(422, "locale_not_enabled", f"Locale {code!r} is not enabled for tenant {tenant.id!r}.")
    return code


def tenant_from_query(state: StateDep, tenant: Annotated[str | None, Query(max_length=41)] = None) -> Tenant:
    return find_tenant(state, tenant)


TenantDep = Annotated[Tenant, Depends(tenant_from_query)]


def web_sender(state: AppState, tenant: Tenant, session_id: str) -> str:
    """The pseudonymous sender id of a widget or REST session (api/pseudonyms.py)."""
    return state.pseudonyms.sender("web", f"{tenant.id}:{session_id}")
