"""The public API through FastAPI's test client: real knowledge index, Rasa replaced by a mock transport."""

from __future__ import annotations

from dataclasses import replace

import httpx
import numpy as np
import pytest

from bot import texts
from bot.language import resolve_locale
from knowledge.embedding import unpack_query_vector
from knowledge.tenants import Tenant
from tests.fakes import Upstreams, pseudonym

ADMIN_TOKEN = "admin-token-" + "x" * 20
METRICS_TOKEN = "metrics-token-" + "x" * 18


@pytest.fixture
def make_client(app_clients, knowledge):
    return lambda service=None, **overrides: app_clients(
        service or knowledge, admin_token=ADMIN_TOKEN, metrics_token=METRICS_TOKEN, **overrides
    )


@pytest.fixture
def client(make_client):
    return make_client()


def chat(client, **body):
    return client.post("/api/v1/chat", json={"session_id": "s1", **body})


def test_chat_passes_locale_and_tenant_as_metadata(client, knowledge, upstreams: Upstreams):
    response = chat(client, message="Hallo", locale="de")
    assert response.status_code == 200
    data = response.json()
    assert data["locale"] == "de" and data["messages"][0]["text"] == "Hallo!" and data["handover"] is False
    (call,) = upstreams.rasa
    assert call["sender"] == pseudonym("web", "demo:s1") and call["message"] == "Hallo"
    vector = call["metadata"].pop("query_vector")
    assert call["metadata"] == {"locale": "de", "locale_source": "explicit", "tenant": "demo", "channel": "web"}
    assert vector["model"] == knowledge.embedder.model_id


def test_the_message_goes_to_rasa_with_its_embedding_made_here(make_client, knowledge, upstreams, monkeypatch):
    """Rasa embeds on its one event loop; the API embeds in its pool of threads and sends the vector, which Rasa's
    featurizer classifies with and passes on to the answer's search. Should embedding fail, the turn goes to Rasa
    without it (Rasa then embeds the text itself)."""
    question = "Wie melde ich meine neue Wohnung an?"
    client = make_client()
    chat(client, message=f"  {question} ", locale="de")
    chat(make_client(api_embeds_message=False), message=question, locale="de")

    def fails(texts):
        raise RuntimeError("embedding failed")

    monkeypatch.setattr(knowledge.embedder, "encode_queries", fails)
    assert chat(client, message=question, locale="de").status_code == 200
    typed, setting_off, failed = (call["metadata"] for call in upstreams.rasa)
    monkeypatch.undo()
    expected = knowledge.embedder.encode_queries([question])[0]
    sent = unpack_query_vector(typed["query_vector"], knowledge.embedder.model_id, knowledge.embedder.dim)
    assert sent is not None and np.allclose(sent, expected, atol=1e-6)
    assert "query_vector" not in setting_off and "query_vector" not in failed


def test_chat_detects_the_language_when_no_locale_is_given(client, upstreams: Upstreams):
    chat(client, message="كيف أسجل عنوان سكني الجديد؟")
    assert upstreams.rasa[0]["metadata"]["locale"] == "ar"
    assert upstreams.rasa[0]["metadata"]["locale_source"] == "detected"


def test_browser_languages_are_a_hint_for_short_messages(client, upstreams: Upstreams):
    """Too short to detect: the first supported language of Accept-Language, not just the first tag."""
    client.post(
        "/api/v1/chat",
        json={"session_id": "s2", "message": "Hallo"},
        headers={"accept-language": "fr-FR,fr;q=0.9,uk;q=0.8,en;q=0.5"},
    )
    assert upstreams.rasa[-1]["metadata"]["locale"] == "uk"
    assert upstreams.rasa[-1]["metadata"]["locale_source"] == "channel"


def test_handover_and_locale_switch_come_from_the_bot(client, upstreams: Upstreams):
    upstreams.rasa_messages = [{"text": "☎ …", "locale": "ar", "handover": True, "buttons": [], "sources": []}]
    data = chat(client, message="أريد التحدث مع شخص", locale="en").json()
    assert data["handover"] is True and data["locale"] == "ar"


