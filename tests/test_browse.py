"""Browsing without typing: the first screen, the topic menus and a browsed answer, through the real actions
(real knowledge index, feedback in a temporary folder), the knowledge-only path and the messenger formats."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import pytest

import locales
from api.channels import telegram, whatsapp
from bot import menus, replies, texts
from bot.actions.answers import ActionAnswerQuestion, ActionShowEntry
from bot.actions.browse import ActionBrowse, ActionHome
from bot.actions.conversation import ActionOpeningHours, ActionStoreFeedback
from bot.context import Context, context_for
from bot.messages import BotMessage, parse_payload
from tests.fakes import run_action, tracker

pytestmark = pytest.mark.usefixtures("services")


def payloads(message: BotMessage) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


def context(services, locale: str = "de") -> Context:
    return context_for({}, {"metadata": {"locale": locale, "tenant": "demo"}}, services)


def tap(c: Context, payload: str) -> list[BotMessage]:
    """What a button does, as the dialogue's rules route it (bot/data/rules): the menus or an entry."""
    intent, entities = parse_payload(payload)
    if intent == "home":
        return menus.home(c)
    if intent == "browse":
        return menus.browse(c, entities.get("category"), entities.get("page"))
    if intent == "ask_entry":
        return replies.show_entry(c, entities["entry_id"], entities.get("category"))
    return []


@pytest.mark.parametrize("locale", locales.SUPPORTED)
def test_the_first_screen_welcomes_and_offers_every_category_and_the_tenants_shortcuts(services, locale):
    (welcome, shortcuts), events = run_action(
        ActionHome(), tracker("/home", intent="home", metadata={"locale": locale})
    )
    catalogue = services.knowledge.catalogue
    assert welcome["kind"] == "menu" and welcome["locale"] == locale and events == []
    assert welcome["text"] == texts.say(locale, texts.WELCOME)
    assert locale == "en" or welcome["text"] != texts.WELCOME  # translated
    assert [b["title"] for b in welcome["buttons"]] == [c.names[locale] for c in catalogue.categories.values()]
    assert payloads(shortcuts) == ["/ask_human", "/opening_hours", "/change_language"]


def test_a_person_who_types_nothing_reaches_every_topic_by_tapping(services):
    """Breadth-first over every button from the first screen: all catalogue topics, no menu over 10 buttons."""
    c = context(services, "uk")
    seen, shown, queue = set(), set(), deque(["/home"])
    while queue:
        payload = queue.popleft()
        if payload in seen:
            continue
        seen.add(payload)
        for message in tap(c, payload):
            assert len(message["buttons"]) <= menus.MAX_BUTTONS, (payload, payloads(message))
            assert len(set(payloads(message))) == len(message["buttons"]), payload
            if message.get("kind") == "answer":
                shown.add(message["entry_id"])
            queue.extend(payloads(message))
    assert set(services.knowledge.catalogue.topics) <= shown


def test_a_category_pages_its_topics_with_more_back_and_all_topics(services):
    c = context(services)
    arrival = menus.topic_entries(c, "arrival")
    assert len(arrival) > menus.PAGE_SIZE  # the catalogue's largest category needs more than one page
    (first,), _ = run_action(ActionBrowse(), tracker("/browse", intent="browse", entities={"category": "arrival"}))
    assert first["text"] == texts.say("de", texts.CHOOSE_A_TOPIC, category="Ankommen und Alltag")
    assert payloads(first)[-2:] == ['/browse{"category":"arrival","page":"2"}', "/home"]
    assert [parse_payload(p)[1]["entry_id"] for p in payloads(first)[: menus.PAGE_SIZE]] == arrival[: menus.PAGE_SIZE]
    (second,) = menus.browse(c, "arrival", "2")
    assert '/browse{"category":"arrival"}' in payloads(second) and payloads(second)[-1] == "/home"
    # Out-of-range pages are clamped; an unknown category shows the first screen.
    assert payloads(menus.browse(c, "arrival", "99")[0]) == payloads(menus.browse(c, "arrival", "3")[0])
    assert menus.browse(c, "arrival", "-1") == menus.browse(c, "arrival", "1")
    assert [m["kind"] for m in menus.browse(c, "no-such-category")] == ["menu", "menu"]


def test_a_browsed_answer_has_the_way_back_and_its_feedback_is_recorded(services):
    entities = {"entry_id": "kita.find-apply", "category": "kita"}
    slots = {"last_question": "an earlier typed question"}
    messages, events = run_action(ActionShowEntry(), tracker(intent="ask_entry", entities=entities, slots=slots))
    answer, prompt = messages
    assert answer["kind"] == "answer" and answer["entry_id"] == "kita.find-apply"
    assert payloads(answer)[0] == "/start_kita_check"  # the guided check is offered
    assert payloads(answer)[-2:] == ['/browse{"category":"kita"}', "/home"]
    assert payloads(prompt) == ["/feedback_helpful", "/feedback_unhelpful"]
    state = {e["name"]: e["value"] for e in events}
    assert state == {"entry_id": None, "last_entry_id": "kita.find-apply", "last_question": None}

    run_action(ActionStoreFeedback(), tracker("/feedback_helpful", intent="feedback_helpful", slots=state))
    stored = services.database.fetch("SELECT entry_id, tenant, helpful, question FROM feedback")
    assert stored == [("kita.find-apply", "demo", 1, None)]


