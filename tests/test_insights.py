"""Turn outcome counts and the dashboard's aggregation (knowledge/outcomes.py, knowledge/insights.py,
api/usage.py); the stores on both engines (an SQLite file, a real PostgreSQL: the ``database`` fixture)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.charts import Period, by_week, stacked_bars
from api.dashboard import quantile
from api.usage import outcome_of
from bot.messages import bot_message
from knowledge import insights
from knowledge.feedback import Declined, FeedbackStore
from knowledge.outcomes import ALL_TENANTS, OutcomeStore, TurnCount
from knowledge.tenants import TENANT_ID

DAY = date(2026, 11, 30)


@pytest.fixture
def store(database):
    return OutcomeStore(database)


def count(day=DAY, tenant="demo", locale="de", channel="web", topic="", outcome="answered", **more) -> TurnCount:
    return TurnCount(day, tenant, locale, channel, topic, outcome, **more)


def test_counts_add_up_per_key_and_stay_apart_per_tenant(store):
    for _ in range(3):
        store.add(count(topic="kita.costs", conversations=1, fallbacks=1))
    store.add(count(tenant="other", topic="kita.costs"))
    (mine,) = store.totals(("topic",), DAY, DAY, "demo")
    assert (mine.key, mine.turns, mine.conversations, mine.fallbacks) == (("kita.costs",), 3, 3, 3)
    (everyone,) = store.totals(("topic",), DAY, DAY)  # the sums over all tenants, kept as a tenant of their own
    assert everyone.turns == 4 and not TENANT_ID.match(ALL_TENANTS)
    assert store.totals(("topic",), DAY + timedelta(days=1), DAY + timedelta(days=9), "demo") == []


def test_only_known_dimensions_reach_the_sql(store):
    with pytest.raises(ValueError):
        store.totals(("day; DROP TABLE turn_counts",), DAY, DAY)
    with pytest.raises(ValueError):
        store.totals((), DAY, DAY)


def test_an_empty_history_gives_zeros_for_every_day(store):
    stats = insights.usage(store, "demo", DAY - timedelta(days=6), DAY)
    assert stats.turns == stats.conversations == 0
    assert [d.day for d in stats.days] == [DAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert all(d.turns == 0 for d in stats.days)
    assert set(stats.outcomes) == {
        "answered",
        "answered_with_caution",
        "asked_back",
        "declined",
        "handed_over",
        "degraded",
        "other",
        "declined_with_topics",
        "answered_follow_up",
        "declined_with_urgent_help",
    }
    assert stats.topics == [] and stats.language.answers == 0


def test_usage_by_day_channel_language_outcome_and_topic(store):
    yesterday = DAY - timedelta(days=1)
    store.add(count(day=yesterday, channel="telegram", locale="ar", topic="kita.costs", conversations=1, fallbacks=1))
    store.add(count(day=yesterday, channel="web", locale="ar", topic="kita.costs"))
    store.add(count(channel="web", locale="de", topic="housing.registration", conversations=1))
    store.add(count(channel="web", locale="de", outcome="declined"))
    store.add(count(channel="whatsapp", locale="de", outcome="declined", tenant="other"))
    stats = insights.usage(store, "demo", yesterday, DAY)
    first, second = stats.days
    assert (first.turns, first.conversations, first.channels, first.locales) == (
        2,
        1,
        {"telegram": 1, "web": 1},
        {"ar": 2},
    )
    assert second.outcomes == {"answered": 1, "declined": 1}
    assert stats.turns == 4 and stats.conversations == 2
    assert stats.outcomes["answered"] == 3 and stats.outcomes["declined"] == 1 and stats.outcomes["degraded"] == 0
    assert [(t.locale, t.topic, t.turns) for t in stats.topics] == [
        ("ar", "kita.costs", 2),
        ("de", "housing.registration", 1),
    ]
    assert stats.language.model_dump() == {"answers": 3, "own_language": 2, "fallback": 1}
    assert insights.usage(store, None, yesterday, DAY).turns == 5


@pytest.mark.parametrize(
    "kinds, degraded, expected",
    [
        (["answer", "feedback"], False, "answered"),
        (["clarify"], False, "asked_back"),
        (["no_answer"], False, "declined"),
        (["no_answer", "close_topics"], False, "declined_with_topics"),
        (["urgent_help", "no_answer", "close_topics"], False, "declined_with_urgent_help"),
        (["handover"], False, "handed_over"),
        (["notice"], False, "other"),
        ([], False, "other"),
        (["notice", "answer", "feedback"], True, "degraded"),
    ],
)
def test_the_outcome_of_a_turn_comes_from_its_message_kinds(kinds, degraded, expected):
    assert outcome_of([bot_message("x", "de", kind=k) for k in kinds], degraded) == expected


def test_an_answer_given_as_general_information_is_counted_apart():
    cautious = [bot_message("x", "de", kind="answer", cautious=True), bot_message("x", "de", kind="feedback")]
    assert outcome_of(cautious, False) == "answered_with_caution"
    assert outcome_of(cautious, True) == "degraded"


def test_a_follow_up_read_with_the_question_before_is_counted_apart():
    read_together = [bot_message("x", "de", kind="answer", follow_up=True), bot_message("x", "de", kind="feedback")]
    assert outcome_of(read_together, False) == "answered_follow_up"
    assert outcome_of(read_together, True) == "degraded"


def declined(question, count=1, locale="de", subject=None) -> Declined:
    return Declined(locale, question, question.lower(), subject, count)


def test_gaps_group_subjects_and_cluster_the_rest_showing_texts_only_from_three_asks():
    rows = [
        declined("Wo kann ich mein Auto anmelden?", 2, subject="car"),
        declined("Auto ummelden", 1, subject="car"),
        declined("Hund anmelden Steuer", 1, subject="pets"),
        declined("Wann fährt der Bus zum Bahnhof", 2, subject="general-local"),
        declined("wann fährt der bus zum bahnhof heute", 1),
        declined("Wie wird das Wetter morgen", 1, subject="general-far"),
        declined("Rezept für Apfelkuchen", 1),
    ]
    result = insights.gaps(rows)
    by_subject = {g.subject: g for g in result.groups if g.subject}
    assert by_subject["car"].count == 3 and by_subject["car"].examples[0] == "Wo kann ich mein Auto anmelden?"
    assert by_subject["pets"].count == 1 and by_subject["pets"].examples == []  # asked once: no text
    (cluster,) = [g for g in result.groups if g.subject is None]
    assert cluster.count == 3 and cluster.locale == "de"
    assert cluster.examples[0] == "Wann fährt der Bus zum Bahnhof"
    assert result.rarely_asked == 2  # weather and cake: asked once each, never shown
    shown = [text for g in result.groups for text in g.examples]
    assert "Rezept für Apfelkuchen" not in shown and "Hund anmelden Steuer" not in shown


def test_clusters_stay_within_a_language():
    rows = [declined("bus bahnhof zeit", 3, "de"), declined("bus bahnhof zeit", 3, "tr")]
    assert sorted(g.locale for g in insights.gaps(rows).groups) == ["de", "tr"]


def test_feedback_and_declined_questions_per_tenant_and_period(database):
    feedback = FeedbackStore(database)
    from datetime import UTC, datetime

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    feedback.add_feedback("kita.costs", "de", "demo", False, None, now=now)
    feedback.add_feedback("kita.costs", "de", "demo", True, None, now=now)
    feedback.add_feedback("work.permit", "de", "demo", False, None, now=now)
    feedback.add_feedback("work.permit", "de", "demo", False, None, now=now)
    feedback.add_feedback("work.permit", "de", "other", False, None, now=now)
    feedback.add_feedback("work.permit", "de", "demo", False, None, now=now - timedelta(days=40))
    feedback.add_unanswered("de", "demo", "Mein Hund, Tel. 0171 1234567", now=now, subject="pets")
    feedback.add_unanswered("de", "other", "Mein Hund", now=now, subject="pets")
    ratings = insights.feedback(feedback.ratings("demo", DAY - timedelta(days=29), DAY))
    assert [(r.entry_id, r.unhelpful, r.helpful) for r in ratings] == [("work.permit", 2, 0), ("kita.costs", 1, 1)]
    (row,) = feedback.declined("demo", DAY, DAY)
    assert row.subject == "pets" and "0171" not in row.question and row.count == 1
    assert len(feedback.ratings(None, DAY, DAY)) == 2 and feedback.declined("demo", DAY + timedelta(days=1), DAY) == []


def test_latency_quantiles_from_histogram_buckets():
    buckets = [(0.1, 5.0), (0.25, 10.0), (float("inf"), 10.0)]
    assert quantile(buckets, 0.5) == 0.1 and quantile(buckets, 0.95) == 0.235
    assert quantile([(0.1, 0.0), (float("inf"), 0.0)], 0.5) is None and quantile([], 0.5) is None
    assert quantile([(0.1, 0.0), (float("inf"), 4.0)], 0.5) == 0.1  # beyond the last bound: the last bound


def test_stacked_bars_scale_to_the_highest_period_and_weeks_sum_days():
    monday = date(2026, 11, 23)
    days = [Period(monday + timedelta(days=n), {"web": n, "telegram": 1}) for n in range(8)]
    weeks = by_week(days)
    assert [(w.start, w.values) for w in weeks] == [
        (monday, {"web": 21, "telegram": 7}),
        (monday + timedelta(days=7), {"web": 7, "telegram": 1}),
    ]
    chart = stacked_bars(weeks, ["web", "telegram"], {"web": "Web"}, width=200, height=124)
    assert chart.maximum == 28 and len(chart.bars) == 4
    first_web, first_telegram = chart.bars[:2]
    assert first_web.height == 75.0 and first_telegram.height == 25.0 and first_telegram.y == 0.0
    assert first_web.title == "2026-11-23 · Web: 21" and chart.legend[0][1] == "web"
    assert stacked_bars([], ["web"], {}).bars == []
