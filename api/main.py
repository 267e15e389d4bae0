"""The FastAPI application: wiring only. Domain logic lives in knowledge/, bot/ and the route modules."""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from api import errors
from api.channels import open_messengers
from api.config import Settings, get_settings
from api.conversation import Conversation
from api.cpu import CpuPool
from api.handover.flow import Handover
from api.handover.store import HandoverStore
from api.observability import Metrics, MetricsMiddleware
from api.pseudonyms import Pseudonyms
from api.rasa_client import CircuitBreaker, RasaClient
from api.routes import admin, chat, dashboard, handover, health, knowledge, meta, webhooks, widget
from api.security import BodySizeLimit, RateLimits, TenantCORSMiddleware
from api.shared import open_shared_state
from api.state import AppState
from api.usage import UsageRecorder
from bot.runtime import configure_logging, open_services
from knowledge import langid
from knowledge.database import DatabaseError, check_database
from knowledge.outcomes import OutcomeStore
from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    knowledge_service: KnowledgeService | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own settings, a preloaded knowledge service or an HTTP transport."""
    settings = settings or get_settings()
    pseudonyms = Pseudonyms(settings.pseudonym_key)  # fails at once, with what to do, when the key is missing
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with open_services(settings, knowledge_service) as services:
            await asyncio.to_thread(langid.warm_up)
            http = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.rasa_timeout_seconds, connect=2.0),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                transport=transport,
            )
            breaker = CircuitBreaker(settings.rasa_breaker_failures, settings.rasa_breaker_seconds)
            rasa = RasaClient(http, settings.rasa_url, retries=settings.rasa_retries, breaker=breaker)
            cpu = CpuPool(settings.cpu_threads)
            outcomes = OutcomeStore(services.database)  # closed with the database by open_services
            usage = UsageRecorder(outcomes, services.knowledge)
            shared = open_shared_state(settings.redis_url.get_secret_value() if settings.redis_url else None)
            handover = Handover(HandoverStore(shared, settings.handover_keep_seconds), http, services.knowledge)
            app.state.lotse = AppState(
                settings=settings,
                knowledge=services.knowledge,
                feedback=services.feedback,
                http=http,
                rasa=rasa,
                outcomes=outcomes,
                conversation=Conversation(
                    rasa,
                    services.knowledge,
                    services.feedback,
                    usage=usage,
                    shared=shared,
                    handover=handover,
                    cpu=cpu,
                    embeds_message=settings.api_embeds_message,
                    turn_seconds=settings.rasa_timeout_seconds * (settings.rasa_retries + 1) + 5,
                ),
                cpu=cpu,
                shared=shared,
                pseudonyms=pseudonyms,
                limits=RateLimits(
                    shared.limits_storage,
                    per_ip=settings.rate_limit_ip,
                    per_session=settings.rate_limit_session,
                    admin_failures=settings.rate_limit_admin_failures,
                ),
                metrics=metrics,
                messengers=open_messengers(settings, http, shared),
                handover=handover,
            )
            retries = asyncio.create_task(handover.retry_forever(settings.handover_retry_seconds))
            log.info("Lotse API ready", extra={"url": settings.public_url, "index": services.knowledge.build})
            try:
                yield
            finally:
                retries.cancel()
                await http.aclose()
                await shared.close()

    app = FastAPI(
        title="Lotse API",
        version="1.0.0",
        description="Multilingual information assistant for people new in Germany: chat, knowledge search, "
        "entries, locales. Answers come only from curated entries with official sources.",
        lifespan=lifespan,
    )
    errors.install(app)
    for router in (
        health.router,
        chat.router,
        knowledge.router,
        meta.router,
        admin.router,
        dashboard.router,
        webhooks.router,
        widget.router,
        handover.router,
    ):
        app.include_router(router)

    def allowed_origins() -> set[str]:
        state = getattr(app.state, "lotse", None)
        origins = {settings.public_url.rstrip("/")}
        if state:
            for tenant in state.knowledge.tenants.values():
                origins |= {o.rstrip("/") for o in tenant.origins}
        return origins

    app.add_middleware(TenantCORSMiddleware, allowed_origins=allowed_origins)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves the app. The client address comes from the connection; uvicorn replaces it with the
    X-Forwarded-For address only when the connection comes from a proxy in ``forwarded_allow_ips``, and then
    takes the rightmost address that proxy did not add itself (a client cannot choose its own address)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        limit_concurrency=settings.limit_concurrency,
    )


def run() -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        sys.exit(f"Lotse API: invalid configuration (LOTSE_* environment variables):\n{exc}")
    try:
        check_database(settings.database_location)  # one clear line instead of a traceback from the lifespan
    except DatabaseError as exc:
        sys.exit(f"Lotse API: {exc}")
    configure_logging(settings.log_level, settings.log_json)
    print(f"\n  Lotse demo page: {settings.public_url}/\n", flush=True)
    uvicorn.Server(server_config(create_app(settings), settings)).run()
