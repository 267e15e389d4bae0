"""The internal action service: Rasa's custom actions (rasa-sdk executor) and the NLG endpoint.

Bound to loopback by default and never exposed publicly: only the Rasa server calls it. With
``LOTSE_ACTIONS_TOKEN`` set, ``/webhook`` and ``/nlg`` answer only requests that carry it as a bearer token
(Rasa sends it from its endpoints file), so nothing else on the internal network can run actions or read the
bot's texts. It runs in the app environment (Python 3.11) and holds its own knowledge service and feedback store.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field, SecretStr, ValidationError, field_validator
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from bot import retention, runtime
from bot.context import context_for
from bot.responses import render
from bot.retention import TrackerStoreSettings
from bot.runtime import ServerSettings, configure_logging, open_services
from knowledge.database import DatabaseError, check_database
from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)


class ActionServerSettings(ServerSettings, TrackerStoreSettings):
    actions_host: str = "127.0.0.1"
    actions_port: int = Field(default=5055, ge=1, le=65535)
    actions_token: SecretStr | None = None  # shared with Rasa (its endpoints file); unset: no check

    @field_validator("actions_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 32:
            raise ValueError("LOTSE_ACTIONS_TOKEN must be a random secret of at least 32 characters")
        return token


def authorised(settings: ActionServerSettings, request: Request) -> bool:
    """Whether the request carries the shared token (always true when none is configured)."""
    token = settings.actions_token.get_secret_value() if settings.actions_token else ""
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


UNAUTHORISED = {"error": "A valid action server token is required."}


def create_app(settings: ActionServerSettings | None = None, knowledge: KnowledgeService | None = None) -> FastAPI:
    settings = settings or ActionServerSettings()
    executor = ActionExecutor()
    executor.register_package("bot.actions")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with open_services(settings, knowledge) as services:
            runtime.install(services)
            purging = asyncio.create_task(retention.purge_periodically(settings))
            try:
                yield
            finally:
                purging.cancel()

    app = FastAPI(title="Lotse action server (internal)", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "index": runtime.services().knowledge.build}

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        if not authorised(settings, request):
            return JSONResponse(UNAUTHORISED, status_code=401)
        try:
            action_call = await request.json()
        except ValueError:
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
        except ActionNotFoundException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
        except ActionMissingDomainException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=449)
        return JSONResponse(result.model_dump() if result else None)

    @app.post("/nlg")
    async def nlg(request: Request) -> JSONResponse:
        """Rasa's NLG callback: ``{"response": "utter_x", "tracker": {...}}`` -> one custom message."""
        if not authorised(settings, request):
            return JSONResponse(UNAUTHORISED, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        tracker = body.get("tracker") or {}
        context = context_for(tracker.get("slots") or {}, tracker.get("latest_message"), runtime.services())
        return JSONResponse({"custom": dict(render(str(body.get("response", "")), context))})

    return app


def run() -> None:
    import uvicorn

    try:
        settings = ActionServerSettings()
    except ValidationError as exc:
        sys.exit(f"Lotse action server: invalid configuration (LOTSE_* environment variables):\n{exc}")
    try:
        check_database(settings.database_location)  # one clear line instead of a traceback from the lifespan
    except DatabaseError as exc:
        sys.exit(f"Lotse action server: {exc}")
    configure_logging(settings.log_level, settings.log_json)
    if not settings.actions_token and settings.actions_host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("LOTSE_ACTIONS_TOKEN is not set: anything that reaches %s can run actions", settings.actions_host)
    uvicorn.run(
        create_app(settings), host=settings.actions_host, port=settings.actions_port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    run()
