"""Handover to a counsellor: the Zammad adapter against a fake Zammad that checks what the REST documentation
specifies, the conversation flow through the real API (FastAPI test client, real knowledge index, Rasa and the
messengers faked), the signed webhook, delivery to every channel, queueing while Zammad is down, and the
shared state on a real Redis."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.handover.adapter import BadSignature, CounsellorEvent, Opening, PlatformUnavailable, TopicLink
from api.handover.flow import ACCEPT, END
from api.handover.store import HandoverStore, Record
from api.handover.zammad import ZammadAdapter, html_to_text, parse_webhook
from api.shared import MemoryState, RedisState
from bot import texts
from knowledge.tenants import LiveHandover, Tenant
from tests import test_telegram as telegram
from tests import test_whatsapp as whatsapp
from tests.fakes import SECRET, TOKEN, FakeZammad, Upstreams, signed_zammad, wait_until

ZAMMAD = "https://zammad.test"


def live_handover(**overrides) -> LiveHandover:
    values = dict(
        adapter="zammad",
        url=ZAMMAD,
        token_env="ZAMMAD_TOKEN",
        webhook_secret_env="ZAMMAD_SECRET",
        group="Lotse Beratung",
    )
    return LiveHandover(**(values | overrides))


def agent_reply(ticket_id: int, text: str, internal: bool = False, state: str = "open") -> dict:
    return {
        "ticket": {"id": ticket_id, "state": state, "group": {"name": "Lotse Beratung"}},
        "article": {
            "id": 7,
            "body": f"<p>{text}</p>",
            "content_type": "text/html",
            "internal": internal,
            "sender": "Agent",
            "type": "note",
        },
    }


# --- the adapter's contract -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_zammad_adapter_speaks_the_documented_rest_api():
    zammad = FakeZammad()
    async with httpx.AsyncClient(transport=httpx.MockTransport(zammad.handler)) as http:
        adapter = ZammadAdapter(http, live_handover(), TOKEN, SECRET)
        opening = Opening(
            "L-ABCDE",
            "lotse-0123456789ab",
            "ar",
            "Arabic",
            [("Person", "مرحبا"), ("Lotse", "Hallo")],
            [TopicLink("Wohnung anmelden", "https://example.org/bmg")],
        )
        ticket = await adapter.open(opening)
        await adapter.append(ticket, "noch eine Frage")
        await adapter.note(ticket, "intern")
        await adapter.close(ticket)
    created = zammad.tickets[int(ticket)]
    assert created["title"] == "[AR] Lotse L-ABCDE (Arabic)" and created["group"] == "Lotse Beratung"
    assert created["customer_id"] == "guess:lotse-0123456789ab@lotse.invalid" and created["lotse"] is True
    first = created["article"]
    assert first["internal"] is False and first["sender"] == "Customer" and first["content_type"] == "text/plain"
    assert "Referenz: L-ABCDE" in first["body"] and "Sprache: Arabic (ar)" in first["body"]
    assert "- Wohnung anmelden: https://example.org/bmg" in first["body"] and "Person: مرحبا" in first["body"]
    public, note = zammad.articles
    assert public == {
        "ticket_id": 1,
        "body": "noch eine Frage",
        "content_type": "text/plain",
        "type": "note",
        "internal": False,
        "sender": "Customer",
    }
    assert note["internal"] is True and note["sender"] == "System"
    assert zammad.updates == [(1, {"state": "closed"})]


@pytest.mark.anyio
async def test_zammad_errors_and_outages_are_platform_unavailable():
    def refuse(request):
        return httpx.Response(422, json={"error": "group not found"})

    down = FakeZammad()
    down.down = True
    opening = Opening("L-ABCDE", "lotse-x", "de", "German", [])
    for handler in (refuse, down.handler):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(PlatformUnavailable):
                await ZammadAdapter(http, live_handover(), TOKEN, SECRET).open(opening)


def test_webhook_signature_and_payload():
    adapter = ZammadAdapter(httpx.AsyncClient(), live_handover(), TOKEN, SECRET)
    body, headers = signed_zammad(agent_reply(5, "Guten Tag,<br>wir helfen gern."))
    assert adapter.read_event(headers, body) == CounsellorEvent("5", "reply", "Guten Tag,\nwir helfen gern.")
    assert adapter.delivery_id(headers) == "d-1"
    with pytest.raises(BadSignature, match="missing"):
        adapter.read_event({}, body)
    with pytest.raises(BadSignature, match="wrong"):
        adapter.read_event(signed_zammad(agent_reply(5, "x"), secret="other")[1], body)
    assert parse_webhook(agent_reply(5, "intern", internal=True)) is None
    customer = agent_reply(5, "from the person") | {"article": {"internal": False, "sender": "Customer", "body": "x"}}
    assert parse_webhook(customer) is None
    assert parse_webhook(agent_reply(5, "", state="closed")) == CounsellorEvent("5", "closed")
    with pytest.raises(ValueError):
        parse_webhook({"ticket": {"id": "5"}})
    assert html_to_text("<div>a &amp; b</div><div><br></div><p>c</p>") == "a & b\n\nc"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"url": "http://zammad.example.org"}, "https://"),
        ({"token_env": "lower-case"}, "pattern"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"hours": [{"days": [8], "start": "09:00", "end": "16:00"}]}, "Monday"),
        ({"hours": [{"days": [1], "start": "16:00", "end": "09:00"}]}, "not before end"),
        ({"adapter": "chatwoot"}, "zammad"),
    ],
)
def test_bad_live_handover_settings_are_reported(overrides, message):
    with pytest.raises(ValueError, match=message):
        live_handover(**overrides)


def test_opening_hours_in_the_tenants_time_zone():
    config = live_handover(hours=[{"days": [1, 2, 3, 4], "start": "09:00", "end": "16:00"}])
    assert config.is_open(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))  # Monday 9:30 in Berlin
    assert not config.is_open(datetime(2026, 12, 7, 15, 30, tzinfo=UTC))  # 16:30 in Berlin
    assert not config.is_open(datetime(2026, 12, 11, 10, 0, tzinfo=UTC))  # Friday


# --- the conversation through the API ---------------------------------------------------------------------------


@pytest.fixture
def zammad() -> FakeZammad:
    return FakeZammad()


def install_handover_tenant(knowledge, monkeypatch) -> None:
    """The demo tenant as ``zammad-demo``, with counsellors always in the chat and Zammad's secrets set."""
    demo = knowledge.tenants["demo"]
    tenant = Tenant.model_validate(demo.model_dump() | {"id": "zammad-demo", "live_handover": live_handover()})
    monkeypatch.setitem(knowledge.tenants, "zammad-demo", tenant)
    monkeypatch.setenv("ZAMMAD_TOKEN", TOKEN)
    monkeypatch.setenv("ZAMMAD_SECRET", SECRET)


