"""Conversations leave Rasa's tracker store once they are older than the retention period.

Rasa keeps every event of a conversation in its SQL tracker store (SQLite for ``make run``, PostgreSQL for
replicas) and never deletes any. The action server deletes, on a timer, every conversation whose last event
is older than ``LOTSE_CONVERSATION_RETENTION_DAYS``. It reaches the store with the settings Rasa's endpoint
files read (``LOTSE_TRACKER_DB`` or ``LOTSE_POSTGRES_*``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

# A conversation is all rows of one sender; it goes when its newest event is older than the cutoff.
_DELETE = (
    "DELETE FROM events WHERE sender_id IN "
    "(SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < {cutoff})"
)


class TrackerStoreSettings(BaseSettings):
    """Where Rasa keeps conversations: PostgreSQL when a host is set, else the SQLite file (the variables
    Rasa's endpoint files read), and how long conversations stay."""

    model_config = SettingsConfigDict(env_prefix="LOTSE_", env_file=".env", extra="ignore")

    tracker_db: Path | None = None
    postgres_host: str | None = None
    postgres_port: int = Field(default=5432, ge=1, le=65535)
    postgres_db: str = "lotse"
    postgres_user: str = "lotse"
    postgres_password: SecretStr = SecretStr("")
    conversation_retention_days: int = Field(default=30, ge=1)
    conversation_purge_seconds: float = Field(default=3600.0, gt=0)  # how often the store is purged


def connect(settings: TrackerStoreSettings) -> Any | None:
    """A DB-API connection to the tracker store, or None when none is configured."""
    if settings.postgres_host:
        import psycopg

        return psycopg.connect(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.postgres_db,
            user=settings.postgres_user,
            password=settings.postgres_password.get_secret_value() or None,
            connect_timeout=10,
        )
    if settings.tracker_db and settings.tracker_db.exists():
        return sqlite3.connect(settings.tracker_db)
    return None


def purge_conversations(connection: Any, retention_days: int, now: float | None = None) -> int:
    """Delete the conversations idle for longer than ``retention_days``; the number of deleted events. A store
    Rasa has not created its table in yet holds nothing to delete."""
    cutoff = (now if now is not None else time.time()) - retention_days * 86400
    placeholder = "?" if isinstance(connection, sqlite3.Connection) else "%s"
    with closing(connection.cursor()) as cursor:
        try:
            cursor.execute(_DELETE.format(cutoff=placeholder), (cutoff,))
        except Exception as exc:
            connection.rollback()
            if "events" in str(exc) and ("no such table" in str(exc) or "does not exist" in str(exc)):
                return 0
            raise
        deleted = cursor.rowcount
    connection.commit()
    return deleted


def purge_once(settings: TrackerStoreSettings) -> int:
    connection = connect(settings)
    if connection is None:
        return 0
    with closing(connection):
        return purge_conversations(connection, settings.conversation_retention_days)


async def purge_periodically(
    settings: TrackerStoreSettings, purge: Callable[[TrackerStoreSettings], int] = purge_once
) -> None:
    """Purge now and then every ``conversation_purge_seconds`` until cancelled; failures are logged (the error
    type only) and retried at the next turn, never fatal."""
    while True:
        try:
            deleted = await asyncio.to_thread(purge, settings)
            if deleted:
                log.info("old conversations deleted", extra={"events": deleted})
        except Exception as exc:  # the store may be down for a while; the next turn tries again
            log.warning("conversation purge failed", extra={"error": type(exc).__name__})
        await asyncio.sleep(settings.conversation_purge_seconds)
