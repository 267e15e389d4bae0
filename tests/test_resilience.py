"""When the dialogue service fails: the circuit breaker, and what the knowledge-only path still understands."""

from __future__ import annotations

import httpx
import pytest

import locales
from api.conversation import Conversation, Turn
from api.rasa_client import CircuitBreaker
from api.shared import MemoryState
from bot import texts
from bot.typed_intents import typed_intent
from knowledge.tenants import Tenant
from tests.fakes import Upstreams


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_repeated_failures_and_tries_once_after_the_period():
    clock = Clock()
    breaker = CircuitBreaker(failures=3, open_seconds=30, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failed()
    assert breaker.allow() and not breaker.open
    breaker.failed()
    assert breaker.open and not breaker.allow()
    clock.now = 29.9
    assert not breaker.allow()
    clock.now = 30.0
    assert breaker.allow()  # one trial turn ...
    assert not breaker.allow()  # ... and only one while it runs
    breaker.failed()
    assert not breaker.allow()  # open for another period
    clock.now = 60.0
    assert breaker.allow()
    breaker.succeeded()
    assert not breaker.open and breaker.allow() and breaker.allow()


def test_a_success_resets_the_count():
    breaker = CircuitBreaker(failures=2, open_seconds=30, clock=Clock())
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert not breaker.open


def chat(client, message: str, locale: str = "de", session: str = "s1") -> dict:
    response = client.post("/api/v1/chat", json={"session_id": session, "message": message, "locale": locale})
    assert response.status_code == 200, response.text
    return response.json()


def test_after_repeated_timeouts_turns_skip_rasa_until_it_recovers(app_clients, knowledge, upstreams: Upstreams):
    def hang(body: dict) -> httpx.Response:
        raise httpx.ReadTimeout("Rasa did not answer in time")

    upstreams.rasa_reply = hang
    client = app_clients(knowledge)
    clock = Clock()
    client.app.state.lotse.rasa.breaker = CircuitBreaker(failures=2, open_seconds=30, clock=clock)
    for _ in range(4):
        assert chat(client, "Wie melde ich meine Wohnung an?")["degraded"] is True
    assert len(upstreams.rasa) == 2  # the last two turns did not wait for Rasa at all

    upstreams.rasa_reply = None  # Rasa is back
    assert chat(client, "Hallo")["degraded"] is True and len(upstreams.rasa) == 2  # still within the period
    clock.now = 30
    assert chat(client, "Hallo")["degraded"] is False  # the trial turn closes the breaker
    assert chat(client, "Hallo")["degraded"] is False and len(upstreams.rasa) == 4


def test_a_turn_rasa_answers_with_nothing_is_answered_from_knowledge(app_clients, knowledge, upstreams: Upstreams):
    """While the action server is down or restarting, Rasa takes the turn and returns no message: the person
    still gets an answer, never an empty reply."""
    upstreams.rasa_reply = lambda body: httpx.Response(200, json=[])
    data = chat(app_clients(knowledge), "Wie melde ich meine Wohnung an?")
    assert data["degraded"] is True and len(upstreams.rasa) == 1
    assert data["messages"][0]["text"] == texts.say("de", texts.LIMITED_SERVICE)
    assert any(m.get("sources") for m in data["messages"][1:])  # the answer from the knowledge base, with sources


@pytest.mark.parametrize("locale", locales.SUPPORTED)
def test_without_rasa_a_greeting_is_answered_with_the_first_screen(app_clients, knowledge, upstreams, locale):
    upstreams.rasa_down = True
    greeting = {"de": "Hallo!", "en": "hello", "ar": "مرحبا", "uk": "привіт", "ru": "привет", "tr": "merhaba",
                "fa": "سلام", "ro": "bună ziua", "bg": "здравейте"}[locale]  # fmt: skip
    assert typed_intent(greeting) == "greet"
    data = chat(app_clients(knowledge), greeting, locale)
    assert data["degraded"] is True
    assert data["messages"][1]["text"] == texts.say(locale, texts.WELCOME)
    assert data["messages"][1]["kind"] == "menu"


@pytest.mark.parametrize("locale", locales.SUPPORTED)
def test_without_rasa_asking_for_a_person_shows_the_contacts(app_clients, knowledge, upstreams, locale):
    upstreams.rasa_down = True
    data = chat(app_clients(knowledge), texts.say(locale, texts.TALK_TO_A_PERSON), locale)
    assert data["degraded"] is True and data["handover"] is True
    assert texts.say(locale, texts.TALK_TO_A_PERSON_HERE) in data["messages"][1]["text"]


def test_without_rasa_a_typed_request_for_a_person_is_understood(app_clients, knowledge, upstreams):
    upstreams.rasa_down = True
    data = chat(app_clients(knowledge), "Ich will mit einer echten Person reden!")
    assert data["handover"] is True and data["messages"][1]["text"] == texts.contacts(knowledge.tenants["demo"], "de")


class RecordingRasa:
    """Rasa's client as the conversation sees it: records what it was sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, sender: str, text: str, metadata: object) -> list[dict]:
        self.sent.append(text)
        return [{"text": "ok", "locale": "de", "kind": "notice"}]


@pytest.mark.anyio
async def test_a_turn_still_reaches_rasa_when_the_turn_before_holds_the_lock_too_long(caplog):
    """The per-sender turn lock is best effort: when the turn before hangs past the longest a turn may take,
    the next one goes to Rasa anyway (answering late beats not answering), and the log says so."""
    shared, rasa = MemoryState(), RecordingRasa()
    # No knowledge base, so nothing to embed.
    conversation = Conversation(rasa, None, shared=shared, turn_seconds=0.2, embeds_message=False)  # type: ignore[arg-type]
    turn = Turn(channel="web", sender_id="web:" + "0" * 32, text="Hallo", tenant=Tenant(id="demo", name={"de": "D"}))
    with caplog.at_level("WARNING", logger="api"):
        async with shared.lock(f"turn:{turn.sender_id}", hold=5, wait=1) as held:  # the hanging turn before
            assert held
            result = await conversation.ask_bot(turn, "de", "explicit")
    assert rasa.sent == ["Hallo"] and result.messages[0]["text"] == "ok"
    assert "turn lock not acquired in time" in caplog.text