@pytest.fixture
def handover_client(app_clients, knowledge, upstreams: Upstreams, zammad: FakeZammad, monkeypatch):
    """The API with a tenant whose counsellors are always in the chat, Zammad faked beside Rasa."""
    install_handover_tenant(knowledge, monkeypatch)
    rasa_and_platforms = upstreams.handler

    def handler(request: httpx.Request) -> httpx.Response:
        return zammad.handler(request) if request.url.host == "zammad.test" else rasa_and_platforms(request)

    upstreams.handler = handler  # the app's transport is built from this attribute
    upstreams.rasa_messages = [
        {"text": "Hier ist eine Antwort.", "locale": "de", "entry_id": "arrival.registration", "kind": "answer"},
        {"text": "☎ Beratung …", "locale": "de", "handover": True, "kind": "handover"},
    ]
    return app_clients(
        knowledge,
        telegram_bot_token="123:abc",
        telegram_secret_token="tg-secret",
        telegram_tenant="zammad-demo",
        whatsapp_access_token=whatsapp.ACCESS_TOKEN,
        whatsapp_app_secret=whatsapp.APP_SECRET,
        whatsapp_verify_token=whatsapp.VERIFY_TOKEN,
        whatsapp_phone_number_id=whatsapp.PHONE_ID,
        whatsapp_tenant="zammad-demo",
        handover_retry_seconds=3600,
    )


