"""The custom actions one by one, with a fake tracker and Rasa SDK's own dispatcher (as RasaHQ/rasa-demo
tests its actions): real knowledge index, a feedback store in a temporary folder, no Rasa server."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import texts
from bot.actions.answers import ActionAnswerQuestion, ActionShowEntry
from bot.actions.checks import ActionKitaResult, ActionRecognitionResult, ValidateKitaForm
from bot.actions.conversation import ActionChangeLanguage, ActionHandover, ActionStoreFeedback
from bot.actions.session_slots import ValidateSlotMappings
from bot.context import context_for
from bot.messages import intent_payload
from bot.replies import URGENT_HELP_TOPICS, compose
from knowledge.search import Hit, SearchResult
from tests.fakes import run_action, tracker

pytestmark = pytest.mark.usefixtures("services")


def payloads(message: dict) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


def test_a_question_gets_the_entry_its_sources_and_the_feedback_prompt():
    messages, events = run_action(ActionAnswerQuestion(), tracker("Wie melde ich meine neue Wohnung an?"))
    answer, prompt = messages
    assert answer["kind"] == "answer" and answer["entry_id"] == "arrival.registration" and answer["locale"] == "de"
    assert answer["sources"][0]["url"].startswith("https://") and answer["checked"]
    assert all(p.startswith("/ask_entry") for p in payloads(answer))  # related topics; no guided check here
    assert prompt["kind"] == "feedback" and payloads(prompt) == ["/feedback_helpful", "/feedback_unhelpful"]
    assert {e["name"]: e["value"] for e in events} == {
        "last_entry_id": "arrival.registration",
        "last_question": "Wie melde ich meine neue Wohnung an?",
    }


def test_a_question_already_answered_in_this_turn_is_not_answered_again():
    """Rasa's core fallback is this action: with no rule for a turn, it would be predicted again and again."""
    asked = tracker("Wie melde ich meine neue Wohnung an?", asked_before="Was kostet ein Kita-Platz?")
    answered = Tracker.from_dict(
        asked.current_state() | {"events": [*asked.events, {"event": "action", "name": "action_answer_question"}]}
    )
    assert run_action(ActionAnswerQuestion(), answered) == (
        [],
        [{"event": "followup", "timestamp": None, "name": "action_listen"}],
    )
    messages, _ = run_action(ActionAnswerQuestion(), asked)  # the same turn before the first answer
    assert messages[0]["entry_id"] == "arrival.registration"


def test_an_unanswerable_question_is_honest_and_recorded(services):
    messages, events = run_action(ActionAnswerQuestion(), tracker("Wer gewinnt die Fußball-WM? Ruf 0170 1234567"))
    (message,) = messages
    assert message["kind"] == "no_answer" and message["handover"] and "beratung@example.org" in message["text"]
    assert [e["value"] for e in events if e["name"] == "last_entry_id"] == [None]
    recorded = [g.question for g in services.feedback.unanswered()]
    assert any("Fußball" in q and "1234567" not in q for q in recorded)


def test_a_declined_question_near_an_entry_offers_it_as_a_close_topic(services, monkeypatch):
    """Declined (the threshold is out of reach here), but the search came near: the no-answer, then the closest
    topics as buttons, said not to be an answer. Far questions get no such offer (the test above)."""
    searcher = services.knowledge.searcher
    monkeypatch.setattr(searcher, "params", replace(searcher.params, answer_threshold=1.01, close_threshold=0.0))
    messages, events = run_action(ActionAnswerQuestion(), tracker("Wie melde ich meine neue Wohnung an?"))
    declined, offered = messages
    assert declined["kind"] == "no_answer" and declined["handover"]
    assert offered["kind"] == "close_topics" and offered["text"] == texts.say("de", texts.CLOSE_TOPICS)
    assert payloads(offered)[0] == intent_payload("ask_entry", entry_id="arrival.registration")
    assert len(payloads(offered)) == 3 and [e["value"] for e in events if e["name"] == "last_entry_id"] == [None]
    assert any("Wohnung" in g.question for g in services.feedback.unanswered())  # still recorded as unanswered
    assert "urgent_help" not in [m["kind"] for m in messages]


def test_a_declined_question_closest_to_violence_gets_the_emergency_numbers_at_once(services, monkeypatch):
    """Declined, but closest to the violence entry: its summary (110, 112, the helpline) with its sources and check
    date comes first, then the decline and the close topics."""
    searcher = services.knowledge.searcher
    monkeypatch.setattr(searcher, "params", replace(searcher.params, answer_threshold=1.01, close_threshold=0.0))
    messages, _ = run_action(ActionAnswerQuestion(), tracker("Mein Mann schlägt mich und die Kinder, wohin kann ich?"))
    assert [m["kind"] for m in messages] == ["urgent_help", "no_answer", "close_topics"]
    urgent = messages[0]
    entry, _ = searcher.version("counselling.violence", "de")
    assert urgent["entry_id"] == "counselling.violence" and entry.summary in urgent["text"] and "110" in urgent["text"]
    assert urgent["text"].startswith("**Wenn Sie oder jemand anderes in Gefahr ist")
    assert urgent["sources"][0]["url"].startswith("https://") and urgent["checked"] == entry.checked.isoformat()


