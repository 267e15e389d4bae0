"""End to end through POST /api/v1/chat with the real Rasa server, action server and API."""

from __future__ import annotations

import json
import re
import sqlite3

import httpx
import pytest

from knowledge.embedding import QUERY_VECTOR, pack_query_vector
from tests.stack import Stack, start_stack

pytestmark = pytest.mark.e2e
ARABIC = re.compile(r"[\u0600-\u06ff]")


def say(stack: Stack, session: str, message: str, locale: str | None = None) -> dict:
    body = {"session_id": session, "message": message}
    if locale:
        body["locale"] = locale
    response = httpx.post(f"{stack.api_url}/api/v1/chat", json=body, timeout=60)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["degraded"] is False, "Rasa should be up"
    return data


def answers(data: dict) -> list[dict]:
    """The messages that answer from an entry (with its sources), not asking back or declining."""
    return [m for m in data["messages"] if m["entry_id"] and m["sources"]]


def answer_of(data: dict) -> dict:
    return next(iter(answers(data)))


def test_german_question_gets_a_sourced_german_answer(stack):
    data = say(stack, "e2e-de", "Wie melde ich meine neue Wohnung an?", "de")
    answer = answer_of(data)
    assert data["locale"] == "de" and answer["entry_id"] == "arrival.registration"
    assert "Anmeldung" in answer["text"] and answer["sources"][0]["url"].startswith("https://")
    assert any(b["payload"].startswith("/ask_entry") for b in answer["buttons"])
    assert any(b["payload"] == "/feedback_helpful" for m in data["messages"] for b in m["buttons"])


def test_a_follow_up_is_read_after_the_question_before_it(stack):
    """Through Rasa: the tracker's events carry the earlier question (knowledge/follow_up.py)."""
    assert answer_of(say(stack, "e2e-follow", "Wo beantrage ich Elterngeld?", "de"))["entry_id"] == (
        "family.parental-allowance"
    )
    data = say(stack, "e2e-follow", "und wie lange bekommt man das?", "de")
    assert answer_of(data)["entry_id"] == "family.parental-allowance"


def test_arabic_question_without_locale_is_answered_in_arabic(stack):
    data = say(stack, "e2e-ar", "كيف أسجل عنوان سكني الجديد؟")
    answer = answer_of(data)
    assert data["locale"] == "ar" and answer["entry_id"] == "arrival.registration"
    assert ARABIC.search(answer["text"])


def test_arabic_greeting_is_answered_in_arabic(stack):
    data = say(stack, "e2e-greet", "مرحبا", "ar")
    assert data["locale"] == "ar" and ARABIC.search(data["messages"][0]["text"])


def test_language_switch_mid_conversation(stack):
    say(stack, "e2e-switch", "Hallo", "de")
    data = say(stack, "e2e-switch", "Kannst du bitte auf Arabisch schreiben?", "de")
    assert data["locale"] == "ar" and ARABIC.search(data["messages"][0]["text"])
    # "الروضة" (kindergarten): round 17 declines the shorter "كم تكلفة الحضانة؟" ("الحضانة" is also custody),
    # a false abstention recorded in docs/benchmarks.md; this test is about the switch of language.
    follow_up = say(stack, "e2e-switch", "كم تكلفة الروضة؟", "ar")
    assert answer_of(follow_up)["entry_id"].startswith("kita.")


def test_topic_button_then_feedback_is_stored_without_user_identifiers(stack):
    shown = say(stack, "e2e-feedback", '/ask_entry{"entry_id":"kita.costs"}', "de")
    assert answer_of(shown)["entry_id"] == "kita.costs"
    data = say(stack, "e2e-feedback", "/feedback_unhelpful", "de")
    assert any(b["payload"] == "/ask_human" for m in data["messages"] for b in m["buttons"])
    with sqlite3.connect(stack.workdir / "data" / "lotse.sqlite3") as db:
        rows = db.execute("SELECT entry_id, locale, tenant, helpful FROM feedback").fetchall()
        columns = [c[1] for c in db.execute("PRAGMA table_info(feedback)")]
    assert ("kita.costs", "de", "demo", 0) in rows
    assert not {"session_id", "sender", "user"} & set(columns)


def test_handover_to_a_person(stack):
    data = say(stack, "e2e-human", "Ich möchte mit einem Menschen sprechen", "de")
    assert data["handover"] is True
    assert "beratung@example.org" in data["messages"][0]["text"]