def chat(client, message: str, session: str = "s1") -> dict:
    response = client.post("/api/v1/chat", json={"session_id": session, "message": message, "tenant": "zammad-demo"})
    assert response.status_code == 200, response.text
    return response.json()


def webhook(client, payload: dict, delivery: str = "d-1", secret: str = SECRET, tenant: str = "zammad-demo"):
    body, headers = signed_zammad(payload, secret, delivery)
    return client.post(f"/webhooks/zammad?tenant={tenant}", content=body, headers=headers)


def test_handover_with_consent_reply_and_back_to_the_bot(handover_client, upstreams: Upstreams, zammad: FakeZammad):
    client = handover_client
    first = chat(client, "Ich möchte mit einem Menschen sprechen")
    consent = first["messages"][-1]
    assert [b["payload"] for b in consent["buttons"]] == [ACCEPT, "/handover_decline"]
    assert "Beratungsstelle Musterstadt" in consent["text"] and not zammad.tickets

    opened = chat(client, ACCEPT)
    assert opened["with_counsellor"] is True
    (ticket,) = zammad.tickets.values()
    code = ticket["title"].split()[2]
    assert code.startswith("L-") and code in opened["messages"][0]["text"]
    assert ticket["group"] == "Lotse Beratung" and "[DE]" in ticket["title"]
    assert "Person: Ich möchte mit einem Menschen sprechen" in ticket["article"]["body"]
    assert "Erkannte Themen:" in ticket["article"]["body"] and "web:" not in ticket["article"]["body"]

    rasa_calls = len(upstreams.rasa)
    relayed = chat(client, "Ich brauche Hilfe mit dem Jobcenter")
    assert relayed["messages"] == [] and relayed["with_counsellor"] is True
    assert len(upstreams.rasa) == rasa_calls  # the bot does not answer while a counsellor owns the chat
    assert zammad.articles[-1]["body"] == "Ich brauche Hilfe mit dem Jobcenter"

    assert webhook(client, agent_reply(1, "Hallo, ich bin Frau M.")).json()["outcome"] == "delivered"
    assert webhook(client, agent_reply(1, "Hallo, ich bin Frau M.")).json()["outcome"] == "duplicate"
    assert webhook(client, agent_reply(1, "nur intern", internal=True), delivery="d-2").json()["outcome"] == "ignored"
    replies = client.get("/api/v1/chat/s1/replies", params={"tenant": "zammad-demo"}).json()
    assert [m["text"] for m in replies["messages"]] == ["**Beratung:** Hallo, ich bin Frau M."]
    assert replies["with_counsellor"] is True and replies["messages"][0]["buttons"][0]["payload"] == END
    none_new = client.get("/api/v1/chat/s1/replies", params={"tenant": "zammad-demo", "after": 1}).json()
    assert none_new["messages"] == []

    back = chat(client, END)
    assert back["with_counsellor"] is False and code in back["messages"][0]["text"]
    assert zammad.updates == [(1, {"state": "closed"})]
    chat(client, "Wie melde ich mich an?")
    assert len(upstreams.rasa) == rasa_calls + 1  # the bot answers again


def test_webhook_guards(handover_client, zammad: FakeZammad):
    client = handover_client
    body, headers = signed_zammad(agent_reply(1, "x"))
    assert client.post("/webhooks/zammad?tenant=zammad-demo", content=body).status_code == 401
    assert webhook(client, agent_reply(1, "x"), secret="wrong").status_code == 403
    assert webhook(client, agent_reply(1, "x"), tenant="demo").status_code == 404  # no live handover there
    bad = client.post(
        "/webhooks/zammad?tenant=zammad-demo",
        content=b"[1]",
        headers=signed_zammad({})[1]
        | {"x-hub-signature": "sha1=" + hmac.new(SECRET.encode(), b"[1]", hashlib.sha1).hexdigest()},
    )
    assert bad.status_code == 400
    assert webhook(client, agent_reply(42, "to nobody"), delivery="d-9").json()["outcome"] == "unknown_ticket"


