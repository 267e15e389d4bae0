"""Rasa's production endpoints on real engines: the tracker store on PostgreSQL keeps a conversation across
a Rasa restart, with the Redis lock store configured (bot/endpoints.production.yml)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.engines import Postgres
from tests.stack import start_stack

pytestmark = pytest.mark.e2e


def production_environment(database: Postgres, redis_url: str) -> dict[str, str]:
    redis = httpx.URL(redis_url)
    return {
        "LOTSE_POSTGRES_HOST": database.host,
        "LOTSE_POSTGRES_PORT": str(database.port),
        "LOTSE_POSTGRES_DB": database.database,
        "LOTSE_POSTGRES_USER": database.user,
        "LOTSE_POSTGRES_PASSWORD": "",
        "LOTSE_REDIS_HOST": redis.host,
        "LOTSE_REDIS_PORT": str(redis.port),
        "LOTSE_REDIS_PASSWORD": "",
        "LOTSE_REDIS_LOCK_DB": "1",
    }


def test_a_conversation_survives_a_rasa_restart(postgres: Postgres, redis_url: str, tmp_path: Path) -> None:
    database = postgres.create_database("tracker_restart")
    stack = start_stack(
        tmp_path, endpoints="endpoints.production.yml", environment=production_environment(database, redis_url)
    )
    try:
        session = uuid.uuid4().hex

        def say(text: str) -> dict:
            body = {"session_id": session, "message": text, "locale": "de"}
            response = httpx.post(f"{stack.api_url}/api/v1/chat", json=body, timeout=60)
            assert response.status_code == 200
            data = response.json()
            assert not data["degraded"], stack.log("rasa")
            return data

        say("Hallo")
        (events_before,) = database.query("select count(*) from events")
        assert int(events_before) > 0  # in PostgreSQL, not in memory (Rasa falls back to memory silently)

        stack.restart("rasa")
        say("Wie melde ich meine Wohnung an?")
        rows = database.query("select sender_id, count(*) from events group by sender_id")
        assert len(rows) == 1 and int(rows[0].split("|")[1]) > int(events_before)
        starts = database.query("select count(*) from events where action_name = 'action_session_start'")
        assert starts == ["1"]  # the restarted Rasa continued the stored conversation instead of starting anew
    finally:
        stack.stop_all()
