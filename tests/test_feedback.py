from datetime import UTC, datetime, timedelta

from knowledge.feedback import FeedbackStore, scrub


def test_scrub_removes_contact_data():
    text = scrub("Ich bin unter +49 170 1234567 oder max.muster@web.de erreichbar, IBAN DE89 3704 0044 0532 0130 00")
    assert "1234567" not in text and "web.de" not in text and "3704" not in text
    assert "[phone]" in text and "[email]" in text and "[iban]" in text
    assert scrub("Notruf 112 und 116117") == "Notruf 112 und 116117"  # public numbers stay


def test_store_report_and_retention(database):
    store = FeedbackStore(database, retention_days=30)
    now = datetime.now(UTC)
    store.add_feedback("kita.costs", "de", "demo", False, "was kostet kita? ruf mich an 0170 1234567")
    store.add_feedback("kita.costs", "de", "demo", False, None)
    store.add_feedback("kita.costs", "de", "demo", True, None)
    store.add_feedback("arrival.registration", "ar", None, False, None, now=now - timedelta(days=40))
    for _ in range(3):
        store.add_unanswered("de", "demo", "Führerschein umschreiben?")
    store.add_unanswered("de", "demo", "Hundesteuer", subject="pets")
    store.add_unanswered("ar", None, "رخصة القيادة", subject="driving-licence")
    store.add_unanswered("uk", None, "права обміняти", subject="driving-licence")

    (rating, *rest) = store.unhelpful_entries()
    assert (rating.entry_id, rating.unhelpful, rating.helpful) == ("kita.costs", 2, 1)
    gaps = store.unanswered()
    assert gaps[0].locale == "ar" and gaps[1].question == "Führerschein umschreiben?" and gaps[1].count == 3
    assert store.unanswered_subjects() == [("driving-licence", 2), ("pets", 1)]

    assert store.purge() == 1  # the 40-day-old rating
    assert [r.entry_id for r in store.unhelpful_entries()] == ["kita.costs"]
    ((stored,),) = database.fetch("SELECT question FROM feedback WHERE question IS NOT NULL")
    assert "1234567" not in stored


def test_database_from_before_subjects_gets_the_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE unanswered (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, locale TEXT NOT NULL, "
        "tenant TEXT, question TEXT NOT NULL, normalized TEXT NOT NULL)"
    )
    old.execute("INSERT INTO unanswered VALUES (1, '2026-11-01T00:00:00+00:00', 'de', NULL, 'alt', 'alt')")
    old.commit()
    old.close()
    store = FeedbackStore.open(path)
    store.add_unanswered("de", None, "Kindergeld?", subject="child-benefit")
    assert store.unanswered_subjects() == [("child-benefit", 1)]
    assert len(store.unanswered()) == 2
    store.close()