def test_counsellor_closes_the_ticket(handover_client, zammad: FakeZammad):
    client = handover_client
    chat(client, "Mensch bitte")
    chat(client, ACCEPT)
    assert webhook(client, agent_reply(1, "", state="closed")).json()["outcome"] == "closed"
    replies = client.get("/api/v1/chat/s1/replies", params={"tenant": "zammad-demo"}).json()
    assert replies["with_counsellor"] is False
    assert replies["messages"][-1]["text"] == texts.say("de", texts.HANDOVER_CLOSED)


def test_zammad_down_the_person_is_told_and_nothing_is_lost(handover_client, zammad: FakeZammad):
    client = handover_client
    chat(client, "Mensch bitte")
    zammad.down = True
    opened = chat(client, ACCEPT)
    assert "nicht erreichbar" in opened["messages"][0]["text"] and "☎" in opened["messages"][1]["text"]
    later = chat(client, "Meine Frage ist dringend")
    assert "nicht erreichbar" in later["messages"][0]["text"]
    zammad.down = False
    handover = client.app.state.lotse.handover
    client.portal.call(handover.retry_pending)
    (ticket,) = zammad.tickets.values()
    assert "Mensch bitte" in ticket["article"]["body"]
    assert [a["body"] for a in zammad.articles] == ["Meine Frage ist dringend"]
    assert client.portal.call(handover.store.pending) == []


def test_declined_or_outside_hours_the_person_can_leave_a_question(handover_client, zammad: FakeZammad):
    client = handover_client
    chat(client, "Mensch bitte")
    declined = chat(client, "/handover_decline")
    assert declined["messages"][0]["buttons"][0]["payload"] == "/handover_callback"
    asked = chat(client, "/handover_callback")
    assert asked["messages"][0]["text"] == texts.say("de", texts.ASK_CALLBACK_QUESTION)
    saved = chat(client, "Bitte rufen Sie mich wegen der Kita an")
    (ticket,) = zammad.tickets.values()
    assert saved["with_counsellor"] is False and ticket["title"].split()[2] in saved["messages"][0]["text"]
    assert "Rückmeldung erbeten" in ticket["article"]["body"]
    assert "Person: Bitte rufen Sie mich wegen der Kita an" in ticket["article"]["body"]


def test_counsellor_replies_reach_telegram(handover_client, upstreams: Upstreams, zammad: FakeZammad):
    client = handover_client
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}

    def update(update_id: int, text: str) -> None:
        client.post("/webhooks/telegram", json=telegram.update(update_id, text, chat_id=555), headers=headers)

    update(1, "Ich möchte einen Menschen")
    wait_until(lambda: any("handover_accept" in json.dumps(s) for s in upstreams.calls("sendMessage")))
    update(2, ACCEPT)
    wait_until(lambda: bool(zammad.tickets))
    webhook(client, agent_reply(1, "Guten Tag aus der Beratung"))
    assert any("Guten Tag aus der Beratung" in s["text"] for s in upstreams.calls("sendMessage"))


