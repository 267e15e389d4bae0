"""Telegram webhook end to end through the app: real knowledge service, fake Rasa and Bot API (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.channels import delivery, telegram
from api.config import get_settings
from api.shared import MemoryState
from bot import texts
from tests.fakes import Upstreams, pseudonym, wait_until

TOKEN = "123456:TEST-token"
SECRET = "s3cret-Token_1"
API = f"https://api.telegram.org/bot{TOKEN}"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(update_id: int = 1, text: str = "Hallo", chat_id: int = 42, language: str | None = "de") -> dict:
    sender = {"id": chat_id, "is_bot": False, "first_name": "A"}
    if language:
        sender["language_code"] = language
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "text": text,
            "from": sender,
            "chat": {"id": chat_id, "type": "private"},
        },
    }


def callback(data: str, update_id: int = 2, chat_id: int = 42, language: str = "en") -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": "cb-1",
            "data": data,
            "chat_instance": "1",
            "from": {"id": chat_id, "language_code": language},
            "message": {"message_id": 5, "date": 0, "chat": {"id": chat_id, "type": "private"}, "text": "..."},
        },
    }


@pytest.fixture
def make_client(app_clients, knowledge, upstreams: Upstreams, sleeps) -> Callable[..., TestClient]:
    upstreams.rasa_messages = [{"text": "Hello!", "locale": "en"}]
    settings = dict(telegram_bot_token=TOKEN, telegram_secret_token=SECRET, messenger_backoff_seconds=0.01)
    return lambda **overrides: app_clients(knowledge, **(settings | overrides))


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def post(client: TestClient, body, headers=HEADERS) -> httpx.Response:
    return client.post("/webhooks/telegram", json=body, headers=headers)


# --- authentication and shape --------------------------------------------------------------------------------


def test_missing_secret_is_401_and_wrong_secret_is_403(client: TestClient, upstreams: Upstreams) -> None:
    missing = post(client, update(), headers={})
    wrong = post(client, update(), headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    assert upstreams.requests == []


def test_not_configured_is_404(make_client) -> None:
    client = make_client(telegram_bot_token=None, telegram_secret_token=None)
    response = post(client, update())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'"text"',
        b'{"message": {}}',
        b'{"update_id": "1"}',
        b'{"update_id": 1, "message": {"text": "hi"}}',
        b'{"update_id": 1, "message": {"chat": {"id": "42"}}}',
        b'{"update_id": 1, "message": "hi"}',
        b'{"update_id": 1, "callback_query": {"id": "x"}}',
        b"[" * 20000 + b"]" * 20000,
    ],
)
def test_malformed_bodies_are_400(client: TestClient, upstreams: Upstreams, body: bytes) -> None:
    response = client.post("/webhooks/telegram", content=body, headers=HEADERS | {"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_json", "malformed_update")
    assert upstreams.requests == []


def test_updates_the_bot_does_not_use_are_acknowledged(client: TestClient, upstreams: Upstreams) -> None:
    edited = {"update_id": 7, "edited_message": {"message_id": 1, "chat": {"id": 42}, "text": "x"}}
    joined = {"update_id": 8, "message": {"message_id": 2, "chat": {"id": 42}, "new_chat_members": []}}
    assert post(client, edited).json() == {"ok": True}
    assert post(client, joined).json() == {"ok": True}
    assert upstreams.requests == []


# --- turns ---------------------------------------------------------------------------------------------------


def test_message_is_answered_with_html_and_inline_keyboard(client: TestClient, upstreams: Upstreams) -> None:
    upstreams.rasa_messages = [
        {
            "text": "**Yes** <b>, & more",
            "locale": "en",
            "buttons": [
                {"title": "Registration", "payload": '/ask_entry{"entry_id":"arrival.registration"}'},
                {"title": "Talk to a person", "payload": "/ask_human"},
            ],
        }
    ]
    response = post(client, update(text="How do I register my flat in Berlin?", language="en"))
    assert response.status_code == 200 and response.json() == {"ok": True}
    wait_until(lambda: len(upstreams.sent) == 1)

    rasa = upstreams.rasa[0]
    assert rasa["sender"] == pseudonym("tg", "42") and rasa["message"] == "How do I register my flat in Berlin?"
    assert rasa["metadata"]["channel"] == "telegram" and rasa["metadata"]["tenant"] == "demo"
    sent = upstreams.sent[0]
    assert sent["chat_id"] == 42 and sent["parse_mode"] == "HTML"
    assert sent["text"] == "<b>Yes</b> &lt;b&gt;, &amp; more"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Registration", "callback_data": '/ask_entry{"entry_id":"arrival.registration"}'}],
            [{"text": "Talk to a person", "callback_data": "/ask_human"}],
        ]
    }


def test_language_code_is_the_locale_hint(client: TestClient, upstreams: Upstreams) -> None:
    post(client, update(text="Привіт", language="uk-UA"))
    wait_until(lambda: len(upstreams.sent) == 1)
    metadata = upstreams.rasa[0]["metadata"]
    assert metadata["locale"] == "uk" and metadata["locale_source"] == "channel"


def test_start_command_opens_the_first_screen(client: TestClient, upstreams: Upstreams) -> None:
    post(client, update(text="/start"))
    wait_until(lambda: len(upstreams.sent) == 1)
    assert upstreams.rasa[0]["message"] == "/home"


def test_same_update_twice_is_answered_once(client: TestClient, upstreams: Upstreams) -> None:
    assert post(client, update(update_id=99)).status_code == 200
    assert post(client, update(update_id=99)).status_code == 200
    wait_until(lambda: len(upstreams.sent) >= 1)
    assert len(upstreams.rasa) == 1
    assert len(upstreams.sent) == 1


def test_long_answer_is_split_under_the_limit(client: TestClient, upstreams: Upstreams) -> None:
    paragraph = "Ein **langer** Absatz mit <Zeichen> & Wörtern. " * 30
    upstreams.rasa_messages = [
        {"text": "\n\n".join([paragraph] * 8), "locale": "de", "buttons": [{"title": "Ja", "payload": "/affirm"}]}
    ]
    post(client, update())
    wait_until(lambda: len(upstreams.sent) >= 2)
    sent = upstreams.sent
    assert len(sent) >= 2
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert all(m["text"].count("<b>") == m["text"].count("</b>") for m in sent)
    assert [("reply_markup" in m) for m in sent] == [False] * (len(sent) - 1) + [True]


def test_button_pressed_sends_its_payload(client: TestClient, upstreams: Upstreams) -> None:
    post(client, callback("/affirm"))
    wait_until(lambda: len(upstreams.sent) == 1)
    assert upstreams.rasa[0]["message"] == "/affirm"
    assert upstreams.calls("answerCallbackQuery") == [{"callback_query_id": "cb-1"}]


def test_long_payload_travels_as_a_key(client: TestClient, upstreams: Upstreams) -> None:
    payload = '/ask_entry{"entry_id":"recognition.health-professions.nursing-and-care"}'
    assert len(payload.encode()) > 64
    upstreams.rasa_messages = [
        {"text": "Choose", "locale": "en", "buttons": [{"title": "Nursing", "payload": payload}]}
    ]
    post(client, update(update_id=1))
    wait_until(lambda: len(upstreams.sent) == 1)
    data = upstreams.sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64 and data != payload

    post(client, callback(data, update_id=2))
    wait_until(lambda: len(upstreams.rasa) == 2)
    assert upstreams.rasa[1]["message"] == payload


def test_unknown_button_key_asks_to_type(client: TestClient, upstreams: Upstreams) -> None:
    post(client, callback("~0123456789abcdef0123", language="en"))
    wait_until(lambda: len(upstreams.calls("answerCallbackQuery")) == 1)
    assert upstreams.rasa == []
    answer = upstreams.calls("answerCallbackQuery")[0]
    assert answer["callback_query_id"] == "cb-1" and "no longer active" in answer["text"]


def test_voice_message_gets_a_polite_answer(client: TestClient, upstreams: Upstreams) -> None:
    body = update(language="en")
    del body["message"]["text"]
    body["message"]["voice"] = {"file_id": "f", "duration": 3}
    post(client, body)
    wait_until(lambda: len(upstreams.sent) == 1)
    assert upstreams.rasa == []
    assert "only read text" in upstreams.sent[0]["text"]


# --- failures ------------------------------------------------------------------------------------------------


def test_rasa_down_still_answers_from_knowledge(client: TestClient, upstreams: Upstreams, knowledge) -> None:
    upstreams.rasa_down = True
    post(client, update(text="Wie melde ich meine neue Wohnung an?", language="de"))
    wait_until(lambda: len(upstreams.sent) == 3)
    notice, answer, prompt = upstreams.sent
    notice, answer = notice["text"], answer["text"]
    assert notice == texts.say("de", texts.LIMITED_SERVICE)
    assert prompt["text"] == texts.say("de", texts.DID_THIS_HELP) and prompt["reply_markup"]["inline_keyboard"]
    title = knowledge.searcher.search(
        "Wie melde ich meine neue Wohnung an?", "de", knowledge.tenants["demo"], k=1
    ).best.entry.title
    assert answer.startswith(f"<b>{title}</b>")
    assert '<a href="https://' in answer  # the sources


def test_unexpected_error_sends_try_again_in_the_users_language(client: TestClient, upstreams: Upstreams) -> None:
    async def broken(turn):
        raise RuntimeError("boom")

    client.app.state.lotse.conversation.handle = broken
    post(client, update(text="hi", language="uk"))
    wait_until(lambda: len(upstreams.sent) == 1)
    assert upstreams.sent[0]["text"] == texts.say("uk", texts.TRY_AGAIN)


def test_rate_limit_answers_politely_once_without_rasa(make_client, upstreams: Upstreams) -> None:
    client = make_client(rate_limit_session="2/day")
    for update_id in range(1, 6):
        post(client, update(update_id=update_id, language="en"))
    wait_until(lambda: len(upstreams.sent) == 3)
    assert len(upstreams.rasa) == 2
    assert [m["text"] for m in upstreams.sent].count(texts.say("en", texts.RATE_LIMITED)) == 1


def test_sending_is_retried_after_429(client: TestClient, upstreams: Upstreams, sleeps: list[float]) -> None:
    upstreams.platform_answers = [
        httpx.Response(200, json={"ok": True, "result": True}),  # sendChatAction
        httpx.Response(
            429,
            json={
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            },
        ),
    ]
    post(client, update())
    wait_until(lambda: len(upstreams.sent) == 2)
    assert upstreams.sent[0] == upstreams.sent[1]
    assert sleeps == [3.0]


def test_server_errors_are_retried_then_given_up(client: TestClient, upstreams: Upstreams, sleeps: list[float]) -> None:
    upstreams.platform_answers = [httpx.Response(200, json={"ok": True, "result": True})] + [
        httpx.Response(502, text="Bad Gateway") for _ in range(4)
    ]
    assert post(client, update()).status_code == 200
    wait_until(lambda: len(upstreams.sent) == 4)
    assert sleeps == [0.01, 0.02, 0.04]


def test_refused_markup_is_resent_as_plain_text(client: TestClient, upstreams: Upstreams) -> None:
    upstreams.rasa_messages = [{"text": "**Bold** & co", "locale": "en"}]
    upstreams.platform_answers = [
        httpx.Response(200, json={"ok": True, "result": True}),
        httpx.Response(
            400,
            json={
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: can't parse entities: unexpected end tag",
            },
        ),
    ]
    post(client, update())
    wait_until(lambda: len(upstreams.sent) == 2)
    assert upstreams.sent[1]["text"] == "Bold & co" and "parse_mode" not in upstreams.sent[1]


def test_turns_are_counted_by_channel(make_client, upstreams: Upstreams) -> None:
    token = "metrics-" + "x" * 24
    client = make_client(metrics_token=token)
    post(client, update())
    wait_until(lambda: len(upstreams.sent) == 1)
    metrics = client.get("/metrics", headers={"authorization": f"Bearer {token}"}).text
    assert 'lotse_chat_turns_total{channel="telegram",locale="en",outcome="ok"} 1.0' in metrics


# --- CLI -----------------------------------------------------------------------------------------------------


def test_cli_sets_the_webhook_with_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": True, "description": "Webhook was set"})

    monkeypatch.setenv("LOTSE_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LOTSE_TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setattr(telegram, "CLI_TRANSPORT", httpx.MockTransport(handler))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(telegram.cli, ["set-webhook", "--url", "https://lotse.example/webhooks/telegram"])
        assert result.exit_code == 0, result.output
        assert "Webhook was set" in result.output and TOKEN not in result.output
        assert str(seen[0].url) == f"{API}/setWebhook"
        assert json.loads(seen[0].content) == {
            "url": "https://lotse.example/webhooks/telegram",
            "secret_token": SECRET,
            "allowed_updates": ["message", "callback_query"],
            "drop_pending_updates": False,
        }

        assert runner.invoke(telegram.cli, ["info"]).exit_code == 0
        assert str(seen[1].url) == f"{API}/getWebhookInfo"
        assert runner.invoke(telegram.cli, ["set-webhook", "--url", "http://insecure"]).exit_code == 2
    finally:
        get_settings.cache_clear()


# --- shared delivery pieces ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_button_payloads_keep_short_payloads_and_store_long_ones() -> None:
    payloads = delivery.ButtonPayloads(MemoryState(), ttl=60.0)
    long = '/ask_entry{"entry_id":"' + "x" * 60 + '"}'
    assert payloads.button_id("/affirm", 64) == "/affirm" and await payloads.payload_for("/affirm") == "/affirm"
    key = payloads.button_id(long, 64)
    assert key.startswith("~") and len(key) <= 64 and await payloads.payload_for(key) is None
    await payloads.remember([{"text": "", "buttons": [{"title": "X", "payload": long}]}], 64)
    assert await payloads.payload_for(key) == long
    assert payloads.button_id("~tilde", 64) != "~tilde"  # never mistaken for a key


def test_logs_hold_no_message_text_or_user_ids(
    client: TestClient, upstreams: Upstreams, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "Mein Name ist Erika Mustermann"
    upstreams.platform_answers = [
        httpx.Response(200, json={"ok": True, "result": True}),
        httpx.Response(
            403, json={"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        ),
    ]
    with caplog.at_level("DEBUG", logger="api"):
        post(client, update(text=secret_text, chat_id=987654321))
        wait_until(lambda: len(upstreams.sent) == 1)

        async def broken(turn):
            raise RuntimeError("boom")

        client.app.state.lotse.conversation.handle = broken
        post(client, update(update_id=2, text=secret_text, chat_id=987654321))
        wait_until(lambda: len(upstreams.sent) == 2)
    records = [r for r in caplog.records if r.name.startswith("api")]
    assert any(r.getMessage() == "reply not delivered" for r in records)
    dumped = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "Erika" not in dumped and "987654321" not in dumped and TOKEN not in dumped
