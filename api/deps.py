"""FastAPI dependencies as ``Annotated`` aliases; routes stay thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

import locales
from api.config import Settings
from api.errors import ApiError
from api.state import AppState
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant


def get_state(request: Request) -> AppState:
    return request.app.state.lotse


def get_settings(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


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
SettingsDep = Annotated[Settings, Depends(get_settings)]
KnowledgeDep = Annotated[KnowledgeService, Depends(get_knowledge)]


def find_tenant(state: AppState, tenant_id: str | None) -> Tenant:
    wanted = tenant_id or state.settings.default_tenant
    tenant = state.knowledge.tenants.get(wanted)
    if tenant is None:
        raise ApiError(404, "unknown_tenant", f"Unknown tenant {wanted!r}.")
    return tenant


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