def test_whatsapp_replies_within_and_after_the_24_hour_window(
    handover_client, upstreams: Upstreams, zammad: FakeZammad, knowledge, monkeypatch
):
    client = handover_client
    tenant = knowledge.tenants["zammad-demo"]
    template = {"name": "counsellor_replied", "language": "de"}
    config = live_handover(whatsapp_template=template)
    monkeypatch.setitem(knowledge.tenants, "zammad-demo", tenant.model_copy(update={"live_handover": config}))
    graph = lambda: [json.loads(r.content) for r in upstreams.requests if r.url.host == "graph.facebook.com"]  # noqa: E731

    whatsapp.post(client, whatsapp.notification(whatsapp.text("Ich möchte einen Menschen", "wamid.a")))
    wait_until(lambda: any(ACCEPT in json.dumps(m) for m in graph()))
    whatsapp.post(client, whatsapp.notification(whatsapp.pressed(ACCEPT, message_id="wamid.b")))
    wait_until(lambda: bool(zammad.tickets))
    webhook(client, agent_reply(1, "Antwort innerhalb des Fensters"))
    assert any("Antwort innerhalb des Fensters" in json.dumps(m, ensure_ascii=False) for m in graph())

    handover = client.app.state.lotse.handover
    handover.now = lambda: datetime.now(UTC) + timedelta(hours=25)
    webhook(client, agent_reply(1, "Antwort nach einem Tag"), delivery="d-late")
    sent_template = graph()[-1]
    assert sent_template["type"] == "template" and sent_template["template"]["name"] == "counsellor_replied"
    assert "Antwort nach einem Tag" not in json.dumps(graph(), ensure_ascii=False)
    assert zammad.articles[-1]["internal"] is True and "counsellor_replied" in zammad.articles[-1]["body"]

    whatsapp.post(client, whatsapp.notification(whatsapp.text("Ich bin wieder da", "wamid.c")))
    wait_until(lambda: "Antwort nach einem Tag" in json.dumps(graph(), ensure_ascii=False))
    wait_until(lambda: zammad.articles[-1]["body"] == "Ich bin wieder da")


def test_whatsapp_window_closed_without_template_tells_the_counsellor(
    handover_client, upstreams: Upstreams, zammad: FakeZammad
):
    client = handover_client
    whatsapp.post(client, whatsapp.notification(whatsapp.text("Mensch bitte", "wamid.a")))
    wait_until(lambda: len(upstreams.sent) >= 2)
    whatsapp.post(client, whatsapp.notification(whatsapp.pressed(ACCEPT, message_id="wamid.b")))
    wait_until(lambda: bool(zammad.tickets))
    client.app.state.lotse.handover.now = lambda: datetime.now(UTC) + timedelta(hours=30)
    sent = len(upstreams.sent)
    webhook(client, agent_reply(1, "zu spät"))
    assert len(upstreams.sent) == sent
    assert zammad.articles[-1]["internal"] is True and "keine Vorlage" in zammad.articles[-1]["body"]


# --- shared state across replicas (real Redis) ------------------------------------------------------------------


@pytest.mark.anyio
async def test_widget_events_reach_a_stream_on_another_replica(redis_url):
    from api.routes.handover import _events

    class Replica:
        def __init__(self) -> None:
            self.handover = type("H", (), {"store": HandoverStore(RedisState(redis_url), 60)})()

    a, b = Replica(), Replica()
    sender = "web:zammad-demo:sse-1"
    await a.handover.store.add_to_inbox(sender, {"text": "before"})
    stream = _events(b, sender, 0)
    assert json.loads((await anext(stream)).split("data: ", 1)[1])["text"] == "before"
    assert await anext(stream) == ": connected\n\n"
    later = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)
    await a.handover.store.add_to_inbox(sender, {"text": "after"})
    event = await asyncio.wait_for(later, 5)
    assert event.startswith("id: 2\n") and '"after"' in event
    await stream.aclose()
    for replica in (a, b):
        await replica.handover.store.shared.close()


@pytest.mark.anyio
async def test_records_and_queues_survive_in_redis(redis_url):
    first = HandoverStore(RedisState(redis_url), 60)
    record = Record("zammad-demo", "wa:5f3a9c", "L-AAAAA", "ar", "counsellor", ticket="12", chat="49170")
    await first.save_record(record)
    await first.set_queue("wa:5f3a9c", [{"op": "append", "text": "x"}])
    await first.shared.close()
    second = HandoverStore(RedisState(redis_url), 60)  # a restarted or other replica
    assert await second.record("wa:5f3a9c") == record and record.channel == "whatsapp" and record.chat == "49170"
    assert await second.sender_for_ticket("zammad-demo", "12") == "wa:5f3a9c"
    assert "wa:5f3a9c" in await second.pending()
    assert await second.first_delivery("zammad", "x1") and not await second.first_delivery("zammad", "x1")
    await second.set_queue("wa:49170", [])
    await second.shared.close()


