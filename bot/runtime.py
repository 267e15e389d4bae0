"""What a server process holds, for both of them (the API and the action server): the settings base, logging,
and the long-lived services (knowledge engine, database, feedback store) opened and closed by
``open_services``.

Rasa SDK creates action objects itself, without arguments; ``install``/``services`` is how they reach the
services the action server opened.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic import Field
from pythonjsonlogger.json import JsonFormatter

from knowledge.config import KnowledgeSettings
from knowledge.database import Database, open_database
from knowledge.feedback import FeedbackStore
from knowledge.service import KnowledgeService, periodically

__all__ = ["ServerSettings", "Services", "configure_logging", "install", "open_services", "services"]


class ServerSettings(KnowledgeSettings):
    """Settings both server processes read (``LOTSE_*``); each process adds its own (api/config.py,
    bot/server.py)."""

    default_tenant: str = "demo"
    index_watch_seconds: float = Field(default=5.0, ge=0)  # 0 disables polling for new index builds
    feedback_purge_seconds: float = Field(default=3600.0, gt=0)  # how often old feedback is deleted
    log_level: str = "INFO"
    log_json: bool = True


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """JSON logs on stdout (never message text or user identifiers: callers log outcomes only)."""
    handler = logging.StreamHandler(sys.stdout)
    if json_logs:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "faiss", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclass
class Services:
    knowledge: KnowledgeService
    database: Database  # one per process (a PostgreSQL pool or an SQLite connection); the stores share it
    feedback: FeedbackStore
    default_tenant: str


@asynccontextmanager
async def open_services(settings: ServerSettings, knowledge: KnowledgeService | None = None) -> AsyncIterator[Services]:
    """The database and the feedback store on it (purged on its own timer, whether or not index polling is on)
    and the knowledge service (loaded, then polled for new builds), for the lifespan of a server process. The
    database opens first: a wrong ``LOTSE_DATABASE_URL`` stops the process at once with ``DatabaseError``,
    before the index loads. Tests pass a preloaded knowledge service."""
    database = await asyncio.to_thread(open_database, settings.database_location)
    try:
        feedback = FeedbackStore(database, settings.feedback_retention_days)
        service = knowledge or KnowledgeService(settings)
        await asyncio.to_thread(service.reload_if_changed)
        async with (
            periodically(settings.index_watch_seconds, service.reload_if_changed),
            periodically(settings.feedback_purge_seconds, feedback.purge),
        ):
            yield Services(
                knowledge=service, database=database, feedback=feedback, default_tenant=settings.default_tenant
            )
    finally:
        database.close()


_services: Services | None = None


def install(services: Services | None) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:
        raise RuntimeError("action server services are not initialised")
    return _services