@pytest.mark.parametrize("topic", URGENT_HELP_TOPICS)
@pytest.mark.parametrize("locale", ["ar", "uk"])
def test_the_urgent_help_is_the_topics_own_entry_in_the_users_language(services, topic, locale):
    """Whatever entry of the topic was closest (a local one may lack the emergency numbers), the message is the
    topic's own entry in the user's language, marked as a machine translation where it is one."""
    searcher = services.knowledge.searcher
    entry, fallback = searcher.version(topic, locale)
    assert not fallback
    other = searcher.version("arrival.registration", locale)[0]
    local = entry.model_copy(update={"id": f"{topic}.musterstadt", "summary": "Unser Büro in der Hauptstraße 1."})
    hits = [Hit(local, 0.3, 0.8, 0.1, False), Hit(other, 0.2, 0.7, 0.1, False)]
    result = SearchResult("…", locale, hits, answerable=False, ambiguous=False)
    context = context_for({}, {"metadata": {"locale": locale}}, services)
    urgent, declined, offered = compose(replace(result, close=True), context)
    assert (urgent["kind"], declined["kind"], offered["kind"]) == ("urgent_help", "no_answer", "close_topics")
    assert urgent["locale"] == locale and urgent["entry_id"] == topic and entry.summary in urgent["text"]
    assert local.summary not in urgent["text"]
    assert urgent["text"].startswith(f"**{texts.say(locale, texts.IF_IN_DANGER)}**")
    assert (texts.say(locale, texts.MACHINE_TRANSLATED) in urgent["text"]) == (entry.translation == "machine")
    assert [m["kind"] for m in compose(result, context)] == ["no_answer"]  # not near enough: no offer, no numbers
    registration_first = replace(result, hits=result.hits[::-1], close=True)
    assert "urgent_help" not in [m["kind"] for m in compose(registration_first, context)]


def test_a_short_follow_up_is_read_after_the_question_just_before_it():
    """Alone, "und wie lange bekommt man das?" finds no confident answer; after a question about Elterngeld it
    is about Elterngeld. Two hours later, after a message the bot did not search, or after a question in another
    language, it is read alone."""
    follow_up, before = "und wie lange bekommt man das?", "Wo beantrage ich Elterngeld?"
    messages, events = run_action(ActionAnswerQuestion(), tracker(follow_up, asked_before=before))
    assert messages[0]["kind"] == "answer" and messages[0]["entry_id"] == "family.parental-allowance"
    assert {e["name"]: e["value"] for e in events}["last_question"] == follow_up
    switched = tracker(follow_up, asked_before=before)  # the same, but the earlier question was in English
    switched.events[0]["metadata"] = {"locale": "en"}
    for later in (
        tracker(follow_up, asked_before=before, seconds_between=2 * 3600),
        tracker(follow_up, asked_before=before, slots={"last_question": "Wie melde ich mich an?"}),
        switched,
    ):
        messages, _ = run_action(ActionAnswerQuestion(), later)
        assert messages[0].get("entry_id") != "family.parental-allowance"


def test_a_payload_is_not_searched_or_recorded(services):
    messages, events = run_action(ActionAnswerQuestion(), tracker("/greet"))
    assert [m["kind"] for m in messages] == ["no_answer"] and events == []
    assert services.feedback.unanswered() == []


@pytest.mark.parametrize(
    "entry_id, check",
    [("recognition.authority", "/start_recognition_check"), ("kita.costs", "/start_kita_check"), ("work.permit", None)],
)
def test_a_topic_button_shows_the_entry_and_offers_its_guided_check(entry_id, check):
    messages, events = run_action(ActionShowEntry(), tracker(intent="ask_entry", entities={"entry_id": entry_id}))
    answer = messages[0]
    assert answer["entry_id"] == entry_id
    checks = [p for p in payloads(answer) if p.startswith("/start_")]
    assert checks == ([check] if check else []) and (not check or payloads(answer)[0] == check)
    assert {e["name"]: e["value"] for e in events} == {"entry_id": None, "last_entry_id": entry_id}


def test_an_unknown_topic_button_gets_the_no_answer():
    messages, events = run_action(ActionShowEntry(), tracker(intent="ask_entry", entities={"entry_id": "no.such"}))
    assert [m["kind"] for m in messages] == ["no_answer"] and [e["name"] for e in events] == ["entry_id"]