@pytest.mark.anyio
async def test_memory_store_numbers_inbox_messages():
    store = HandoverStore(MemoryState(), 60)
    ids = [(await store.add_to_inbox("web:t:s", {"text": str(i)}))["id"] for i in range(3)]
    assert ids == [1, 2, 3]


def test_a_tenant_file_with_bad_handover_settings_is_a_validation_error(tmp_path):
    from knowledge.tenants import load_tenants

    (tmp_path / "centre.yaml").write_text(
        "id: centre\nname: {de: Beratung}\nlive_handover:\n  adapter: zammad\n  url: http://zammad.example.org\n"
        "  token_env: ZAMMAD_TOKEN\n  webhook_secret_env: ZAMMAD_SECRET\n  group: Beratung\n",
        encoding="utf-8",
    )
    tenants, problems = load_tenants(tmp_path)
    assert tenants == {} and len(problems) == 1
    assert problems[0].severity == "error" and "live_handover.url" in problems[0].message
    assert "https://" in problems[0].message


@pytest.fixture
def two_replicas(knowledge, upstreams: Upstreams, zammad: FakeZammad, redis_url, tmp_path, monkeypatch):
    """Two API processes' worth of apps, each served by its own uvicorn on a free port, sharing one Redis."""
    import threading

    import uvicorn

    from api.main import create_app
    from tests.fakes import api_settings
    from tests.stack import free_port

    install_handover_tenant(knowledge, monkeypatch)
    rasa = upstreams.handler
    upstreams.rasa_messages = [{"text": "☎ Beratung …", "locale": "de", "handover": True, "kind": "handover"}]

    def handler(request: httpx.Request) -> httpx.Response:
        return zammad.handler(request) if request.url.host == "zammad.test" else rasa(request)

    servers, threads, urls = [], [], []
    for name in ("a", "b"):
        settings = api_settings(tmp_path / name, redis_url=redis_url, handover_retry_seconds=3600)
        app = create_app(settings, knowledge, transport=httpx.MockTransport(handler))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        urls.append(f"http://127.0.0.1:{port}")
    wait_until(lambda: all(s.started for s in servers), timeout=30)
    yield urls
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(timeout=15)
    assert not any(thread.is_alive() for thread in threads), "a replica did not stop"


def test_a_reply_reaches_the_widget_stream_on_the_other_replica(two_replicas, zammad: FakeZammad):
    """The person chats with replica A, the webhook reaches replica A, the widget's event stream is on B."""
    replica_a, replica_b = two_replicas
    session = "replica-test"
    with httpx.Client(timeout=30) as http:
        for message in ("Mensch bitte", ACCEPT):
            body = {"session_id": session, "message": message, "tenant": "zammad-demo"}
            assert http.post(f"{replica_a}/api/v1/chat", json=body).status_code == 200
        (ticket_id,) = zammad.tickets
        events = f"{replica_b}/api/v1/chat/{session}/events?tenant=zammad-demo"
        with http.stream("GET", events) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = (line for line in stream.iter_lines() if line)  # events end with a blank line
            assert next(lines) == ": connected"  # subscribed on B before the reply exists
            body, headers = signed_zammad(agent_reply(ticket_id, "Antwort über Replik A"), delivery="r-1")
            assert (
                http.post(f"{replica_a}/webhooks/zammad?tenant=zammad-demo", content=body, headers=headers).json()[
                    "outcome"
                ]
                == "delivered"
            )
            received = [next(lines) for _ in range(3)]
        assert received[0] == "id: 1" and received[1] == "event: message"
        assert json.loads(received[2].removeprefix("data: "))["text"] == "**Beratung:** Antwort über Replik A"
        polled = http.get(f"{replica_b}/api/v1/chat/{session}/replies", params={"tenant": "zammad-demo"}).json()
        assert polled["with_counsellor"] is True and len(polled["messages"]) == 1
