"""Security and robustness of the API's edges: client addresses behind proxies, CPU work off the event loop,
tokens, hostile characters, tenant isolation, readiness texts and housekeeping. Real HTTP where the server's
own configuration matters (uvicorn, not the test client)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.main import create_app
from bot.context import Context
from bot.messages import intent_payload
from bot.replies import reply_without_dialogue
from knowledge.cli import app as cli
from knowledge.config import KnowledgeSettings
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant, load_tenants
from knowledge.text import clean_message
from tests.fakes import api_settings
from tests.helpers import entry_text, write_knowledge
from tests.stack import serve

METRICS_TOKEN = "m" * 32
ADMIN_TOKEN = "a" * 32


def served(knowledge, upstreams, tmp_path, **overrides):
    settings = api_settings(tmp_path / "data", **overrides)
    return serve(create_app(settings, knowledge, transport=httpx.MockTransport(upstreams.handler)), settings)


def chat(url: str, session: str, forwarded_for: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    body = {"session_id": session, "message": "Hallo", "locale": "de"}
    return httpx.post(f"{url}/api/v1/chat", json=body, headers=headers, timeout=30).status_code


# --- client address ------------------------------------------------------------------------------------------


def test_a_client_cannot_choose_its_address_with_x_forwarded_for(knowledge, upstreams, tmp_path):
    """Without a trusted proxy the connection's address counts: a new X-Forwarded-For per request does not
    buy a new rate-limit budget."""
    with served(knowledge, upstreams, tmp_path, rate_limit_ip="3/minute", forwarded_allow_ips="") as url:
        codes = [chat(url, f"s{i}", forwarded_for=f"198.51.100.{i}") for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_behind_a_trusted_proxy_the_address_the_proxy_saw_counts(knowledge, upstreams, tmp_path):
    """The proxy (here: loopback) appends the address it saw; what the client wrote before it is ignored."""
    with served(knowledge, upstreams, tmp_path, rate_limit_ip="3/minute", forwarded_allow_ips="127.0.0.1") as url:
        codes = [chat(url, f"s{i}", forwarded_for=f"10.9.9.{i}, 203.0.113.7") for i in range(4)]
        other_client = chat(url, "s9", forwarded_for="203.0.113.8")
    assert codes == [200, 200, 200, 429] and other_client == 200


# --- CPU work off the event loop -----------------------------------------------------------------------------

QUESTIONS = [
    "Wie melde ich meine Wohnung an?",
    "was kostet die kita",
    "how do i get my degree recognised",
    "де зареєструвати нову адресу",
    "كيف أسجل عنوان سكني الجديد؟",
    "Çocuğum için kreş yeri nasıl bulurum",
    "Cum îmi recunosc diploma",
    "как открыть счёт в банке",
]


TELEGRAM = {"telegram_bot_token": "123:burst", "telegram_secret_token": "burst-secret"}


def _telegram_update(n: int) -> dict:
    chat = {"id": n, "type": "private"}
    return {"update_id": n, "message": {"message_id": n, "date": 0, "text": "Hallo", "chat": chat, "from": chat}}


async def _burst_while_probing(
    url: str, searches: int, probe_codes: tuple[int, ...] = (200,)
) -> tuple[list[int], list[float], float]:
    """``searches`` concurrent searches; meanwhile /healthz and a Telegram webhook in turn, every 20 ms, each
    answered with one of ``probe_codes``. Status codes of the searches, probe times, burst time."""
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=200)) as client:
        started = time.perf_counter()
        burst = asyncio.gather(
            *(
                client.get("/api/v1/search", params={"q": f"{QUESTIONS[i % len(QUESTIONS)]} {i}"})
                for i in range(searches)
            )
        )
        probes: list[float] = []
        task = asyncio.ensure_future(burst)
        await asyncio.sleep(0.1)  # the searches are queued
        while not task.done():
            sent = time.perf_counter()
            if len(probes) % 2:
                headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM["telegram_secret_token"]}
                probe = await client.post("/webhooks/telegram", json=_telegram_update(len(probes)), headers=headers)
            else:
                probe = await client.get("/healthz")
            assert probe.status_code in probe_codes, probe.text
            probes.append(time.perf_counter() - sent)
            await asyncio.sleep(0.02)
        responses = await task
        return [r.status_code for r in responses], probes, time.perf_counter() - started


def test_a_burst_of_searches_does_not_stall_webhooks_and_health_checks(knowledge, upstreams, tmp_path):
    with served(knowledge, upstreams, tmp_path, cpu_threads=1, **TELEGRAM) as url:
        codes, probes, burst = asyncio.run(_burst_while_probing(url, 16))
    assert codes == [200] * 16
    assert len(probes) >= 3, f"the burst took {burst:.2f} s: too short to probe"
    # Before the thread pool, each probe waited behind every search already queued on the event loop.
    assert max(probes) < max(0.25, burst / 5), (max(probes), burst)


def test_more_requests_than_the_concurrency_limit_are_refused_not_queued(knowledge, upstreams, tmp_path):
    with served(knowledge, upstreams, tmp_path, cpu_threads=1, limit_concurrency=10, **TELEGRAM) as url:
        codes, _, _ = asyncio.run(_burst_while_probing(url, 16, probe_codes=(200, 503)))
        assert httpx.get(f"{url}/healthz").status_code == 200
    assert set(codes) <= {200, 503} and 503 in codes


# --- tokens --------------------------------------------------------------------------------------------------


def test_metrics_need_their_own_token(app_clients, knowledge):
    client = app_clients(knowledge, admin_token=ADMIN_TOKEN, metrics_token=METRICS_TOKEN)
    assert client.get("/metrics").status_code == 401  # the test client's own host is no exception
    assert client.get("/metrics", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 401
    ok = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "lotse_http_requests_total" in ok.text


def test_without_a_metrics_token_there_are_no_metrics(app_clients, knowledge):
    assert app_clients(knowledge).get("/metrics").status_code == 404


@pytest.mark.parametrize("name", ["admin_token", "metrics_token"])
def test_short_tokens_are_refused_at_startup(tmp_path, name):
    with pytest.raises(ValidationError, match="at least 32 characters"):
        api_settings(tmp_path, **{name: "secret-token"})
    assert getattr(api_settings(tmp_path, **{name: ""}), name) is None  # empty: not configured


def test_the_server_explains_a_short_admin_token(monkeypatch):
    from api import config, main

    config.get_settings.cache_clear()
    monkeypatch.setenv("LOTSE_ADMIN_TOKEN", "too-short")
    with pytest.raises(SystemExit) as exit_:
        main.run()
    config.get_settings.cache_clear()
    assert "LOTSE_*" in str(exit_.value) and "admin_token" in str(exit_.value) and "32" in str(exit_.value)


# --- hostile characters --------------------------------------------------------------------------------------


def test_c1_controls_and_bidi_overrides_are_removed_but_rtl_marks_stay():
    assert clean_message("a\u0085b\u009bc") == "abc"
    assert clean_message("\u202eevil\u202c \u2066iso\u2069 \u202aemb") == "evil iso emb"
    assert clean_message("سلام\u200f دنیا") == "سلام\u200f دنیا"  # right-to-left mark


def test_search_query_is_cleaned(app_clients, knowledge):
    response = app_clients(knowledge).get("/api/v1/search", params={"q": "\u202ekita\u009b kosten\u2069"})
    assert response.status_code == 200 and response.json()["query"] == "kita kosten"
    blank = app_clients(knowledge).get("/api/v1/search", params={"q": "\u202e\u2066"})
    assert blank.status_code == 422


# --- tenants -------------------------------------------------------------------------------------------------

TENANT = "id: {id}\nname:\n  de: {id}\nregion: DE-NW\n"


@pytest.fixture(scope="module")
def local_knowledge(tmp_path_factory) -> KnowledgeService:
    """A general entry, a local entry of tenant musterstadt, and a second tenant."""
    root = tmp_path_factory.mktemp("local")
    directory = write_knowledge(
        root,
        {
            ("kita.costs", "de"): entry_text("kita.costs", title="Was kostet die Kita?"),
            ("kita.costs.musterstadt", "de"): entry_text(
                "kita.costs.musterstadt", region="musterstadt", title="Kita-Kosten in Musterstadt"
            ),
        },
        tenants={t: TENANT.format(id=t) for t in ("musterstadt", "elsewhere", "demo")},
    )
    settings = KnowledgeSettings(knowledge_dir=directory, index_dir=root / "index")
    env = {"LOTSE_KNOWLEDGE_DIR": str(directory), "LOTSE_INDEX_DIR": str(root / "index")}
    result = CliRunner().invoke(cli, ["build"], env=env)
    assert result.exit_code == 0, result.output
    service = KnowledgeService(settings)
    assert service.reload_if_changed(), service.error
    return service


def test_a_local_entry_is_invisible_to_other_tenants_by_id(app_clients, local_knowledge):
    client = app_clients(local_knowledge)
    path = "/api/v1/entries/kita.costs.musterstadt"
    assert client.get(path, params={"tenant": "musterstadt"}).json()["title"] == "Kita-Kosten in Musterstadt"
    assert client.get(path, params={"tenant": "elsewhere"}).status_code == 404
    assert client.get(path).status_code == 404  # the default tenant is another tenant too
    assert client.get("/api/v1/entries/kita.costs", params={"tenant": "elsewhere"}).status_code == 200


def test_a_typed_button_payload_cannot_open_another_tenants_entry(local_knowledge):
    payload = intent_payload("ask_entry", entry_id="kita.costs.musterstadt")
    for tenant_id, kind in (("musterstadt", "answer"), ("elsewhere", "no_answer")):
        c = Context("de", local_knowledge.tenants[tenant_id], local_knowledge, dialogue=False)
        assert reply_without_dialogue(c, payload)[0]["kind"] == kind


def test_close_topics_show_a_tenant_its_own_entry_once_per_topic(local_knowledge, monkeypatch):
    """Declined, but close (the knowledge-only path, thresholds set so): one button per topic, and the local
    entry only for its own tenant."""
    searcher = local_knowledge.searcher
    monkeypatch.setattr(searcher, "params", replace(searcher.params, answer_threshold=1.01, close_threshold=-1.0))
    for tenant_id, shown in (("musterstadt", "kita.costs.musterstadt"), ("elsewhere", "kita.costs")):
        c = Context("de", local_knowledge.tenants[tenant_id], local_knowledge, dialogue=False)
        declined, offered = reply_without_dialogue(c, "Was kostet die Kita?")
        assert declined["kind"] == "no_answer" and offered["kind"] == "close_topics"
        assert [b["payload"] for b in offered["buttons"]] == [intent_payload("ask_entry", entry_id=shown)]


def test_tenant_origins_must_be_exact(tmp_path):
    with pytest.raises(ValidationError, match="wildcards are not allowed"):
        Tenant(id="open", name={"de": "Offen"}, origins=["*"])
    with pytest.raises(ValidationError, match="scheme://host"):
        Tenant(id="open", name={"de": "Offen"}, origins=["example.org/widget"])
    assert Tenant(id="ok", name={"de": "x"}, origins=["https://example.org/"]).allows_origin("https://example.org")
    (tmp_path / "open.yaml").write_text(TENANT.format(id="open") + "origins: ['*']\n")
    tenants, problems = load_tenants(tmp_path)
    assert not tenants and "wildcards are not allowed" in str(problems[0])


# --- readiness and housekeeping ------------------------------------------------------------------------------


def test_readiness_names_no_paths_or_exceptions(tmp_path, app_clients):
    empty = KnowledgeService(KnowledgeSettings(index_dir=tmp_path / "no-index"))
    empty.reload_if_changed()
    body = app_clients(empty).get("/readyz").json()
    assert body["status"] == "not_ready" and body["reasons"]
    assert not any(str(tmp_path) in reason or "/" in reason for reason in body["reasons"])


def test_feedback_is_purged_on_its_own_timer_without_index_polling(tmp_path, knowledge):
    from bot.runtime import ServerSettings, open_services

    settings = ServerSettings(data_dir=tmp_path, index_watch_seconds=0, feedback_purge_seconds=0.3)

    async def scenario() -> tuple[int, int]:
        async with open_services(settings, knowledge) as services:
            old = datetime.now(UTC) - timedelta(days=settings.feedback_retention_days + 1)
            services.feedback.add_feedback("kita.costs", "de", "demo", False, None, now=old)
            before = len(services.feedback.unhelpful_entries(10))
            await asyncio.sleep(1.0)
            return before, len(services.feedback.unhelpful_entries(10))

    assert asyncio.run(scenario()) == (1, 0)