def test_the_user_language_comes_from_the_session_and_the_metadata():
    arabic = tracker(
        "Wie melde ich meine neue Wohnung an?", slots={"locale": "ar"}, metadata={"locale_source": "default"}
    )
    messages, _ = run_action(ActionAnswerQuestion(), arabic)
    assert {m["locale"] for m in messages} == {"ar"}  # the session's language wins over a default


def test_change_language_by_name_and_by_button():
    messages, events = run_action(ActionChangeLanguage(), tracker("Kannst du bitte auf Arabisch schreiben?"))
    assert messages[0]["locale"] == "ar" and {e["name"]: e["value"] for e in events}["locale"] == "ar"
    messages, _ = run_action(ActionChangeLanguage(), tracker("/change_language", entities={"language": "fa"}))
    assert messages[0]["locale"] == "fa"
    messages, _ = run_action(ActionChangeLanguage(), tracker("andere Sprache"))
    assert messages[0]["text"] == texts.say("de", texts.WHICH_LANGUAGE) and len(messages[0]["buttons"]) == 9


def test_handover_shows_the_tenants_contacts():
    (message,) = run_action(ActionHandover(), tracker("Ich möchte mit einem Menschen sprechen"))[0]
    assert message["handover"] and message["kind"] == "handover" and "beratung@example.org" in message["text"]


@pytest.mark.parametrize("intent, helpful", [("feedback_helpful", True), ("feedback_unhelpful", False)])
def test_feedback_is_stored_without_user_identifiers(services, intent, helpful):
    slots = {"last_entry_id": "kita.costs", "last_question": "Was kostet die Kita?"}
    messages, events = run_action(ActionStoreFeedback(), tracker(f"/{intent}", intent=intent, slots=slots))
    assert messages[0]["text"] == texts.say("de", texts.FEEDBACK_THANKS if helpful else texts.FEEDBACK_SORRY)
    assert ("/ask_human" in payloads(messages[0])) is not helpful
    assert events[0]["name"] == "last_entry_id" and events[0]["value"] is None
    stored = services.database.fetch("SELECT entry_id, locale, tenant, helpful FROM feedback")
    assert stored == [("kita.costs", "de", "demo", int(helpful))]


