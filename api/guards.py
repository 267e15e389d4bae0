"""Guards as FastAPI dependencies: who may call a route, checked before the route runs.

``AdminDep`` (admin token), ``MetricsAccessDep`` (metrics token), ``TenantOriginDep`` (the chat's
tenant exists and the calling site may use it), ``ChatLocaleDep`` (the requested locale is enabled),
``RateLimitDep`` (per IP and per session), ``TelegramSecretDep`` and ``WhatsAppSignatureDep`` (the webhook
is configured and the request really comes from the platform). The mechanisms behind them are in
api/security.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import SecretStr

from api.channels import telegram, whatsapp
from api.deps import StateDep, check_locale, find_tenant
from api.errors import ApiError
from api.schemas import ChatRequest
from api.security import client_ip, same_secret
from knowledge.tenants import Tenant

__all__ = [
    "AdminDep",
    "ChatLocaleDep",
    "MetricsAccessDep",
    "RateLimitDep",
    "TelegramSecretDep",
    "TenantOriginDep",
    "WhatsAppConfiguredDep",
    "WhatsAppSignatureDep",
]


def _bearer(authorization: str | None, expected: SecretStr | None, name: str) -> None:
    """The route is configured (its token is set: 404 otherwise) and the caller sends that token (401)."""
    if expected is None:
        raise _not_configured(name)
    given = authorization.removeprefix("Bearer ").strip() if authorization else None
    if not same_secret(given, expected.get_secret_value()):
        raise ApiError(
            401, "unauthorized", f"A valid {name} token is required.", headers={"WWW-Authenticate": "Bearer"}
        )


def require_admin(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> None:
    _bearer(authorization, state.settings.admin_token, "admin")


def require_metrics_token(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> None:
    _bearer(authorization, state.settings.metrics_token, "metrics")


def tenant_origin(body: ChatRequest, request: Request, state: StateDep) -> Tenant:
    """The chat's tenant (404 when unknown), and only from the sites that tenant allows (403)."""
    tenant = find_tenant(state, body.tenant)
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != state.settings.public_url.rstrip("/") and not tenant.allows_origin(origin):
        raise ApiError(403, "origin_not_allowed", f"This site may not use tenant {tenant.id!r}.")
    return tenant


TenantOriginDep = Annotated[Tenant, Depends(tenant_origin)]


def chat_locale(body: ChatRequest, tenant: TenantOriginDep) -> str | None:
    return check_locale(body.locale, tenant)


def rate_limit(body: ChatRequest, request: Request, state: StateDep, tenant: TenantOriginDep) -> None:
    state.limits.check_ip(client_ip(request))
    state.limits.check_session("web", f"{tenant.id}:{body.session_id}")


def _not_configured(name: str) -> ApiError:
    return ApiError(404, "not_found", f"{name} is not configured on this server.")


def telegram_secret(state: StateDep, x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None) -> None:
    """Telegram sends back the secret token the webhook was set with (python -m api.channels.telegram)."""
    if not telegram.is_configured(state.settings):
        raise _not_configured("Telegram")
    if not x_telegram_bot_api_secret_token:
        raise ApiError(401, "unauthorized", "The X-Telegram-Bot-Api-Secret-Token header is missing.")
    if not same_secret(x_telegram_bot_api_secret_token, state.settings.telegram_secret_token.get_secret_value()):
        raise ApiError(403, "forbidden", "The secret token does not match.")


def whatsapp_configured(state: StateDep) -> None:
    if not whatsapp.is_configured(state.settings):
        raise _not_configured("WhatsApp")


async def whatsapp_signed_body(
    request: Request,
    state: StateDep,
    _: Annotated[None, Depends(whatsapp_configured)],
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> bytes:
    """The raw body, once its HMAC-SHA256 signature (with the app secret) matches: checked before parsing,
    because the signature covers the exact bytes."""
    if not x_hub_signature_256:
        raise ApiError(401, "unauthorized", "The X-Hub-Signature-256 header is missing.")
    raw = await request.body()
    if not whatsapp.signature_valid(state.settings.whatsapp_app_secret.get_secret_value(), raw, x_hub_signature_256):
        raise ApiError(403, "forbidden", "The signature does not match.")
    return raw


AdminDep = Annotated[None, Depends(require_admin)]
MetricsAccessDep = Annotated[None, Depends(require_metrics_token)]
ChatLocaleDep = Annotated[str | None, Depends(chat_locale)]
RateLimitDep = Annotated[None, Depends(rate_limit)]
TelegramSecretDep = Annotated[None, Depends(telegram_secret)]
WhatsAppConfiguredDep = Annotated[None, Depends(whatsapp_configured)]
WhatsAppSignatureDep = Annotated[bytes, Depends(whatsapp_signed_body)]
