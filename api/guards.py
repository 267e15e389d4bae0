"""Guards as FastAPI dependencies: who may call a route, checked before the route runs.

``AdminDep`` (admin token, failed attempts throttled), ``MetricsAccessDep`` (metrics token),
``TenantOriginDep`` (the chat's tenant exists and the calling site may use it), ``ChatLocaleDep`` (the
requested locale is enabled), ``RateLimitDep`` (per IP and per session), ``IpRateLimitDep`` (per IP only, for
search and entries), ``TelegramSecretDep`` and ``WhatsAppSignatureDep`` (the webhook is configured and the
request really comes from the platform). The mechanisms behind them are in api/security.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from pydantic import SecretStr

from api.channels import telegram, whatsapp
from api.deps import StateDep, check_locale, find_tenant, web_sender
from api.errors import ApiError
from api.schemas import ChatRequest
from api.security import client_ip, same_secret
from knowledge.tenants import Tenant

__all__ = [
    "AdminDep",
    "ChatLocaleDep",
    "DashboardDep",
    "IpRateLimitDep",
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


async def require_admin(
    request: Request, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """The admin token (404 when none is set); after too many wrong tokens from one address, 429 until the
    window passes."""
    ip = client_ip(request)
    await state.limits.check_admin_attempts(ip)
    try:
        _bearer(authorization, state.settings.admin_token, "admin")
    except ApiError as error:
        if error.status == 401:
            await state.limits.admin_failed(ip)
        raise


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


async def ip_rate_limit(request: Request, state: StateDep) -> None:
    await state.limits.check_ip(client_ip(request))


IpRateLimitDep = Annotated[None, Depends(ip_rate_limit)]


async def rate_limit(body: ChatRequest, state: StateDep, tenant: TenantOriginDep, _: IpRateLimitDep) -> None:
    await state.limits.check_session("web", web_sender(state, tenant, body.session_id))


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


# --- the dashboard ---------------------------------------------------------------------------------------------

MAX_PERIOD_DAYS = 731
DEFAULT_PERIOD_DAYS = 30
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)  # keeps date arithmetic far from its limits
# Browsers then ask for the token (as the password); API clients send it as a bearer token.
DASHBOARD_CHALLENGE = 'Basic realm="Lotse dashboard", charset="UTF-8"'


def given_token(authorization: str | None) -> str | None:
    """The token of ``Bearer <token>`` (API clients) or the password of HTTP Basic (browsers; any user name)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


async def dashboard_viewer(
    request: Request, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> str | None:
    """Who is looking: None for the admin (every tenant), else the one tenant whose dashboard token was given
    (from ``LOTSE_DASHBOARD_TOKENS`` or the SHA-256 in the tenant file). 401 for anything else. The dashboard
    accepts the admin token too, so a wrong token counts as a failed admin attempt: guessing is throttled here
    as on the admin routes (a browser's first request, without a token, is not counted)."""
    ip = client_ip(request)
    await state.limits.check_admin_attempts(ip)
    token = given_token(authorization)
    admin = state.settings.admin_token.get_secret_value() if state.settings.admin_token else None
    if token and same_secret(token, admin):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest() if token else None
    for tenant in state.knowledge.tenants.values():
        from_env = state.settings.dashboard_tokens.get(tenant.id)
        if same_secret(token, from_env.get_secret_value() if from_env else None) or same_secret(
            digest, tenant.dashboard_token_sha256
        ):
            return tenant.id
    if token:
        await state.limits.admin_failed(ip)
    raise ApiError(
        401,
        "unauthorized",
        "A dashboard or admin token is required.",
        headers={"WWW-Authenticate": DASHBOARD_CHALLENGE},
    )


@dataclass(frozen=True)
class StatsQuery:
    tenant: Tenant | None  # None: all tenants (admin only)
    start: date
    end: date
    admin: bool  # may choose any tenant


def stats_query(
    state: StateDep,
    viewer: Annotated[str | None, Depends(dashboard_viewer)],
    tenant: Annotated[str | None, Query(max_length=41, description="Tenant id; all tenants (admin) or yours.")] = None,
    start: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD); 30 days back.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD); today (UTC).")] = None,
) -> StatsQuery:
    """Whose numbers for which days: a tenant's token sees only that tenant (403 for another one)."""
    if viewer is not None and tenant not in (None, viewer):
        raise ApiError(403, "forbidden", "This token opens only its own tenant's dashboard.")
    wanted = tenant or viewer
    found = find_tenant(state, wanted) if wanted else None
    for day in (start, end):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ApiError(422, "invalid_period", f"{day} is outside {EARLIEST} to {LATEST}.")
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ApiError(422, "invalid_period", f"from ({start}) is after to ({end}).")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ApiError(422, "invalid_period", f"The period may span at most {MAX_PERIOD_DAYS} days.")
    return StatsQuery(found, start, end, admin=viewer is None)


AdminDep = Annotated[None, Depends(require_admin)]
DashboardDep = Annotated[StatsQuery, Depends(stats_query)]
MetricsAccessDep = Annotated[None, Depends(require_metrics_token)]
ChatLocaleDep = Annotated[str | None, Depends(chat_locale)]
RateLimitDep = Annotated[None, Depends(rate_limit)]
TelegramSecretDep = Annotated[None, Depends(telegram_secret)]
WhatsAppConfiguredDep = Annotated[None, Depends(whatsapp_configured)]
WhatsAppSignatureDep = Annotated[bytes, Depends(whatsapp_signed_body)]
