"""The dashboard over HTTP (FastAPI test client, real knowledge index, Rasa faked): who may see which
numbers, bad parameters, and that chat turns show up in the JSON, the CSV and the page."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest

from knowledge.tenants import Tenant
from tests.fakes import Upstreams

ADMIN = "admin-token-for-tests-" + "x" * 16
DEMO_TOKEN = "demo-dashboard-token"
OTHER_TOKEN = "other-dashboard-token"


@pytest.fixture
def client(app_clients, knowledge, monkeypatch):
    digest = hashlib.sha256(OTHER_TOKEN.encode()).hexdigest()  # as written in a tenant file
    other = Tenant(id="other", name={"de": "Andere Stelle"}, dashboard_token_sha256=digest)
    monkeypatch.setitem(knowledge.tenants, "other", other)
    return app_clients(knowledge, admin_token=ADMIN, dashboard_tokens={"demo": DEMO_TOKEN})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def basic(token: str, user: str = "anyone") -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def chat(client, message: str, session: str = "s1", locale: str = "de") -> dict:
    response = client.post("/api/v1/chat", json={"session_id": session, "message": message, "locale": locale})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("headers", [{}, bearer("wrong"), basic("wrong"), {"authorization": "Basic !!!"}])
def test_without_a_valid_token_everything_is_401(client, headers):
    for path in ("/api/v1/stats", "/api/v1/stats.csv", "/dashboard"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic")
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_tenant_token_sees_its_own_tenant_only(client):
    assert client.get("/api/v1/stats", headers=bearer(DEMO_TOKEN)).json()["usage"]["tenant"] == "demo"
    assert client.get("/api/v1/stats?tenant=demo", headers=basic(DEMO_TOKEN)).status_code == 200
    assert client.get("/api/v1/stats", headers=bearer(OTHER_TOKEN)).json()["usage"]["tenant"] == "other"
    for token, foreign in ((DEMO_TOKEN, "other"), (OTHER_TOKEN, "demo"), (DEMO_TOKEN, "nope")):
        response = client.get(f"/api/v1/stats?tenant={foreign}", headers=bearer(token))
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.get("/dashboard?tenant=other", headers=basic(DEMO_TOKEN)).status_code == 403


def test_the_admin_sees_any_tenant_or_all_and_an_unknown_one_is_404(client):
    assert client.get("/api/v1/stats", headers=bearer(ADMIN)).json()["usage"]["tenant"] is None
    assert client.get("/api/v1/stats?tenant=other", headers=basic(ADMIN)).json()["usage"]["tenant"] == "other"
    response = client.get("/api/v1/stats?tenant=nope", headers=bearer(ADMIN))
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_tenant"


@pytest.mark.parametrize(
    "query, code",
    [
        ("from=2026-12-01&to=2026-11-01", "invalid_period"),
        ("from=2020-01-01&to=2026-11-01", "invalid_period"),
        ("from=yesterday", "invalid_request"),
        ("from=9999-12-30&to=9999-12-31", "invalid_period"),
        ("to=0001-01-01", "invalid_period"),
        ("to=2026-13-45", "invalid_request"),
        ("tenant=" + "x" * 60, "invalid_request"),
    ],
)
def test_bad_parameters_are_422(client, query, code):
    for path in ("/api/v1/stats", "/api/v1/stats.csv", "/dashboard"):
        response = client.get(f"{path}?{query}", headers=bearer(ADMIN))
        assert response.status_code == 422 and response.json()["error"]["code"] == code, (path, response.text)


def test_a_fresh_install_shows_zeros(client):
    data = client.get("/api/v1/stats?from=2026-11-01&to=2026-11-30", headers=bearer(ADMIN)).json()
    assert data["usage"]["turns"] == 0 and len(data["usage"]["days"]) == 30
    assert data["gaps"] == {"groups": [], "rarely_asked": 0} and data["feedback"] == []
    assert data["content"]["coverage"] and "kita.costs" in data["content"]["coverage"]
    page = client.get("/dashboard?from=2026-11-01&to=2026-11-30", headers=basic(ADMIN))
    assert page.status_code == 200 and page.text.count("data-chart=") == 3


def test_chat_turns_are_counted_and_shown(client, upstreams: Upstreams):
    upstreams.rasa_messages = [
        {"text": "Kita …", "locale": "de", "kind": "answer", "entry_id": "kita.costs"},
        {"text": "Hat das geholfen?", "locale": "de", "kind": "feedback", "entry_id": "kita.costs"},
    ]
    chat(client, "Was kostet die Kita?")
    upstreams.rasa_messages = [  # read together with the question before (knowledge/follow_up.py)
        {"text": "Kita …", "locale": "de", "kind": "answer", "entry_id": "kita.costs", "follow_up": True},
        {"text": "Hat das geholfen?", "locale": "de", "kind": "feedback", "entry_id": "kita.costs"},
    ]
    chat(client, "Und für zwei Kinder?")
    upstreams.rasa_messages = [  # an answer given as general information ("your own case may be different")
        {
            "text": "_Das ist eine allgemeine Information …_ Kita …",
            "locale": "de",
            "kind": "answer",
            "entry_id": "kita.costs",
            "cautious": True,
        },
    ]
    assert chat(client, "Die Kita will von uns 400 Euro, stimmt das?")["messages"][0]["cautious"] is True
    upstreams.rasa_messages = [{"text": "Leider …", "locale": "de", "kind": "no_answer", "handover": True}]
    chat(client, "Wo kann ich mein Auto anmelden?", session="s2")
    upstreams.rasa_messages.append({"text": "Diese Themen …", "locale": "de", "kind": "close_topics", "buttons": []})
    chat(client, "Mein Jobcenter will 300 Euro zurück", session="s2")
    upstreams.rasa_messages = [  # declined, but closest to violence: the emergency numbers first (bot/replies.py)
        {
            "text": "Wenn Sie … in Gefahr sind … 110",
            "locale": "de",
            "kind": "urgent_help",
            "entry_id": "counselling.violence",
        },
        {"text": "Leider …", "locale": "de", "kind": "no_answer"},
        {"text": "Diese Themen …", "locale": "de", "kind": "close_topics", "buttons": []},
    ]
    chat(client, "Mein Mann hat mich und das Kind heute Nacht rausgeworfen", session="s2")
    upstreams.rasa_down = True
    chat(client, "Was kostet die Kita?", session="s3")  # answered from the knowledge search alone

    usage = client.get("/api/v1/stats", headers=bearer(DEMO_TOKEN)).json()["usage"]
    assert usage["turns"] == 7 and usage["conversations"] == 3
    assert usage["outcomes"] == {
        "answered": 1,
        "answered_with_caution": 1,
        "asked_back": 0,
        "declined": 1,
        "handed_over": 0,
        "degraded": 1,
        "other": 0,
        "declined_with_topics": 1,
        "answered_follow_up": 1,
        "declined_with_urgent_help": 1,
    }
    assert {"locale": "de", "topic": "kita.costs", "turns": 4} in usage["topics"]
    assert usage["days"][-1]["channels"] == {"web": 7}
    assert client.get("/api/v1/stats", headers=bearer(OTHER_TOKEN)).json()["usage"]["turns"] == 0

    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/stats.csv", headers=bearer(DEMO_TOKEN)).text)))
    assert len(rows) == 30 and rows[-1]["turns"] == "7" and rows[-1]["declined"] == "1" and rows[0]["turns"] == "0"

    page = client.get("/dashboard", headers=basic(DEMO_TOKEN)).text
    assert '<html lang="de">' in page and "Nachrichten nach Kanal" in page and "kita.costs" in page
    assert "zuerst Notrufnummern gegeben" in page
    assert "Mandant" not in page  # a tenant cannot pick another tenant
    english = client.get("/dashboard?lang=en", headers=basic(ADMIN)).text
    assert '<html lang="en">' in english and "Turns by channel" in english and 'name="tenant"' in english


def test_stats_are_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/api/v1/stats"]["get"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StatsResponse")
    assert {"401", "403", "404", "422", "429"} <= set(ok)
    assert "text/csv" in schema["paths"]["/api/v1/stats.csv"]["get"]["responses"]["200"]["content"]
    assert {"UsageStats", "Gaps", "ContentStatus", "ServiceHealth"} <= set(schema["components"]["schemas"])


def test_the_default_period_is_the_last_30_days(client):
    usage = client.get("/api/v1/stats", headers=bearer(ADMIN)).json()["usage"]
    today = datetime.now(UTC).date()
    assert usage["end"] == today.isoformat() and usage["start"] == (today - timedelta(days=29)).isoformat()