def test_unanswerable_question_is_honest_and_recorded(stack):
    data = say(stack, "e2e-oos", "Wie hoch ist die Hundesteuer in Hamburg? Ruf mich an: 0170 1234567", "de")
    assert data["handover"] is True and not any(m["entry_id"] for m in data["messages"])
    with sqlite3.connect(stack.workdir / "data" / "lotse.sqlite3") as db:
        questions = [r[0] for r in db.execute("SELECT question FROM unanswered")]
    assert any("Hundesteuer" in q and "1234567" not in q for q in questions)


def test_close_candidates_are_offered_as_choices(stack):
    """When two entries fit almost equally, the bot asks back with the candidates as buttons."""
    data = say(stack, "e2e-clarify", "Was kostet ein Kita-Platz?", "de")
    message = data["messages"][0]
    if message["entry_id"]:  # the search was sure: a direct answer is also right
        assert message["entry_id"].startswith("kita.")
    else:
        payloads = [b["payload"] for b in message["buttons"]]
        assert any("kita.costs" in p for p in payloads) and "/ask_human" in payloads


def test_guided_recognition_check(stack):
    first = say(stack, "e2e-recognition", "Kannst du prüfen, ob ich für meinen Beruf eine Anerkennung brauche?", "de")
    assert first["messages"][0]["text"]  # asks for the profession
    say(stack, "e2e-recognition", "Krankenschwester", "de")
    say(stack, "e2e-recognition", "Bayern", "de")
    result = say(stack, "e2e-recognition", "/affirm", "de")
    outcome = result["messages"][-1]
    assert any(s["url"].startswith("https://www.anerkennung-in-deutschland.de") for s in outcome["sources"])
    assert any("recognition.health-professions" in b["payload"] for b in outcome["buttons"])


def test_guided_kita_check(stack):
    say(stack, "e2e-kita", "Mein Sohn ist 2 Jahre alt. Kannst du prüfen, ob er einen Kita-Platz bekommt?", "de")
    result = say(stack, "e2e-kita", "/deny", "de")
    outcome = result["messages"][-1]
    assert any("sgb_8/__24" in s["url"] for s in outcome["sources"])
    assert any("kita.find-apply" in b["payload"] for b in outcome["buttons"])
    assert "kita.example.org" in outcome["text"]  # the demo tenant's local hint


def test_conversation_survives_a_rasa_restart(stack):
    """The session's language lives in Rasa's SQL tracker store, not in memory."""
    say(stack, "e2e-restart", "Hallo", "de")
    assert say(stack, "e2e-restart", "Bitte schreib auf Ukrainisch", "de")["locale"] == "uk"
    stack.restart("rasa")
    data = say(stack, "e2e-restart", "danke")  # too short to detect a language: the session decides
    assert data["locale"] == "uk"


def test_the_tracker_store_holds_a_pseudonym_the_cleaned_text_and_the_message_vector(stack):
    """What Rasa keeps of a turn: the sender under its pseudonym only, the message without bidi overrides or C1
    controls, and the message's vector, which the action searched with instead of embedding again: once, in the
    parse data, not also in the metadata the API sent it in (nor in the session's start, which keeps that)."""
    session = "e2e-tracker-7f3a"
    data = say(stack, session, "Wie melde ich \u202emeine\u202c Wohnung\x85 an?", "de")
    assert answer_of(data)["entry_id"] == "arrival.registration"
    with sqlite3.connect(stack.workdir / "tracker.sqlite3") as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
        events = db.execute("SELECT sender_id, type_name, data FROM events").fetchall()
    (user_event,) = [json.loads(d) for _, kind, d in events if kind == "user" and "meine Wohnung" in d]
    assert not any(session in sender for sender in senders)
    assert all(re.fullmatch(r"web:[0-9a-f]{32}", sender) for sender in senders), senders
    assert user_event["text"] == "Wie melde ich meine Wohnung an?"
    assert QUERY_VECTOR in user_event["parse_data"] and QUERY_VECTOR not in user_event["metadata"]
    sender = next(s for s, kind, d in events if kind == "user" and "meine Wohnung" in d)
    assert sum(d.count(f'"{QUERY_VECTOR}"') for s, _, d in events if s == sender) == 1


def test_without_rasa_the_knowledge_search_still_answers(tmp_path):
    degraded = start_stack(tmp_path, with_rasa=False)
    try:
        response = httpx.post(
            f"{degraded.api_url}/api/v1/chat",
            timeout=60,
            json={"session_id": "x", "message": "Wie melde ich meine Wohnung an?", "locale": "de"},
        )
        data = response.json()
        assert response.status_code == 200 and data["degraded"] is True
        assert any(m["entry_id"] == "arrival.registration" for m in data["messages"])
        assert httpx.get(f"{degraded.api_url}/readyz").json()["status"] == "degraded"
    finally:
        degraded.stop_all()


