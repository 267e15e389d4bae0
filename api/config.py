"""Typed settings of the API process, from ``LOTSE_*`` environment variables (documented in README.md).

The settings both server processes share (knowledge paths, default tenant, index polling, logs) come from
``bot.runtime.ServerSettings``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator

from bot.runtime import ServerSettings

MIN_TOKEN_LENGTH = 32


class Settings(ServerSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"  # how browsers and messengers reach this app

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 10.0
    rasa_retries: int = Field(default=2, ge=0, le=5)
    rasa_breaker_failures: int = Field(default=3, ge=1)  # failed turns in a row that open the circuit breaker
    rasa_breaker_seconds: float = Field(default=30.0, gt=0)  # then answer from the knowledge search this long

    admin_token: SecretStr | None = None  # enables POST /api/v1/admin/reload and every tenant's dashboard
    # Dashboard tokens by tenant id, as JSON: {"demo": "..."}; or a SHA-256 in the tenant file.
    dashboard_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    pseudonym_key: SecretStr | None = None  # required: keys the pseudonymous sender ids (api/pseudonyms.py)
    metrics_token: SecretStr | None = None  # enables GET /metrics (a token of its own: scrapers are not admins)

    redis_url: SecretStr | None = None  # shared state of API replicas (api/shared.py); unset: this process's memory

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Hundreds of people may share one public address (a shelter, a school): generous per address, strict
    # per conversation. The address limit counts chat, search and entry requests together.
    rate_limit_ip: str = "600/minute"
    rate_limit_session: str = "15/minute"
    rate_limit_admin_failures: str = "10/hour"  # failed admin-token attempts per address
    # Addresses of the reverse proxies whose X-Forwarded-For uvicorn may believe ("*" for any; "" for none).
    forwarded_allow_ips: str = "127.0.0.1"
    # Requests in progress at once; more get 503 at once instead of queueing behind a burst.
    limit_concurrency: int = Field(default=200, ge=10)
    cpu_threads: int = Field(default=4, ge=1, le=64)  # embedding, language detection, search: off the event loop
    # Embed each chat message here and send the vector to Rasa, which handles all turns on one event loop
    # (``api.conversation``); false: Rasa's featurizer embeds it (as before, for comparison).
    api_embeds_message: bool = True

    telegram_bot_token: SecretStr | None = None
    telegram_secret_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_tenant: str | None = None  # tenant whose contacts messenger users see (default_tenant if unset)
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_tenant: str | None = None
    messenger_send_attempts: int = Field(default=4, ge=1, le=10)  # per outgoing message, on 429/5xx
    messenger_backoff_seconds: float = Field(default=0.5, ge=0)  # doubles on every retry
    messenger_dedupe_seconds: float = Field(default=24 * 3600, gt=0)  # platforms redeliver for hours
    handover_keep_seconds: float = Field(default=30 * 24 * 3600, gt=0)  # a handover's state, after its last change
    handover_retry_seconds: float = Field(default=30.0, gt=0)  # queued calls to a counselling platform
    button_payload_seconds: float = Field(default=7 * 24 * 3600, gt=0)  # how long a long button payload's key works

    @field_validator("admin_token", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, token: object) -> object:
        return None if token == "" else token  # compose passes ${LOTSE_ADMIN_TOKEN:-} when none is set

    @field_validator("admin_token", "metrics_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"must be at least {MIN_TOKEN_LENGTH} characters (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
