"""Locales and public tenant configuration for clients such as the widget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

import locales
from api.deps import StateDep, check_locale, find_tenant
from api.schemas import ErrorResponse, LocaleItem, TenantConfig, UiTexts
from bot import texts

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/locales", response_model=list[LocaleItem])
async def list_locales() -> list[LocaleItem]:
    """Supported locales with their own names (endonyms) and writing direction."""
    return [LocaleItem(code=i.code, name=i.name, english_name=i.english_name, rtl=i.rtl) for i in locales.all_info()]


@router.get("/tenants/{tenant_id}", response_model=TenantConfig, responses={404: {"model": ErrorResponse}})
async def tenant_config(
    state: StateDep,
    tenant_id: Annotated[str, Path(max_length=41)],
    locale: Annotated[str | None, Query()] = None,
) -> TenantConfig:
    """What the widget needs to present a tenant: name, colours, enabled locales."""
    tenant = find_tenant(state, tenant_id)
    code = check_locale(locale) or tenant.default_locale
    return TenantConfig(
        id=tenant.id,
        name=tenant.display_name(code),
        example=tenant.example,
        locales=tenant.locales,
        default_locale=tenant.default_locale,
        primary_colour=tenant.theme.primary,
        on_primary_colour=tenant.theme.on_primary,
    )


@router.get("/texts", response_model=UiTexts, responses={422: {"model": ErrorResponse}})
async def ui_texts(locale: Annotated[str, Query()] = locales.DEFAULT) -> UiTexts:
    """Labels for chat clients (the widget), in ``locale``."""
    check_locale(locale)
    return UiTexts(locale=locale, rtl=locales.info(locale).rtl, texts=texts.widget_texts(locale))