def test_each_turn_is_counted_by_its_outcome_without_identifiers(stack):
    """The real dialogue's message kinds become the dashboard's outcomes (api/usage.py)."""
    session = "e2e-counts"
    turns = [
        ('/ask_entry{"entry_id":"kita.costs"}', "answered"),
        ("Wie hoch ist die Hundesteuer in Hamburg?", "declined"),
        ("Ich möchte mit einem Menschen sprechen", "handed_over"),
    ]
    with sqlite3.connect(stack.workdir / "data" / "lotse.sqlite3") as db:
        before = dict(db.execute("SELECT outcome, SUM(turns) FROM turn_counts WHERE tenant = '*' GROUP BY outcome"))
    for message, _ in turns:
        say(stack, session, message, "de")
    with sqlite3.connect(stack.workdir / "data" / "lotse.sqlite3") as db:
        after = dict(db.execute("SELECT outcome, SUM(turns) FROM turn_counts WHERE tenant = '*' GROUP BY outcome"))
        topics = {r[0] for r in db.execute("SELECT topic FROM turn_counts WHERE tenant = 'demo'")}
        columns = {c[1] for c in db.execute("PRAGMA table_info(turn_counts)")}
    for _, outcome in turns:
        assert after.get(outcome, 0) >= before.get(outcome, 0) + 1, (outcome, before, after)
    assert "kita.costs" in topics
    assert columns == {"day", "tenant", "locale", "channel", "topic", "outcome", "turns", "conversations", "fallbacks"}


# ---- browsing and guided checks offered, not imposed (docs/architecture.md, "How the dialogue decides") -------


def test_browsing_from_the_first_screen_to_an_answer_and_its_feedback(stack):
    session = "e2e-browse"
    home = say(stack, session, "/home", "tr")["messages"]
    assert [m["kind"] for m in home] == ["menu", "menu"] and len(home[0]["buttons"]) == 10
    kita = next(b["payload"] for b in home[0]["buttons"] if '"kita"' in b["payload"])
    (menu,) = say(stack, session, kita, "tr")["messages"]
    topic = next(b["payload"] for b in menu["buttons"] if b["payload"].startswith("/ask_entry"))
    answer = answer_of(say(stack, session, topic, "tr"))
    assert answer["kind"] == "answer" and answer["buttons"][-1]["payload"] == "/home"
    say(stack, session, "/feedback_helpful", "tr")
    with sqlite3.connect(stack.workdir / "data" / "lotse.sqlite3") as db:
        rows = db.execute("SELECT entry_id, locale, helpful FROM feedback WHERE locale = 'tr'").fetchall()
    assert (answer["entry_id"], "tr", 1) in rows


# How something works: answered from the entry, the check offered as the answer's first button.
HOW_QUESTIONS = [
    ("de", "Wie finde ich einen Kita-Platz?", "kita"),
    ("uk", "Як знайти місце в дитячому садку?", "kita"),
    ("en", "how do I apply for kita", "kita"),
    ("ar", "كيف أجد مكانًا لطفلي في الروضة؟", "kita"),
    ("ru", "Где искать место в детском саду?", "kita"),
    ("tr", "Kreşte nasıl yer bulabilirim?", "kita"),
    ("fa", "چطور برای مهدکودک ثبت‌نام کنم؟", "kita"),
    # Declined until round 8 (the classifiers put this short question in the broad "everyday" class).
    ("ro", "Cum pot găsi un loc la creșă?", "kita"),
    ("bg", "Как се кандидатства за място в детска градина?", "kita"),
    ("de", "Wie lasse ich meinen ausländischen Abschluss anerkennen?", "recognition"),
    ("en", "how does the recognition of my qualification work?", "recognition"),
    ("uk", "Як визнати іноземний диплом у Німеччині?", "recognition"),
    ("ro", "Unde se depune cererea de recunoaștere a calificării?", "recognition"),
]


def answered(stack: Stack, session: str, question: str, locale: str, subject: str) -> dict:
    """The answer: at once, or after the user picks the subject's entry when the bot asks back (two entries fit
    almost equally, e.g. "foreign degree" between recognition and a school-leaving certificate for adults)."""
    data = say(stack, session, question, locale)
    if answers(data):
        return answer_of(data)
    offered = [b["payload"] for m in data["messages"] for b in m["buttons"]]
    choices = [payload for payload in offered if f'"entry_id":"{subject}.' in payload]
    assert choices, f"neither answered nor offered a {subject} entry: {data['messages']}"
    return answer_of(say(stack, session, choices[0], locale))


