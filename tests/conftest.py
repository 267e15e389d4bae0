"""Shared fixtures. Everything here is real: the built index, the embedding model from the installed package,
the trained Rasa model, HTTP through FastAPI's test client or real sockets."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from knowledge.config import KnowledgeSettings  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402
from tests.stack import Stack, start_stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def knowledge_settings() -> KnowledgeSettings:
    return KnowledgeSettings()


@pytest.fixture(scope="session")
def knowledge(knowledge_settings: KnowledgeSettings) -> KnowledgeService:
    """The index built by `make index` (make test builds it first)."""
    service = KnowledgeService(knowledge_settings)
    if not service.reload_if_changed():
        pytest.fail(f"knowledge index not available: {service.error}")
    return service


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """The whole product on free ports: Rasa server, action server, API."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop_all()


@pytest.fixture
def upstreams():
    """Rasa and the messenger platforms, faked behind one HTTP transport (tests/fakes.py)."""
    from tests.fakes import Upstreams

    return Upstreams()


@pytest.fixture
def app_clients(tmp_path: Path, upstreams):
    """``make(knowledge, **settings)``: a TestClient (lifespan running) on an app whose outgoing HTTP goes to
    ``upstreams`` and whose data (feedback, unanswered questions) goes to ``tmp_path``; closed after the test."""
    import httpx
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.fakes import api_settings

    clients: list[TestClient] = []

    def make(knowledge_service, **overrides) -> TestClient:
        settings = api_settings(tmp_path / "data", **overrides)
        client = TestClient(create_app(settings, knowledge_service, transport=httpx.MockTransport(upstreams.handler)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def services(knowledge: KnowledgeService, tmp_path: Path):
    """The action server's services (real knowledge, a feedback store in ``tmp_path``), installed for actions."""
    from bot import runtime
    from knowledge.database import open_database
    from knowledge.feedback import FeedbackStore

    database = open_database(tmp_path / "feedback.sqlite3")
    installed = runtime.Services(
        knowledge=knowledge, database=database, feedback=FeedbackStore(database), default_tenant="demo"
    )
    runtime.install(installed)
    yield installed
    runtime.install(None)
    database.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Messenger retries record their back-off instead of sleeping."""
    from api.channels import delivery

    recorded: list[float] = []

    async def no_wait(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(delivery, "_sleep", no_wait)
    return recorded


@pytest.fixture
def anyio_backend() -> str:
    """``@pytest.mark.anyio`` tests run on asyncio, as the server does."""
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A real Redis server (Debian's redis-server) on a free loopback port, for this test session."""
    from tests.engines import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL cluster on a free loopback port, for this test session."""
    from tests.engines import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    """The stores' database on each engine: an SQLite file in ``tmp_path``, or a new database of its own on the
    session's real PostgreSQL (``LOTSE_DATABASE_URL``)."""
    from knowledge.database import open_database

    if request.param == "sqlite":
        location: str | Path = tmp_path / "lotse.sqlite3"
    else:
        location = request.getfixturevalue("postgres").create_database(f"stores_{uuid.uuid4().hex[:12]}").url
    opened = open_database(location)
    yield opened
    opened.close()