def test_opening_hours_of_the_tenant(services):
    (message,), _ = run_action(ActionOpeningHours(), tracker("/opening_hours", metadata={"locale": "uk"}))
    assert "понеділок–четвер 9–16" in message["text"] and "вівторок і четвер 13–18" in message["text"]
    assert payloads(message) == ["/ask_human"]


def test_the_tenants_own_entries_come_first(services, monkeypatch):
    """A tenant's version of a topic replaces the general entry in the menus and is listed first."""
    searcher = services.knowledge.searcher
    local = "kita.costs.demo"
    monkeypatch.setattr(searcher, "_topics", {**searcher._topics, local: "kita.costs"})
    own = searcher._versions["kita.costs"]["de"].model_copy(update={"id": local, "region": "demo"})
    monkeypatch.setattr(searcher, "_versions", {**searcher._versions, local: {"de": own}})
    c = context(services)
    assert searcher.menu_entries("kita.costs", c.tenant) == [local]
    assert searcher.menu_entries("kita.costs", None) == ["kita.costs"]
    entries = menus.topic_entries(c, "kita")
    assert entries[0] == local and "kita.costs" not in entries
    assert f'/ask_entry{{"entry_id":"{local}"}}' in payloads(menus.home(c)[1])


def test_without_the_dialogue_the_menus_work_the_same(services):
    c = Context("ar", context(services).tenant, services.knowledge, services.feedback, dialogue=False)
    assert replies.reply_without_dialogue(c, "/home") == menus.home(c)
    assert replies.reply_without_dialogue(c, '/browse{"category":"work"}') == menus.browse(c, "work")
    shown = replies.reply_without_dialogue(c, '/ask_entry{"entry_id":"work.permit","category":"work"}')
    assert payloads(shown[0])[-2:] == ['/browse{"category":"work"}', "/home"]
    assert replies.reply_without_dialogue(c, "/opening_hours")[0]["text"] == texts.opening_hours(c.tenant, "ar")


def test_menus_fit_whatsapp_lists_and_telegram_keyboards(services):
    c = context(services, "fa")
    for message in [*menus.home(c), *menus.browse(c, "arrival"), *menus.browse(c, "arrival", "2")]:
        (sent,) = whatsapp.message_payloads("49123", message)
        rows = sent["interactive"]["action"].get("sections", [{"rows": []}])[0]["rows"]
        assert sent["type"] == "interactive" and len(rows) <= 10
        keyboard = telegram.inline_keyboard(message["buttons"])
        assert len(keyboard["inline_keyboard"]) == len(message["buttons"])
    assert telegram.command_text("/start") == "/home"


@pytest.mark.parametrize(
    "channel, users, first_screen", [("whatsapp", 1, True), ("whatsapp", 2, False), ("web", 1, False)]
)
def test_the_first_whatsapp_message_gets_its_reply_then_the_first_screen(channel, users, first_screen):
    tracked = tracker("Wie melde ich meine neue Wohnung an?", metadata={"channel": channel})
    tracked.events = [{"event": "user", "text": "..."} for _ in range(users)]
    messages, _ = run_action(ActionAnswerQuestion(), tracked)
    assert messages[0]["entry_id"] == "arrival.registration"
    assert [m["kind"] for m in messages[2:]] == (["menu", "menu"] if first_screen else [])


def test_a_less_certain_answer_says_it_is_general_and_offers_a_person_first(services):
    c = context(services, "tr")
    searcher = c.knowledge.searcher
    question = "Çocuğum için Kita yeri nasıl bulurum, nereye başvurmam gerekiyor?"
    vector = searcher.embedder.encode_queries([question])[0]
    evidence = searcher.gather(question, "tr", vector, searcher.params)
    sure = searcher.decide(evidence, c.tenant, 5, replace(searcher.params, caution_threshold=0.0))
    unsure = searcher.decide(evidence, c.tenant, 5, replace(searcher.params, caution_threshold=1.01))
    assert sure.answerable and not sure.cautious and unsure.cautious  # the same answer, weighed twice

    plain, cautious = replies.compose(sure, c)[0], replies.compose(unsure, c)[0]
    caution = c.say(texts.GENERAL_INFORMATION)
    assert caution not in plain["text"] and cautious["text"].startswith(f"_{caution}_")
    assert caution != texts.GENERAL_INFORMATION  # in the user's language
    assert cautious["entry_id"] == plain["entry_id"] and cautious["sources"] == plain["sources"]
    assert cautious["cautious"] and not plain["cautious"]  # counted apart on the dashboard (api/usage.py)
    # A person comes right after the guided check, which looks at the person's own case too.
    assert payloads(cautious)[:2] == ["/start_kita_check", "/ask_human"] and "/ask_human" not in payloads(plain)