@pytest.mark.parametrize("locale, question, subject", HOW_QUESTIONS)
def test_how_questions_are_answered_and_offer_the_check(stack, locale, question, subject):
    answer = answered(stack, f"e2e-how-{locale}-{subject}", question, locale, subject)
    assert answer["entry_id"].startswith(subject + "."), answer["entry_id"]
    check = "/start_kita_check" if subject == "kita" else "/start_recognition_check"
    assert answer["buttons"][0]["payload"] == check


# Asked for, or given the facts it needs: the check starts at once (its first question).
CHECK_REQUESTS = [
    ("en", "my son is 2, does he get a place?", "kita"),
    ("de", "Meine Tochter ist 3 Jahre alt. Hat sie Anspruch auf einen Kita-Platz?", "kita"),
    ("uk", "Моєму синові 2 роки, чи отримає він місце в садочку?", "kita"),
    ("ar", "أنا ممرضة من سوريا، هل أحتاج اعتراف بشهادتي لأعمل هنا؟", "recognition"),
    ("de", "Bitte prüf mit mir, ob mein Beruf als Elektriker anerkannt werden muss", "recognition"),
]


@pytest.mark.parametrize("locale, message, subject", CHECK_REQUESTS)
def test_a_check_starts_when_asked_for_or_given_its_facts(stack, locale, message, subject):
    data = say(stack, f"e2e-check-{locale}-{subject}", message, locale)
    assert [m["kind"] for m in data["messages"]][-1] == "flow", data["messages"]
    assert not any(m["kind"] == "answer" for m in data["messages"])


# Every way a person can leave a guided check's question unanswered: each intent, typed or as a button (an older
# answer's "start the check" button stays on screen). The yes/no step rejects whatever is no yes or no.
CHECK_STEPS = {
    "recognition": ["/start_recognition_check", "nurse", "Bayern"],
    "kita": ["/start_kita_check", "24"],
}
INTERRUPTIONS = [
    "/greet",
    "/goodbye",
    "/thanks",
    "/affirm",
    "/deny",
    "/stop",
    "/ask_human",
    "/change_language",
    "/feedback_helpful",
    "/feedback_unhelpful",
    "/bot_challenge",
    "/chitchat",
    "how do I get a work permit",
    "I am not sure",
    '/ask_entry{"entry_id":"work.permit"}',
    "/opening_hours",
    "/home",
    '/browse{"category":"work"}',
    "/start_recognition_check",
    "/start_kita_check",
    "/inform",
]


@pytest.mark.parametrize(
    "check, depth", [(check, depth) for check, steps in CHECK_STEPS.items() for depth in range(1, len(steps) + 1)]
)
def test_whatever_interrupts_a_check_gets_one_reply_and_the_conversation_goes_on(stack, check, depth):
    for n, message in enumerate(INTERRUPTIONS):
        session = f"e2e-interrupt-{check}-{depth}-{n}"
        for step in CHECK_STEPS[check][:depth]:
            say(stack, session, step, "en")
        texts = [m["text"] for m in say(stack, session, message, "en")["messages"]]
        repeated = len(texts) - len(set(texts))
        assert texts and not repeated, f"{message!r}: {len(texts)} messages, {repeated} of them repeated"
        assert say(stack, session, "how much is Kindergeld?", "en")["messages"], message  # not degraded, not empty


def test_rasa_reads_the_message_with_the_vector_the_api_sent(stack, knowledge):
    """Rasa's featurizer takes the message's embedding from the metadata instead of embedding the text again, and
    passes it on to the answer's search: sent with a question's vector, a greeting is read as that question."""
    vector = knowledge.embedder.encode_queries(["Wie melde ich meine neue Wohnung an?"])[0]
    metadata = {"locale": "de", "locale_source": "explicit", "tenant": "demo", "channel": "web"}
    replies = []
    for extra in ({}, {QUERY_VECTOR: pack_query_vector(knowledge.embedder.model_id, vector)}):
        body = {"sender": f"e2e-vector-{len(replies)}", "message": "Hallo", "metadata": metadata | extra}
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        replies.append([m["custom"] for m in response.json()])
    greeted, read_as_the_question = replies
    assert not any(m.get("entry_id") for m in greeted)
    assert read_as_the_question[0]["entry_id"] == "arrival.registration"
