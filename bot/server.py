"""The internal action service: Rasa's custom actions (rasa-sdk executor) and the NLG endpoint.

Bound to loopback by default and never exposed publicly: only the Rasa server calls it. It runs in the app
environment (Python 3.11) and holds its own knowledge service and feedback store.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from bot import runtime
from bot.responses import context_from_tracker, render
from knowledge.config import KnowledgeSettings
from knowledge.feedback import FeedbackStore
from knowledge.service import KnowledgeService, reloading

log = logging.getLogger(__name__)


class ActionServerSettings(KnowledgeSettings):
    actions_host: str = "127.0.0.1"
    actions_port: int = Field(default=5055, ge=1, le=65535)
    default_tenant: str = "demo"
    index_watch_seconds: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    log_json: bool = True


def create_app(settings: ActionServerSettings | None = None, knowledge: KnowledgeService | None = None) -> FastAPI:
    settings = settings or ActionServerSettings()
    executor = ActionExecutor()
    executor.register_package("bot.actions")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = knowledge or KnowledgeService(settings)
        await asyncio.to_thread(service.reload_if_changed)
        feedback = FeedbackStore(settings.database_path, settings.feedback_retention_days)
        runtime.install(runtime.Services(knowledge=service, feedback=feedback, default_tenant=settings.default_tenant))
        try:
            async with reloading(service, settings.index_watch_seconds, feedback.purge):
                yield
        finally:
            feedback.close()

    app = FastAPI(title="Lotse action server (internal)", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "index": runtime.services().knowledge.build}

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
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
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        context = context_from_tracker(body.get("tracker") or {}, runtime.services())
        return JSONResponse({"custom": dict(render(str(body.get("response", "")), context))})

    return app


def run() -> None:
    import uvicorn

    from api.observability import configure_logging

    settings = ActionServerSettings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings), host=settings.actions_host, port=settings.actions_port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    run()