def test_only_https_sources_from_the_bot_are_passed_on(client, upstreams: Upstreams):
    sources = [{"title": "BAMF", "url": "https://www.bamf.de"}, {"title": "Old", "url": "http://x.de"}, "junk"]
    upstreams.rasa_messages = [{"text": "Antwort", "locale": "de", "sources": sources, "checked": "2026-11-22"}]
    (message,) = chat(client, message="Hallo", locale="de").json()["messages"]
    assert message["sources"] == [{"title": "BAMF", "url": "https://www.bamf.de"}]
    assert message["checked"] == "2026-11-22"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"message": ""}, 422, "invalid_request"),
        ({"message": "   \u200b "}, 422, "invalid_request"),
        ({"message": "x" * 2001}, 422, "invalid_request"),
        ({"message": 42}, 422, "invalid_request"),
        ({"message": "hi", "locale": "xx"}, 422, "unsupported_locale"),
        ({"message": "hi", "tenant": "nope"}, 404, "unknown_tenant"),
        ({"message": "hi", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_bad_chat_requests_get_clear_4xx(client, body, status, code):
    response = chat(client, **body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_bad_session_id_and_non_json(client):
    assert client.post("/api/v1/chat", json={"session_id": "<script>", "message": "hi"}).status_code == 422
    response = client.post("/api/v1/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert client.post("/api/v1/chat", json=["a", "list"]).status_code == 422


def test_oversized_body_is_refused_before_parsing(client):
    response = client.post("/api/v1/chat", content=b"x" * 100_000, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_origin_must_be_allowed_by_the_tenant(client):
    allowed = client.post(
        "/api/v1/chat", json={"session_id": "s", "message": "hi"}, headers={"origin": "http://localhost:8000"}
    )
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:8000"
    refused = client.post(
        "/api/v1/chat", json={"session_id": "s", "message": "hi"}, headers={"origin": "https://evil.example"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"
    preflight = client.options(
        "/api/v1/chat", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_rate_limit_per_session(make_client):
    limited = make_client(rate_limit_session="3/day")
    statuses = [chat(limited, message="hi").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = chat(limited, message="hi")
    assert response.headers["retry-after"].isdigit() and response.json()["error"]["code"] == "rate_limited"
    assert chat(limited, message="hi", session_id="other").status_code == 200


def test_rasa_down_answers_from_knowledge(client, upstreams: Upstreams):
    upstreams.rasa_down = True
    data = chat(client, message="Wie melde ich meine neue Wohnung an?", locale="de").json()
    assert data["degraded"] is True
    answer = next(m for m in data["messages"] if m["entry_id"])
    assert answer["entry_id"] == "arrival.registration" and answer["sources"][0]["url"].startswith("https://")
    oos = chat(client, message="Wer gewinnt die Fußball-WM?", locale="de").json()
    assert oos["degraded"] and oos["handover"] and not any(m["entry_id"] for m in oos["messages"])


def test_rasa_down_embeds_the_message_once(client, knowledge, upstreams: Upstreams, monkeypatch):
    """The vector made for Rasa also serves the knowledge-only reply: a message is embedded once either way."""
    embedded: list[str] = []
    encode = knowledge.embedder.encode_queries
    monkeypatch.setattr(knowledge.embedder, "encode_queries", lambda texts: embedded.extend(texts) or encode(texts))
    upstreams.rasa_down = True
    data = chat(client, message="Wie melde ich meine neue Wohnung an?", locale="de").json()
    assert data["degraded"] and next(m for m in data["messages"] if m["entry_id"])["entry_id"] == "arrival.registration"
    assert embedded == ["Wie melde ich meine neue Wohnung an?"]


def test_rasa_down_replies_as_the_dialogue_does(client, upstreams: Upstreams):
    """One compose for both paths: related topics and the feedback prompt, but no guided check to start."""
    upstreams.rasa_down = True
    notice, answer, prompt = chat(client, message="Wie melde ich meine neue Wohnung an?", locale="de").json()[
        "messages"
    ]
    assert notice["text"] == texts.say("de", texts.LIMITED_SERVICE)
    assert answer["checked"] and all(b["payload"].startswith("/ask_entry") for b in answer["buttons"])
    assert prompt["text"] == texts.say("de", texts.DID_THIS_HELP)
    assert [b["payload"] for b in prompt["buttons"]] == ["/feedback_helpful", "/feedback_unhelpful"]


def test_rasa_down_understands_the_buttons_of_its_own_replies(client, upstreams: Upstreams):
    upstreams.rasa_down = True
    shown = chat(client, message='/ask_entry{"entry_id":"kita.costs"}', locale="de").json()["messages"]
    assert shown[1]["entry_id"] == "kita.costs" and not any("/start_" in b["payload"] for b in shown[1]["buttons"])
    sorry = chat(client, message="/feedback_unhelpful", locale="de").json()["messages"][1]
    assert sorry["text"] == texts.say("de", texts.FEEDBACK_SORRY) and sorry["buttons"][0]["payload"] == "/ask_human"
    person = chat(client, message="/ask_human", locale="de").json()
    assert person["handover"] and "beratung@example.org" in person["messages"][1]["text"]


def test_rasa_down_records_unanswered_questions(client, upstreams: Upstreams):
    upstreams.rasa_down = True
    assert chat(client, message="Wie hoch ist die Hundesteuer in Hamburg?", locale="de").json()["handover"]
    recorded = client.app.state.lotse.feedback.unanswered()
    assert [(g.locale, g.question) for g in recorded] == [("de", "Wie hoch ist die Hundesteuer in Hamburg?")]


def test_rasa_error_status_is_degraded_not_500(client, upstreams: Upstreams):
    upstreams.rasa_reply = lambda body: httpx.Response(500, text="boom")
    response = chat(client, message="kita kosten", locale="de")
    assert response.status_code == 200 and response.json()["degraded"] is True


def test_search(client):
    data = client.get("/api/v1/search", params={"q": "Wie melde ich meine Wohnung an?", "locale": "de", "k": 3}).json()
    assert data["answerable"] and data["locale"] == "de" and len(data["results"]) == 3
    assert data["results"][0]["id"] == "arrival.registration" and data["results"][0]["snippet"]
    detected = client.get("/api/v1/search", params={"q": "كيف أسجل عنوان سكني الجديد"}).json()
    assert detected["locale"] == "ar"
    abstained = client.get("/api/v1/search", params={"q": "Rezept für Schokoladenkuchen", "locale": "de"}).json()
    assert abstained["answerable"] is False and abstained["close"] is False and data["close"] is False


def test_search_marks_a_decline_near_an_entry_as_close(client, monkeypatch):
    searcher = client.app.state.lotse.knowledge.searcher
    monkeypatch.setattr(searcher, "params", replace(searcher.params, answer_threshold=1.01, close_threshold=0.0))
    data = client.get("/api/v1/search", params={"q": "Wie melde ich meine Wohnung an?", "locale": "de"}).json()
    assert data["answerable"] is False and data["close"] is True
    assert data["results"][0]["id"] == "arrival.registration"


def test_search_decides_the_locale_as_the_chat_does(client):
    """Detection needs 12 characters and an enabled locale; shorter questions get the tenant's default."""
    assert client.get("/api/v1/search", params={"q": "kita"}).json()["locale"] == "de"
    assert client.get("/api/v1/search", params={"q": "как записаться на курс"}).json()["locale"] == "ru"


def test_one_locale_rule_for_every_channel():
    tenant = Tenant(id="small", name={"de": "Klein"}, locales=["de", "ar"], default_locale="de")
    assert resolve_locale("hi", tenant, requested="ar") == ("ar", "explicit")
    assert resolve_locale("hi", tenant, requested="uk") == ("de", "default")
    assert resolve_locale("كيف أسجل عنوان سكني الجديد؟", tenant) == ("ar", "detected")
    assert resolve_locale("как записаться на курс немецкого", tenant) == ("de", "default")  # ru not enabled
    assert resolve_locale("ok", tenant, hint="ar-SY") == ("ar", "channel")
    assert resolve_locale("/affirm", tenant, hint="fr") == ("de", "default")


@pytest.mark.parametrize(
    "params, status",
    [
        ({"q": ""}, 422),
        ({"q": "x", "k": 0}, 422),
        ({"q": "x", "k": 21}, 422),
        ({"q": "x", "k": "many"}, 422),
        ({"q": "x", "locale": "xx"}, 422),
        ({"q": "x", "tenant": "nope"}, 404),
        ({"q": "x" * 501}, 422),
        ({}, 422),
    ],
)
def test_bad_search_requests(client, params, status):
    assert client.get("/api/v1/search", params=params).status_code == status


def test_entries(client):
    entry = client.get("/api/v1/entries/kita.entitlement", params={"locale": "fa"}).json()
    assert entry["locale"] == "fa" and entry["translation"] == "machine" and entry["sources"]
    assert entry["checked"] and entry["fallback"] is False and entry["related"]
    assert client.get("/api/v1/entries/does.not-exist").status_code == 404
    assert client.get("/api/v1/entries/kita.entitlement", params={"locale": "xx"}).status_code == 422
    assert client.get("/api/v1/entries/..%2Fetc").status_code in (404, 422)


def test_locales_tenants_and_texts(client):
    locales_ = client.get("/api/v1/locales").json()
    assert [item["code"] for item in locales_] == ["de", "en", "ar", "uk", "ru", "tr", "fa", "ro", "bg"]
    assert next(item for item in locales_ if item["code"] == "fa") == {
        "code": "fa",
        "name": "فارسی",
        "english_name": "Persian",
        "rtl": True,
    }
    tenant = client.get("/api/v1/tenants/demo", params={"locale": "en"}).json()
    assert tenant["example"] is True and tenant["primary_colour"].startswith("#")
    assert client.get("/api/v1/tenants/nope").status_code == 404
    texts = client.get("/api/v1/texts", params={"locale": "ar"}).json()
    assert texts["rtl"] is True and texts["texts"]["send"]


def test_health_readiness_and_metrics(client, upstreams: Upstreams):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    upstreams.rasa_alive = False
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded" and ready.json()["reasons"]
    metrics = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200 and "lotse_http_requests_total" in metrics.text


def test_not_ready_without_index(tmp_path, make_client):
    from knowledge.config import KnowledgeSettings
    from knowledge.service import KnowledgeService

    empty = KnowledgeService(KnowledgeSettings(index_dir=tmp_path))
    empty.reload_if_changed()
    no_index = make_client(empty)
    assert no_index.get("/readyz").status_code == 503
    assert no_index.get("/api/v1/search", params={"q": "x"}).status_code == 503


def test_admin_reload_needs_the_token(client):
    assert client.post("/api/v1/admin/reload").status_code == 401
    assert client.post("/api/v1/admin/reload", headers={"authorization": "Bearer wrong"}).status_code == 401
    ok = client.post("/api/v1/admin/reload", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ok.status_code == 200 and "demo" in ok.json()["tenants"]


def test_unknown_route_and_method(client):
    assert client.get("/nope").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/chat").status_code == 405


def test_openapi_documents_the_contract(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/v1/chat",
        "/api/v1/search",
        "/api/v1/entries/{entry_id}",
        "/api/v1/locales",
        "/healthz",
        "/readyz",
    ):
        assert path in schema["paths"]
    chat_response = schema["components"]["schemas"]["ChatResponse"]["properties"]
    assert {"session_id", "locale", "messages", "handover"} <= set(chat_response)


def test_rasa_down_still_shows_the_first_screen_and_the_menus(client, upstreams: Upstreams):
    upstreams.rasa_down = True
    _, welcome, shortcuts = chat(client, message="/home", locale="uk").json()["messages"]
    assert welcome["kind"] == shortcuts["kind"] == "menu" and welcome["text"] == texts.say("uk", texts.WELCOME)
    category = welcome["buttons"][0]["payload"]
    (_, menu) = chat(client, message=category, locale="uk").json()["messages"]
    assert menu["kind"] == "menu" and menu["buttons"][-1]["payload"] == "/home"