def test_database_writes_stay_off_the_event_loop(services, monkeypatch):
    """A slow database must not stall the action server's other conversations: feedback and unanswered
    questions are written from a worker thread, never from the thread that runs the event loop."""
    writers: dict[str, bool] = {}
    store = services.feedback

    def recording(method: str):
        original = getattr(store, method)

        def write(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                writers[method] = True  # called on the loop's thread
            except RuntimeError:
                writers[method] = False
            return original(*args, **kwargs)

        return write

    for method in ("add_feedback", "add_unanswered"):
        monkeypatch.setattr(store, method, recording(method))
    slots = {"last_entry_id": "kita.costs", "last_question": "Was kostet die Kita?"}
    run_action(ActionStoreFeedback(), tracker("/feedback_helpful", intent="feedback_helpful", slots=slots))
    run_action(ActionAnswerQuestion(), tracker("Wer gewinnt die Fußball-WM?"))
    assert writers == {"add_feedback": False, "add_unanswered": False}


def test_kita_check_outcome_with_the_tenants_local_hint():
    slots = {"child_age_months": 24.0, "place_promised": False}
    (message,), events = run_action(ActionKitaResult(), tracker("/deny", intent="deny", slots=slots))
    assert any("sgb_8/__24" in s["url"] for s in message["sources"])
    assert any("kita.find-apply" in p for p in payloads(message)) and "kita.example.org" in message["text"]
    assert {e["name"] for e in events} == {"child_age_months", "place_promised"}


def test_recognition_check_outcome():
    slots = {"profession": "nurse", "federal_state": "DE-BY", "lives_in_germany": True}
    (message,), _ = run_action(ActionRecognitionResult(), tracker("/affirm", intent="affirm", slots=slots))
    assert "Bayern" in message["text"] and "recognition.health-professions" in payloads(message)[0]


def test_an_age_that_is_not_understood_is_asked_again():
    dispatcher = CollectingDispatcher()
    result = ValidateKitaForm().validate_child_age_months("keine Ahnung", dispatcher, tracker("keine Ahnung"), {})
    assert result == {"child_age_months": None}
    assert dispatcher.messages[0]["custom"]["text"] == texts.say("de", texts.AGE_NOT_UNDERSTOOD)


def test_session_slots_follow_the_metadata_and_ignore_unknown_tenants():
    action, dispatcher = ValidateSlotMappings(), CollectingDispatcher()
    detected = tracker("...", slots={"locale": "uk"}, metadata={"locale": "fa", "locale_source": "detected"})
    assert asyncio.run(action.extract_locale(dispatcher, detected, {})) == {"locale": "fa"}
    hinted = tracker("...", slots={"locale": "uk"}, metadata={"locale": "de", "locale_source": "channel"})
    assert asyncio.run(action.extract_locale(dispatcher, hinted, {})) == {"locale": "uk"}
    assert asyncio.run(action.extract_tenant(dispatcher, tracker("..."), {})) == {"tenant": "demo"}
    assert asyncio.run(action.extract_tenant(dispatcher, tracker("...", metadata={"tenant": "gone"}), {})) == {}


def test_an_unknown_session_tenant_falls_back_to_the_default(services):
    context = context_for({"tenant": "removed-since"}, {"metadata": {}}, services)
    assert context.tenant is not None and context.tenant.id == "demo" and context.locale == "de"


def test_the_action_server_runs_actions_and_renders_responses(knowledge, tmp_path):
    from bot.server import ActionServerSettings, create_app

    settings = ActionServerSettings(data_dir=tmp_path, index_watch_seconds=0, log_json=False, actions_token=None)
    with TestClient(create_app(settings, knowledge)) as client:
        tracked = {"slots": {"locale": "ar"}, "latest_message": {"metadata": {"tenant": "demo"}}}
        bot = client.post("/nlg", json={"response": "utter_iamabot", "tracker": tracked}).json()["custom"]
        assert bot["locale"] == "ar" and "/ask_human" in payloads(bot)
        call = {
            "next_action": "action_handover",
            "sender_id": "x",
            "tracker": {"sender_id": "x", "slots": {}, "latest_message": {"text": "hi"}, "events": []},
            "domain": {},
            "version": "3.6.21",
        }
        response = client.post("/webhook", json=call).json()
        assert response["responses"][0]["custom"]["handover"] is True
        assert client.post("/webhook", json={**call, "next_action": "action_nope"}).status_code == 404


def test_the_action_server_answers_only_with_the_shared_token(knowledge, tmp_path):
    """With LOTSE_ACTIONS_TOKEN set, only Rasa (which sends it) may run actions or read the bot's texts."""
    from bot.server import ActionServerSettings, create_app

    token = "t" * 40
    settings = ActionServerSettings(data_dir=tmp_path, index_watch_seconds=0, log_json=False, actions_token=token)
    nlg = {"response": "utter_iamabot", "tracker": {"slots": {"locale": "de"}}}
    call = {"next_action": "action_handover", "sender_id": "x", "tracker": {"sender_id": "x"}, "domain": {}}
    with TestClient(create_app(settings, knowledge)) as client:
        for wrong in ({}, {"authorization": "Bearer " + "u" * 40}, {"authorization": token}):
            assert client.post("/nlg", json=nlg, headers=wrong).status_code == 401
            assert client.post("/webhook", json=call, headers=wrong).status_code == 401
        right = {"authorization": f"Bearer {token}"}
        assert client.post("/nlg", json=nlg, headers=right).status_code == 200
        assert client.post("/webhook", json={**call, "next_action": "action_nope"}, headers=right).status_code == 404
        assert client.get("/health").status_code == 200  # probes need no token
    with pytest.raises(ValidationError, match="at least 32 characters"):
        ActionServerSettings(actions_token="short")


class CountingEmbedder:
    """The real embedder, counting the questions it embeds."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.queries = inner, inner.model_id, inner.dim, 0

    def encode_queries(self, texts):
        self.queries += len(texts)
        return self.inner.encode_queries(texts)


def test_the_question_is_embedded_once_per_turn(knowledge, monkeypatch):
    """Rasa's featurizer passes the message's vector on: the action searches with it instead of embedding the
    question again; a vector of another model, or none, and the action embeds the question itself."""
    from knowledge.embedding import QUERY_VECTOR, pack_query_vector

    counting = CountingEmbedder(knowledge.embedder)
    monkeypatch.setattr(knowledge.searcher, "embedder", counting)
    monkeypatch.setattr(knowledge, "_embedder", counting)
    question = "Wie melde ich meine neue Wohnung an?"
    vector = knowledge.embedder.inner.encode_queries([question])[0]

    def answer(packed) -> str:
        tracked = tracker(question)
        tracked.latest_message[QUERY_VECTOR] = packed
        messages, _ = run_action(ActionAnswerQuestion(), tracked)
        return messages[0]["entry_id"]

    assert answer(pack_query_vector(counting.model_id, vector)) == "arrival.registration" and counting.queries == 0
    assert answer(pack_query_vector("another-model", vector)) == "arrival.registration" and counting.queries == 1
    assert answer({"model": counting.model_id, "vector": "not base64!"}) == "arrival.registration"
    assert counting.queries == 2
