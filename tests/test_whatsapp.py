"""WhatsApp webhook end to end through the app: real knowledge service, fake Rasa and Cloud API (no network)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from bot import texts
from tests.fakes import Upstreams, pseudonym, wait_until

APP_SECRET = "app-secret"
VERIFY_TOKEN = "verify-me"
ACCESS_TOKEN = "EAAG-test"
PHONE_ID = "1098765432"
WA_ID = "4915112345678"
MESSAGES_URL = f"https://graph.facebook.com/v21.0/{PHONE_ID}/messages"


def notification(*messages: dict, statuses: list | None = None, phone_id: str = PHONE_ID) -> dict:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "4930000000", "phone_number_id": phone_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "A"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def text(body: str, message_id: str = "wamid.1") -> dict:
    return {"from": WA_ID, "id": message_id, "timestamp": "1700000000", "type": "text", "text": {"body": body}}


def pressed(button_id: str, kind: str = "button_reply", message_id: str = "wamid.2") -> dict:
    return {
        "from": WA_ID,
        "id": message_id,
        "timestamp": "1700000000",
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": button_id, "title": "t"}},
    }


def signed(body: bytes, secret: str = APP_SECRET) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "content-type": "application/json"}


@pytest.fixture
def make_client(app_clients, knowledge, upstreams: Upstreams, sleeps) -> Callable[..., TestClient]:
    upstreams.rasa_messages = [{"text": "Hallo!", "locale": "de"}]
    settings = dict(
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_phone_number_id=PHONE_ID,
        messenger_backoff_seconds=0.01,
    )
    return lambda **overrides: app_clients(knowledge, **(settings | overrides))


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def post(client: TestClient, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post("/webhooks/whatsapp", content=body, headers=signed(body))


# --- verification and signatures -----------------------------------------------------------------------------


def test_verification_echoes_the_challenge(client: TestClient) -> None:
    response = client.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_failed_verification_is_403(client: TestClient, params: dict) -> None:
    response = client.get("/webhooks/whatsapp", params=params)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_not_configured_is_404(make_client) -> None:
    client = make_client(whatsapp_access_token=None)
    assert client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe"}).status_code == 404
    assert post(client, notification(text("Hallo"))).status_code == 404


def test_missing_signature_is_401_and_wrong_signature_is_403(client: TestClient, upstreams: Upstreams) -> None:
    body = json.dumps(notification(text("Hallo"))).encode()
    missing = client.post("/webhooks/whatsapp", content=body, headers={"content-type": "application/json"})
    wrong = client.post("/webhooks/whatsapp", content=body, headers=signed(body, secret="other"))
    tampered = client.post("/webhooks/whatsapp", content=body + b" ", headers=signed(body))
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 403 and tampered.status_code == 403
    assert upstreams.requests == []


@pytest.mark.parametrize(
    "body",
    [
        b"{broken",
        b"[]",
        b'{"object": "whatsapp_business_account"}',
        b'{"entry": "x"}',
        b'{"entry": [1]}',
        b'{"entry": [{"changes": [{"value": {"messages": [{"type": "text", "text": {"body": 1}}]}}]}]}',
        b'{"entry": [{"changes": [{"value": {"messages": [{"id": "w", "from": "1", "type": "text"}]}}]}]}',
    ],
)
def test_malformed_bodies_with_valid_signature_are_400(client: TestClient, upstreams: Upstreams, body: bytes) -> None:
    response = client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_json", "malformed_update")
    assert upstreams.requests == []


# --- turns ---------------------------------------------------------------------------------------------------


def test_text_message_is_answered(client: TestClient, upstreams: Upstreams) -> None:
    upstreams.rasa_messages = [{"text": "**Anmeldung** in _zwei_ Wochen.", "locale": "de"}]
    response = post(client, notification(text("Wie melde ich meine neue Wohnung an?")))
    assert response.status_code == 200 and response.json() == {"ok": True}
    wait_until(lambda: len(upstreams.sent) == 1)

    rasa = upstreams.rasa[0]
    assert rasa["sender"] == pseudonym("wa", WA_ID) and rasa["message"] == "Wie melde ich meine neue Wohnung an?"
    assert rasa["metadata"]["channel"] == "whatsapp"
    assert rasa["metadata"]["locale_source"] == "detected"  # no language from WhatsApp: detected from the text
    request = next(r for r in upstreams.requests if r.url.host == "graph.facebook.com")
    assert str(request.url) == MESSAGES_URL
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert upstreams.sent[0] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "*Anmeldung* in _zwei_ Wochen.", "preview_url": False},
    }


def test_statuses_are_ignored(client: TestClient, upstreams: Upstreams) -> None:
    statuses = [{"id": "wamid.out", "status": "delivered", "timestamp": "1", "recipient_id": WA_ID}]
    assert post(client, notification(statuses=statuses)).status_code == 200
    assert upstreams.requests == []


def test_messages_for_another_number_are_ignored(client: TestClient, upstreams: Upstreams) -> None:
    assert post(client, notification(text("Hallo"), phone_id="555")).status_code == 200
    assert upstreams.requests == []


def test_same_message_twice_is_answered_once(client: TestClient, upstreams: Upstreams) -> None:
    assert post(client, notification(text("Hallo", message_id="wamid.same"))).status_code == 200
    assert post(client, notification(text("Hallo", message_id="wamid.same"))).status_code == 200
    wait_until(lambda: len(upstreams.sent) >= 1)
    assert len(upstreams.rasa) == 1 and len(upstreams.sent) == 1


def test_up_to_three_buttons_are_reply_buttons(client: TestClient, upstreams: Upstreams) -> None:
    upstreams.rasa_messages = [
        {
            "text": "Hat das geholfen?",
            "locale": "de",
            "buttons": [
                {"title": "👍 Ja, das hat mir sehr geholfen", "payload": "/feedback_helpful"},
                {"title": "👎 Nein", "payload": "/feedback_unhelpful"},
            ],
        }
    ]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 1)
    interactive = upstreams.sent[0]["interactive"]
    assert interactive["type"] == "button" and interactive["body"] == {"text": "Hat das geholfen?"}
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["id"] for r in replies] == ["/feedback_helpful", "/feedback_unhelpful"]
    assert all(len(r["title"]) <= 20 for r in replies) and replies[1]["title"] == "👎 Nein"


def test_four_to_ten_buttons_are_a_list(client: TestClient, upstreams: Upstreams) -> None:
    buttons = [
        {
            "title": f"Thema Nummer {i} mit einem recht langen Namen",
            "payload": "/ask_entry" + json.dumps({"entry_id": f"t{i}"}),
        }
        for i in range(5)
    ]
    upstreams.rasa_messages = [{"text": "Welches Thema?", "locale": "de", "buttons": buttons}]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 1)
    interactive = upstreams.sent[0]["interactive"]
    assert interactive["type"] == "list"
    assert len(interactive["action"]["button"]) <= 20
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in buttons]
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert len({r["title"] for r in rows}) == 5  # titles stay distinguishable after cutting


def test_topics_with_long_titles_are_a_list_showing_the_whole_title(client: TestClient, upstreams: Upstreams) -> None:
    buttons = [
        {"title": "Anmeldung der Wohnung", "payload": '/ask_entry{"entry_id":"arrival.registration"}'},
        {"title": "Kita", "payload": '/ask_entry{"entry_id":"kita.start"}'},
        {"title": "Mit einer Person sprechen", "payload": "/ask_human"},
    ]
    upstreams.rasa_messages = [{"text": "Diese Themen sind nah an Ihrer Frage:", "locale": "de", "buttons": buttons}]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 1)
    interactive = upstreams.sent[0]["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in buttons]
    assert rows[0]["title"] == "Anmeldung der Wohnung" and "description" not in rows[0]  # fits a row's 24
    assert rows[2]["title"] == "Mit einer Person sprech…" and rows[2]["description"] == "Mit einer Person sprechen"


def test_more_than_ten_buttons_are_listed_as_text(client: TestClient, upstreams: Upstreams) -> None:
    buttons = [{"title": f"Option {i}", "payload": f"/p{i}"} for i in range(12)]
    upstreams.rasa_messages = [{"text": "Viele Themen:", "locale": "de", "buttons": buttons}]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 2)
    assert [m["type"] for m in upstreams.sent] == ["text", "text"]
    assert upstreams.sent[1]["text"]["body"].splitlines() == [f"• Option {i}" for i in range(12)]


def test_long_text_goes_first_then_the_buttons_with_a_prompt(client: TestClient, upstreams: Upstreams) -> None:
    long = "\n\n".join(["Ein Absatz mit vielen Wörtern über die Anmeldung. " * 12] * 3)
    upstreams.rasa_messages = [
        {
            "text": long,
            "locale": "de",
            "sources": [{"title": "Bundesministerium des Innern", "url": "https://www.bmi.bund.de/x"}],
            "buttons": [{"title": "Ja", "payload": "/affirm"}],
        }
    ]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 2)
    first, second = upstreams.sent
    assert first["type"] == "text" and len(first["text"]["body"]) > 1024
    assert "https://www.bmi.bund.de/x" in first["text"]["body"]
    assert second["type"] == "interactive" and second["interactive"]["body"]["text"] == texts.say(
        "de", texts.PLEASE_CHOOSE
    )


def test_very_long_text_is_split_under_the_limit(client: TestClient, upstreams: Upstreams) -> None:
    upstreams.rasa_messages = [{"text": "\n\n".join(["Wort " * 300] * 6), "locale": "de"}]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) >= 3)
    assert all(len(m["text"]["body"]) <= 4096 for m in upstreams.sent)


def test_pressed_button_and_list_row_send_their_payload(client: TestClient, upstreams: Upstreams) -> None:
    post(client, notification(pressed("/affirm", message_id="wamid.a")))
    post(client, notification(pressed('/ask_entry{"entry_id":"kita.costs"}', "list_reply", message_id="wamid.b")))
    wait_until(lambda: len(upstreams.sent) == 2)
    assert [r["message"] for r in upstreams.rasa] == ["/affirm", '/ask_entry{"entry_id":"kita.costs"}']


def test_long_payload_travels_as_a_key(client: TestClient, upstreams: Upstreams) -> None:
    payload = "/ask_entry" + json.dumps({"entry_id": "x" * 250})
    buttons = [{"title": f"T{i}", "payload": payload if i == 0 else f"/p{i}"} for i in range(4)]
    upstreams.rasa_messages = [{"text": "Wählen", "locale": "de", "buttons": buttons}]
    post(client, notification(text("Hallo", message_id="wamid.1")))
    wait_until(lambda: len(upstreams.sent) == 1)
    row_id = upstreams.sent[0]["interactive"]["action"]["sections"][0]["rows"][0]["id"]
    assert len(row_id) <= 200

    post(client, notification(pressed(row_id, "list_reply", message_id="wamid.2")))
    wait_until(lambda: len(upstreams.rasa) == 2)
    assert upstreams.rasa[1]["message"] == payload


def test_image_gets_a_polite_answer(client: TestClient, upstreams: Upstreams) -> None:
    image = {"from": WA_ID, "id": "wamid.img", "timestamp": "1", "type": "image", "image": {"id": "m"}}
    post(client, notification(image))
    wait_until(lambda: len(upstreams.sent) == 1)
    assert upstreams.rasa == []
    # In the tenant's default language: WhatsApp says nothing about the user's language.
    assert upstreams.sent[0]["text"]["body"] == texts.say("de", texts.TEXT_ONLY)


# --- failures ------------------------------------------------------------------------------------------------


def test_rasa_down_still_answers_from_knowledge(client: TestClient, upstreams: Upstreams) -> None:
    """The notice, the answer with its sources and related topics, then the feedback prompt."""
    upstreams.rasa_down = True
    post(client, notification(text("Wie melde ich meine neue Wohnung an?")))
    prompt = texts.say("de", texts.DID_THIS_HELP)
    wait_until(lambda: any(m.get("interactive", {}).get("body", {}).get("text") == prompt for m in upstreams.sent))
    bodies = [m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"] for m in upstreams.sent]
    assert bodies[0] == texts.say("de", texts.LIMITED_SERVICE)
    assert bodies[1].startswith("*") and any("https://" in b for b in bodies[1:-1])
    assert bodies[-1] == prompt


def test_sending_is_retried_after_429(client: TestClient, upstreams: Upstreams, sleeps: list[float]) -> None:
    upstreams.platform_answers = [
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"code": 130429, "message": "Rate limit hit"}})
    ]
    post(client, notification(text("Hallo")))
    wait_until(lambda: len(upstreams.sent) == 2)
    assert upstreams.sent[0] == upstreams.sent[1]
    assert sleeps == [2.0]


def test_client_errors_are_not_retried(client: TestClient, upstreams: Upstreams, sleeps: list[float]) -> None:
    upstreams.platform_answers = [httpx.Response(400, json={"error": {"code": 131030, "message": "not allowed"}})]
    assert post(client, notification(text("Hallo"))).status_code == 200
    wait_until(lambda: len(upstreams.sent) == 1)
    assert sleeps == []
