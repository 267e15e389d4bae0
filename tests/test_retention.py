"""Tracker retention on real stores: Rasa itself writes conversations (its own SQLTrackerStore, from the Rasa
environment) into SQLite and into a real PostgreSQL; the purge deletes exactly those idle for longer than
the retention period, and the action server runs it on a timer."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot import retention
from bot.retention import TrackerStoreSettings
from bot.server import ActionServerSettings, create_app
from tests.engines import Postgres
from tests.fakes import wait_until
from tests.stack import ROOT

DAY = 86400.0
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

# Runs in Rasa's environment: saves one conversation per sender, its events at the given time.
WRITE_WITH_RASA = """
import asyncio, json, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

store_args, conversations = json.loads(sys.argv[1])
store = SQLTrackerStore(Domain.empty(), **store_args)
for sender, at in conversations.items():
    events = [ActionExecuted("action_session_start", timestamp=at), UserUttered("hallo", timestamp=at + 1)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
"""


def write_with_rasa(store_args: dict, conversations: dict[str, float]) -> None:
    subprocess.run(
        [RASA_PYTHON, "-c", WRITE_WITH_RASA, json.dumps([store_args, conversations])],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
    )


def conversations(now: float) -> dict[str, float]:
    return {"web:old": now - 31 * DAY, "web:recent": now - 29 * DAY, "wa:today": now - 60}


def senders(connection) -> set[str]:
    with closing(connection.cursor()) as cursor:
        cursor.execute("SELECT DISTINCT sender_id FROM events")
        return {row[0] for row in cursor.fetchall()}


def test_sqlite_tracker_store_is_purged(tmp_path: Path) -> None:
    now, db = time.time(), tmp_path / "tracker.sqlite3"
    write_with_rasa({"dialect": "sqlite", "db": str(db)}, conversations(now))
    with closing(sqlite3.connect(db)) as connection:
        assert senders(connection) == set(conversations(now))
        assert retention.purge_conversations(connection, retention_days=30, now=now) == 2  # two events of one
        assert senders(connection) == {"web:recent", "wa:today"}


def test_postgres_tracker_store_is_purged(postgres: Postgres) -> None:
    database = postgres.create_database("retention")
    now = time.time()
    store = {"dialect": "postgresql", "host": database.host, "port": database.port, "db": database.database}
    write_with_rasa(store | {"username": database.user}, conversations(now))
    settings = TrackerStoreSettings(
        postgres_host=database.host,
        postgres_port=database.port,
        postgres_db=database.database,
        postgres_user=database.user,
    )
    with closing(retention.connect(settings)) as connection:
        assert senders(connection) == set(conversations(now))
        assert retention.purge_conversations(connection, retention_days=30, now=now) == 2
        assert senders(connection) == {"web:recent", "wa:today"}
        assert retention.purge_conversations(connection, retention_days=28, now=now) == 2  # a shorter period


def test_a_store_without_the_table_yet_is_left_alone(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "new.sqlite3")) as connection:
        assert retention.purge_conversations(connection, retention_days=30) == 0


def test_the_action_server_purges_on_a_timer(tmp_path: Path, knowledge) -> None:
    now, db = time.time(), tmp_path / "tracker.sqlite3"
    write_with_rasa({"dialect": "sqlite", "db": str(db)}, conversations(now))
    settings = ActionServerSettings(
        tracker_db=db, conversation_purge_seconds=0.2, index_watch_seconds=0, data_dir=tmp_path / "data"
    )

    def remaining() -> set[str]:
        with closing(sqlite3.connect(db)) as connection:
            return senders(connection)

    with TestClient(create_app(settings, knowledge)):
        wait_until(lambda: remaining() == {"web:recent", "wa:today"})
        write_with_rasa({"dialect": "sqlite", "db": str(db)}, {"web:later": now - 40 * DAY})
        wait_until(lambda: "web:later" not in remaining())  # again at the next turn of the timer


@pytest.mark.parametrize("days", [0, -1])
def test_retention_must_be_at_least_a_day(days: int) -> None:
    with pytest.raises(ValueError):
        TrackerStoreSettings(conversation_retention_days=days)
